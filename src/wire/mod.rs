//! The control plane's wire format (`saas-wire.md`), defined once: the guest
//! speaks it, the host delivers events with it, the dev control plane answers
//! it. Every path, header, limit and event field lives here.

mod answers;

pub use answers::{
    BatchAnswer, BindAnswer, Endpoint, ErrorEnvelope, SearchAnswer, map_error, parse_batch_answer, parse_bind, parse_search, to_body,
};

/// The environment variable naming the control plane's base URL. The host
/// reads it and grants it to the guest; the guest reads nothing else.
pub const SAAS_URL_VAR: &str = "SPEC_KITTY_SAAS_URL";

/// Issue search endpoint.
pub const SEARCH_PATH: &str = "/api/v1/tracker/issue-search/";
/// Mission-origin bind endpoint.
pub const BIND_PATH: &str = "/api/v1/tracker/mission-origin/bind/";
/// Events batch endpoint (gzip JSON `{"events": [...]}`).
pub const EVENTS_BATCH_PATH: &str = "/api/v1/events/batch/";
/// Every path the control plane serves for this product.
pub const API_PATHS: [&str; 3] = [SEARCH_PATH, BIND_PATH, EVENTS_BATCH_PATH];

/// The bearer-token header (`Authorization: Bearer <token>`); only the host sets it.
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// The team header every request carries; only the host sets it.
pub const TEAM_HEADER: &str = "x-team-slug";
/// The header that makes a bind safe to retry.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The most bytes a control-plane answer may hold: a search of 100 candidates
/// with long descriptions stays far below it, and it bounds guest memory.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// The most events the control plane takes in one batch.
pub const MAX_EVENTS_PER_BATCH: usize = 1000;
/// The spec's default search `limit`.
pub const DEFAULT_SEARCH_LIMIT: u32 = 10;
/// The largest search `limit` the control plane accepts.
pub const MAX_SEARCH_LIMIT: u32 = 100;
/// The wait after a 429 that names none, as the deployed client does.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 5_000;

/// The event type of a binding.
pub const MISSION_ORIGIN_BOUND: &str = "MissionOriginBound";
/// The aggregate type of mission events.
pub const MISSION_AGGREGATE_TYPE: &str = "Mission";
/// The payload schema version of `MissionOriginBound`.
pub const MISSION_ORIGIN_BOUND_SCHEMA: &str = "1.0.0";
/// The `MissionOriginBound` payload fields that must be non-empty strings.
pub const MISSION_ORIGIN_BOUND_REQUIRED: [&str; 6] =
    ["mission_slug", "provider", "external_issue_id", "external_issue_key", "external_issue_url", "title"];

/// Batch result statuses that mean the control plane has the event.
pub const ACKNOWLEDGED_STATUSES: [&str; 2] = ["success", "duplicate"];
