//! Reading the control plane's answers: the 200 bodies of search and bind,
//! and every error status mapped to its `origin-error` case.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{ErrorKind, OriginError, Result};
use crate::model::{MatchType, OriginCandidate};

/// Which endpoint an answer came from; some statuses mean different things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `search_issues`.
    Search,
    /// `bind_mission_origin`.
    Bind,
}

/// The error envelope of every non-2xx answer. Any field may be missing or
/// of another type; each is read on its own, so a known `message` or
/// `user_action_required` survives a wrongly typed neighbour.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ErrorEnvelope {
    /// Machine code, e.g. `user_link_missing`.
    pub error_code: Option<String>,
    /// Human message.
    pub message: Option<String>,
    /// Whether the user must act (link an account, log in).
    pub user_action_required: Option<bool>,
    /// Seconds to wait before retrying a 429 (a number, or a numeric string).
    pub retry_after_seconds: Option<f64>,
}

impl ErrorEnvelope {
    /// Parses `body`; a body that is not a JSON object gives an empty envelope.
    /// Each field is read on its own: one of an unexpected type is left out
    /// and does not hide the others (`user_action_required` above all).
    pub fn parse(body: &[u8]) -> Self {
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else { return Self::default() };
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_string);
        let retry_after_seconds = fields.get("retry_after_seconds").and_then(|v| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        Self {
            error_code: text("error_code"),
            message: text("message"),
            user_action_required: fields.get("user_action_required").and_then(Value::as_bool),
            retry_after_seconds,
        }
    }

    /// The server's message, or `HTTP <status>` when it sent none.
    pub fn message_or_status(&self, status: u16) -> String {
        match &self.message {
            Some(message) if !message.trim().is_empty() => message.trim().to_string(),
            _ => format!("HTTP {status}"),
        }
    }
}

/// Maps a non-2xx, non-429 answer to its `origin-error`.
pub fn map_error(endpoint: Endpoint, status: u16, body: &[u8], provider: &str, project: &str) -> OriginError {
    let envelope = ErrorEnvelope::parse(body);
    let said = envelope.message_or_status(status);
    let (kind, message) = match status {
        401 | 403 if envelope.user_action_required == Some(true) => (
            ErrorKind::UserLinkRequired,
            format!(
                "Your {provider} account is not linked to Spec Kitty, or the link expired ({said}). \
                 Open the Spec Kitty SaaS dashboard, link your {provider} account under Connected accounts, then retry."
            ),
        ),
        401 | 403 => (
            ErrorKind::AuthenticationFailed,
            format!("The control plane refused your Spec Kitty session ({said}). Log in again with spec-kitty auth login, then retry."),
        ),
        404 => (
            ErrorKind::NoResourceMapping,
            format!(
                "No resource mapping found for project '{project}' ({said}). \
                 Map a Jira project or Linear team to it in the Spec Kitty SaaS dashboard, then retry."
            ),
        ),
        409 if endpoint == Endpoint::Bind => (
            ErrorKind::OriginConflict,
            format!(
                "A different origin ticket is already bound to this mission on the control plane ({said}). \
                 One origin per mission in v1: unbind it first, or create a new mission."
            ),
        ),
        422 => (ErrorKind::InvalidQuery, format!("The control plane rejected the request as invalid: {said}. Correct it and retry.")),
        500..=599 => (
            ErrorKind::ControlPlaneUnreachable,
            format!("The Spec Kitty control plane failed ({said}). Retry in a moment; nothing was changed locally."),
        ),
        _ => (
            ErrorKind::UnexpectedResponse,
            format!("The control plane answered HTTP {status} unexpectedly ({said}). Retry, or report it to Spec Kitty support."),
        ),
    };
    OriginError::new(kind, message)
}

/// The 200 answer of an issue search, as the control plane sends it.
#[derive(Debug, Deserialize)]
struct SearchResponse {
    candidates: Vec<WireCandidate>,
    resource_type: String,
    resource_id: String,
}

#[derive(Debug, Deserialize)]
struct WireCandidate {
    external_issue_id: String,
    external_issue_key: String,
    title: String,
    #[serde(default)]
    status: Option<String>,
    url: String,
    #[serde(default)]
    match_type: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

/// A parsed search answer: candidates and the routing context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchAnswer {
    /// The candidates, by relevance.
    pub candidates: Vec<OriginCandidate>,
    /// `linear_team` / `jira_project`.
    pub resource_type: String,
    /// The scoping resource.
    pub resource_id: String,
}

