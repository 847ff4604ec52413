//! `dev-saas`: a local stand-in of the Spec Kitty control plane that speaks
//! `saas-wire.md` on loopback, for the demo, the tests, and rehearsing errors.

mod faults;
mod fixtures;

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

pub use faults::{Fault, Faults};
pub use fixtures::{Fixtures, Project, Ticket};

/// How the dev control plane behaves.
#[derive(Debug, Clone)]
pub struct DevSaasConfig {
    /// The bearer token it accepts.
    pub token: String,
    /// The team slug it expects in `X-Team-Slug`.
    pub team_slug: String,
    /// Its tickets.
    pub fixtures: Fixtures,
    /// Injected failures.
    pub faults: Faults,
}

impl DevSaasConfig {
    /// The built-in fixtures, no faults, the given token, team `acme`.
    pub fn new(token: &str) -> Self {
        Self { token: token.into(), team_slug: "acme".into(), fixtures: Fixtures::built_in(), faults: Faults::default() }
    }
}

/// A request as the dev control plane received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST`, ...
    pub method: String,
    /// The path.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: HashMap<String, String>,
    /// The body as JSON (gunzipped when sent gzip); `Null` when not JSON.
    pub body: Value,
}

/// What the server remembers.
#[derive(Default)]
struct ServerState {
    requests: Vec<Recorded>,
    /// mission (id or slug) -> (external_issue_id, origin_link_id, bound_at)
    links: HashMap<String, (String, String, String)>,
    events: Vec<Value>,
    faults_served: u32,
}

/// A running dev control plane.
pub struct DevSaas {
    addr: SocketAddr,
    state: Arc<Mutex<ServerState>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DevSaas {
    /// Starts serving on `addr` (port 0 picks a free one) in a background thread.
    pub fn start(addr: SocketAddr, config: DevSaasConfig) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(ServerState::default()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let shared = (Arc::new(config), state.clone());
        let thread = std::thread::spawn(move || runtime.block_on(serve(listener, shared, rx)));
        Ok(Self { addr, state, shutdown: Some(tx), thread: Some(thread) })
    }

    /// The base URL to put in `SPEC_KITTY_SAAS_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().map(|s| s.requests.clone()).unwrap_or_default()
    }

    /// Every event accepted so far (duplicates once).
    pub fn events(&self) -> Vec<Value> {
        self.state.lock().map(|s| s.events.clone()).unwrap_or_default()
    }

    /// Stops serving and waits for the server thread.
    pub fn stop(mut self) {
        self.shut();
    }

    /// Blocks until the server stops (it never does by itself).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn shut(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DevSaas {
    fn drop(&mut self) {
        self.shut();
    }
}

type Shared = (Arc<DevSaasConfig>, Arc<Mutex<ServerState>>);

async fn serve(listener: std::net::TcpListener, shared: Shared, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(req, shared.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

async fn handle(req: Request<Incoming>, (config, state): Shared) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let headers: HashMap<String, String> =
        req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string())).collect();
    let raw = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let gzipped = headers.get("content-encoding").is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let body = decode(&raw, gzipped).unwrap_or(Value::Null);
    if !config.faults.delay.is_zero() {
        tokio::time::sleep(config.faults.delay).await;
    }
    let (status, answer) = {
        let mut state = match state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        state.requests.push(Recorded { method: method.clone(), path: path.clone(), headers: headers.clone(), body: body.clone() });
        route(&config, &mut state, &method, &path, &headers, &body)
    };
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(answer.to_string())))
        .unwrap_or_default();
    Ok(response)
}

fn decode(raw: &[u8], gzipped: bool) -> Option<Value> {
    if gzipped {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(raw).read_to_end(&mut text).ok()?;
        serde_json::from_slice(&text).ok()
    } else {
        serde_json::from_slice(raw).ok()
    }
}

fn error(status: u16, code: &str, message: &str, user_action: bool) -> (u16, Value) {
    (status, json!({"error_code": code, "message": message, "user_action_required": user_action, "retryable": false, "source": "dev-saas"}))
}

