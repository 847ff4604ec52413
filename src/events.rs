//! The `MissionOriginBound` event: envelope, payload and its validation.

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
        event_id: caps.new_ulid(),
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
pub fn from_status_line(caps: Capabilities<'_>, line: &serde_json::Value, project_slug: Option<&str>) -> Event {
    let mut payload = line["payload"].clone();
    if let Some(fields) = payload.as_object_mut() {
        fields.remove("artifact_path");
    }
    let event_id = caps.new_ulid();
    let text = |key: &str| line[key].as_str().unwrap_or_default().to_string();
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
