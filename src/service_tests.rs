//! Native tests of the three service methods with mocked caps (success criterion 6).

use serde_json::json;

use crate::capabilities::TransportError;
use crate::error::ErrorKind;
use crate::model::{MatchType, OriginCandidate, Routing};
use crate::testing::{Doubles, LINEAR_CONFIG, bound_repo, write};
use crate::{bind, search};

const SEARCH_OK: &str = r#"{"candidates":[{"external_issue_id":"uuid-123","external_issue_key":"WEB-123","title":"Add Clerk auth","status":"In Progress","url":"https://linear.app/acme/issue/WEB-123/add-clerk-auth","match_type":"text","body":"Replace the session cookies with Clerk."},{"external_issue_id":"uuid-127","external_issue_key":"WEB-127","title":"Clerk middleware cleanup","status":"Todo","url":"https://linear.app/acme/issue/WEB-127/clerk-middleware-cleanup"}],"resource_type":"linear_team","resource_id":"team-uuid"}"#;
const BIND_OK: &str = r#"{"origin_link_id":"link-1","bound_at":"2026-04-01T12:00:00Z"}"#;

/// WEB-123 as the developer confirmed it: the first candidate of `SEARCH_OK`, matched by key.
fn candidate() -> OriginCandidate {
    let first = crate::wire::parse_search(SEARCH_OK.as_bytes()).unwrap().candidates.remove(0);
    OriginCandidate { match_type: MatchType::Exact, ..first }
}

fn routing() -> Routing {
    Routing { provider: "linear".into(), resource_type: "linear_team".into(), resource_id: "team-uuid".into() }
}

fn mission(root: &std::path::Path, meta: &str) -> std::path::PathBuf {
    write(root, "kitty-specs/001-x/meta.json", meta);
    root.join("kitty-specs/001-x")
}

#[test]
fn scenario_1_text_search_returns_candidates_and_routing() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    d.saas.push(200, SEARCH_OK);
    let result = search::search_origin_candidates(d.caps(), repo.path(), Some(" Clerk auth "), None, 10).unwrap();
    assert_eq!(result.candidates.len(), 2);
    assert_eq!(
        (result.provider.as_str(), result.resource_type.as_str(), result.resource_id.as_str()),
        ("linear", "linear_team", "team-uuid")
    );
    assert_eq!(result.query_used, "Clerk auth");
    let sent = d.saas.sent.borrow();
    assert_eq!(sent[0].path, "/api/v1/tracker/issue-search/");
    assert_eq!(sent[0].body, json!({"provider": "linear", "project_slug": "acme-web", "query_text": "Clerk auth", "limit": 10}));
    assert_eq!(sent[0].timeout_ms, 10_000);
}

#[test]
fn the_key_wins_over_the_text_and_binding_ref_over_the_slug() {
    let repo = bound_repo("tracker:\n  provider: jira\n  project_slug: iam\n  binding_ref: br-1\n");
    let d = Doubles::default();
    d.saas.push(200, r#"{"candidates":[],"resource_type":"jira_project","resource_id":"10001"}"#);
    let result = search::search_origin_candidates(d.caps(), repo.path(), Some("login"), Some("IAM-42"), 5).unwrap();
    assert_eq!(result.query_used, "IAM-42");
    assert_eq!((result.resource_type.as_str(), result.resource_id.as_str()), ("jira_project", "10001"));
    assert_eq!(d.saas.sent.borrow()[0].body, json!({"provider": "jira", "binding_ref": "br-1", "query_key": "IAM-42", "limit": 5}));
}

#[test]
fn bad_queries_fail_before_any_request() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    let long = "x".repeat(501);
    for (text, key, limit) in [
        (None, None, 10),
        (Some("  "), Some(""), 10),
        (Some("a"), None, 0),
        (Some("a"), None, 101),
        (Some(long.as_str()), None, 10),
        (Some("a\u{7}"), None, 10),
    ] {
        let err = search::search_origin_candidates(d.caps(), repo.path(), text, key, limit).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidQuery, "{text:?} {key:?} {limit}");
    }
    assert!(d.saas.sent.borrow().is_empty());
}

#[test]
fn scenario_6_no_binding_sends_nothing() {
    let repo = tempfile::tempdir().unwrap();
    let d = Doubles::default();
    let err = search::search_origin_candidates(d.caps(), repo.path(), Some("x"), None, 10).unwrap_err();
    assert_eq!((err.kind(), err.message()), (ErrorKind::NoTrackerBinding, "No tracker bound. Run spec-kitty tracker bind first."));
    assert!(d.saas.sent.borrow().is_empty());
}

