//! The `MissionOriginBound` event: envelope, payload and its validation.

use serde_json::json;

use crate::error::{ErrorKind, OriginError, Result};
use crate::model::OriginTicket;
use crate::ports::{Event, Ports};

/// The event type.
pub const MISSION_ORIGIN_BOUND: &str = "MissionOriginBound";
/// The aggregate type.
pub const AGGREGATE_TYPE: &str = "Mission";
/// The payload schema version.
pub const SCHEMA_VERSION: &str = "1.0.0";

/// The payload fields that must be non-empty strings.
pub const REQUIRED_PAYLOAD: [&str; 6] =
    ["mission_slug", "provider", "external_issue_id", "external_issue_key", "external_issue_url", "title"];

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
pub fn mission_origin_bound(ports: Ports<'_>, binding: &Binding<'_>) -> Result<Event> {
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
    for field in REQUIRED_PAYLOAD {
        if payload[field].as_str().is_none_or(|v| v.trim().is_empty()) {
            return Err(OriginError::new(
                ErrorKind::InvalidCandidate,
                format!("The MissionOriginBound payload needs a non-empty {field}."),
            ));
        }
    }
    Ok(Event {
        event_id: ports.new_ulid(),
        event_type: MISSION_ORIGIN_BOUND.into(),
        aggregate_id: binding.mission_id.unwrap_or(binding.mission_slug).to_string(),
        aggregate_type: AGGREGATE_TYPE.into(),
        schema_version: SCHEMA_VERSION.into(),
        payload_json: payload.to_string(),
        timestamp: ports.now_iso(),
        project_slug: binding.project_slug.map(str::to_string),
        correlation_id: Some(binding.correlation_id.to_string()),
    })
}
