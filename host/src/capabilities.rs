//! What an embedder grants a call's guest: the control plane and session,
//! where HTTP goes, where events go, and the bounds. The guest's own
//! `spec_kitty_origin::capabilities` is the same set seen from inside.

use std::sync::Arc;
use std::time::Duration;

use spec_kitty_origin::wire::SAAS_URL_VAR;

use crate::credentials::SaasAccess;
use crate::egress::{EgressLimits, Upstream};
use crate::events::EventSink;

/// What a call's guest may reach.
#[derive(Clone)]
pub struct Capabilities {
    /// The control plane and the developer's session.
    pub saas: SaasAccess,
    /// Where allowed HTTP requests go ([`crate::egress::NetworkUpstream`] for real).
    pub upstream: Arc<dyn Upstream>,
    /// Where `MissionOriginBound` events go.
    pub events: Arc<dyn EventSink>,
    /// Time and size bounds of HTTP.
    pub egress_limits: EgressLimits,
    /// Bounds on each call's memory and time.
    pub call_limits: CallLimits,
    /// Whether to take Spec Kitty's git steps (refuse a protected branch,
    /// switch to a start branch, commit the scaffold and the bound
    /// `meta.json`) in repos that are git work trees.
    pub git: bool,
    /// Where a start may read Spec Kitty's spec templates from, outside the repo.
    pub spec_templates: SpecTemplates,
}

/// The spec template directories outside the repo that a start is granted (read-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecTemplates {
    /// The installed Spec Kitty's, found as [`crate::spec_kitty_install`] says.
    Installed,
    /// Exactly these directories, in tier order.
    Dirs(Vec<std::path::PathBuf>),
    /// None: only the repo's own tiers.
    None,
}

impl SpecTemplates {
    /// The directories to grant a start of `mission_type`.
    pub fn dirs(&self, mission_type: &str) -> Vec<std::path::PathBuf> {
        match self {
            SpecTemplates::Installed => crate::spec_kitty_install::template_dirs(mission_type),
            SpecTemplates::Dirs(dirs) => dirs.clone(),
            SpecTemplates::None => Vec::new(),
        }
    }
}

impl Capabilities {
    /// The environment the guest sees: the control plane's URL and nothing
    /// else (never the token or the team).
    pub fn guest_env(&self) -> Vec<(String, String)> {
        self.saas.origin.iter().map(|o| (SAAS_URL_VAR.to_string(), o.base_url())).collect()
    }
}

/// Bounds on one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Most linear memory the guest may grow to: 64 MiB holds the largest
    /// answer the egress allows (8 MiB) several times over while parsing.
    pub memory_bytes: usize,
    /// Longest a call may run, wall clock, whether the guest computes or
    /// waits on the host; past it the call is stopped where it stands:
    /// 120 s covers a bind's 30 s bound plus a start's local work with room.
    pub deadline: Duration,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self { memory_bytes: 64 * 1024 * 1024, deadline: Duration::from_secs(120) }
    }
}
