//! The built component under wasmtime with stub host imports: the spec's six
//! scenarios, both error tables, re-binds, failures, and concurrency.

mod common;

use std::sync::Arc;

use common::*;
use kitty_origin_host::events::MemorySink;
use kitty_origin_host::types::{ErrorKind, MatchType, OriginError};
use kitty_origin_host::{Error, SpecTemplates};
use serde_json::json;

fn mission(h: &Harness, meta: &str) -> std::path::PathBuf {
    h.write("kitty-specs/001-x/meta.json", meta);
    h.root().join("kitty-specs/001-x")
}

fn origin_error(result: Result<impl std::fmt::Debug, Error>) -> OriginError {
    match result {
        Err(Error::Origin(e)) => e,
        other => panic!("expected an origin-error, got {other:?}"),
    }
}

#[test]
fn the_component_is_built() {
    assert!(wasm_path().is_file(), "{} is missing: run `make build` first", wasm_path().display());
}

#[test]
fn a_missing_component_is_a_clear_error() {
    let saas = StubSaas::new(happy);
    let sink = Arc::new(MemorySink::default());
    let err = kitty_origin_host::Runtime::new("/nonexistent/x.wasm".as_ref(), None, capabilities(&saas, &sink, true)).err().unwrap();
    assert!(matches!(&err, Error::Component(m) if m.contains("make build")), "{err:?}");
}

