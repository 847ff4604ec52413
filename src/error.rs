//! The guest's error type: one kind per `origin-error` case of the WIT contract.

use std::fmt;

/// Which `origin-error` case a failure is; callers branch on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No `tracker:` binding in `.kittify/config.yaml`.
    NoTrackerBinding,
    /// `.kittify/config.yaml` cannot be read as a tracker binding.
    InvalidTrackerConfig,
    /// The bound provider is neither `jira` nor `linear`.
    UnsupportedProvider,
    /// The host holds no Spec Kitty session.
    NotLoggedIn,
    /// The developer must link their tracker account in the SaaS dashboard.
    UserLinkRequired,
    /// The control plane refused the credentials.
    AuthenticationFailed,
    /// No resource is mapped for the project (404).
    NoResourceMapping,
    /// The query or its parameters are invalid.
    InvalidQuery,
    /// The candidate or routing context passed to a bind is incomplete.
    InvalidCandidate,
    /// Rate limited for longer than the call may wait.
    RateLimited,
    /// A different origin is already bound to the mission.
    OriginConflict,
    /// The control plane could not be reached or answered 5xx.
    ControlPlaneUnreachable,
    /// The host refused the outgoing request.
    RequestDenied,
    /// The control plane answered outside its wire format.
    UnexpectedResponse,
    /// The overall time bound ran out.
    TimedOut,
    /// The mission's `meta.json` is missing or malformed.
    InvalidMetadata,
    /// A file could not be read or written.
    Io,
}

/// A failure of a service method: its kind and a message saying what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginError {
    /// The `origin-error` case.
    pub kind: ErrorKind,
    /// Human message for the developer or agent.
    pub message: String,
}

impl OriginError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// The same kind, with `prefix` put before the message.
    pub fn prefixed(self, prefix: &str) -> Self {
        Self { kind: self.kind, message: format!("{prefix}{}", self.message) }
    }

    /// An `io` error for an operation on `path`.
    pub fn io(what: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::new(
            ErrorKind::Io,
            format!("Could not {what} {}: {err}. Check that the path exists and is writable, then retry.", path.display()),
        )
    }
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for OriginError {}

/// Shorthand for results of the service methods.
pub type Result<T, E = OriginError> = std::result::Result<T, E>;
