use std::cell::RefCell;

use serde_json::Value;
use spec_kitty_origin::capabilities::{HttpResponse, TransportError};
use spec_kitty_origin::files::StdFiles;
use spec_kitty_origin::wire::{MISSION_AGGREGATE_TYPE, MISSION_ORIGIN_BOUND, MISSION_ORIGIN_BOUND_SCHEMA};

use super::*;

/// Answers every POST with `answer`; records the bodies.
struct Saas {
    answer: Result<HttpResponse, TransportError>,
    sent: RefCell<Vec<(String, Value, u64)>>,
}

impl Saas {
    fn answering(status: u16, body: &str) -> Self {
        Self { answer: Ok(HttpResponse { status, body: body.as_bytes().to_vec() }), sent: RefCell::default() }
    }
}

impl Transport for Saas {
    fn post_json(&self, path: &str, _: &[(String, String)], body: &[u8], timeout_ms: u64) -> Result<HttpResponse, TransportError> {
        self.sent.borrow_mut().push((path.to_string(), serde_json::from_slice(body).unwrap(), timeout_ms));
        self.answer.clone()
    }
}

struct FixedClock;

impl Clock for FixedClock {
    fn monotonic_ms(&self) -> u64 {
        0
    }
    fn sleep_ms(&self, _: u64) {}
    fn unix_ms(&self) -> u64 {
        1_775_044_800_000
    }
}

/// Event `id`, as a queue line of an earlier emit would hold it.
fn event(id: &str) -> Event {
    let line = json!({
        "event_id": id, "event_type": MISSION_ORIGIN_BOUND, "aggregate_id": "01J0000000000000000000000B",
        "aggregate_type": MISSION_AGGREGATE_TYPE, "schema_version": MISSION_ORIGIN_BOUND_SCHEMA,
        "payload": {"mission_slug": "m", "provider": "linear", "external_issue_id": "i",
                    "external_issue_key": "WEB-1", "external_issue_url": "https://x", "title": "t"},
        "timestamp": "2026-04-01T12:00:00Z", "project_slug": "acme-web", "correlation_id": "k",
    });
    spec_kitty_origin::events::from_envelope(&line).expect("a complete envelope")
}

const ID_A: &str = "01J0000000000000000000000A";
const ID_C: &str = "01J0000000000000000000000C";

fn emit(saas: &Saas, repo: Option<&Path>, event: &Event) -> Result<Delivery, EmitError> {
    Adapter { transport: saas, clock: &FixedClock, files: &StdFiles, repo_root: repo.map(Path::to_path_buf) }.emit(event)
}

fn queue_lines(repo: &Path) -> Vec<Value> {
    match std::fs::read_to_string(repo.join(QUEUE_DIR).join(QUEUE_FILE)) {
        Ok(text) => text.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn an_acknowledged_event_is_delivered_and_not_queued() {
    let repo = tempfile::tempdir().unwrap();
    for status in ["success", "duplicate"] {
        let saas = Saas::answering(200, &format!(r#"{{"results":[{{"event_id":"{ID_A}","status":"{status}"}}]}}"#));
        assert_eq!(emit(&saas, Some(repo.path()), &event(ID_A)), Ok(Delivery::Delivered));
        let (path, body, timeout) = saas.sent.borrow()[0].clone();
        assert_eq!((path.as_str(), timeout), (EVENTS_BATCH_PATH, EMIT_TIMEOUT_MS));
        let sent = &body["events"][0];
        assert_eq!(sent["event_id"], ID_A);
        assert_eq!(sent["payload"]["external_issue_key"], "WEB-1");
        assert_eq!(sent["node_id"], node_id(Some(repo.path())).as_str());
        assert_eq!(sent["lamport_clock"], 1_775_044_800_000_i64);
    }
    assert!(!repo.path().join(QUEUE_DIR).exists());
}

#[test]
fn an_event_the_control_plane_does_not_take_is_queued_durably() {
    let repo = tempfile::tempdir().unwrap();
    let refusals = [
        Saas::answering(500, "{}"),
        Saas::answering(200, &format!(r#"{{"results":[{{"event_id":"{ID_A}","status":"rejected"}}]}}"#)),
        Saas { answer: Err(TransportError::Unreachable("refused".into())), sent: RefCell::default() },
    ];
    for saas in &refusals {
        assert_eq!(emit(saas, Some(repo.path()), &event(ID_A)), Ok(Delivery::Queued));
    }
    assert_eq!(emit(&refusals[0], Some(repo.path()), &event(ID_C)), Ok(Delivery::Queued));
    let lines = queue_lines(repo.path());
    let ids: Vec<&str> = lines.iter().map(|l| l["event_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [ID_A, ID_A, ID_A, ID_C]);
    assert_eq!(spec_kitty_origin::events::from_envelope(&lines[3]), Some(event(ID_C)));
    assert_eq!(
        std::fs::read_to_string(repo.path().join(QUEUE_DIR).join(".gitignore")).unwrap(),
        spec_kitty_origin::events::QUEUE_GITIGNORE
    );
}

#[test]
fn invalid_events_and_missing_repos_are_refused() {
    let saas = Saas::answering(500, "{}");
    let mut bad = event(ID_A);
    bad.payload_json = "[]".into();
    assert!(matches!(emit(&saas, None, &bad), Err(EmitError::InvalidEvent(_))));
    assert!(saas.sent.borrow().is_empty());
    let Err(EmitError::StorageFailed(message)) = emit(&saas, None, &event(ID_A)) else { panic!("queued without a repo") };
    assert!(message.contains("grant the repo"), "{message}");
}

#[test]
fn a_queue_that_cannot_be_written_is_storage_failed() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join(".kittify")).unwrap();
    std::fs::write(repo.path().join(QUEUE_DIR), "a file where the folder belongs").unwrap();
    let Err(EmitError::StorageFailed(message)) = emit(&Saas::answering(503, ""), Some(repo.path()), &event(ID_A)) else {
        panic!("queued into a file")
    };
    assert!(message.contains("queue.jsonl") && message.contains("not stored"), "{message}");
}