#[test]
fn scenario_1_text_search_goes_to_the_wire_with_the_hosts_credentials() {
    let h = harness(happy);
    let result = h.runtime.search_origin_candidates(h.root(), Some("Clerk auth"), None, 10).unwrap();
    let keys: Vec<_> = result.candidates.iter().map(|c| c.external_issue_key.as_str()).collect();
    assert_eq!(keys, ["WEB-123", "WEB-127"]);
    assert_eq!(
        (result.provider.as_str(), result.resource_type.as_str(), result.resource_id.as_str()),
        ("linear", "linear_team", "team-uuid")
    );
    assert_eq!(result.query_used, "Clerk auth");
    assert_eq!(result.candidates[0].match_type, MatchType::Text);

    let seen = h.saas.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].uri.as_str()), ("POST", "https://saas.test/api/v1/tracker/issue-search/"));
    assert_eq!(seen[0].body, json!({"provider": "linear", "project_slug": "acme-web", "query_text": "Clerk auth", "limit": 10}));
    assert_eq!(seen[0].headers["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(seen[0].headers["x-team-slug"], "acme");
    assert_eq!(seen[0].headers["content-type"], "application/json");
}

#[test]
fn scenario_2_the_key_wins_and_matches_exactly() {
    let h = harness(|_| {
        (200, r#"{"candidates":[{"external_issue_id":"10042","external_issue_key":"IAM-42","title":"Login fails","status":"In Progress","url":"https://acme.atlassian.net/browse/IAM-42","match_type":"exact"}],"resource_type":"jira_project","resource_id":"10020"}"#.into())
    });
    h.write(".kittify/config.yaml", "vcs: git\ntracker:\n  provider: jira\n  project_slug: acme-iam\n  binding_ref: br-9\n");
    let result = h.runtime.search_origin_candidates(h.root(), Some("login"), Some("IAM-42"), 10).unwrap();
    assert_eq!(result.query_used, "IAM-42");
    assert_eq!(result.candidates.len(), 1);
    assert_eq!(result.candidates[0].match_type, MatchType::Exact);
    assert_eq!(h.saas.seen()[0].body, json!({"provider": "jira", "binding_ref": "br-9", "query_key": "IAM-42", "limit": 10}));
}

#[test]
fn scenario_3_no_match_is_an_empty_list() {
    let h = harness(|_| (200, r#"{"candidates":[],"resource_type":"linear_team","resource_id":"team-uuid"}"#.into()));
    let result = h.runtime.search_origin_candidates(h.root(), Some("nothing like this"), None, 10).unwrap();
    assert!(result.candidates.is_empty());
    assert_eq!(result.query_used, "nothing like this");
}

#[test]
fn scenario_4_missing_user_link_sends_the_developer_to_the_dashboard() {
    let h =
        harness(|_| (403, r#"{"error_code":"user_link_missing","user_action_required":true,"message":"No linked Linear account"}"#.into()));
    let err = origin_error(h.runtime.search_origin_candidates(h.root(), Some("x"), None, 10));
    let OriginError::UserLinkRequired(message) = err else { panic!("{err:?}") };
    assert!(message.contains("dashboard") && message.contains("No linked Linear account"), "{message}");
    assert_eq!(h.saas.seen().len(), 1, "no fallback search");
}

#[test]
fn scenario_5_start_creates_the_mission_binds_it_and_emits_the_event() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("spec-template.md"), "# Feature Specification: [FEATURE NAME]\n").unwrap();
    let saas = StubSaas::new(happy);
    let sink = Arc::new(MemorySink::default());
    let mut caps = capabilities(&saas, &sink, true);
    caps.spec_templates = SpecTemplates::Dirs(vec![templates.path().canonicalize().unwrap()]);
    let h = Harness { runtime: runtime(caps), saas, sink, repo: tempfile::tempdir().unwrap() };
    h.write(".kittify/config.yaml", LINEAR_CONFIG);
    h.write(".git/HEAD", "ref: refs/heads/feature/clerk\n");
    let result = h
        .runtime
        .start_mission_from_ticket(h.root(), &web_123(), "linear", "linear_team", "team-uuid", "software-dev", None)
        .map(|o| o.result)
        .unwrap();
    let slug = result.feature_slug.clone();
    let dir = h.root().canonicalize().unwrap().join("kitty-specs").join(&slug);
    assert_eq!(result.feature_dir, dir.display().to_string());
    assert!(result.event_emitted);

    let text = std::fs::read_to_string(dir.join("meta.json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (id, created) = (meta["mission_id"].as_str().unwrap(), meta["created_at"].as_str().unwrap());
    assert_eq!(slug, format!("web-123-add-clerk-auth-{}", &id[..8]));
    assert!(created.ends_with("+00:00") && (created.len() == 25 || created.len() == 32), "Python isoformat: {created}");
    let expected = format!(
        "{{\n  \"created_at\": \"{created}\",\n  \"flattened\": false,\n  \"friendly_name\": \"Add Clerk auth\",\n  \"mission_id\": \"{id}\",\n  \"mission_number\": null,\n  \"mission_slug\": \"{slug}\",\n  \"mission_type\": \"software-dev\",\n  \"origin_ticket\": {{\n    \"external_issue_id\": \"uuid-123\",\n    \"external_issue_key\": \"WEB-123\",\n    \"external_issue_url\": \"https://linear.app/acme/issue/WEB-123/add-clerk-auth\",\n    \"provider\": \"linear\",\n    \"resource_id\": \"team-uuid\",\n    \"resource_type\": \"linear_team\",\n    \"title\": \"Add Clerk auth\"\n  }},\n  \"purpose_context\": \"Replace the session cookies with Clerk.\",\n  \"purpose_tldr\": \"Add Clerk auth\",\n  \"slug\": \"{slug}\",\n  \"target_branch\": \"feature/clerk\",\n  \"topology\": \"single_branch\"\n}}\n"
    );
    assert_eq!(text, expected);
    assert_eq!(
        std::fs::read_to_string(dir.join("spec.md")).unwrap(),
        "# Feature Specification: [FEATURE NAME]\n",
        "copied from the granted template"
    );
    let log = std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    let kinds: Vec<String> =
        log.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event_type"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, ["MissionCreated", "SpecifyStarted"]);
    assert!(dir.join("tasks/README.md").is_file() && dir.join("tasks/.gitkeep").is_file());
    assert!(dir.join("checklists").is_dir() && dir.join("research").is_dir());

    let bind = &h.saas.seen()[0];
    assert_eq!(bind.path, "/api/v1/tracker/mission-origin/bind/");
    assert_eq!(bind.body["mission_id"], json!(id));
    assert_eq!(bind.body["mission_slug"], json!(slug));
    assert!(bind.headers["idempotency-key"].starts_with("mission-origin-"));

    let types: Vec<String> = h.sink.events().iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(types, ["MissionCreated", "SpecifyStarted", "MissionOriginBound"]);
}

#[test]
fn scenario_6_no_tracker_binding_is_a_hard_error_with_nothing_sent() {
    let h = harness_with(None, MemorySink::default(), happy);
    let err = origin_error(h.runtime.search_origin_candidates(h.root(), Some("x"), None, 10));
    assert_eq!(err, OriginError::NoTrackerBinding("No tracker bound. Run spec-kitty tracker bind first.".into()));
    h.write(".kittify/config.yaml", "tracker:\n  provider: github\n  project_slug: x\n");
    assert!(matches!(origin_error(h.runtime.search_origin_candidates(h.root(), Some("x"), None, 10)), OriginError::UnsupportedProvider(_)));
    assert!(h.saas.seen().is_empty());
}

#[test]
fn every_search_error_row_reaches_the_caller_as_its_own_case() {
    let cases = [
        (401, r#"{"user_action_required":true}"#, ErrorKind::UserLinkRequired, ""),
        (401, "{}", ErrorKind::AuthenticationFailed, ""),
        (404, "{}", ErrorKind::NoResourceMapping, "No resource mapping found"),
        (422, r#"{"message":"limit: too big"}"#, ErrorKind::InvalidQuery, "limit: too big"),
        (500, "oops", ErrorKind::ControlPlaneUnreachable, ""),
        (429, r#"{"retry_after_seconds": 30}"#, ErrorKind::RateLimited, ""),
    ];
    for (status, body, kind, said) in cases {
        let h = harness(move |_| (status, body.into()));
        let err = origin_error(h.runtime.search_origin_candidates(h.root(), Some("x"), None, 10));
        assert_eq!(err.kind(), kind, "{status} {body}: {err:?}");
        assert!(err.message().contains(said), "{status} {body}: {err:?}");
    }
}

#[test]
fn a_429_is_retried_after_retry_after_seconds() {
    let mut calls = 0;
    let h = harness(move |_| {
        calls += 1;
        if calls == 1 { (429, r#"{"retry_after_seconds": 0.2}"#.into()) } else { (200, SEARCH_ANSWER.into()) }
    });
    let result = h.runtime.search_origin_candidates(h.root(), Some("Clerk"), None, 10).unwrap();
    assert_eq!(result.candidates.len(), 2);
    assert_eq!(h.saas.seen().len(), 2);
}

#[test]
fn bad_queries_fail_before_any_request() {
    let h = harness(happy);
    for (text, key, limit) in [(None, None, 10), (Some(" "), None, 10), (Some("x"), None, 0), (Some("x"), None, 101)] {
        assert!(matches!(origin_error(h.runtime.search_origin_candidates(h.root(), text, key, limit)), OriginError::InvalidQuery(_)));
    }
    assert!(h.saas.seen().is_empty());
}

#[test]
fn bind_error_rows_leave_meta_json_untouched() {
    for (status, body) in [(409, "{}"), (403, r#"{"user_action_required":true}"#), (401, "{}"), (503, "{}")] {
        let h = harness(move |_| (status, body.into()));
        let before = "{\"mission_slug\": \"001-x\"}";
        let dir = mission(&h, before);
        let err = origin_error(h.runtime.bind_mission_origin(&dir, &web_123(), "linear", "linear_team", "team-uuid").map(|o| o.result));
        let expected = match status {
            409 => matches!(err, OriginError::OriginConflict(_)),
            403 => matches!(err, OriginError::UserLinkRequired(_)),
            401 => matches!(err, OriginError::AuthenticationFailed(_)),
            _ => matches!(err, OriginError::ControlPlaneUnreachable(_)),
        };
        assert!(expected, "{status}: {err:?}");
        assert_eq!(std::fs::read_to_string(dir.join("meta.json")).unwrap(), before);
        assert!(h.sink.events().is_empty());
    }
}

#[test]
fn rebinding_the_same_origin_is_a_no_op_and_another_is_a_conflict() {
    let h = harness(happy);
    let dir = mission(&h, "{\"mission_id\": \"01JQ0000000000000000000000\"}");
    let first = h.runtime.bind_mission_origin(&dir, &web_123(), "linear", "linear_team", "team-uuid").map(|o| o.result).unwrap();
    let again = h.runtime.bind_mission_origin(&dir, &web_123(), "linear", "linear_team", "team-uuid").map(|o| o.result).unwrap();
    assert_eq!(first.metadata_json, again.metadata_json);
    assert_eq!(std::fs::read_to_string(dir.join("meta.json")).unwrap(), first.metadata_json);
    let seen = h.saas.seen();
    assert_eq!(seen[0].headers["idempotency-key"], seen[1].headers["idempotency-key"]);

    let mut other = web_123();
    other.external_issue_id = "uuid-127".into();
    other.external_issue_key = "WEB-127".into();
    let err = origin_error(h.runtime.bind_mission_origin(&dir, &other, "linear", "linear_team", "team-uuid").map(|o| o.result));
    assert!(matches!(&err, OriginError::OriginConflict(m) if m.contains("WEB-123")), "{err:?}");
    assert_eq!(h.saas.seen().len(), 2, "a local conflict sends nothing");
}

#[test]
fn missing_or_malformed_meta_is_invalid_metadata_with_nothing_sent() {
    let h = harness(happy);
    h.write("kitty-specs/002-bad/meta.json", "{oops");
    let bad = h.root().join("kitty-specs/002-bad");
    assert!(matches!(
        origin_error(h.runtime.bind_mission_origin(&bad, &web_123(), "linear", "linear_team", "t").map(|o| o.result)),
        OriginError::InvalidMetadata(_)
    ));
    std::fs::create_dir_all(h.root().join("kitty-specs/003-empty")).unwrap();
    let empty = h.root().join("kitty-specs/003-empty");
    assert!(matches!(
        origin_error(h.runtime.bind_mission_origin(&empty, &web_123(), "linear", "linear_team", "t").map(|o| o.result)),
        OriginError::InvalidMetadata(_)
    ));
    assert!(h.saas.seen().is_empty());
}

#[test]
fn a_failing_event_sink_does_not_fail_the_bind() {
    let h = harness_with(Some(LINEAR_CONFIG), MemorySink::failing("disk full"), happy);
    let result = h
        .runtime
        .start_mission_from_ticket(h.root(), &web_123(), "linear", "linear_team", "team-uuid", "software-dev", None)
        .map(|o| o.result)
        .unwrap();
    assert!(!result.event_emitted);
    let meta = std::fs::read_to_string(std::path::Path::new(&result.feature_dir).join("meta.json")).unwrap();
    assert!(meta.contains("\"origin_ticket\""));
}

#[test]
fn a_failed_bind_after_start_keeps_the_mission_and_says_how_to_retry() {
    let h = harness(|_| (503, "{}".into()));
    let err = origin_error(
        h.runtime
            .start_mission_from_ticket(h.root(), &web_123(), "linear", "linear_team", "team-uuid", "software-dev", None)
            .map(|o| o.result),
    );
    let OriginError::ControlPlaneUnreachable(message) = err else { panic!("{err:?}") };
    assert!(message.contains("has no origin ticket yet") && message.contains("kitty-origin bind --mission"), "{message}");
    let dir = std::fs::read_dir(h.root().join("kitty-specs")).unwrap().next().unwrap().unwrap().path();
    assert!(!std::fs::read_to_string(dir.join("meta.json")).unwrap().contains("origin_ticket"));
}

#[test]
fn concurrent_starts_never_share_a_directory() {
    let h = Arc::new(harness(happy));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let h = h.clone();
            std::thread::spawn(move || {
                let mut candidate = web_123();
                candidate.external_issue_id = format!("uuid-{i}");
                candidate.external_issue_key = format!("WEB-{i}");
                h.runtime
                    .start_mission_from_ticket(h.root(), &candidate, "linear", "linear_team", "team-uuid", "software-dev", None)
                    .map(|o| o.result)
                    .unwrap()
                    .feature_slug
            })
        })
        .collect();
    let mut slugs: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 4);
    for slug in &slugs {
        let meta = std::fs::read_to_string(h.root().join("kitty-specs").join(slug).join("meta.json")).unwrap();
        assert!(meta.contains("\"origin_ticket\"") && meta.contains(&format!("\"mission_slug\": \"{slug}\"")), "{meta}");
    }
}

#[test]
fn without_a_login_nothing_is_sent() {
    let saas = StubSaas::new(happy);
    let sink = Arc::new(MemorySink::default());
    let runtime = runtime(capabilities(&saas, &sink, false));
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), ".kittify/config.yaml", LINEAR_CONFIG);
    let err = origin_error(runtime.search_origin_candidates(repo.path(), Some("x"), None, 10));
    assert!(matches!(&err, OriginError::NotLoggedIn(m) if m.contains("log in first")), "{err:?}");
    assert!(saas.seen().is_empty());
}

#[test]
fn the_guest_sees_the_saas_url_and_never_the_token() {
    let h = harness(happy);
    assert_eq!(h.runtime.guest_env(), vec![("SPEC_KITTY_SAAS_URL".to_string(), SAAS_URL.to_string())]);
    assert!(!format!("{:?}", h.runtime.guest_env()).contains(TOKEN));
}

fn limited(
    limits: kitty_origin_host::CallLimits,
    egress: kitty_origin_host::egress::EgressLimits,
    respond: impl FnMut(&RecordedRequest) -> (u16, String) + Send + 'static,
) -> Harness {
    let saas = StubSaas::new(respond);
    let sink = Arc::new(MemorySink::default());
    let mut caps = capabilities(&saas, &sink, true);
    caps.call_limits = limits;
    caps.egress_limits = egress;
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), ".kittify/config.yaml", LINEAR_CONFIG);
    Harness { runtime: runtime(caps), saas, sink, repo }
}

#[test]
fn an_answer_over_the_hosts_size_cap_is_refused() {
    let egress = kitty_origin_host::egress::EgressLimits { max_response_bytes: 64 * 1024, ..Default::default() };
    let h = limited(Default::default(), egress, |_| (200, format!("{{\"candidates\": [], \"pad\": \"{}\"}}", "x".repeat(200_000))));
    let err = origin_error(h.runtime.search_origin_candidates(h.root(), Some("x"), None, 10));
    assert!(matches!(&err, OriginError::UnexpectedResponse(m) if m.contains("too large")), "{err:?}");
}

#[test]
fn a_guest_past_its_memory_cap_fails_cleanly() {
    let limits = kitty_origin_host::CallLimits { memory_bytes: 4 * 1024 * 1024, ..Default::default() };
    let h = limited(limits, Default::default(), |_| (200, format!("{{\"candidates\": [], \"pad\": \"{}\"}}", "x".repeat(6 * 1024 * 1024))));
    let err = h.runtime.search_origin_candidates(h.root(), Some("x"), None, 10).unwrap_err();
    assert!(matches!(&err, Error::Component(m) if m.contains("the component failed")), "{err:?}");
}

#[test]
fn a_call_past_its_deadline_is_stopped() {
    let limits = kitty_origin_host::CallLimits { deadline: std::time::Duration::from_millis(300), ..Default::default() };
    let h = limited(limits, Default::default(), |_| {
        std::thread::sleep(std::time::Duration::from_millis(1200));
        (200, SEARCH_ANSWER.into())
    });
    let err = h.runtime.search_origin_candidates(h.root(), Some("x"), None, 10).unwrap_err();
    assert!(matches!(&err, Error::Component(m) if m.contains("the component failed")), "{err:?}");
}

/// Keeps events like [`MemorySink`], each after `delay`.
struct SlowSink {
    delay: std::time::Duration,
    kept: MemorySink,
}

impl kitty_origin_host::events::EventSink for SlowSink {
    fn emit(
        &self,
        event: &kitty_origin_host::events::Event,
    ) -> Result<kitty_origin_host::events::Delivery, kitty_origin_host::events::EmitError> {
        std::thread::sleep(self.delay);
        self.kept.emit(event)
    }
}

#[test]
fn a_call_stopped_by_its_deadline_mid_emit_keeps_the_event_whole() {
    let saas = StubSaas::new(happy);
    // The deadline falls inside the first emit: the start's local work before
    // it takes milliseconds, far less than the second the deadline allows.
    let slow = Arc::new(SlowSink { delay: std::time::Duration::from_millis(2500), kept: MemorySink::default() });
    let mut caps = capabilities(&saas, &Arc::new(MemorySink::default()), true);
    caps.events = slow.clone();
    caps.call_limits = kitty_origin_host::CallLimits { deadline: std::time::Duration::from_millis(1000), ..Default::default() };
    let h = Harness { runtime: runtime(caps), saas, sink: Arc::new(MemorySink::default()), repo: tempfile::tempdir().unwrap() };
    h.write(".kittify/config.yaml", LINEAR_CONFIG);
    let err = h
        .runtime
        .start_mission_from_ticket(h.root(), &web_123(), "linear", "linear_team", "team-uuid", "software-dev", None)
        .map(|o| o.result)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Component(m) if m.contains("the component failed") && m.contains("the event it was emitting was kept")),
        "{err:?}"
    );
    // The emit under way finished before the call returned; none began after.
    let kept = slow.kept.events();
    assert_eq!(kept.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["MissionCreated"], "{kept:?}");
}
