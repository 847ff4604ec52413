//! The adapter between the WIT world `origin-binding` and the guest logic:
//! the WASI implementations of the ports, and the `service` export.

use std::path::Path;

wit_bindgen::generate!({
    path: "wit",
    world: "origin-binding",
    generate_all,
});

use exports::spec_kitty::origin::service::Guest;
use spec_kitty::origin::events as wit_events;
use spec_kitty::origin::types as wit;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme};
use wasi::io::streams::StreamError;

use crate::error::{ErrorKind, OriginError};
use crate::model::{Candidate, MatchType, OriginTicket, SearchResult};
use crate::ports::{Clock, Delivery, Entropy, Event, EventSink, HttpResponse, Ports, Transport, TransportError};

/// The environment variable naming the control plane, granted by the host.
const SAAS_URL_VAR: &str = "SPEC_KITTY_SAAS_URL";
/// The most a control-plane answer may hold.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
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
    let mut entries = vec![
        ("content-type".to_string(), b"application/json".to_vec()),
        ("accept".to_string(), b"application/json".to_vec()),
    ];
    entries.extend(headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec())));
    Fields::from_list(&entries).map_err(|err| TransportError::Denied(format!("header refused by the host: {err:?}")))
}

fn transport_error(code: ErrorCode) -> TransportError {
    match code {
        ErrorCode::HttpRequestDenied => TransportError::Denied("the request is not to the configured control plane".into()),
        ErrorCode::ConnectionTimeout | ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout | ErrorCode::ConnectionWriteTimeout => {
            TransportError::TimedOut(format!("{code:?}"))
        }
        ErrorCode::HttpResponseBodySize(limit) => {
            TransportError::TooLarge(format!("more than {} bytes", limit.map_or(MAX_RESPONSE_BYTES as u64, |l| l)))
        }
        ErrorCode::InternalError(Some(message)) if message.starts_with("not-logged-in: ") => {
            TransportError::NotLoggedIn(message["not-logged-in: ".len()..].to_string())
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
        let now = wasi::clocks::wall_clock::now();
        now.seconds.saturating_mul(1000) + u64::from(now.nanoseconds / 1_000_000)
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
    fn emit(&self, event: &Event) -> Result<Delivery, String> {
        let wit_event = wit_events::Event {
            event_id: event.event_id.clone(),
            event_type: event.event_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            aggregate_type: event.aggregate_type.clone(),
            schema_version: event.schema_version.clone(),
            payload_json: event.payload_json.clone(),
            timestamp: event.timestamp.clone(),
            project_slug: event.project_slug.clone(),
            correlation_id: event.correlation_id.clone(),
        };
        match wit_events::emit(&wit_event) {
            Ok(wit_events::Delivery::Delivered) => Ok(Delivery::Delivered),
            Ok(wit_events::Delivery::Queued) => Ok(Delivery::Queued),
            Err(wit_events::EmitError::InvalidEvent(m) | wit_events::EmitError::StorageFailed(m)) => Err(m),
        }
    }
}

fn with_ports<T>(run: impl FnOnce(Ports<'_>) -> T) -> T {
    run(Ports { transport: &WasiTransport, clock: &WasiClock, entropy: &WasiEntropy, events: &HostEvents })
}

fn to_wit_error(err: OriginError) -> wit::OriginError {
    let m = err.message;
    match err.kind {
        ErrorKind::NoTrackerBinding => wit::OriginError::NoTrackerBinding(m),
        ErrorKind::InvalidTrackerConfig => wit::OriginError::InvalidTrackerConfig(m),
        ErrorKind::UnsupportedProvider => wit::OriginError::UnsupportedProvider(m),
        ErrorKind::NotLoggedIn => wit::OriginError::NotLoggedIn(m),
        ErrorKind::UserLinkRequired => wit::OriginError::UserLinkRequired(m),
        ErrorKind::AuthenticationFailed => wit::OriginError::AuthenticationFailed(m),
        ErrorKind::NoResourceMapping => wit::OriginError::NoResourceMapping(m),
        ErrorKind::InvalidQuery => wit::OriginError::InvalidQuery(m),
        ErrorKind::InvalidCandidate => wit::OriginError::InvalidCandidate(m),
        ErrorKind::RateLimited => wit::OriginError::RateLimited(m),
        ErrorKind::OriginConflict => wit::OriginError::OriginConflict(m),
        ErrorKind::ControlPlaneUnreachable => wit::OriginError::ControlPlaneUnreachable(m),
        ErrorKind::RequestDenied => wit::OriginError::RequestDenied(m),
        ErrorKind::UnexpectedResponse => wit::OriginError::UnexpectedResponse(m),
        ErrorKind::TimedOut => wit::OriginError::TimedOut(m),
        ErrorKind::InvalidMetadata => wit::OriginError::InvalidMetadata(m),
        ErrorKind::Io => wit::OriginError::Io(m),
    }
}

fn to_wit_candidate(c: Candidate) -> wit::OriginCandidate {
    wit::OriginCandidate {
        external_issue_id: c.external_issue_id,
        external_issue_key: c.external_issue_key,
        title: c.title,
        status: c.status,
        url: c.url,
        match_type: match c.match_type {
            MatchType::Exact => wit::MatchType::Exact,
            MatchType::Text => wit::MatchType::Text,
        },
        body: c.body,
    }
}

fn from_wit_candidate(c: wit::OriginCandidate) -> Candidate {
    Candidate {
        external_issue_id: c.external_issue_id,
        external_issue_key: c.external_issue_key,
        title: c.title,
        status: c.status,
        url: c.url,
        match_type: match c.match_type {
            wit::MatchType::Exact => MatchType::Exact,
            wit::MatchType::Text => MatchType::Text,
        },
        body: c.body,
    }
}

fn to_wit_ticket(t: OriginTicket) -> wit::OriginTicket {
    wit::OriginTicket {
        provider: t.provider,
        resource_type: t.resource_type,
        resource_id: t.resource_id,
        external_issue_id: t.external_issue_id,
        external_issue_key: t.external_issue_key,
        external_issue_url: t.external_issue_url,
        title: t.title,
    }
}

fn to_wit_search(r: SearchResult) -> wit::SearchOriginResult {
    wit::SearchOriginResult {
        candidates: r.candidates.into_iter().map(to_wit_candidate).collect(),
        provider: r.provider,
        resource_type: r.resource_type,
        resource_id: r.resource_id,
        query_used: r.query_used,
    }
}

/// The exported component.
struct Component;

impl Guest for Component {
    fn search_origin_candidates(
        repo_root: String,
        query_text: Option<String>,
        query_key: Option<String>,
        limit: u32,
    ) -> Result<wit::SearchOriginResult, wit::OriginError> {
        with_ports(|p| crate::search::search_origin_candidates(p, Path::new(&repo_root), query_text.as_deref(), query_key.as_deref(), limit))
            .map(to_wit_search)
            .map_err(to_wit_error)
    }

    fn bind_mission_origin(
        feature_dir: String,
        candidate: wit::OriginCandidate,
        provider: String,
        resource_type: String,
        resource_id: String,
    ) -> Result<wit::BindResult, wit::OriginError> {
        let candidate = from_wit_candidate(candidate);
        let outcome = crate::bind::validate_routing(&candidate, &provider, &resource_type, &resource_id)
            .and_then(|routing| with_ports(|p| crate::bind::bind_mission_origin(p, Path::new(&feature_dir), &candidate, &routing)));
        outcome
            .map(|o| wit::BindResult { metadata_json: o.metadata_json, origin_ticket: to_wit_ticket(o.origin_ticket), event_emitted: o.event_emitted })
            .map_err(to_wit_error)
    }

    fn start_mission_from_ticket(
        repo_root: String,
        candidate: wit::OriginCandidate,
        provider: String,
        resource_type: String,
        resource_id: String,
        mission_key: String,
    ) -> Result<wit::MissionFromTicketResult, wit::OriginError> {
        let candidate = from_wit_candidate(candidate);
        let outcome = crate::bind::validate_routing(&candidate, &provider, &resource_type, &resource_id).and_then(|routing| {
            with_ports(|p| crate::start::start_mission_from_ticket(p, Path::new(&repo_root), &candidate, &routing, &mission_key))
        });
        outcome
            .map(|o| wit::MissionFromTicketResult {
                feature_dir: o.feature_dir,
                feature_slug: o.feature_slug,
                origin_ticket: to_wit_ticket(o.origin_ticket),
                event_emitted: o.event_emitted,
            })
            .map_err(to_wit_error)
    }
}

export!(Component);

