//! The host library against an in-process dev control plane: the outbox's
//! durability and delivery, the compiled-component cache, the egress hooks.

mod common;
#[path = "common/events.rs"]
mod events;

use events::event;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::{LINEAR, wasm_path};
use kitty_origin_dev_saas::{DevSaas, DevSaasConfig, Fault};
use kitty_origin_host::egress::{EgressHooks, EgressLimits, EgressPolicy, NetworkUpstream, SendFuture, Upstream, full_body};
use kitty_origin_host::events::{Delivery, EventSink};
use kitty_origin_host::outbox::Outbox;
use kitty_origin_host::types::{MatchType, OriginCandidate};
use kitty_origin_host::{CacheOutcome, Capabilities, Credentials, Runtime, SaasAccess, SaasOrigin, Tier};
use wasmtime_wasi_http::WasiHttpHooks;

fn access(url: &str) -> SaasAccess {
    SaasAccess {
        origin: Some(SaasOrigin::parse(url).unwrap()),
        credentials: Some(Credentials { token: common::TOKEN.into(), team_slug: "acme".into() }),
    }
}

fn server(events_fault: Option<Fault>) -> DevSaas {
    server_on("127.0.0.1:0", events_fault)
}

/// The dev control plane on `addr`: the same control plane after a restart.
fn server_on(addr: &str, events_fault: Option<Fault>) -> DevSaas {
    let mut config = DevSaasConfig::new(common::TOKEN);
    config.faults.events = events_fault;
    DevSaas::start(addr.parse().unwrap(), config).unwrap()
}

fn web_123() -> OriginCandidate {
    OriginCandidate {
        external_issue_id: "02c81217-99d6-4c03-a834-8c0dab959626".into(),
        external_issue_key: "WEB-123".into(),
        title: "Add Clerk auth".into(),
        status: "In Progress".into(),
        url: "https://linear.app/acme/issue/WEB-123/add-clerk-auth".into(),
        match_type: MatchType::Exact,
        body: None,
    }
}

#[test]
fn an_event_queued_in_an_outage_survives_a_restart_and_is_delivered_once() {
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join(".kittify")).unwrap();
    std::fs::write(repo.path().join(".kittify/config.yaml"), LINEAR).unwrap();
    let down = server(Some(Fault::ServerError));
    let event_id = {
        let outbox = Arc::new(Outbox::open(home.path(), access(&down.url())).unwrap());
        let capabilities = Capabilities {
            saas: access(&down.url()),
            upstream: Arc::new(NetworkUpstream),
            events: outbox.clone(),
            egress_limits: EgressLimits::default(),
            call_limits: Default::default(),
            git: false,
            spec_templates: kitty_origin_host::SpecTemplates::None,
        };
        let runtime = Runtime::new(&wasm_path(), None, capabilities).unwrap();
        let started = runtime
            .start_mission_from_ticket(repo.path(), &web_123(), "linear", "linear_team", "r", "software-dev", None)
            .map(|o| o.result)
            .unwrap();
        assert!(started.event_emitted, "queued counts as emitted");
        let pending = outbox.pending().unwrap();
        let types: Vec<&str> = pending.iter().map(|q| q.envelope["event_type"].as_str().unwrap()).collect();
        assert_eq!(types, ["MissionCreated", "SpecifyStarted", "MissionOriginBound"]);
        pending[2].envelope["event_id"].as_str().unwrap().to_string()
        // runtime and outbox dropped here: the "host restart"
    };
    assert!(down.events().is_empty());
    let addr = down.addr().to_string();
    drop(down);

    let up = server_on(&addr, None);
    let outbox = Outbox::open(home.path(), access(&up.url())).unwrap();
    let queued = outbox.get(&event_id).unwrap().expect("the event survived the restart");
    assert!(queued.attempts >= 1 && queued.last_error.is_some());
    let report = outbox.flush(false, &mut |_, _| {}).unwrap();
    assert_eq!((report.delivered, report.remaining), (3, 0));
    assert_eq!(outbox.flush(false, &mut |_, _| {}).unwrap().delivered, 0);
    let received = up.events();
    assert_eq!(received.len(), 3);
    let envelope = &received[2];
    assert_eq!(envelope["event_id"], event_id.as_str());
    for field in [
        "event_type",
        "aggregate_id",
        "aggregate_type",
        "schema_version",
        "payload",
        "node_id",
        "lamport_clock",
        "timestamp",
        "team_slug",
        "project_slug",
    ] {
        assert!(!envelope[field].is_null(), "{field} missing from {envelope}");
    }
    let batch = up.requests().into_iter().find(|r| r.path == "/api/v1/events/batch/").unwrap();
    assert_eq!(batch.headers["content-encoding"], "gzip");
    assert_eq!(batch.headers["authorization"], format!("Bearer {}", common::TOKEN));
}

