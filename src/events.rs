//! The events the guest hands to its host: `MissionOriginBound`, and the
//! control plane's copies of the creation events. Their ids are derived from
//! what they describe, so a re-bind, a retried start or a crash recovery
//! emits the same ids again and the control plane answers `duplicate`
//! instead of counting twice.

use serde_json::{Value, json};

use crate::capabilities::{Capabilities, Event};
use crate::error::{ErrorKind, OriginError, Result};
use crate::model::EmitError;
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

/// The folder, relative to the repo root, where the WASI-only build's events
/// adapter queues the events the control plane did not take.
pub const QUEUE_DIR: &str = ".kittify/origin-events";
/// The queue in [`QUEUE_DIR`]: one [`envelope`] per line, oldest first.
pub const QUEUE_FILE: &str = "queue.jsonl";
/// The `.gitignore` of [`QUEUE_DIR`]: everything, itself included, so the
/// queue is never committed.
pub const QUEUE_GITIGNORE: &str = "*\n";

/// Who delivers an event: the fields a sink adds to the guest's event to
/// make the envelope the control plane takes.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    /// The delivering node's stable id.
    pub node_id: &'a str,
    /// The node's Lamport clock for this event (increasing per node).
    pub lamport_clock: i64,
    /// The team the events are for, when the sink knows it (the credentials
    /// add `X-Team-Slug` to the request anyway).
    pub team_slug: Option<&'a str>,
}

/// Checks an event handed to a sink and returns its payload object.
///
/// # Errors
///
/// `invalid-event` when a required envelope field is empty, the id is not a
/// ULID, the payload is not a JSON object, or a `MissionOriginBound` payload
/// lacks one of its required fields.
pub fn validate(event: &Event) -> std::result::Result<Value, EmitError> {
    let invalid = EmitError::InvalidEvent;
    for (name, value) in [
        ("event_id", &event.event_id),
        ("event_type", &event.event_type),
        ("aggregate_id", &event.aggregate_id),
        ("aggregate_type", &event.aggregate_type),
        ("timestamp", &event.timestamp),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(format!("{name} is empty")));
        }
    }
    if ulid::Ulid::from_string(&event.event_id).is_err() {
        return Err(invalid(format!("event_id {:?} is not a ULID", event.event_id)));
    }
    let payload: Value = serde_json::from_str(&event.payload_json).map_err(|e| invalid(format!("payload is not JSON ({e})")))?;
    if !payload.is_object() {
        return Err(invalid("payload is not a JSON object".into()));
    }
    if event.event_type == MISSION_ORIGIN_BOUND {
        for field in MISSION_ORIGIN_BOUND_REQUIRED {
            if payload[field].as_str().is_none_or(|v| v.trim().is_empty()) {
                return Err(invalid(format!("payload.{field} must be a non-empty string")));
            }
        }
    }
    Ok(payload)
}

/// The envelope the control plane's events batch takes: `event` with its
/// checked `payload` (from [`validate`]), sent by `sender`.
pub fn envelope(event: &Event, payload: Value, sender: Sender<'_>) -> Value {
    json!({
        "event_id": event.event_id,
        "event_type": event.event_type,
        "aggregate_id": event.aggregate_id,
        "aggregate_type": event.aggregate_type,
        "schema_version": event.schema_version,
        "payload": payload,
        "node_id": sender.node_id,
        "lamport_clock": sender.lamport_clock,
        "causation_id": null,
        "correlation_id": event.correlation_id,
        "timestamp": event.timestamp,
        "team_slug": sender.team_slug,
        "project_slug": event.project_slug,
    })
}

/// The guest's event back from an [`envelope`] (a line of the WASI-only
/// build's queue); `None` when a required field is missing or not a string.
/// The result still has to pass [`validate`].
pub fn from_envelope(envelope: &Value) -> Option<Event> {
    let text = |key: &str| envelope[key].as_str().map(str::to_string);
    let optional = |key: &str| match &envelope[key] {
        Value::Null => Some(None),
        Value::String(value) => Some(Some(value.clone())),
        _ => None,
    };
    Some(Event {
        event_id: text("event_id")?,
        event_type: text("event_type")?,
        aggregate_id: text("aggregate_id")?,
        aggregate_type: text("aggregate_type")?,
        schema_version: text("schema_version")?,
        payload_json: envelope.get("payload").filter(|p| p.is_object())?.to_string(),
        timestamp: text("timestamp")?,
        project_slug: optional("project_slug")?,
        correlation_id: optional("correlation_id")?,
    })
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

    fn event() -> Event {
        Event {
            event_id: "01J0000000000000000000000A".into(),
            event_type: MISSION_ORIGIN_BOUND.into(),
            aggregate_id: "01J0000000000000000000000B".into(),
            aggregate_type: MISSION_AGGREGATE_TYPE.into(),
            schema_version: MISSION_ORIGIN_BOUND_SCHEMA.into(),
            payload_json: json!({"mission_slug": "m", "provider": "linear", "external_issue_id": "i",
                "external_issue_key": "WEB-1", "external_issue_url": "https://x", "title": "t"})
            .to_string(),
            timestamp: "2026-04-01T12:00:00Z".into(),
            project_slug: Some("acme-web".into()),
            correlation_id: None,
        }
    }

    #[test]
    fn an_envelope_round_trips_to_the_same_event() {
        let event = event();
        let payload = validate(&event).unwrap();
        let sent = envelope(&event, payload, Sender { node_id: "n", lamport_clock: 7, team_slug: None });
        assert_eq!((sent["node_id"].as_str(), sent["lamport_clock"].as_i64()), (Some("n"), Some(7)));
        assert_eq!(from_envelope(&sent), Some(event));
        assert_eq!(from_envelope(&json!({"event_id": "x"})), None);
    }

    #[test]
    fn incomplete_events_are_invalid() {
        let mut bad = event();
        bad.event_id = "not-a-ulid".into();
        assert!(matches!(validate(&bad), Err(EmitError::InvalidEvent(m)) if m.contains("ULID")));
        let mut bad = event();
        bad.payload_json = json!({"mission_slug": "m"}).to_string();
        assert!(matches!(validate(&bad), Err(EmitError::InvalidEvent(m)) if m.contains("provider")));
        let mut bad = event();
        bad.payload_json = "[1]".into();
        assert!(matches!(validate(&bad), Err(EmitError::InvalidEvent(_))));
    }
}
