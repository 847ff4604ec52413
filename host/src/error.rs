//! The host's error: an `origin-error` from the component, or a failure of
//! the component itself. Codes and the "user must act" flag come from the
//! one table in [`spec_kitty_origin::error`].

pub use spec_kitty_origin::model::OriginError;

/// What a host call can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A failure the spec names (the WIT `origin-error`).
    Origin(OriginError),
    /// The component could not be loaded, or trapped.
    Component(String),
    /// A git step Spec Kitty takes refused or failed (protected branch, bad
    /// start branch, ...); nothing was sent.
    Git(crate::git::GitError),
}

impl Error {
    /// A `map_err` adapter for wasmtime failures while doing `what`.
    pub fn component(what: &'static str) -> impl Fn(wasmtime::Error) -> Error {
        move |err| Error::Component(format!("could not {what}: {err:#}"))
    }

    /// The stable machine code of this error (`component_failed` for the component's own failures).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Origin(err) => err.code(),
            Error::Component(_) => "component_failed",
            Error::Git(err) => err.code(),
        }
    }

    /// The human message.
    pub fn message(&self) -> String {
        match self {
            Error::Origin(err) => err.message().to_string(),
            Error::Component(message) => message.clone(),
            Error::Git(err) => err.message(),
        }
    }

    /// Whether the developer must act before a retry can succeed.
    pub fn user_action_required(&self) -> bool {
        match self {
            Error::Origin(err) => err.user_action_required(),
            Error::Component(_) => false,
            Error::Git(err) => err.user_action_required(),
        }
    }
}

impl From<OriginError> for Error {
    fn from(err: OriginError) -> Self {
        Error::Origin(err)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}
