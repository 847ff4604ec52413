//! The records of the WIT `types` interface, defined once for everyone: the
//! guest logic, the guest's WIT export (wit-bindgen maps `types` onto this
//! module), the wasmtime host (its bindgen maps `types` here too, with the
//! feature `host`), and the `--json` output (serde).
//!
//! Field names are the spec's; the WIT names are the same in kebab-case.

use serde::{Deserialize, Serialize};

pub use crate::error::{ErrorKind, OriginError};

/// How a candidate matched the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(enum))]
#[repr(u8)]
pub enum MatchType {
    /// The ticket key matched exactly (a `query_key` search).
    #[cfg_attr(feature = "host", component(name = "exact"))]
    Exact,
    /// The ticket matched a free-text search.
    #[cfg_attr(feature = "host", component(name = "text"))]
    Text,
}

/// A candidate external issue (the spec's `OriginCandidate`, plus the optional body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(record))]
pub struct OriginCandidate {
    /// Provider-native id (Linear issue UUID, Jira issue id).
    #[cfg_attr(feature = "host", component(name = "external-issue-id"))]
    pub external_issue_id: String,
    /// Human-readable key, e.g. `WEB-123`.
    #[cfg_attr(feature = "host", component(name = "external-issue-key"))]
    pub external_issue_key: String,
    /// Title / summary.
    pub title: String,
    /// Current status in the provider.
    pub status: String,
    /// Deep link.
    pub url: String,
    /// `exact` or `text`.
    #[cfg_attr(feature = "host", component(name = "match-type"))]
    pub match_type: MatchType,
    /// Ticket description, when the control plane sent one. Not part of the
    /// spec's `OriginCandidate` shape, so `--json` leaves it out.
    #[serde(default, skip_serializing)]
    pub body: Option<String>,
}

/// The spec's `SearchOriginResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(record))]
pub struct SearchOriginResult {
    /// Matching issues, by relevance.
    pub candidates: Vec<OriginCandidate>,
    /// `linear` or `jira`.
    pub provider: String,
    /// `linear_team` or `jira_project`.
    #[cfg_attr(feature = "host", component(name = "resource-type"))]
    pub resource_type: String,
    /// The scoping resource.
    #[cfg_attr(feature = "host", component(name = "resource-id"))]
    pub resource_id: String,
    /// The query actually executed.
    #[cfg_attr(feature = "host", component(name = "query-used"))]
    pub query_used: String,
}

/// The `origin_ticket` block of `meta.json` (FR-015): seven fields, no SaaS keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(record))]
pub struct OriginTicket {
    /// `linear` or `jira`.
    pub provider: String,
    /// `linear_team` or `jira_project`.
    #[cfg_attr(feature = "host", component(name = "resource-type"))]
    pub resource_type: String,
    /// Team or project identifier.
    #[cfg_attr(feature = "host", component(name = "resource-id"))]
    pub resource_id: String,
    /// Provider-native issue id.
    #[cfg_attr(feature = "host", component(name = "external-issue-id"))]
    pub external_issue_id: String,
    /// Issue key.
    #[cfg_attr(feature = "host", component(name = "external-issue-key"))]
    pub external_issue_key: String,
    /// Deep link.
    #[cfg_attr(feature = "host", component(name = "external-issue-url"))]
    pub external_issue_url: String,
    /// Issue title.
    pub title: String,
}

/// What `bind_mission_origin` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(record))]
pub struct BindResult {
    /// The updated `meta.json`, as written.
    #[cfg_attr(feature = "host", component(name = "metadata-json"))]
    pub metadata_json: String,
    /// The persisted block.
    #[cfg_attr(feature = "host", component(name = "origin-ticket"))]
    pub origin_ticket: OriginTicket,
    /// Whether the event sink accepted the `MissionOriginBound` event.
    #[cfg_attr(feature = "host", component(name = "event-emitted"))]
    pub event_emitted: bool,
    /// What the sink did with it: delivered, or queued durably (none: refused).
    #[cfg_attr(feature = "host", component(name = "event-delivery"))]
    pub event_delivery: Option<Delivery>,
}

