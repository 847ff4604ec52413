//! What third-party WebAssembly hosts lean on, against an in-process dev
//! control plane: the credential-adding proxy, and the delivery of the queue
//! the WASI-only build keeps in a repo.

mod common;
#[path = "common/events.rs"]
mod events;

use std::time::Duration;

use kitty_origin_dev_saas::{DevSaas, DevSaasConfig, Fault};
use kitty_origin_host::egress::client::{self, HttpAnswer};
use kitty_origin_host::egress::full_body;
use kitty_origin_host::outbox::Outbox;
use kitty_origin_host::proxy::{Proxy, ProxyLimits};
use kitty_origin_host::repo_queue;
use kitty_origin_host::wire::{EVENTS_BATCH_PATH, SEARCH_PATH};
use kitty_origin_host::{Credentials, SaasAccess, SaasOrigin};
use serde_json::{Value, json};
use spec_kitty_origin::events::{Sender, envelope, validate};

/// The dev control plane (events failing with `fault`), and a session for it.
fn dev_saas(fault: Option<Fault>) -> (DevSaas, SaasAccess) {
    dev_saas_on("127.0.0.1:0", fault)
}

/// The same on `addr`: the same control plane after a restart.
fn dev_saas_on(addr: &str, fault: Option<Fault>) -> (DevSaas, SaasAccess) {
    let mut config = DevSaasConfig::new(common::TOKEN);
    config.faults.events = fault;
    let server = DevSaas::start(addr.parse().unwrap(), config).unwrap();
    let credentials = Credentials { token: common::TOKEN.into(), team_slug: "acme".into() };
    let access = SaasAccess { origin: Some(SaasOrigin::parse(&server.url()).unwrap()), credentials: Some(credentials) };
    (server, access)
}

/// Sends `method path` with `body` and `headers` to `url`, as a third-party host would.
fn send(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> HttpAnswer {
    let mut request = http::Request::builder().method(method).uri(format!("{url}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(full_body(body)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(client::exchange(request, Duration::from_secs(20))).unwrap()
}

fn search_body() -> Vec<u8> {
    json!({"provider": "linear", "project_slug": "acme-web", "query_key": "WEB-123", "limit": 10}).to_string().into_bytes()
}

#[test]
fn the_proxy_adds_the_hosts_credentials_and_forwards_only_the_api() {
    let (server, access) = dev_saas(None);
    let proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), &access, ProxyLimits::default()).unwrap();
    assert!(proxy.url().starts_with("http://127.0.0.1:"));

    // A client's own Authorization and team are dropped; the host's are added.
    let forged = [("content-type", "application/json"), ("authorization", "Bearer stolen"), ("x-team-slug", "evil")];
    let found = send(&proxy.url(), "POST", SEARCH_PATH, &forged, search_body());
    assert_eq!(found.status, 200, "{:?}", String::from_utf8_lossy(&found.body));
    let answer: Value = serde_json::from_slice(&found.body).unwrap();
    assert_eq!(answer["candidates"][0]["external_issue_key"], "WEB-123");
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].headers["authorization"], format!("Bearer {}", common::TOKEN));
    assert_eq!(seen[0].headers["x-team-slug"], "acme");

    // The control plane's own errors pass through as they are.
    let refused = send(&proxy.url(), "POST", SEARCH_PATH, &[], b"{}".to_vec());
    assert_eq!(refused.status, 422);

    // Nothing else is forwarded.
    for (method, path, status) in [("POST", "/admin/", 404), ("POST", "/api/v1/tracker/issue-search/?x=1", 404), ("GET", SEARCH_PATH, 405)]
    {
        let answer = send(&proxy.url(), method, path, &[], Vec::new());
        assert_eq!(answer.status, status, "{method} {path}");
        let error: Value = serde_json::from_slice(&answer.body).unwrap();
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(server.requests().len(), 2, "a refused request reached the control plane");
    proxy.stop();
}

