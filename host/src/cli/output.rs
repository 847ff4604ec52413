//! What the command line prints: the spec's result shapes as JSON, or text.

use serde_json::{Value, json};

use kitty_origin_host::types::{MatchType, MissionFromTicketResult, OriginCandidate, OriginTicket, SearchOriginResult};

/// A candidate in the spec's `OriginCandidate` shape.
pub fn candidate_json(c: &OriginCandidate) -> Value {
    json!({
        "external_issue_id": c.external_issue_id,
        "external_issue_key": c.external_issue_key,
        "title": c.title,
        "status": c.status,
        "url": c.url,
        "match_type": match_type(c.match_type),
    })
}

/// `exact` or `text`.
pub fn match_type(m: MatchType) -> &'static str {
    match m {
        MatchType::Exact => "exact",
        MatchType::Text => "text",
    }
}

/// The spec's `SearchOriginResult`.
pub fn search_json(r: &SearchOriginResult) -> Value {
    json!({
        "candidates": r.candidates.iter().map(candidate_json).collect::<Vec<_>>(),
        "provider": r.provider,
        "resource_type": r.resource_type,
        "resource_id": r.resource_id,
        "query_used": r.query_used,
    })
}

/// The `origin_ticket` block.
pub fn ticket_json(t: &OriginTicket) -> Value {
    json!({
        "provider": t.provider,
        "resource_type": t.resource_type,
        "resource_id": t.resource_id,
        "external_issue_id": t.external_issue_id,
        "external_issue_key": t.external_issue_key,
        "external_issue_url": t.external_issue_url,
        "title": t.title,
    })
}

/// The spec's `MissionFromTicketResult`.
pub fn start_json(r: &MissionFromTicketResult) -> Value {
    json!({
        "feature_dir": r.feature_dir,
        "feature_slug": r.feature_slug,
        "origin_ticket": ticket_json(&r.origin_ticket),
        "event_emitted": r.event_emitted,
    })
}

/// The candidates as a numbered list.
pub fn candidates_text(candidates: &[OriginCandidate]) -> String {
    let mut out = String::new();
    for (i, c) in candidates.iter().enumerate() {
        let status = if c.status.is_empty() { String::new() } else { format!("  [{}]", c.status) };
        out.push_str(&format!("  {:>2}. {}  {}{status}  ({})\n      {}\n", i + 1, c.external_issue_key, c.title, match_type(c.match_type), c.url));
    }
    out
}

/// A search result as text.
pub fn search_text(r: &SearchOriginResult) -> String {
    if r.candidates.is_empty() {
        return format!(
            "No tickets match {:?} in {} {} {}. Try other words or the exact key, or start the mission without an origin ticket.\n",
            r.query_used, r.provider, r.resource_type, r.resource_id
        );
    }
    format!(
        "{} candidate(s) for {:?} in {} {} {}:\n{}",
        r.candidates.len(),
        r.query_used,
        r.provider,
        r.resource_type,
        r.resource_id,
        candidates_text(&r.candidates)
    )
}

/// The origin ticket as text.
pub fn ticket_text(t: &OriginTicket) -> String {
    format!(
        "Origin ticket: {} {:?} ({} {} {})\n  {}\n",
        t.external_issue_key, t.title, t.provider, t.resource_type, t.resource_id, t.external_issue_url
    )
}

/// How the event went, as text.
pub fn event_text(emitted: bool, waiting: usize) -> String {
    match (emitted, waiting) {
        (false, _) => "MissionOriginBound event: NOT recorded (the outbox refused it); the binding itself is saved.\n".into(),
        (true, 0) => "MissionOriginBound event: delivered to the control plane.\n".into(),
        (true, n) => format!("MissionOriginBound event: queued in the outbox ({n} waiting); run `kitty-origin events flush` when online.\n"),
    }
}