/// The spec's `MissionFromTicketResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(record))]
pub struct MissionFromTicketResult {
    /// The created mission directory.
    #[cfg_attr(feature = "host", component(name = "feature-dir"))]
    pub feature_dir: String,
    /// The mission's slug (its directory name).
    #[cfg_attr(feature = "host", component(name = "feature-slug"))]
    pub feature_slug: String,
    /// The persisted block.
    #[cfg_attr(feature = "host", component(name = "origin-ticket"))]
    pub origin_ticket: OriginTicket,
    /// Whether the event sink accepted the event.
    #[cfg_attr(feature = "host", component(name = "event-emitted"))]
    pub event_emitted: bool,
    /// What the sink did with it: delivered, or queued durably (none: refused).
    #[cfg_attr(feature = "host", component(name = "event-delivery"))]
    pub event_delivery: Option<Delivery>,
}

/// An event as handed to the host's sink (the WIT `event`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(record))]
pub struct Event {
    /// ULID.
    #[cfg_attr(feature = "host", component(name = "event-id"))]
    pub event_id: String,
    /// `MissionOriginBound`.
    #[cfg_attr(feature = "host", component(name = "event-type"))]
    pub event_type: String,
    /// The mission's ULID (its slug when it has none).
    #[cfg_attr(feature = "host", component(name = "aggregate-id"))]
    pub aggregate_id: String,
    /// `Mission`.
    #[cfg_attr(feature = "host", component(name = "aggregate-type"))]
    pub aggregate_type: String,
    /// Payload schema version.
    #[cfg_attr(feature = "host", component(name = "schema-version"))]
    pub schema_version: String,
    /// The payload as JSON text.
    #[cfg_attr(feature = "host", component(name = "payload-json"))]
    pub payload_json: String,
    /// ISO-8601 UTC.
    pub timestamp: String,
    /// The bound Spec Kitty project.
    #[cfg_attr(feature = "host", component(name = "project-slug"))]
    pub project_slug: Option<String>,
    /// The bind's idempotency key.
    #[cfg_attr(feature = "host", component(name = "correlation-id"))]
    pub correlation_id: Option<String>,
}

/// Whether the sink delivered the event now or stored it for later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(enum))]
#[repr(u8)]
pub enum Delivery {
    /// Acknowledged by the control plane.
    #[cfg_attr(feature = "host", component(name = "delivered"))]
    Delivered,
    /// Stored durably for later delivery.
    #[cfg_attr(feature = "host", component(name = "queued"))]
    Queued,
}

/// Why the host's sink did not accept an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "host", derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower))]
#[cfg_attr(feature = "host", component(variant))]
pub enum EmitError {
    /// The envelope or payload is incomplete or not JSON.
    #[cfg_attr(feature = "host", component(name = "invalid-event"))]
    InvalidEvent(String),
    /// The event could not be stored durably.
    #[cfg_attr(feature = "host", component(name = "storage-failed"))]
    StorageFailed(String),
}

impl EmitError {
    /// The message, whichever the case.
    pub fn message(&self) -> &str {
        match self {
            EmitError::InvalidEvent(m) | EmitError::StorageFailed(m) => m,
        }
    }
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for EmitError {}

/// The routing context a candidate is bound with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// `linear` or `jira`.
    pub provider: String,
    /// `linear_team` or `jira_project`.
    pub resource_type: String,
    /// Team or project identifier.
    pub resource_id: String,
}

impl OriginTicket {
    /// The block for `candidate` bound under `routing`.
    pub fn from_candidate(candidate: &OriginCandidate, routing: &Routing) -> Self {
        Self {
            provider: routing.provider.clone(),
            resource_type: routing.resource_type.clone(),
            resource_id: routing.resource_id.clone(),
            external_issue_id: candidate.external_issue_id.clone(),
            external_issue_key: candidate.external_issue_key.clone(),
            external_issue_url: candidate.url.clone(),
            title: candidate.title.clone(),
        }
    }
}

/// What wit-bindgen's export glue calls to read a WIT enum: the guest maps
/// the `types` interface onto this module, so the enums carry the hook the
/// generated code expects. `val` comes from the canonical ABI, which only
/// hands over valid discriminants.
#[cfg(target_arch = "wasm32")]
mod wit_lift {
    use super::{Delivery, MatchType};

    impl MatchType {
        #[doc(hidden)]
        pub fn _lift(val: u8) -> MatchType {
            if val == 0 { MatchType::Exact } else { MatchType::Text }
        }
    }

    impl Delivery {
        #[doc(hidden)]
        pub fn _lift(val: u8) -> Delivery {
            if val == 0 { Delivery::Delivered } else { Delivery::Queued }
        }
    }
}