#[test]
fn an_unreachable_control_plane_queues_and_a_duplicate_counts_as_delivered() {
    let home = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let offline = Outbox::open(home.path(), access(&format!("http://{addr}"))).unwrap();
    let e = event(1);
    assert_eq!(offline.emit(&e), Ok(Delivery::Queued));
    assert_eq!(offline.emit(&e), Ok(Delivery::Queued), "the same event_id is stored once");
    assert_eq!(offline.len().unwrap(), 1);
    drop(offline);

    let up = server_on(&addr, None);
    let online = Outbox::open(home.path(), access(&up.url())).unwrap();
    assert_eq!(online.emit(&e), Ok(Delivery::Delivered));
    assert!(online.is_empty().unwrap());
    // Delivered again (say, after a crash between answer and delete): the server says duplicate.
    online.enqueue(&e).unwrap();
    assert_eq!(online.flush(false, &mut |_, _| {}).unwrap().delivered, 1);
    assert!(online.is_empty().unwrap());
    assert_eq!(up.events().len(), 1);
}

#[test]
fn invalid_events_are_refused_before_storage() {
    let home = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(home.path(), access("http://127.0.0.1:9")).unwrap();
    let mut no_title = event(1);
    no_title.payload_json = serde_json::json!({"mission_slug": "x", "provider": "linear", "external_issue_id": "i", "external_issue_key": "K", "external_issue_url": "u", "title": ""}).to_string();
    let mut bad_id = event(2);
    bad_id.event_id = "not-a-ulid".into();
    for bad in [no_title, bad_id] {
        assert!(matches!(outbox.emit(&bad), Err(kitty_origin_host::events::EmitError::InvalidEvent(_))));
    }
    assert!(outbox.is_empty().unwrap());
}

#[test]
fn a_large_drain_goes_in_batches_of_1000_with_progress() {
    let home = tempfile::tempdir().unwrap();
    let up = server(None);
    let outbox = Outbox::open(home.path(), access(&up.url())).unwrap();
    for n in 0..2500 {
        outbox.enqueue(&event(n)).unwrap();
    }
    let mut seen = Vec::new();
    let report = outbox.flush(false, &mut |done, total| seen.push((done, total))).unwrap();
    assert_eq!((report.delivered, report.remaining), (2500, 0));
    assert_eq!(seen, [(1000, 2500), (2000, 2500), (2500, 2500)]);
    assert_eq!(up.events().len(), 2500);
    let lamports: Vec<i64> = up.events().iter().map(|e| e["lamport_clock"].as_i64().unwrap()).collect();
    assert!(lamports.windows(2).all(|w| w[0] < w[1]), "lamport clocks increase");
}

