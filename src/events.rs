//! The events the guest hands to its host: `MissionOriginBound`, and the
//! control plane's copies of the creation events. Their ids are derived from
//! what they describe, so a re-bind, a retried start or a crash recovery
//! emits the same ids again and the control plane answers `duplicate`
//! instead of counting twice.

use serde_json::json;

use crate::capabilities::{Capabilities, Event};
use crate::error::{ErrorKind, OriginError, Result};
use crate::model::OriginTicket;
use crate::wire::{MISSION_AGGREGATE_TYPE, MISSION_ORIGIN_BOUND, MISSION_ORIGIN_BOUND_REQUIRED, MISSION_ORIGIN_BOUND_SCHEMA};

/// What the event says about the binding.
pub struct Binding<'a> {
    /// The mission's ULID, when it has one.
    pub mission_id: Option<&'a str>,
    /// `NNN-slug`.
    pub mission_slug: &'a str,
    /// The bound ticket.
    pub ticket: &'a OriginTicket,
    /// The bound Spec Kitty project.
    pub project_slug: Option<&'a str>,
    /// The bind's idempotency key.
    pub correlation_id: &'a str,
}

/// Builds the event for `binding`, checking the payload's required fields.
pub fn mission_origin_bound(caps: Capabilities<'_>, binding: &Binding<'_>) -> Result<Event> {
    let ticket = binding.ticket;
    let payload = json!({
        "mission_slug": binding.mission_slug,
        "feature_slug": binding.mission_slug,
        "mission_id": binding.mission_id,
        "provider": ticket.provider,
        "external_issue_id": ticket.external_issue_id,
        "external_issue_key": ticket.external_issue_key,
        "external_issue_url": ticket.external_issue_url,
        "title": ticket.title,
    });
    for field in MISSION_ORIGIN_BOUND_REQUIRED {
        if payload[field].as_str().is_none_or(|v| v.trim().is_empty()) {
            return Err(OriginError::new(
                ErrorKind::InvalidCandidate,
                format!("The MissionOriginBound payload needs a non-empty {field}."),
            ));
        }
    }
    Ok(Event {
        event_id: derived_id(binding.mission_id.unwrap_or(binding.mission_slug), &["MissionOriginBound", &ticket.external_issue_id]),
        event_type: MISSION_ORIGIN_BOUND.into(),
        aggregate_id: binding.mission_id.unwrap_or(binding.mission_slug).to_string(),
        aggregate_type: MISSION_AGGREGATE_TYPE.into(),
        schema_version: MISSION_ORIGIN_BOUND_SCHEMA.into(),
        payload_json: payload.to_string(),
        timestamp: caps.now_iso(),
        project_slug: binding.project_slug.map(str::to_string),
        correlation_id: Some(binding.correlation_id.to_string()),
    })
}

/// The envelope schema of the creation events Spec Kitty queues for the control plane.
pub const CREATION_EVENTS_SCHEMA: &str = "3.0.0";

/// The control plane's copy of a local lifecycle `line` of `status.events.jsonl`
/// (`MissionCreated` or `SpecifyStarted`), as Spec Kitty queues it: a new event
/// id that is also its correlation id, the local timestamp, and the payload
/// without the repo-relative `artifact_path`.
pub fn from_status_line(line: &serde_json::Value, project_slug: Option<&str>) -> Event {
    let mut payload = line["payload"].clone();
    if let Some(fields) = payload.as_object_mut() {
        fields.remove("artifact_path");
    }
    let text = |key: &str| line[key].as_str().unwrap_or_default().to_string();
    let event_id = derived_id(&text("event_id"), &["control-plane"]);
    Event {
        event_id: event_id.clone(),
        event_type: text("event_type"),
        aggregate_id: text("aggregate_id"),
        aggregate_type: MISSION_AGGREGATE_TYPE.into(),
        schema_version: CREATION_EVENTS_SCHEMA.into(),
        payload_json: payload.to_string(),
        timestamp: text("timestamp"),
        project_slug: project_slug.map(str::to_string),
        correlation_id: Some(event_id),
    }
}

/// The control plane's copies of the creation events in the mission log
/// `status.events.jsonl` of `feature_dir` (none when it cannot be read).
pub fn creation_events(feature_dir: &std::path::Path, project_slug: Option<&str>) -> Vec<Event> {
    let path = feature_dir.join(crate::status_events::STATUS_EVENTS_FILE);
    let text = crate::files::read_bounded(&path, 1024 * 1024).ok().flatten().unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| matches!(line["event_type"].as_str(), Some("MissionCreated" | "SpecifyStarted")))
        .map(|line| from_status_line(&line, project_slug))
        .collect()
}

/// A ULID determined by `anchor` and `parts`: the anchor's timestamp when it
/// is a ULID (so ids still sort by time), and 80 bits of SHA-256 of both.
pub fn derived_id(anchor: &str, parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let millis = ulid::Ulid::from_string(anchor).map_or(0, |u| u.timestamp_ms());
    let mut hasher = Sha256::new();
    hasher.update(anchor.as_bytes());
    for part in parts {
        hasher.update([0]);
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let random = digest[..10].iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    ulid::Ulid::from_parts(millis, random).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_distinct_and_keep_the_anchor_time() {
        let mission = "01M8AHHKPQ3917CXJ559PT1H7E";
        let a = derived_id(mission, &["MissionOriginBound", "uuid-1"]);
        assert_eq!(a, derived_id(mission, &["MissionOriginBound", "uuid-1"]));
        assert_ne!(a, derived_id(mission, &["MissionOriginBound", "uuid-2"]));
        assert_eq!(&a[..10], &mission[..10], "the same timestamp");
        assert!(ulid::Ulid::from_string(&derived_id("not-a-ulid", &["x"])).is_ok());
    }
}