#[test]
fn the_proxy_bounds_bodies_and_reports_an_unreachable_control_plane() {
    let (_server, access) = dev_saas(None);
    let limits = ProxyLimits { max_request_bytes: 64, ..ProxyLimits::default() };
    let proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), &access, limits).unwrap();
    assert_eq!(send(&proxy.url(), "POST", SEARCH_PATH, &[], vec![b' '; 65]).status, 413);

    let dead = SaasAccess { origin: Some(SaasOrigin::parse("http://127.0.0.1:9").unwrap()), ..access.clone() };
    let proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), &dead, ProxyLimits::default()).unwrap();
    let answer = send(&proxy.url(), "POST", SEARCH_PATH, &[], search_body());
    assert_eq!(answer.status, 502);
    let error: Value = serde_json::from_slice(&answer.body).unwrap();
    assert!(error["message"].as_str().unwrap().contains("127.0.0.1:9"), "{error}");
}

#[test]
fn the_proxy_refuses_to_start_without_a_session_or_off_loopback() {
    let (_server, access) = dev_saas(None);
    let logged_out = SaasAccess { credentials: None, ..access.clone() };
    let err = Proxy::start("127.0.0.1:0".parse().unwrap(), &logged_out, ProxyLimits::default()).err().unwrap();
    assert!(err.contains("log in"), "{err}");
    let err = Proxy::start("0.0.0.0:0".parse().unwrap(), &access, ProxyLimits::default()).err().unwrap();
    assert!(err.contains("loopback") && err.contains("--addr"), "{err}");
}

/// A queue line, as the WASI-only build's events adapter writes it.
fn queue_line(n: usize) -> (String, String) {
    let event = events::event(n);
    let line = envelope(&event, validate(&event).unwrap(), Sender { node_id: "standalone", lamport_clock: 1, team_slug: None });
    (event.event_id, line.to_string())
}

#[test]
fn a_repos_queue_is_delivered_through_the_outbox_and_each_line_leaves_once_delivered() {
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let queue = repo_queue::queue_path(repo.path());
    std::fs::create_dir_all(queue.parent().unwrap()).unwrap();
    let (first, line_1) = queue_line(1);
    let (second, line_2) = queue_line(2);
    let original = format!("{line_1}\nnot an event\n{line_2}\n");
    std::fs::write(&queue, &original).unwrap();

    // While the control plane fails, every line stays (and waits in the outbox too).
    let (down, down_access) = dev_saas(Some(Fault::ServerError));
    let addr = down.addr().to_string();
    let outbox = Outbox::open(home.path(), down_access).unwrap();
    assert!(repo_queue::flush(&outbox, repo.path(), false, &mut |_, _| {}).is_err());
    assert_eq!(std::fs::read_to_string(&queue).unwrap(), original);
    assert_eq!(outbox.len().unwrap(), 2);
    down.stop();

    let (up, up_access) = dev_saas_on(&addr, None);
    let outbox = Outbox::open(home.path(), up_access).unwrap();
    let (report, outbox_report) = repo_queue::flush(&outbox, repo.path(), false, &mut |_, _| {}).unwrap();
    let report = report.expect("the repo has a queue");
    assert_eq!((report.delivered, report.remaining, report.unreadable), (2, 0, 1));
    assert_eq!((outbox_report.delivered, outbox_report.remaining), (2, 0));
    assert_eq!(std::fs::read_to_string(&queue).unwrap(), "not an event\n");
    let ids: Vec<Value> = up.events().iter().map(|e| e["event_id"].clone()).collect();
    assert_eq!(ids, vec![Value::from(first), Value::from(second)]);
    assert!(up.requests().iter().all(|r| r.path == EVENTS_BATCH_PATH));

    // A repo without a queue flushes the outbox alone.
    let (none, _) = repo_queue::flush(&outbox, tempfile::tempdir().unwrap().path(), false, &mut |_, _| {}).unwrap();
    assert_eq!(none, None);
}
