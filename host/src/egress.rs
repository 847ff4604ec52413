//! Outgoing HTTP for the guest, with the least authority: only the control
//! plane's origin, the host's own credentials added here, bounded time and size.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Limited};
use wasmtime_wasi_http::{DEFAULT_FORBIDDEN_HEADERS, Error, ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks};

use crate::credentials::{Credentials, SaasOrigin};

/// The team header every control-plane request carries.
pub const TEAM_HEADER: &str = "x-team-slug";
/// How the guest learns that the host has no session (see the guest's transport).
pub const NOT_LOGGED_IN_PREFIX: &str = "not-logged-in: ";

/// A response and the future that drives its connection.
pub type Sent = (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>);
/// What [`Upstream::send`] returns.
pub type SendFuture = Pin<Box<dyn Future<Output = Result<Sent, Error>> + Send>>;

/// Where allowed requests go: the network, or an in-process stub in tests.
pub trait Upstream: Send + Sync {
    /// Sends `request` with `options` (already clamped to the host's limits).
    fn send(&self, request: http::Request<WasiBody>, options: RequestOptions) -> SendFuture;
}

/// The real network, through wasmtime-wasi-http's client (HTTP and HTTPS).
pub struct NetworkUpstream;

impl Upstream for NetworkUpstream {
    fn send(&self, request: http::Request<WasiBody>, options: RequestOptions) -> SendFuture {
        Box::pin(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

/// Time and size bounds the host puts on every guest request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EgressLimits {
    /// Longest connect.
    pub connect: Duration,
    /// Longest wait for the first response byte.
    pub first_byte: Duration,
    /// Longest gap between response bytes.
    pub between_bytes: Duration,
    /// Largest response body.
    pub max_response_bytes: usize,
}

impl Default for EgressLimits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            between_bytes: Duration::from_secs(30),
            max_response_bytes: 8 * 1024 * 1024,
        }
    }
}

impl EgressLimits {
    /// The guest's options, each no longer than the host's bound.
    pub fn clamp(&self, options: Option<RequestOptions>) -> RequestOptions {
        let options = options.unwrap_or_default();
        let min = |asked: Option<Duration>, cap: Duration| Some(asked.map_or(cap, |a| a.min(cap)));
        RequestOptions {
            connect_timeout: min(options.connect_timeout, self.connect),
            first_byte_timeout: min(options.first_byte_timeout, self.first_byte),
            between_bytes_timeout: min(options.between_bytes_timeout, self.between_bytes),
        }
    }
}

/// What a guest request may reach and as whom.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    /// The only allowed origin (none: every request is refused).
    pub origin: Option<SaasOrigin>,
    /// The session the host adds to allowed requests.
    pub credentials: Option<Credentials>,
    /// Time and size bounds.
    pub limits: EgressLimits,
}

impl EgressPolicy {
    /// Checks `request` against the policy and adds the host's headers.
    pub fn authorize(&self, request: &mut http::Request<WasiBody>) -> Result<(), Error> {
        let Some(origin) = &self.origin else { return Err(Error::HttpRequestDenied) };
        let uri = request.uri();
        let same_origin = uri.scheme_str() == Some(origin.scheme.as_str())
            && uri.authority().is_some_and(|a| a.as_str().eq_ignore_ascii_case(&origin.authority))
            && uri.path().starts_with(&format!("{}/", origin.base_path));
        if !same_origin || request.headers().contains_key(AUTHORIZATION) {
            return Err(Error::HttpRequestDenied);
        }
        let Some(credentials) = &self.credentials else {
            return Err(Error::InternalError(Some(format!(
                "{NOT_LOGGED_IN_PREFIX}You are not logged in to Spec Kitty: log in first. Nothing was sent."
            ))));
        };
        add_credentials(request.headers_mut(), credentials)
    }
}

/// Adds `Authorization: Bearer <token>` and `X-Team-Slug` for `credentials`;
/// every request the host makes or lets through gets them here.
pub fn add_credentials(headers: &mut http::HeaderMap, credentials: &Credentials) -> Result<(), Error> {
    let bearer = HeaderValue::from_str(&format!("Bearer {}", credentials.token)).map_err(|_| Error::HttpRequestDenied)?;
    let team = HeaderValue::from_str(&credentials.team_slug).map_err(|_| Error::HttpRequestDenied)?;
    headers.insert(AUTHORIZATION, bearer);
    headers.insert(HeaderName::from_static(TEAM_HEADER), team);
    Ok(())
}

