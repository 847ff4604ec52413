//! The wasmtime reference host of the Spec Kitty origin-binding component.
//!
//! It embeds the component with the least authority (the repo root, the
//! control plane's origin), holds the developer's credentials itself, and
//! keeps `MissionOriginBound` events in a durable outbox. A [`Runtime`]'s
//! calls block (from async code, make them on a blocking thread).
//!
//! ```no_run
//! use std::sync::Arc;
//! use kitty_origin_host::{Capabilities, Runtime, SaasAccess, egress::NetworkUpstream, outbox::Outbox, state_dir};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let saas = SaasAccess::from_env(&state_dir())?;
//! let outbox = Arc::new(Outbox::open(&state_dir(), saas.clone())?);
//! let capabilities = Capabilities {
//!     saas,
//!     upstream: Arc::new(NetworkUpstream),
//!     events: outbox,
//!     egress_limits: Default::default(),
//!     call_limits: Default::default(),
//!     git: true,
//!     spec_templates: kitty_origin_host::SpecTemplates::Installed,
//! };
//! let runtime = Runtime::new("spec_kitty_origin.wasm".as_ref(), Some(&state_dir().join("cache")), capabilities)?;
//! let found = runtime.search_origin_candidates(".".as_ref(), None, Some("WEB-123"), 10)?;
//! for candidate in &found.candidates {
//!     println!("{} {}", candidate.external_issue_key, candidate.title);
//! }
//! # Ok(())
//! # }
//! ```

pub mod bindings;
pub mod cache;
pub mod capabilities;
pub mod credentials;
pub mod egress;
mod engine;
pub mod error;
pub mod events;
pub mod git;
mod instance;
mod linking;
pub mod mission_git;
pub mod origin;
pub mod outbox;
pub mod proxy;
pub mod recovery;
pub mod repo_queue;
pub mod repo_root;
pub mod runtime;
pub mod spec_kitty_install;
mod stamps;

/// The records of the WIT `types` interface (one definition, shared with the guest).
pub use spec_kitty_origin::model as types;
/// The mission's starting files and the template directories the guest reads.
pub use spec_kitty_origin::templates;
/// The control plane's wire format (paths, headers, limits, event fields).
pub use spec_kitty_origin::wire;

pub use cache::CacheOutcome;
pub use capabilities::{CallLimits, Capabilities, SpecTemplates};
pub use credentials::{Credentials, SaasAccess};
pub use error::Error;
pub use origin::SaasOrigin;
pub use runtime::{Outcome, Runtime, Tier};

/// Names the state directory (outbox, compiled-component cache, credentials).
pub const HOME_VAR: &str = "KITTY_ORIGIN_HOME";

/// Where the host keeps its state (outbox, compiled-component cache,
/// credentials file): `$KITTY_ORIGIN_HOME`, else `~/.spec-kitty/origin`.
pub fn state_dir() -> std::path::PathBuf {
    match std::env::var_os(HOME_VAR).filter(|v| !v.is_empty()) {
        Some(dir) => dir.into(),
        None => std::env::home_dir().unwrap_or_else(|| ".".into()).join(".spec-kitty").join("origin"),
    }
}
