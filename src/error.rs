//! The guest's error: the WIT `origin-error` variant, one case per failure a
//! caller handles differently, each with a message that says what to do next.
//! [`ErrorKind`] names the case without its message; [`ErrorKind::code`] is
//! the stable machine code every host prints (`--json`, MCP).

use std::fmt;

/// Declares [`ErrorKind`], [`OriginError`] and the table of codes in one place.
macro_rules! origin_errors {
    ($( $(#[$doc:meta])* $case:ident = $wit:literal, $code:literal, user_action: $user:literal; )*) => {
        /// Which `origin-error` case a failure is; callers branch on this.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $( $(#[$doc])* $case, )*
        }

        /// A failure of a service method: the WIT `origin-error`, carrying a
        /// message that says what to do next.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
        #[cfg_attr(feature = "host", component(variant))]
        pub enum OriginError {
            $( $(#[$doc])* #[cfg_attr(feature = "host", component(name = $wit))] $case(String), )*
        }

        impl ErrorKind {
            /// Every kind, in WIT order.
            pub const ALL: &[ErrorKind] = &[$(ErrorKind::$case),*];

            /// The stable machine code (`no_tracker_binding`, ...).
            pub fn code(self) -> &'static str {
                match self { $(ErrorKind::$case => $code,)* }
            }

            /// Whether the developer must act before a retry can succeed.
            pub fn user_action_required(self) -> bool {
                match self { $(ErrorKind::$case => $user,)* }
            }
        }

        impl OriginError {
            /// An error of `kind` with `message`.
            pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
                let message = message.into();
                match kind { $(ErrorKind::$case => OriginError::$case(message),)* }
            }

            /// Which case this is.
            pub fn kind(&self) -> ErrorKind {
                match self { $(OriginError::$case(_) => ErrorKind::$case,)* }
            }

            /// The message for the developer or agent.
            pub fn message(&self) -> &str {
                match self { $(OriginError::$case(m) => m,)* }
            }
        }
    };
}

origin_errors! {
    /// No `tracker:` binding in `.kittify/config.yaml`.
    NoTrackerBinding = "no-tracker-binding", "no_tracker_binding", user_action: true;
    /// `.kittify/config.yaml` cannot be read as a tracker binding.
    InvalidTrackerConfig = "invalid-tracker-config", "invalid_tracker_config", user_action: true;
    /// The bound provider is neither `jira` nor `linear`.
    UnsupportedProvider = "unsupported-provider", "unsupported_provider", user_action: true;
    /// The host holds no Spec Kitty session.
    NotLoggedIn = "not-logged-in", "not_logged_in", user_action: true;
    /// The developer must link their tracker account in the SaaS dashboard.
    UserLinkRequired = "user-link-required", "user_link_required", user_action: true;
    /// The control plane refused the credentials.
    AuthenticationFailed = "authentication-failed", "authentication_failed", user_action: true;
    /// No resource is mapped for the project (404).
    NoResourceMapping = "no-resource-mapping", "no_resource_mapping", user_action: true;
    /// The query or its parameters are invalid.
    InvalidQuery = "invalid-query", "invalid_query", user_action: false;
    /// The candidate or routing context passed to a bind is incomplete.
    InvalidCandidate = "invalid-candidate", "invalid_candidate", user_action: false;
    /// Rate limited for longer than the call may wait.
    RateLimited = "rate-limited", "rate_limited", user_action: false;
    /// A different origin is already bound to the mission.
    OriginConflict = "origin-conflict", "origin_conflict", user_action: true;
    /// The control plane could not be reached or answered 5xx.
    ControlPlaneUnreachable = "control-plane-unreachable", "control_plane_unreachable", user_action: false;
    /// The host refused the outgoing request.
    RequestDenied = "request-denied", "request_denied", user_action: false;
    /// The control plane answered outside its wire format.
    UnexpectedResponse = "unexpected-response", "unexpected_response", user_action: false;
    /// The overall time bound ran out.
    TimedOut = "timed-out", "timed_out", user_action: false;
    /// The mission's `meta.json` is missing or malformed.
    InvalidMetadata = "invalid-metadata", "invalid_metadata", user_action: true;
    /// The repo's Spec Kitty layout is older or newer than the one kitty-origin writes.
    UnsupportedProjectLayout = "unsupported-project-layout", "unsupported_project_layout", user_action: true;
    /// A file could not be read or written.
    Io = "io", "io", user_action: false;
}

impl OriginError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// Whether the developer must act before a retry can succeed.
    pub fn user_action_required(&self) -> bool {
        self.kind().user_action_required()
    }

    /// The same kind, with `prefix` put before the message.
    pub fn prefixed(self, prefix: &str) -> Self {
        Self::new(self.kind(), format!("{prefix}{}", self.message()))
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
        f.write_str(self.message())
    }
}

impl std::error::Error for OriginError {}

/// Shorthand for results of the service methods.
pub type Result<T, E = OriginError> = std::result::Result<T, E>;
