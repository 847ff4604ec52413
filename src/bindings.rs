//! The adapter between the WIT world `origin-binding` and the guest logic:
//! the WASI implementations of the caps, and the `service` export.

use std::path::{Path, PathBuf};

wit_bindgen::generate!({
    path: "wit",
    world: "origin-binding",
    // The records are defined once, in `crate::model`; the export and import
    // glue reads and writes them there directly.
    with: { "spec-kitty:origin/types@0.1.0": crate::model },
    generate_all,
});

use exports::spec_kitty::origin::service::Guest;
use spec_kitty::origin::events as host_events;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme};
use wasi::io::streams::StreamError;

use crate::capabilities::{Capabilities, Clock, Entropy, EventSink, HttpResponse, Transport, TransportError};
use crate::error::{ErrorKind, OriginError};
use crate::model::{BindResult, Delivery, EmitError, Event, MissionFromTicketResult, OriginCandidate, SearchOriginResult};
use crate::wire::{MAX_RESPONSE_BYTES, SAAS_URL_VAR};

/// The largest write to an output stream at once.
const WRITE_CHUNK: usize = 4096;

/// HTTP to the control plane through `wasi:http/outgoing-handler`.
struct WasiTransport;

/// The control plane's base URL, split for `wasi:http`.
struct BaseUrl {
    scheme: Scheme,
    authority: String,
    path_prefix: String,
}

fn base_url() -> Result<BaseUrl, TransportError> {
    let not_set = || {
        TransportError::NotLoggedIn(format!(
            "{SAAS_URL_VAR} does not name the Spec Kitty control plane. Set it to the control plane's URL (e.g. https://spec-kitty.example.com), then retry."
        ))
    };
    let raw = std::env::var(SAAS_URL_VAR).map_err(|_| not_set())?;
    let uri: http::Uri = raw.trim().parse().map_err(|_| not_set())?;
    let scheme = match uri.scheme_str() {
        Some("https") => Scheme::Https,
        Some("http") => Scheme::Http,
        _ => return Err(not_set()),
    };
    let authority = uri.authority().ok_or_else(not_set)?.to_string();
    Ok(BaseUrl { scheme, authority, path_prefix: uri.path().trim_end_matches('/').to_string() })
}

fn header_fields(headers: &[(String, String)]) -> Result<Fields, TransportError> {
    let mut entries =
        vec![("content-type".to_string(), b"application/json".to_vec()), ("accept".to_string(), b"application/json".to_vec())];
    entries.extend(headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec())));
    Fields::from_list(&entries).map_err(|err| TransportError::Denied(format!("header refused by the host: {err:?}")))
}

fn transport_error(code: ErrorCode) -> TransportError {
    match code {
        ErrorCode::HttpRequestDenied => TransportError::Denied("the request is not to the configured control plane".into()),
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::ConnectionWriteTimeout => TransportError::TimedOut(format!("{code:?}")),
        ErrorCode::HttpResponseBodySize(limit) => {
            TransportError::TooLarge(format!("more than {} bytes", limit.map_or(MAX_RESPONSE_BYTES as u64, |l| l)))
        }
        other => TransportError::Unreachable(format!("{other:?}")),
    }
}

impl Transport for WasiTransport {
    fn post_json(&self, path: &str, headers: &[(String, String)], body: &[u8], timeout_ms: u64) -> Result<HttpResponse, TransportError> {
        let base = base_url()?;
        let request = OutgoingRequest::new(header_fields(headers)?);
        let refused = |what: &str| TransportError::Denied(format!("the host refused the request's {what}"));
        request.set_method(&Method::Post).map_err(|()| refused("method"))?;
        request.set_scheme(Some(&base.scheme)).map_err(|()| refused("scheme"))?;
        request.set_authority(Some(&base.authority)).map_err(|()| refused("authority"))?;
        request.set_path_with_query(Some(&format!("{}{path}", base.path_prefix))).map_err(|()| refused("path"))?;
        let outgoing = request.body().map_err(|()| refused("body"))?;

        let options = RequestOptions::new();
        let timeout_ns = timeout_ms.saturating_mul(1_000_000);
        // Hosts may not support every timeout; the overall bound is enforced by the caller.
        let _ = options.set_connect_timeout(Some(timeout_ns));
        let _ = options.set_first_byte_timeout(Some(timeout_ns));
        let _ = options.set_between_bytes_timeout(Some(timeout_ns));
        let pending = wasi::http::outgoing_handler::handle(request, Some(options)).map_err(transport_error)?;

        let write_failed = |err: StreamError| TransportError::Unreachable(format!("sending the request body failed: {err:?}"));
        {
            let stream = outgoing.write().map_err(|()| refused("body stream"))?;
            for chunk in body.chunks(WRITE_CHUNK) {
                stream.blocking_write_and_flush(chunk).map_err(write_failed)?;
            }
        }
        OutgoingBody::finish(outgoing, None).map_err(transport_error)?;

        pending.subscribe().block();
        let response = match pending.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(transport_error(code)),
            Some(Err(())) | None => return Err(TransportError::Unreachable("the response was lost".into())),
        };
        let status = response.status();
        let incoming = response.consume().map_err(|()| TransportError::Unreachable("no response body".into()))?;
        let mut bytes = Vec::new();
        {
            let stream = incoming.stream().map_err(|()| TransportError::Unreachable("no response body stream".into()))?;
            loop {
                match stream.blocking_read(64 * 1024) {
                    Ok(chunk) => bytes.extend_from_slice(&chunk),
                    Err(StreamError::Closed) => break,
                    Err(StreamError::LastOperationFailed(err)) => {
                        return Err(match wasi::http::types::http_error_code(&err) {
                            Some(code) => transport_error(code),
                            None => TransportError::Unreachable(format!("reading the response failed: {}", err.to_debug_string())),
                        });
                    }
                }
                if bytes.len() > MAX_RESPONSE_BYTES {
                    return Err(TransportError::TooLarge(format!("more than {MAX_RESPONSE_BYTES} bytes")));
                }
            }
        }
        Ok(HttpResponse { status, body: bytes })
    }
}

