//! A local stand-in of the Spec Kitty control plane that speaks
//! `saas-wire.md` on loopback, for the demo, the tests, the bench and
//! rehearsing errors. It is not part of the product: neither the host
//! library nor `kitty-origin` depends on it.

mod faults;
mod fixtures;
mod routes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::Value;

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
pub(crate) struct ServerState {
    pub(crate) requests: Vec<Recorded>,
    /// mission (id or slug) -> (external_issue_id, origin_link_id, bound_at)
    pub(crate) links: HashMap<String, (String, String, String)>,
    pub(crate) events: Vec<Value>,
    pub(crate) faults_served: u32,
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

    /// Every mission-origin link recorded: (mission id or slug, external issue id).
    pub fn links(&self) -> Vec<(String, String)> {
        self.state.lock().map(|s| s.links.iter().map(|(m, (issue, _, _))| (m.clone(), issue.clone())).collect()).unwrap_or_default()
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

/// What every request handler shares: the configuration and the state.
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
                    let service = hyper::service::service_fn(move |req| routes::handle(req, shared.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}
