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
        match self {
            Error::Component(_) => "component_failed",
            Error::Origin(e) => match e {
                OriginError::NoTrackerBinding(_) => "no_tracker_binding",
                OriginError::InvalidTrackerConfig(_) => "invalid_tracker_config",
                OriginError::UnsupportedProvider(_) => "unsupported_provider",
                OriginError::NotLoggedIn(_) => "not_logged_in",
                OriginError::UserLinkRequired(_) => "user_link_required",
                OriginError::AuthenticationFailed(_) => "authentication_failed",
                OriginError::NoResourceMapping(_) => "no_resource_mapping",
                OriginError::InvalidQuery(_) => "invalid_query",
                OriginError::InvalidCandidate(_) => "invalid_candidate",
                OriginError::RateLimited(_) => "rate_limited",
                OriginError::OriginConflict(_) => "origin_conflict",
                OriginError::ControlPlaneUnreachable(_) => "control_plane_unreachable",
                OriginError::RequestDenied(_) => "request_denied",
                OriginError::UnexpectedResponse(_) => "unexpected_response",
                OriginError::TimedOut(_) => "timed_out",
                OriginError::InvalidMetadata(_) => "invalid_metadata",
                OriginError::Io(_) => "io",
            },
        }
    }

    /// The human message.
    pub fn message(&self) -> &str {
        match self {
            Error::Component(m) => m,
            Error::Origin(e) => match e {
                OriginError::NoTrackerBinding(m)
                | OriginError::InvalidTrackerConfig(m)
                | OriginError::UnsupportedProvider(m)
                | OriginError::NotLoggedIn(m)
                | OriginError::UserLinkRequired(m)
                | OriginError::AuthenticationFailed(m)
                | OriginError::NoResourceMapping(m)
                | OriginError::InvalidQuery(m)
                | OriginError::InvalidCandidate(m)
                | OriginError::RateLimited(m)
                | OriginError::OriginConflict(m)
                | OriginError::ControlPlaneUnreachable(m)
                | OriginError::RequestDenied(m)
                | OriginError::UnexpectedResponse(m)
                | OriginError::TimedOut(m)
                | OriginError::InvalidMetadata(m)
                | OriginError::Io(m) => m,
            },
        }
    }

    /// Whether the developer must act before a retry can succeed.
    pub fn user_action_required(&self) -> bool {
        matches!(
            self,
            Error::Origin(
                OriginError::NoTrackerBinding(_)
                    | OriginError::InvalidTrackerConfig(_)
                    | OriginError::UnsupportedProvider(_)
                    | OriginError::NotLoggedIn(_)
                    | OriginError::UserLinkRequired(_)
                    | OriginError::AuthenticationFailed(_)
                    | OriginError::NoResourceMapping(_)
                    | OriginError::OriginConflict(_)
                    | OriginError::InvalidMetadata(_)
            )
        )
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}