#[test]
fn the_compiled_component_is_cached_across_runtimes() {
    let cache = tempfile::tempdir().unwrap();
    // A component without the build's precompiled copy beside it.
    let bare = tempfile::tempdir().unwrap();
    let component = bare.path().join("spec_kitty_origin.wasm");
    std::fs::copy(wasm_path(), &component).unwrap();
    let wasm_path = || component.clone();
    let capabilities = || Capabilities {
        saas: access("http://127.0.0.1:9"),
        upstream: Arc::new(NetworkUpstream),
        events: Arc::new(kitty_origin_host::events::MemorySink::default()),
        egress_limits: EgressLimits::default(),
        call_limits: Default::default(),
        git: false,
        spec_templates: kitty_origin_host::SpecTemplates::None,
    };
    // No build precompiled it: the quick engine compiles it, once.
    let first = Runtime::new(&wasm_path(), Some(cache.path()), capabilities()).unwrap();
    assert_eq!((first.cache_outcome(), first.tier()), (CacheOutcome::Compiled, Tier::Quick));
    let second = Runtime::new(&wasm_path(), Some(cache.path()), capabilities()).unwrap();
    assert_eq!((second.cache_outcome(), second.tier()), (CacheOutcome::Hit, Tier::Quick));
    // A corrupt cache file is recompiled, not trusted. (Replaced, not
    // rewritten in place: the runtimes above map it.)
    drop((first, second));
    for path in cwasm_files(cache.path()) {
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"garbage").unwrap();
    }
    assert_eq!(Runtime::new(&wasm_path(), Some(cache.path()), capabilities()).unwrap().cache_outcome(), CacheOutcome::Compiled);

    // The warm start finds its compiled copy through a stamp named by the
    // file's identity, made once the file has been left alone a while (a
    // file written within the last tick of the clock is not stamped).
    assert!(!cache.path().join("stamps").exists(), "a file copied just now was stamped");
    std::thread::sleep(std::time::Duration::from_millis(2_200));
    assert_eq!(Runtime::new(&wasm_path(), Some(cache.path()), capabilities()).unwrap().cache_outcome(), CacheOutcome::Hit);
    let stamps: Vec<_> = std::fs::read_dir(cache.path().join("stamps")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(stamps.len(), 1, "{stamps:?}");
    let old_key = cwasm_files(cache.path())[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(old_key.starts_with(std::fs::read_to_string(&stamps[0]).unwrap().trim()), "{old_key}");
    // A stamp that lies (names another component's hash) costs a read, not
    // a wrong load, and is corrected.
    std::fs::write(&stamps[0], "0123456789abcdef0123456789abcdef\n").unwrap();
    assert_eq!(Runtime::new(&wasm_path(), Some(cache.path()), capabilities()).unwrap().cache_outcome(), CacheOutcome::Hit);
    assert!(old_key.starts_with(std::fs::read_to_string(&stamps[0]).unwrap().trim()), "the stamp was not corrected");
    assert_eq!(cwasm_files(cache.path()).len(), 1);
    // New bytes (a custom section appended) are a new identity: compiled
    // anew, never served the old code.
    let mut changed = std::fs::read(&component).unwrap();
    changed.extend_from_slice(&[0, 6, 5, b'n', b'o', b't', b'e', b'!']);
    std::fs::write(&component, &changed).unwrap();
    assert_eq!(Runtime::new(&wasm_path(), Some(cache.path()), capabilities()).unwrap().cache_outcome(), CacheOutcome::Compiled);
    assert_eq!(cwasm_files(cache.path()).len(), 2);
    assert_eq!(Runtime::new(&wasm_path(), Some(cache.path()), capabilities()).unwrap().cache_outcome(), CacheOutcome::Hit);

    // A build's precompiled copy (the optimizing engine's) wins over the quick one.
    let precompiled = Runtime::precompile(&component).unwrap();
    assert_eq!(precompiled.parent(), component.parent());
    let runtime = Runtime::new(&wasm_path(), Some(cache.path()), capabilities()).unwrap();
    assert_eq!((runtime.cache_outcome(), runtime.tier()), (CacheOutcome::Hit, Tier::Optimizing));
    let found = runtime.search_origin_candidates(bare.path(), None, Some("WEB-1"), 5).unwrap_err();
    assert!(matches!(found, kitty_origin_host::Error::Origin(_)), "{found:?}");
}

/// The compiled components in the cache directory `dir`.
fn cwasm_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "cwasm")).collect();
    files.sort();
    files
}

/// Records whether anything reached it.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Upstream for Recorder {
    fn send(&self, request: http::Request<wasmtime_wasi_http::WasiBody>, _: wasmtime_wasi_http::RequestOptions) -> SendFuture {
        self.0.lock().unwrap().push(request.uri().to_string());
        Box::pin(async {
            Ok((http::Response::new(full_body("{}")), Box::new(async { Ok(()) }) as Box<dyn std::future::Future<Output = _> + Send>))
        })
    }
}

#[test]
fn the_egress_hooks_refuse_other_origins_before_anything_is_sent() {
    let recorder = Arc::new(Recorder::default());
    let mut hooks = EgressHooks {
        policy: Arc::new(EgressPolicy {
            origin: Some(SaasOrigin::parse("http://127.0.0.1:8787").unwrap()),
            credentials: Some(Credentials { token: "t".into(), team_slug: "acme".into() }),
            limits: EgressLimits::default(),
        }),
        upstream: recorder.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (uri, allowed) in [
        ("http://evil.example/api/v1/tracker/issue-search/", false),
        ("http://127.0.0.1:8788/api/v1/tracker/issue-search/", false),
        ("http://127.0.0.1:8787/api/v1/tracker/issue-search/", true),
    ] {
        let request = http::Request::post(uri).body(full_body("{}")).unwrap();
        let outcome = runtime.block_on(Box::into_pin(hooks.send_request(request, None, Box::new(async { Ok(()) }))));
        assert_eq!(outcome.is_ok(), allowed, "{uri}");
        if !allowed {
            assert!(matches!(outcome, Err(wasmtime_wasi_http::Error::HttpRequestDenied)));
        }
    }
    assert_eq!(*recorder.0.lock().unwrap(), ["http://127.0.0.1:8787/api/v1/tracker/issue-search/"]);
}

#[test]
fn an_emit_also_delivers_the_backlog() {
    let home = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let offline = Outbox::open(home.path(), access(&format!("http://{addr}"))).unwrap();
    let (first, second) = (event(1), event(2));
    assert_eq!(offline.emit(&first), Ok(Delivery::Queued));
    drop(offline);
    let up = server_on(&addr, None);
    let online = Outbox::open(home.path(), access(&up.url())).unwrap();
    assert_eq!(online.emit(&second), Ok(Delivery::Delivered));
    assert!(online.is_empty().unwrap(), "the earlier event went along");
    let ids: Vec<String> = up.events().iter().map(|e| e["event_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, [first.event_id, second.event_id], "oldest first");
}