/// Parses a 200 search body.
pub fn parse_search(body: &[u8]) -> Result<SearchAnswer> {
    let response: SearchResponse = serde_json::from_slice(body).map_err(|err| unexpected("issue search", &err))?;
    if response.resource_type.trim().is_empty() || response.resource_id.trim().is_empty() {
        return Err(OriginError::new(
            ErrorKind::UnexpectedResponse,
            "The control plane's issue search answer names no resource_type or resource_id, so the tickets cannot be bound. \
             Retry, or report it to Spec Kitty support.",
        ));
    }
    let candidates = response
        .candidates
        .into_iter()
        .map(|c| OriginCandidate {
            external_issue_id: c.external_issue_id,
            external_issue_key: c.external_issue_key,
            title: c.title,
            status: c.status.unwrap_or_default(),
            url: c.url,
            match_type: if c.match_type.as_deref() == Some("exact") { MatchType::Exact } else { MatchType::Text },
            body: c.body.filter(|b| !b.trim().is_empty()),
        })
        .collect();
    Ok(SearchAnswer { candidates, resource_type: response.resource_type, resource_id: response.resource_id })
}

/// The 200 answer of a bind.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BindAnswer {
    /// The control plane's link id (never stored locally: FR-005).
    pub origin_link_id: String,
    /// When the link was made.
    pub bound_at: String,
}

/// Parses a 200 bind body.
pub fn parse_bind(body: &[u8]) -> Result<BindAnswer> {
    serde_json::from_slice(body).map_err(|err| unexpected("mission-origin bind", &err))
}

fn unexpected(what: &str, err: &serde_json::Error) -> OriginError {
    OriginError::new(
        ErrorKind::UnexpectedResponse,
        format!(
            "The control plane's {what} answer is not in the expected format ({err}). Check SPEC_KITTY_SAAS_URL points at the Spec Kitty control plane."
        ),
    )
}

/// What the control plane said about an events batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchAnswer {
    /// Event ids it has (`success` or `duplicate`).
    pub acknowledged: Vec<String>,
    /// Event ids it refused, with its reason.
    pub rejected: Vec<(String, String)>,
}

/// Reads a 200 events batch answer, `{"results": [{"event_id", "status",
/// ...}]}`; anything else is an error (then no event counts as delivered).
pub fn parse_batch_answer(body: &[u8]) -> std::result::Result<BatchAnswer, String> {
    let malformed = || "the control plane's answer to the events batch is not in its wire format".to_string();
    let value: Value = serde_json::from_slice(body).map_err(|_| malformed())?;
    let results = value.get("results").and_then(Value::as_array).ok_or_else(malformed)?;
    let mut answer = BatchAnswer::default();
    for result in results {
        let (Some(id), Some(status)) = (result["event_id"].as_str(), result["status"].as_str()) else { continue };
        if super::ACKNOWLEDGED_STATUSES.contains(&status) {
            answer.acknowledged.push(id.to_string());
        } else {
            let reason = ["error", "reason", "message"].iter().find_map(|k| result[*k].as_str()).unwrap_or(status);
            answer.rejected.push((id.to_string(), reason.to_string()));
        }
    }
    Ok(answer)
}

