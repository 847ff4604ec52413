//! The host's error: an `origin-error` from the component, or a failure of
//! the component itself; each with a stable code for `--json`.

pub use crate::bindings::types::OriginError;

/// What a host call can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A failure the spec names (the WIT `origin-error`).
    Origin(OriginError),
    /// The component could not be loaded or trapped.
    Component(String),
}

impl Error {
    /// A `map_err` adapter for wasmtime failures while doing `what`.
    pub fn component(what: &'static str) -> impl Fn(wasmtime::Error) -> Error {
        move |err| Error::Component(format!("could not {what}: {err:#}"))
    }

    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        self.describe().0
    }

    /// The human message.
    pub fn message(&self) -> &str {
        self.describe().1
    }

    /// Whether the developer must act before a retry can succeed.
    pub fn user_action_required(&self) -> bool {
        self.describe().2
    }

    /// Code, message and whether the user must act, in one table.
    fn describe(&self) -> (&'static str, &str, bool) {
        let e = match self {
            Error::Component(m) => return ("component_failed", m, false),
            Error::Origin(e) => e,
        };
        match e {
            OriginError::NoTrackerBinding(m) => ("no_tracker_binding", m, true),
            OriginError::InvalidTrackerConfig(m) => ("invalid_tracker_config", m, true),
            OriginError::UnsupportedProvider(m) => ("unsupported_provider", m, true),
            OriginError::NotLoggedIn(m) => ("not_logged_in", m, true),
            OriginError::UserLinkRequired(m) => ("user_link_required", m, true),
            OriginError::AuthenticationFailed(m) => ("authentication_failed", m, true),
            OriginError::NoResourceMapping(m) => ("no_resource_mapping", m, true),
            OriginError::InvalidQuery(m) => ("invalid_query", m, false),
            OriginError::InvalidCandidate(m) => ("invalid_candidate", m, false),
            OriginError::RateLimited(m) => ("rate_limited", m, false),
            OriginError::OriginConflict(m) => ("origin_conflict", m, true),
            OriginError::ControlPlaneUnreachable(m) => ("control_plane_unreachable", m, false),
            OriginError::RequestDenied(m) => ("request_denied", m, false),
            OriginError::UnexpectedResponse(m) => ("unexpected_response", m, false),
            OriginError::TimedOut(m) => ("timed_out", m, false),
            OriginError::InvalidMetadata(m) => ("invalid_metadata", m, true),
            OriginError::Io(m) => ("io", m, false),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}