#[test]
fn a_429_waits_retry_after_seconds_then_retries() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    d.saas.push(429, r#"{"retry_after_seconds": 2}"#);
    d.saas.push(429, "not json");
    d.saas.push(200, SEARCH_OK);
    let result = search::search_origin_candidates(d.caps(), repo.path(), Some("x"), None, 10);
    assert!(result.is_ok(), "{result:?}");
    // The asked wait, stretched by the jitter (the doubles' entropy counts 1, 2, ...: +1 %, +2 %).
    assert_eq!(*d.clock.sleeps.borrow(), vec![2_020, 5_100]);
    let timeouts: Vec<u64> = d.saas.sent.borrow().iter().map(|s| s.timeout_ms).collect();
    assert_eq!(timeouts, vec![10_000, 7_980, 2_880]);
}

#[test]
fn a_retry_after_of_zero_never_becomes_a_request_storm() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    for _ in 0..100 {
        d.saas.push(429, r#"{"retry_after_seconds": 0}"#);
    }
    let err = search::search_origin_candidates(d.caps(), repo.path(), Some("x"), None, 10).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let sleeps = d.clock.sleeps.borrow();
    assert!(sleeps.iter().all(|ms| (250..=300).contains(ms)), "{sleeps:?}");
    assert!(d.saas.sent.borrow().len() <= 10_000 / 250 + 1, "{} requests in 10 s", d.saas.sent.borrow().len());
}

#[test]
fn rate_limiting_past_the_bound_is_a_timeout_and_a_long_wait_is_rate_limited() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    for _ in 0..3 {
        d.saas.push(429, r#"{"retry_after_seconds": 4}"#);
    }
    let err = search::search_origin_candidates(d.caps(), repo.path(), Some("x"), None, 10).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(err.message().contains("10 s") && err.message().contains("429"), "{}", err.message());
    assert_eq!(*d.clock.sleeps.borrow(), vec![4_040, 4_080]);

    let d = Doubles::default();
    d.saas.push(429, r#"{"retry_after_seconds": 60}"#);
    let err = search::search_origin_candidates(d.caps(), repo.path(), Some("x"), None, 10).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.message().contains("60 s"), "{}", err.message());
    assert!(d.clock.sleeps.borrow().is_empty());
}

#[test]
fn transport_failures_have_their_own_cases() {
    let repo = bound_repo(LINEAR_CONFIG);
    for (err, kind) in [
        (TransportError::Denied("not the SaaS origin".into()), ErrorKind::RequestDenied),
        (TransportError::NotLoggedIn("Log in first".into()), ErrorKind::NotLoggedIn),
        (TransportError::Unreachable("connection refused".into()), ErrorKind::ControlPlaneUnreachable),
        (TransportError::TimedOut("first byte".into()), ErrorKind::TimedOut),
        (TransportError::TooLarge("more than 8388608 bytes".into()), ErrorKind::UnexpectedResponse),
    ] {
        let d = Doubles::default();
        d.saas.fail(err);
        assert_eq!(search::search_origin_candidates(d.caps(), repo.path(), Some("x"), None, 10).unwrap_err().kind(), kind);
    }
}

