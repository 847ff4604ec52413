//! Rehearsal of every error: faults the dev control plane can answer with.

use std::time::Duration;

use serde_json::{Value, json};

/// A failure the dev control plane can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 403 with `user_action_required`: no linked tracker account (Scenario 4).
    UserLink,
    /// 401 without `user_action_required`: the session expired.
    ExpiredSession,
    /// 404: no resource mapping for the project.
    NoMapping,
    /// 422: invalid query parameters.
    InvalidQuery,
    /// 429 with `retry_after_seconds` (see `--retry-after`).
    RateLimit,
    /// 409: a different origin is already bound (binds only).
    Conflict,
    /// 503: the control plane is failing.
    ServerError,
    /// 200 that rejects every event of a batch, with a reason (events only).
    Reject,
}

impl Fault {
    /// Every fault with its command-line name.
    pub const ALL: [(&'static str, Fault); 8] = [
        ("user-link", Fault::UserLink),
        ("expired-session", Fault::ExpiredSession),
        ("no-mapping", Fault::NoMapping),
        ("invalid-query", Fault::InvalidQuery),
        ("rate-limit", Fault::RateLimit),
        ("conflict", Fault::Conflict),
        ("server-error", Fault::ServerError),
        ("reject", Fault::Reject),
    ];

    /// The status and error envelope of this fault.
    pub fn answer(self, retry_after: Option<f64>) -> (u16, Value) {
        let envelope = |status: u16, code: &str, category: &str, message: &str, user_action: bool, retryable: bool| {
            let mut body = json!({
                "error_code": code, "error_category": category, "message": message,
                "retryable": retryable, "user_action_required": user_action, "source": "dev-saas",
            });
            if status == 429
                && let Some(seconds) = retry_after
            {
                body["retry_after_seconds"] = json!(seconds);
            }
            (status, body)
        };
        match self {
            Fault::UserLink => {
                envelope(403, "user_link_missing", "auth", "No linked account for this provider. Link it in the dashboard.", true, false)
            }
            Fault::ExpiredSession => envelope(401, "session_expired", "auth", "Session expired.", false, false),
            Fault::NoMapping => envelope(404, "resource_mapping_not_found", "routing", "No resource mapping found", false, false),
            Fault::InvalidQuery => envelope(422, "invalid_query", "validation", "query_text: must not be empty", false, false),
            Fault::RateLimit => envelope(429, "rate_limited", "throttle", "Too many requests", false, true),
            Fault::Conflict => {
                envelope(409, "origin_conflict", "conflict", "A different origin is already bound to this mission", false, false)
            }
            Fault::ServerError | Fault::Reject => envelope(503, "unavailable", "server", "Service unavailable", false, true),
        }
    }
}

impl std::str::FromStr for Fault {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Fault::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).ok_or_else(|| {
            let names: Vec<&str> = Fault::ALL.iter().map(|(n, _)| *n).collect();
            format!("unknown fault {name:?}; one of: {}", names.join(", "))
        })
    }
}

/// Which endpoints fail, how often, and how slowly everything answers.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The fault of issue searches.
    pub search: Option<Fault>,
    /// The fault of binds.
    pub bind: Option<Fault>,
    /// The fault of event batches.
    pub events: Option<Fault>,
    /// Only the first N faulty requests fail (all when `None`).
    pub times: Option<u32>,
    /// `retry_after_seconds` of 429 answers (none sent when `None`).
    pub retry_after: Option<f64>,
    /// A delay before every answer.
    pub delay: Duration,
}
