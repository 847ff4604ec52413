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
    /// Longest a call may run (an epoch deadline; the guest traps past it):
    /// 120 s covers a bind's 30 s bound plus a start's local work with room.
    pub deadline: Duration,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self { memory_bytes: 64 * 1024 * 1024, deadline: Duration::from_secs(120) }
    }
}
