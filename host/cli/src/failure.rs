//! A command's failure: a code, a message, whether the user must act, an exit status.

use kitty_origin_host::Error;
use serde::Serialize;

/// Exit status of usage errors.
pub const EXIT_USAGE: u8 = 2;
/// Exit status of every other failure.
pub const EXIT_FAILURE: u8 = 1;

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Stable machine code.
    pub code: String,
    /// What happened and what to do next.
    pub message: String,
    /// Whether the developer must act first.
    pub user_action_required: bool,
    /// The process exit status.
    #[serde(skip)]
    pub exit: u8,
}

impl Failure {
    /// A failure with exit status 1.
    pub fn new(code: &str, message: impl Into<String>, user_action_required: bool) -> Self {
        Self { code: code.into(), message: message.into(), user_action_required, exit: EXIT_FAILURE }
    }

    /// A usage failure (exit status 2).
    pub fn usage(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into(), user_action_required: true, exit: EXIT_USAGE }
    }

    /// The `{"error": {...}}` shape of `--json`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self })
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::new(err.code(), err.message(), err.user_action_required())
    }
}