fn route(
    config: &DevSaasConfig,
    state: &mut ServerState,
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: &Value,
) -> (u16, Value) {
    if method != "POST" {
        return error(405, "method_not_allowed", "Only POST is served", false);
    }
    if headers.get("authorization").map(String::as_str) != Some(format!("Bearer {}", config.token).as_str()) {
        return error(401, "unauthenticated", "Missing or invalid bearer token", false);
    }
    if headers.get("x-team-slug") != Some(&config.team_slug) {
        return error(403, "team_mismatch", "X-Team-Slug does not name your team", false);
    }
    let fault = match path {
        "/api/v1/tracker/issue-search/" => config.faults.search,
        "/api/v1/tracker/mission-origin/bind/" => config.faults.bind,
        "/api/v1/events/batch/" => config.faults.events,
        _ => return error(404, "not_found", "No such endpoint", false),
    };
    if let Some(fault) = fault
        && config.faults.times.is_none_or(|n| state.faults_served < n)
    {
        state.faults_served += 1;
        return fault.answer(config.faults.retry_after);
    }
    match path {
        "/api/v1/tracker/issue-search/" => search(config, body),
        "/api/v1/tracker/mission-origin/bind/" => bind(config, state, body),
        _ => events(state, body),
    }
}

fn project<'a>(config: &'a DevSaasConfig, body: &Value) -> Result<&'a Project, (u16, Value)> {
    let provider = body["provider"].as_str().unwrap_or_default();
    if !matches!(provider, "linear" | "jira") {
        return Err(error(422, "invalid_provider", "provider: must be linear or jira", false));
    }
    let slug = body["binding_ref"].as_str().or(body["project_slug"].as_str()).unwrap_or_default();
    match config.fixtures.project(slug) {
        Some(project) if project.provider == provider => Ok(project),
        _ => Err(error(404, "resource_mapping_not_found", &format!("No resource mapping found for project {slug:?} ({provider})"), false)),
    }
}

fn search(config: &DevSaasConfig, body: &Value) -> (u16, Value) {
    let project = match project(config, body) {
        Ok(project) => project,
        Err(answer) => return answer,
    };
    let limit = match body["limit"].as_u64() {
        Some(limit @ 1..=100) => limit as usize,
        _ => return error(422, "invalid_limit", "limit: must be an integer between 1 and 100", false),
    };
    let candidate = |t: &Ticket, match_type: &str| {
        json!({"external_issue_id": t.external_issue_id, "external_issue_key": t.external_issue_key, "title": t.title,
               "status": t.status, "url": t.url, "match_type": match_type, "body": t.body})
    };
    let candidates: Vec<Value> = match (body["query_key"].as_str(), body["query_text"].as_str()) {
        (Some(key), _) => project.by_key(key).map(|t| candidate(t, "exact")).into_iter().collect(),
        (None, Some(text)) if !text.trim().is_empty() => project.search_text(text, limit).into_iter().map(|t| candidate(t, "text")).collect(),
        _ => return error(422, "invalid_query", "query_key or query_text is required", false),
    };
    (200, json!({"candidates": candidates, "resource_type": project.resource_type, "resource_id": project.resource_id}))
}

fn bind(config: &DevSaasConfig, state: &mut ServerState, body: &Value) -> (u16, Value) {
    if let Err(answer) = project(config, body) {
        return answer;
    }
    let field = |name: &str| body[name].as_str().filter(|v| !v.is_empty());
    let (Some(mission), Some(issue)) = (field("mission_id").or(field("mission_slug")), field("external_issue_id")) else {
        return error(422, "invalid_bind", "mission_id or mission_slug, and external_issue_id are required", false);
    };
    for required in ["external_issue_key", "external_issue_url", "external_title"] {
        if field(required).is_none() {
            return error(422, "invalid_bind", &format!("{required}: required"), false);
        }
    }
    match state.links.get(mission) {
        Some((bound, link, at)) if bound == issue => (200, json!({"origin_link_id": link, "bound_at": at})),
        Some(_) => error(409, "origin_conflict", "A different origin is already bound to this mission", false),
        None => {
            let link = format!("oml_{}", ulid::Ulid::new());
            let at = chrono_now();
            state.links.insert(mission.to_string(), (issue.to_string(), link.clone(), at.clone()));
            (200, json!({"origin_link_id": link, "bound_at": at}))
        }
    }
}

fn events(state: &mut ServerState, body: &Value) -> (u16, Value) {
    let Some(batch) = body["events"].as_array() else {
        return error(400, "invalid_batch", "Body must be gzip JSON {\"events\": [...]}", false);
    };
    if batch.len() > 1000 {
        return error(413, "batch_too_large", "At most 1000 events per batch", false);
    }
    let mut results = Vec::new();
    for event in batch {
        let id = event["event_id"].as_str().unwrap_or_default().to_string();
        let status = if id.is_empty() || event["event_type"].as_str().is_none() {
            "rejected"
        } else if state.events.iter().any(|e| e["event_id"] == id.as_str()) {
            "duplicate"
        } else {
            state.events.push(event.clone());
            "success"
        };
        results.push(json!({"event_id": id, "status": status}));
    }
    (200, json!({"results": results}))
}

fn chrono_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    spec_kitty_origin::ports::iso_utc(secs * 1000)
}