/// The `WasiHttpHooks` of a call: the policy in front of the upstream.
pub struct EgressHooks {
    /// What may be reached.
    pub policy: Arc<EgressPolicy>,
    /// Where allowed requests go.
    pub upstream: Arc<dyn Upstream>,
}

/// Headers the guest may never set: the host's own, and the usual hop-by-hop ones.
pub fn is_forbidden(name: &HeaderName) -> bool {
    *name == AUTHORIZATION || name.as_str() == TEAM_HEADER || DEFAULT_FORBIDDEN_HEADERS.contains(name)
}

impl WasiHttpHooks for EgressHooks {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        Arc::new(is_forbidden)
    }

    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = Result<Sent, Error>> + Send> {
        drop(fut);
        let verdict = self.policy.authorize(&mut request);
        let limits = self.policy.limits;
        let upstream = self.upstream.clone();
        Box::new(async move {
            verdict?;
            let (response, io) = upstream.send(request, limits.clamp(options)).await?;
            let cap = limits.max_response_bytes;
            let too_long = response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .is_some_and(|len| len > cap as u64);
            if too_long {
                return Err(Error::HttpResponseBodySize(Some(cap as u64)));
            }
            // The body is read here, within the cap, so that an answer too large
            // reaches the guest as `http-response-body-size`, not as a broken stream.
            let driver = tokio::spawn(Box::into_pin(io));
            let (parts, body) = response.into_parts();
            let collected = Limited::new(body, cap).collect().await.map_err(|err| match err.downcast::<Error>() {
                Ok(inner) => *inner,
                Err(_) => Error::HttpResponseBodySize(Some(cap as u64)),
            })?;
            let io = async move { driver.await.unwrap_or(Ok(())) };
            Ok((http::Response::from_parts(parts, full_body(collected.to_bytes())), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

/// A whole body as bytes (for stubs and the host's own client).
pub fn full_body(bytes: impl Into<Bytes>) -> WasiBody {
    http_body_util::Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(credentials: bool) -> EgressPolicy {
        EgressPolicy {
            origin: Some(SaasOrigin::parse("http://127.0.0.1:9/base").unwrap()),
            credentials: credentials.then(|| Credentials { token: "tok".into(), team_slug: "acme".into() }),
            limits: EgressLimits::default(),
        }
    }

    fn request(uri: &str) -> http::Request<WasiBody> {
        http::Request::post(uri).body(full_body("{}")).unwrap()
    }

    #[test]
    fn only_the_saas_origin_passes_and_gets_the_hosts_headers() {
        let mut ok = request("http://127.0.0.1:9/base/api/v1/tracker/issue-search/");
        policy(true).authorize(&mut ok).unwrap();
        assert_eq!(ok.headers()[AUTHORIZATION], "Bearer tok");
        assert_eq!(ok.headers()[TEAM_HEADER], "acme");
        for uri in ["http://127.0.0.1:10/base/x", "https://127.0.0.1:9/base/x", "http://evil.example/base/x", "http://127.0.0.1:9/other"] {
            assert!(matches!(policy(true).authorize(&mut request(uri)), Err(Error::HttpRequestDenied)), "{uri}");
        }
        let mut with_auth = request("http://127.0.0.1:9/base/x");
        with_auth.headers_mut().insert(AUTHORIZATION, HeaderValue::from_static("Bearer guest"));
        assert!(matches!(policy(true).authorize(&mut with_auth), Err(Error::HttpRequestDenied)));
        assert!(matches!(policy(false).authorize(&mut request("http://127.0.0.1:9/base/x")), Err(Error::InternalError(Some(m))) if m.starts_with(NOT_LOGGED_IN_PREFIX)));
    }

    #[test]
    fn guest_timeouts_are_clamped_to_the_hosts() {
        let limits = EgressLimits::default();
        let asked = RequestOptions { connect_timeout: Some(Duration::from_secs(60)), first_byte_timeout: Some(Duration::from_secs(2)), between_bytes_timeout: None };
        let got = limits.clamp(Some(asked));
        assert_eq!(got.connect_timeout, Some(Duration::from_secs(10)));
        assert_eq!(got.first_byte_timeout, Some(Duration::from_secs(2)));
        assert_eq!(got.between_bytes_timeout, Some(Duration::from_secs(30)));
        assert!(is_forbidden(&AUTHORIZATION) && is_forbidden(&HeaderName::from_static("x-team-slug")));
        assert!(!is_forbidden(&HeaderName::from_static("idempotency-key")));
    }
}
