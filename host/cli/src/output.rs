//! What the command line prints. `--json` is the spec's result shapes,
//! serialized from the records themselves; the text form is for people.

use serde::Serialize;
use serde_json::Value;

use std::path::Path;

use kitty_origin_host::mission_git::GitSteps;
use kitty_origin_host::outbox::{Queued, RowState};
use kitty_origin_host::repo_queue::QueueReport;
use kitty_origin_host::templates::FALLBACK_SPEC_NOTE;
use kitty_origin_host::types::{Delivery, MatchType, OriginCandidate, OriginTicket, SearchOriginResult};

/// What a command prints on success: JSON for `--json`, text otherwise.
pub struct CommandOutput {
    /// The `--json` shape.
    pub json: Value,
    /// The text.
    pub text: String,
}

impl CommandOutput {
    /// `value` serialized for `--json`, with `text` for people.
    pub fn new(value: &impl Serialize, text: String) -> Self {
        Self { json: serde_json::to_value(value).unwrap_or(Value::Null), text }
    }
}

/// `exact` or `text`.
pub fn match_type(m: MatchType) -> &'static str {
    match m {
        MatchType::Exact => "exact",
        MatchType::Text => "text",
    }
}

/// The candidates as a numbered list.
pub fn candidates_text(candidates: &[OriginCandidate]) -> String {
    let mut out = String::new();
    for (i, c) in candidates.iter().enumerate() {
        let status = if c.status.is_empty() { String::new() } else { format!("  [{}]", clean(&c.status)) };
        out.push_str(&format!(
            "  {:>2}. {}  {}{status}  ({})\n      {}\n",
            i + 1,
            clean(&c.external_issue_key),
            clean(&c.title),
            match_type(c.match_type),
            clean(&c.url)
        ));
    }
    out
}

/// A search result as text.
pub fn search_text(r: &SearchOriginResult) -> String {
    if r.candidates.is_empty() {
        return format!(
            "No tickets match {:?} in {} {} {}. Try other words or the exact key, or start the mission without an origin ticket.\n",
            r.query_used,
            clean(&r.provider),
            clean(&r.resource_type),
            clean(&r.resource_id)
        );
    }
    format!(
        "{} candidate(s) for {:?} in {} {} {}:\n{}",
        r.candidates.len(),
        r.query_used,
        clean(&r.provider),
        clean(&r.resource_type),
        clean(&r.resource_id),
        candidates_text(&r.candidates)
    )
}

/// The origin ticket as text.
pub fn ticket_text(t: &OriginTicket) -> String {
    format!(
        "Origin ticket: {} {:?} ({} {} {})\n  {}\n",
        clean(&t.external_issue_key),
        clean(&t.title),
        clean(&t.provider),
        clean(&t.resource_type),
        clean(&t.resource_id),
        clean(&t.external_issue_url)
    )
}

/// How the event went, as text: `delivery` is what the event sink reported
/// (none: it refused the event); `waiting` counts the outbox's backlog.
pub fn event_text(delivery: Option<Delivery>, waiting: usize) -> String {
    match delivery {
        None => "MissionOriginBound event: NOT recorded (the outbox refused it); the binding itself is saved.\n".into(),
        Some(Delivery::Delivered) => "MissionOriginBound event: delivered to the control plane.\n".into(),
        Some(Delivery::Queued) => {
            format!("MissionOriginBound event: queued in the outbox ({waiting} waiting); run `kitty-origin events flush` when online.\n")
        }
    }
}

/// What the git steps did, as text (nothing outside a git work tree).
pub fn git_text(git: &GitSteps) -> String {
    let mut out = String::new();
    for commit in &git.commits {
        let short = commit.sha.get(..12).unwrap_or(&commit.sha);
        out.push_str(&format!("Committed {short} on {}: {}\n", git.branch.as_deref().unwrap_or("?"), commit.message));
    }
    if let Some(problem) = &git.problem {
        out.push_str(&format!("Not committed: {problem}\n"));
    }
    out
}

/// A note when `spec.md` is kitty-origin's summary rather than Spec Kitty's template.
pub fn spec_text(feature_dir: &Path) -> String {
    let written = std::fs::read_to_string(feature_dir.join("spec.md")).unwrap_or_default();
    if written.starts_with(FALLBACK_SPEC_NOTE) {
        "spec.md: Spec Kitty's spec template was not found (install spec-kitty-cli, or run `spec-kitty init`), so it holds kitty-origin's summary of the ticket.\n".into()
    } else {
        String::new()
    }
}

/// `text` safe for a terminal: control characters (escape sequences, carriage
/// returns, ...) from the control plane or a ticket become `?`.
pub fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// One outbox row, as `events list` prints it.
pub fn queued_text(q: &Queued) -> String {
    let e = &q.envelope;
    let field = |v: &serde_json::Value| clean(v.as_str().unwrap_or("?"));
    format!(
        "  #{} {} {} {} {} attempts={}{}\n",
        q.seq,
        field(&e["event_id"]),
        field(&e["event_type"]),
        clean(e["payload"]["external_issue_key"].as_str().unwrap_or("")),
        match q.state {
            RowState::Pending => "pending",
            RowState::Dead => "DEAD (rejected)",
        },
        q.attempts,
        q.last_error.as_ref().map(|m| format!(" last_error={:?}", clean(m))).unwrap_or_default()
    )
}

/// What a flush did to the WASI-only build's queue in the repo.
pub fn repo_queue_text(queue: &QueueReport) -> String {
    let unreadable = match queue.unreadable {
        0 => String::new(),
        n => format!(", {n} unreadable line(s) left in place (fix or delete them)"),
    };
    format!("{}: {} line(s) delivered and removed, {} waiting{unreadable}.\n", queue.path.display(), queue.delivered, queue.remaining)
}