/// `wasi:clocks` time.
struct WasiClock;

impl Clock for WasiClock {
    fn monotonic_ms(&self) -> u64 {
        wasi::clocks::monotonic_clock::now() / 1_000_000
    }
    fn sleep_ms(&self, ms: u64) {
        wasi::clocks::monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000)).block();
    }
    fn unix_ms(&self) -> u64 {
        self.unix_micros() / 1000
    }
    fn unix_micros(&self) -> u64 {
        let now = wasi::clocks::wall_clock::now();
        now.seconds.saturating_mul(1_000_000) + u64::from(now.nanoseconds / 1000)
    }
}

/// `wasi:random` randomness.
struct WasiEntropy;

impl Entropy for WasiEntropy {
    fn random_u128(&self) -> u128 {
        (u128::from(wasi::random::random::get_random_u64()) << 64) | u128::from(wasi::random::random::get_random_u64())
    }
}

/// The imported `events` interface.
struct HostEvents;

impl EventSink for HostEvents {
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError> {
        host_events::emit(event)
    }
}

fn with_caps<T>(run: impl FnOnce(Capabilities<'_>) -> T) -> T {
    run(Capabilities { transport: &WasiTransport, clock: &WasiClock, entropy: &WasiEntropy, events: &HostEvents })
}

/// The repo root of `feature_dir`: the directory the host preopened that
/// holds it. The host alone decides what to grant; the guest only reads it.
fn granted_repo_root(feature_dir: &Path) -> Result<PathBuf, OriginError> {
    wasi::filesystem::preopens::get_directories()
        .into_iter()
        .map(|(_, path)| PathBuf::from(path))
        .filter(|root| feature_dir.starts_with(root))
        .max_by_key(|root| root.as_os_str().len())
        .ok_or_else(|| {
            OriginError::new(
                ErrorKind::Io,
                format!(
                    "{} lies outside every directory this host granted. Pass a mission directory inside the repo.",
                    feature_dir.display()
                ),
            )
        })
}

/// The exported component.
struct Component;

impl Guest for Component {
    fn search_origin_candidates(
        repo_root: String,
        query_text: Option<String>,
        query_key: Option<String>,
        limit: u32,
    ) -> Result<SearchOriginResult, OriginError> {
        with_caps(|caps| {
            crate::search::search_origin_candidates(caps, Path::new(&repo_root), query_text.as_deref(), query_key.as_deref(), limit)
        })
    }

    fn bind_mission_origin(
        feature_dir: String,
        candidate: OriginCandidate,
        provider: String,
        resource_type: String,
        resource_id: String,
    ) -> Result<BindResult, OriginError> {
        let routing = crate::bind::validate_routing(&candidate, &provider, &resource_type, &resource_id)?;
        let feature_dir = Path::new(&feature_dir);
        let repo_root = granted_repo_root(feature_dir)?;
        with_caps(|caps| crate::bind::bind_mission_origin(caps, &repo_root, feature_dir, &candidate, &routing))
    }

    fn start_mission_from_ticket(
        repo_root: String,
        candidate: OriginCandidate,
        provider: String,
        resource_type: String,
        resource_id: String,
        mission_key: String,
    ) -> Result<MissionFromTicketResult, OriginError> {
        let routing = crate::bind::validate_routing(&candidate, &provider, &resource_type, &resource_id)?;
        with_caps(|caps| crate::start::start_mission_from_ticket(caps, Path::new(&repo_root), &candidate, &routing, &mission_key))
    }
}

export!(Component);