#[test]
fn bind_writes_saas_first_then_meta_then_the_event() {
    let repo = bound_repo(LINEAR_CONFIG);
    let dir = mission(repo.path(), r#"{"mission_id": "01JQ0000000000000000000000", "mission_slug": "001-x", "friendly_name": "Café"}"#);
    let d = Doubles::default();
    d.saas.push(200, BIND_OK);
    let outcome = bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap();
    let expected = "{\n  \"friendly_name\": \"Café\",\n  \"mission_id\": \"01JQ0000000000000000000000\",\n  \"mission_slug\": \"001-x\",\n  \"origin_ticket\": {\n    \"external_issue_id\": \"uuid-123\",\n    \"external_issue_key\": \"WEB-123\",\n    \"external_issue_url\": \"https://linear.app/acme/issue/WEB-123/add-clerk-auth\",\n    \"provider\": \"linear\",\n    \"resource_id\": \"team-uuid\",\n    \"resource_type\": \"linear_team\",\n    \"title\": \"Add Clerk auth\"\n  }\n}\n";
    assert_eq!(std::fs::read_to_string(dir.join("meta.json")).unwrap(), expected);
    assert_eq!(outcome.metadata_json, expected);
    assert!(outcome.event_emitted);

    let sent = d.saas.sent.borrow();
    assert_eq!(sent[0].path, "/api/v1/tracker/mission-origin/bind/");
    assert_eq!(
        sent[0].body,
        json!({"provider": "linear", "project_slug": "acme-web", "mission_id": "01JQ0000000000000000000000", "mission_slug": "001-x",
               "external_issue_id": "uuid-123", "external_issue_key": "WEB-123", "external_issue_url": "https://linear.app/acme/issue/WEB-123/add-clerk-auth",
               "external_title": "Add Clerk auth", "external_status": "In Progress"})
    );
    let key = bind::idempotency_key("01JQ0000000000000000000000", "uuid-123");
    assert_eq!(sent[0].headers, vec![(crate::wire::IDEMPOTENCY_HEADER.to_string(), key.clone())]);

    let events = d.sink.events.borrow();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!((event.event_type.as_str(), event.aggregate_type.as_str()), ("MissionOriginBound", "Mission"));
    assert_eq!(event.aggregate_id, "01JQ0000000000000000000000");
    assert_eq!(event.event_id.len(), 26);
    assert_eq!(event.timestamp, "2026-04-01T12:00:00Z");
    assert_eq!(event.correlation_id.as_deref(), Some(key.as_str()));
    assert_eq!(event.project_slug.as_deref(), Some("acme-web"));
    let payload: serde_json::Value = serde_json::from_str(&event.payload_json).unwrap();
    assert_eq!(
        payload,
        json!({"mission_slug": "001-x", "feature_slug": "001-x", "mission_id": "01JQ0000000000000000000000", "provider": "linear",
               "external_issue_id": "uuid-123", "external_issue_key": "WEB-123",
               "external_issue_url": "https://linear.app/acme/issue/WEB-123/add-clerk-auth", "title": "Add Clerk auth"})
    );
}

#[test]
fn the_idempotency_key_is_stable_and_distinct() {
    assert_eq!(bind::idempotency_key("m", "i"), bind::idempotency_key("m", "i"));
    assert_ne!(bind::idempotency_key("m", "i"), bind::idempotency_key("m", "j"));
    assert!(bind::idempotency_key("m", "i").bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
}

#[test]
fn a_failing_control_plane_leaves_meta_untouched() {
    let repo = bound_repo(LINEAR_CONFIG);
    let before = "{\"mission_slug\":\"001-x\"}";
    let dir = mission(repo.path(), before);
    for status in [500, 409, 401, 404] {
        let d = Doubles::default();
        d.saas.push(status, "{}");
        assert!(bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).is_err());
        assert_eq!(std::fs::read_to_string(dir.join("meta.json")).unwrap(), before);
        assert!(d.sink.events.borrow().is_empty());
    }
    let d = Doubles::default();
    d.saas.push(409, "{}");
    assert_eq!(
        bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap_err().kind(),
        ErrorKind::OriginConflict
    );
}

#[test]
fn rebinding_the_same_origin_is_a_no_op_and_another_is_a_conflict() {
    let repo = bound_repo(LINEAR_CONFIG);
    let dir = mission(repo.path(), "{\"mission_slug\":\"001-x\"}");
    let d = Doubles::default();
    d.saas.push(200, BIND_OK);
    d.saas.push(200, BIND_OK);
    let first = bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap();
    let second = bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap();
    assert_eq!(first.metadata_json, second.metadata_json);
    let sent = d.saas.sent.borrow();
    assert_eq!(sent[0].headers, sent[1].headers);
    drop(sent);

    let mut other = candidate();
    other.external_issue_id = "uuid-127".into();
    other.external_issue_key = "WEB-127".into();
    let err = bind::bind_mission_origin(d.caps(), repo.path(), &dir, &other, &routing()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OriginConflict);
    assert!(err.message().contains("WEB-123") && err.message().contains("unbind"), "{}", err.message());
    assert_eq!(d.saas.sent.borrow().len(), 2, "a conflict sends nothing");
    assert_eq!(std::fs::read_to_string(dir.join("meta.json")).unwrap(), first.metadata_json);
}

#[test]
fn a_failing_event_sink_does_not_fail_the_bind() {
    let repo = bound_repo(LINEAR_CONFIG);
    let dir = mission(repo.path(), "{}");
    let mut d = Doubles::default();
    d.sink.fail = true;
    d.saas.push(200, BIND_OK);
    let outcome = bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap();
    assert!(!outcome.event_emitted);
    assert!(std::fs::read_to_string(dir.join("meta.json")).unwrap().contains("origin_ticket"));
}

#[test]
fn bind_refuses_bad_input_before_sending() {
    let repo = bound_repo(LINEAR_CONFIG);
    let dir = mission(repo.path(), "{}");
    let d = Doubles::default();
    let mut empty = candidate();
    empty.external_issue_id = " ".into();
    let err = bind::validate_routing(&empty, "linear", "linear_team", "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCandidate);
    assert!(err.message().contains("external_issue_id, resource_id"), "{}", err.message());
    assert_eq!(bind::validate_routing(&candidate(), "github", "t", "r").unwrap_err().kind(), ErrorKind::UnsupportedProvider);
    let jira = Routing { provider: "jira".into(), ..routing() };
    assert_eq!(
        bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &jira).unwrap_err().kind(),
        ErrorKind::InvalidCandidate
    );
    let missing = repo.path().join("kitty-specs/404-none");
    assert_eq!(
        bind::bind_mission_origin(d.caps(), repo.path(), &missing, &candidate(), &routing()).unwrap_err().kind(),
        ErrorKind::InvalidMetadata
    );
    write(repo.path(), "kitty-specs/002-bad/meta.json", "{not json");
    let bad = repo.path().join("kitty-specs/002-bad");
    assert_eq!(
        bind::bind_mission_origin(d.caps(), repo.path(), &bad, &candidate(), &routing()).unwrap_err().kind(),
        ErrorKind::InvalidMetadata
    );
    assert!(d.saas.sent.borrow().is_empty());
}