/// The JSON body of a request, as bytes.
pub fn to_body(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(endpoint: Endpoint, status: u16, body: &str) -> ErrorKind {
        map_error(endpoint, status, body.as_bytes(), "linear", "acme-web").kind()
    }

    #[test]
    fn every_row_of_the_error_tables_has_its_own_case() {
        let link = r#"{"error_code":"user_link_missing","user_action_required":true,"message":"No linked Linear account"}"#;
        assert_eq!(kind(Endpoint::Search, 401, link), ErrorKind::UserLinkRequired);
        assert_eq!(kind(Endpoint::Search, 403, link), ErrorKind::UserLinkRequired);
        assert_eq!(kind(Endpoint::Bind, 403, link), ErrorKind::UserLinkRequired);
        assert_eq!(kind(Endpoint::Search, 401, "{}"), ErrorKind::AuthenticationFailed);
        assert_eq!(kind(Endpoint::Bind, 403, "not json"), ErrorKind::AuthenticationFailed);
        assert_eq!(kind(Endpoint::Search, 404, "{}"), ErrorKind::NoResourceMapping);
        assert_eq!(kind(Endpoint::Search, 422, r#"{"message":"limit: must be <= 100"}"#), ErrorKind::InvalidQuery);
        assert_eq!(kind(Endpoint::Bind, 409, "{}"), ErrorKind::OriginConflict);
        assert_eq!(kind(Endpoint::Search, 409, "{}"), ErrorKind::UnexpectedResponse);
        assert_eq!(kind(Endpoint::Search, 500, "{}"), ErrorKind::ControlPlaneUnreachable);
        assert_eq!(kind(Endpoint::Bind, 503, "<html>"), ErrorKind::ControlPlaneUnreachable);
        assert_eq!(kind(Endpoint::Search, 418, "{}"), ErrorKind::UnexpectedResponse);
    }

    #[test]
    fn a_wrongly_typed_field_does_not_hide_the_others() {
        let body = br#"{"error_code":"user_link_missing","retry_after_seconds":"5","user_action_required":true,"message":7}"#;
        let envelope = ErrorEnvelope::parse(body);
        assert_eq!((envelope.user_action_required, envelope.retry_after_seconds), (Some(true), Some(5.0)));
        assert_eq!(envelope.message, None);
        assert_eq!(kind(Endpoint::Search, 403, std::str::from_utf8(body).unwrap()), ErrorKind::UserLinkRequired);
        let said = br#"{"message":"Link Linear","user_action_required":"yes"}"#;
        assert_eq!(ErrorEnvelope::parse(said).message.as_deref(), Some("Link Linear"));
    }

    #[test]
    fn a_field_of_another_type_does_not_hide_user_action_required() {
        // Found by properties.rs: one mistyped field used to empty the whole envelope.
        assert_eq!(kind(Endpoint::Search, 401, r#"{"error_code":[],"user_action_required":true}"#), ErrorKind::UserLinkRequired);
        assert_eq!(kind(Endpoint::Search, 401, r#"{"retry_after_seconds":"","user_action_required":true}"#), ErrorKind::UserLinkRequired);
        let envelope = ErrorEnvelope::parse(br#"{"message":7,"retry_after_seconds":2,"error_code":"x"}"#);
        assert_eq!((envelope.message, envelope.retry_after_seconds, envelope.error_code.as_deref()), (None, Some(2.0), Some("x")));
    }

    #[test]
    fn messages_say_what_to_do_and_quote_the_server() {
        let link = r#"{"user_action_required":true,"message":"No linked Linear account"}"#;
        let err = map_error(Endpoint::Search, 403, link.as_bytes(), "linear", "acme-web");
        assert!(err.message().contains("dashboard") && err.message().contains("No linked Linear account"), "{}", err.message());
        let err = map_error(Endpoint::Search, 404, b"", "linear", "acme-web");
        assert!(err.message().starts_with("No resource mapping found for project 'acme-web' (HTTP 404)"), "{}", err.message());
        let err = map_error(Endpoint::Search, 422, br#"{"message":"limit: must be <= 100"}"#, "linear", "acme-web");
        assert!(err.message().contains("limit: must be <= 100"), "{}", err.message());
    }

    #[test]
    fn search_answers_parse_with_defaults() {
        let body = br#"{"candidates":[{"external_issue_id":"u1","external_issue_key":"WEB-123","title":"Add Clerk auth","status":"In Progress","url":"https://x/WEB-123","match_type":"exact","body":"Do it"},{"external_issue_id":"u2","external_issue_key":"WEB-127","title":"Clerk middleware cleanup","url":"https://x/WEB-127","body":" "}],"resource_type":"linear_team","resource_id":"team-1"}"#;
        let answer = parse_search(body).unwrap();
        assert_eq!(answer.candidates.len(), 2);
        assert_eq!(answer.candidates[0].match_type, MatchType::Exact);
        assert_eq!(answer.candidates[0].body.as_deref(), Some("Do it"));
        assert_eq!(answer.candidates[1].match_type, MatchType::Text);
        assert_eq!(answer.candidates[1].status, "");
        assert_eq!(answer.candidates[1].body, None);
        assert_eq!(answer.resource_id, "team-1");
        let unrouted = br#"{"candidates":[]}"#;
        assert_eq!(parse_search(unrouted).unwrap_err().kind(), ErrorKind::UnexpectedResponse);
        assert_eq!(
            parse_search(br#"{"candidates":[],"resource_type":"linear_team","resource_id":" "}"#).unwrap_err().kind(),
            ErrorKind::UnexpectedResponse
        );
        assert_eq!(parse_search(b"{\"candidates\":[{}]}").unwrap_err().kind(), ErrorKind::UnexpectedResponse);
        assert_eq!(parse_search(b"<html>").unwrap_err().kind(), ErrorKind::UnexpectedResponse);
        assert_eq!(parse_bind(b"{}").unwrap_err().kind(), ErrorKind::UnexpectedResponse);
    }

    #[test]
    fn batch_answers_are_read_per_event_and_malformed_ones_refused() {
        let answer = parse_batch_answer(
            br#"{"results":[{"event_id":"a","status":"success"},{"event_id":"b","status":"duplicate"},{"event_id":"c","status":"rejected","error":"schema"},{"status":"success"}]}"#,
        )
        .unwrap();
        assert_eq!(answer.acknowledged, ["a", "b"]);
        assert_eq!(answer.rejected, [("c".to_string(), "schema".to_string())]);
        for bad in [&b"{}"[..], b"[]", b"<html>", br#"{"results": 3}"#] {
            assert!(parse_batch_answer(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
