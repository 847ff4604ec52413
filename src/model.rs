//! Plain Rust mirrors of the WIT records, the spec's result shapes.

use serde::{Deserialize, Serialize};

/// How a candidate matched the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchType {
    /// Key match.
    Exact,
    /// Free-text match.
    Text,
}

/// A candidate external issue (the spec's `OriginCandidate`, plus the optional body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Provider-native id.
    pub external_issue_id: String,
    /// Human-readable key, e.g. `WEB-123`.
    pub external_issue_key: String,
    /// Title / summary.
    pub title: String,
    /// Current status in the provider.
    pub status: String,
    /// Deep link.
    pub url: String,
    /// `exact` or `text`.
    pub match_type: MatchType,
    /// Ticket description, when the control plane sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The spec's `SearchOriginResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Matching issues, by relevance.
    pub candidates: Vec<Candidate>,
    /// `linear` or `jira`.
    pub provider: String,
    /// `linear_team` or `jira_project`.
    pub resource_type: String,
    /// The scoping resource.
    pub resource_id: String,
    /// The query actually executed.
    pub query_used: String,
}

/// The `origin_ticket` block of `meta.json` (FR-015): seven fields, no SaaS keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginTicket {
    /// `linear` or `jira`.
    pub provider: String,
    /// `linear_team` or `jira_project`.
    pub resource_type: String,
    /// Team or project identifier.
    pub resource_id: String,
    /// Provider-native issue id.
    pub external_issue_id: String,
    /// Issue key.
    pub external_issue_key: String,
    /// Deep link.
    pub external_issue_url: String,
    /// Issue title.
    pub title: String,
}

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
    pub fn from_candidate(candidate: &Candidate, routing: &Routing) -> Self {
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

/// What `bind_mission_origin` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindOutcome {
    /// The updated `meta.json`, as written.
    pub metadata_json: String,
    /// The persisted block.
    pub origin_ticket: OriginTicket,
    /// Whether the event sink accepted the `MissionOriginBound` event.
    pub event_emitted: bool,
}

/// The spec's `MissionFromTicketResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartOutcome {
    /// The created mission directory.
    pub feature_dir: String,
    /// `NNN-slug`.
    pub feature_slug: String,
    /// The persisted block.
    pub origin_ticket: OriginTicket,
    /// Whether the event sink accepted the event.
    pub event_emitted: bool,
}
