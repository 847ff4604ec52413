//! A loopback forward proxy to the control plane, for WebAssembly hosts that
//! cannot add headers (the wasmtime CLI, wassette, jco, wasmtime-py).
//!
//! The guest never holds the token, and such a host cannot add it, so the
//! host's credentials go here instead: the third-party host is given the
//! proxy's URL as `SPEC_KITTY_SAAS_URL`, and the proxy forwards each request
//! to the configured control plane with `Authorization: Bearer <token>` and
//! `X-Team-Slug` added ([`add_credentials`]). It serves only the API paths of
//! `saas-wire.md` ([`API_PATHS`]; anything else is 404), only `POST`, only on
//! loopback, with bounded bodies and time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::json;
use spec_kitty_origin::wire::{API_PATHS, IDEMPOTENCY_HEADER, MAX_RESPONSE_BYTES};

use crate::credentials::{Credentials, SaasAccess, SaasOrigin};
use crate::egress::client;

/// The headers a client's request keeps on its way; every other one
/// (`Authorization` and `X-Team-Slug` above all) is dropped.
const FORWARDED_HEADERS: [&str; 4] = ["content-type", "content-encoding", "accept", IDEMPOTENCY_HEADER];

/// Bounds on what the proxy forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyLimits {
    /// The largest request body: an events batch of 1000 envelopes fits.
    pub max_request_bytes: usize,
    /// Reading the client's request, and the control plane's whole answer,
    /// each end within this.
    pub timeout: Duration,
    /// Requests handled at once; more wait for a turn.
    pub max_concurrent: usize,
}

impl Default for ProxyLimits {
    fn default() -> Self {
        Self { max_request_bytes: MAX_RESPONSE_BYTES, timeout: Duration::from_secs(30), max_concurrent: 16 }
    }
}

/// Where the proxy forwards, as whom, within which bounds.
struct Forwarding {
    origin: SaasOrigin,
    credentials: Credentials,
    limits: ProxyLimits,
}

/// A running proxy.
pub struct Proxy {
    addr: SocketAddr,
    origin: SaasOrigin,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Starts forwarding to `saas`'s control plane as its session, on the
    /// loopback address `addr` (port 0 picks a free one), in a background thread.
    ///
    /// # Errors
    ///
    /// `addr` is not loopback, `saas` has no origin or no session (the
    /// message says how to log in), or the address cannot be bound.
    pub fn start(addr: SocketAddr, saas: &SaasAccess, limits: ProxyLimits) -> Result<Self, String> {
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{addr} is not a loopback address: the proxy adds your Spec Kitty credentials to what it forwards, so it listens on loopback only. Use --addr 127.0.0.1:PORT."
            ));
        }
        if let Some(problem) = saas.login_problem(&crate::state_dir()) {
            return Err(problem);
        }
        let (Some(origin), Some(credentials)) = (saas.origin.clone(), saas.credentials.clone()) else {
            return Err("log in to Spec Kitty first (SPEC_KITTY_SAAS_URL, SPEC_KITTY_TOKEN, SPEC_KITTY_TEAM_SLUG)".into());
        };
        let listener = std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}. Pick another --addr."))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the proxy's runtime: {e}"))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let forwarding = Arc::new(Forwarding { origin: origin.clone(), credentials, limits });
        let thread = std::thread::spawn(move || runtime.block_on(serve(listener, forwarding, rx)));
        Ok(Self { addr: bound, origin, shutdown: Some(tx), thread: Some(thread) })
    }

    /// The URL to give a third-party host as `SPEC_KITTY_SAAS_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The control plane it forwards to.
    pub fn origin(&self) -> &SaasOrigin {
        &self.origin
    }

    /// Blocks until the proxy stops (it never does by itself).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Stops serving and waits for the server thread.
    pub fn stop(mut self) {
        self.shut();
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

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shut();
    }
}

async fn serve(listener: std::net::TcpListener, forwarding: Arc<Forwarding>, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    let turns = Arc::new(tokio::sync::Semaphore::new(forwarding.limits.max_concurrent.max(1)));
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (forwarding, turns) = (forwarding.clone(), turns.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (forwarding, turns) = (forwarding.clone(), turns.clone());
                        async move {
                            let _turn = turns.acquire_owned().await;
                            Ok::<_, std::convert::Infallible>(forward(req, &forwarding).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

/// The proxy's own refusal or failure, in the control plane's error shape.
fn refusal(status: StatusCode, code: &str, message: String) -> Response<Full<Bytes>> {
    let body =
        json!({"error_code": code, "message": message, "user_action_required": false, "retryable": false, "source": "kitty-origin proxy"});
    answer(status, body.to_string().into())
}

fn answer(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

/// Forwards one request, or refuses it.
async fn forward(req: Request<Incoming>, forwarding: &Forwarding) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if req.uri().query().is_some() || !API_PATHS.contains(&path.as_str()) {
        return refusal(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("The proxy forwards only the control plane's API paths ({}).", API_PATHS.join(", ")),
        );
    }
    if req.method() != Method::POST {
        return refusal(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("Only POST is forwarded to {path}."));
    }
    let limits = forwarding.limits;
    let headers: Vec<(HeaderName, String)> = req
        .headers()
        .iter()
        .filter(|(name, _)| FORWARDED_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| value.to_str().ok().map(|v| (name.clone(), v.to_string())))
        .collect();
    let body = match tokio::time::timeout(limits.timeout, Limited::new(req.into_body(), limits.max_request_bytes).collect()).await {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(_)) => {
            return refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                format!("The request body is larger than {} bytes, or broke off. Send a smaller batch.", limits.max_request_bytes),
            );
        }
        Err(_) => {
            return refusal(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!("The request body did not arrive within {} s. Retry.", limits.timeout.as_secs()),
            );
        }
    };
    let named: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    let request = match client::request(&forwarding.origin, &forwarding.credentials, &path, &named, body.to_vec()) {
        Ok(request) => request,
        Err(why) => return refusal(StatusCode::BAD_REQUEST, "bad_request", format!("The request cannot be forwarded ({why}).")),
    };
    match client::exchange(request, limits.timeout).await {
        Ok(upstream) => answer(StatusCode::from_u16(upstream.status).unwrap_or(StatusCode::BAD_GATEWAY), upstream.body),
        Err(why) => refusal(
            StatusCode::BAD_GATEWAY,
            "control_plane_unreachable",
            format!(
                "The control plane at {} did not answer ({why}). Check the proxy's SPEC_KITTY_SAAS_URL and your network, then retry.",
                forwarding.origin.base_url()
            ),
        ),
    }
}
