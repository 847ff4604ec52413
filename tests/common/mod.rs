//! The component-test harness: the built `.wasm` under wasmtime, HTTP
//! answered in process through the wasi-http hooks, a temp dir as the repo,
//! and an in-memory event sink.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use kitty_origin_host::egress::{EgressLimits, SendFuture, Upstream, full_body};
use kitty_origin_host::events::MemorySink;
use kitty_origin_host::types::{MatchType, OriginCandidate};
use kitty_origin_host::{CallLimits, Capabilities, Credentials, Runtime, SaasAccess, SaasOrigin, SpecTemplates};
use serde_json::Value;

mod target_dir;
pub use target_dir::target_dir;

/// The component `make build` produces, in this build's target directory.
pub fn wasm_path() -> PathBuf {
    target_dir().join("wasm32-wasip2/guest/spec_kitty_origin.wasm")
}

/// The token the host holds; the guest must never see it.
pub const TOKEN: &str = "sk-test-secret-token";
/// The control plane's origin in component tests.
pub const SAAS_URL: &str = "https://saas.test";
/// A linear / acme-web binding.
pub const LINEAR_CONFIG: &str = "tracker:\n  provider: linear\n  project_slug: acme-web\n";

/// A request as the stub control plane saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub uri: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

type Responder = Box<dyn FnMut(&RecordedRequest) -> (u16, String) + Send>;

/// The control plane, answered in process.
#[derive(Clone)]
pub struct StubSaas {
    respond: Arc<Mutex<Responder>>,
    seen: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl StubSaas {
    pub fn new(respond: impl FnMut(&RecordedRequest) -> (u16, String) + Send + 'static) -> Self {
        Self { respond: Arc::new(Mutex::new(Box::new(respond))), seen: Arc::default() }
    }

    /// Every request received.
    pub fn seen(&self) -> Vec<RecordedRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl Upstream for StubSaas {
    fn send(&self, request: http::Request<wasmtime_wasi_http::WasiBody>, _options: wasmtime_wasi_http::RequestOptions) -> SendFuture {
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = body.collect().await?.to_bytes();
            let wire = RecordedRequest {
                method: parts.method.to_string(),
                uri: parts.uri.to_string(),
                path: parts.uri.path().to_string(),
                headers: parts.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string())).collect(),
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            };
            let (status, text) = (this.respond.lock().unwrap())(&wire);
            this.seen.lock().unwrap().push(wire);
            let response = http::Response::builder().status(status).body(full_body(text)).unwrap();
            Ok((response, Box::new(async { Ok(()) }) as Box<dyn std::future::Future<Output = _> + Send>))
        })
    }
}

/// A runtime over the stub, with its sink and repo.
pub struct Harness {
    pub runtime: Runtime,
    pub saas: StubSaas,
    pub sink: Arc<MemorySink>,
    pub repo: tempfile::TempDir,
}

impl Harness {
    /// The repo root.
    pub fn root(&self) -> &Path {
        self.repo.path()
    }

    /// Writes `text` at `rel` under the repo.
    pub fn write(&self, rel: &str, text: &str) {
        write(self.root(), rel, text);
    }
}

/// Writes `text` at `root/rel`, creating parents.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Capabilities over `saas` and `sink`.
pub fn capabilities(saas: &StubSaas, sink: &Arc<MemorySink>, logged_in: bool) -> Capabilities {
    Capabilities {
        saas: SaasAccess {
            origin: Some(SaasOrigin::parse(SAAS_URL).unwrap()),
            credentials: logged_in.then(|| Credentials { token: TOKEN.into(), team_slug: "acme".into() }),
        },
        upstream: Arc::new(saas.clone()),
        events: sink.clone(),
        egress_limits: EgressLimits::default(),
        call_limits: CallLimits::default(),
        git: false,
        spec_templates: SpecTemplates::None,
    }
}

/// Loads the built component; fails with what to do when it is missing.
pub fn runtime(capabilities: Capabilities) -> Runtime {
    let wasm = wasm_path();
    assert!(wasm.is_file(), "the component {} is missing: build it first with `make build`", wasm.display());
    let cache = target_dir().join("component-test-cache");
    Runtime::new(&wasm, Some(&cache), capabilities).expect("the component loads")
}

/// A harness whose repo is bound with `config` (none: unbound).
pub fn harness_with(
    config: Option<&str>,
    sink: MemorySink,
    respond: impl FnMut(&RecordedRequest) -> (u16, String) + Send + 'static,
) -> Harness {
    let saas = StubSaas::new(respond);
    let sink = Arc::new(sink);
    let runtime = runtime(capabilities(&saas, &sink, true));
    let repo = tempfile::tempdir().unwrap();
    if let Some(config) = config {
        write(repo.path(), ".kittify/config.yaml", config);
    }
    Harness { runtime, saas, sink, repo }
}

/// A harness over a linear-bound repo.
pub fn harness(respond: impl FnMut(&RecordedRequest) -> (u16, String) + Send + 'static) -> Harness {
    harness_with(Some(LINEAR_CONFIG), MemorySink::default(), respond)
}

/// The search answer of Scenario 1.
pub const SEARCH_ANSWER: &str = r#"{"candidates":[{"external_issue_id":"uuid-123","external_issue_key":"WEB-123","title":"Add Clerk auth","status":"In Progress","url":"https://linear.app/acme/issue/WEB-123/add-clerk-auth","match_type":"text","body":"Replace the session cookies with Clerk."},{"external_issue_id":"uuid-127","external_issue_key":"WEB-127","title":"Clerk middleware cleanup","status":"Todo","url":"https://linear.app/acme/issue/WEB-127/clerk-middleware-cleanup"}],"resource_type":"linear_team","resource_id":"team-uuid"}"#;
/// A bind answer.
pub const BIND_ANSWER: &str = r#"{"origin_link_id":"link-1","bound_at":"2026-04-01T12:00:00Z"}"#;

/// A stub that answers searches with `SEARCH_ANSWER` and binds with `BIND_ANSWER`.
pub fn happy(wire: &RecordedRequest) -> (u16, String) {
    if wire.path.ends_with("/issue-search/") { (200, SEARCH_ANSWER.into()) } else { (200, BIND_ANSWER.into()) }
}

/// WEB-123 as a candidate.
pub fn web_123() -> OriginCandidate {
    OriginCandidate {
        external_issue_id: "uuid-123".into(),
        external_issue_key: "WEB-123".into(),
        title: "Add Clerk auth".into(),
        status: "In Progress".into(),
        url: "https://linear.app/acme/issue/WEB-123/add-clerk-auth".into(),
        match_type: MatchType::Exact,
        body: Some("Replace the session cookies with Clerk.".into()),
    }
}
