//! The `WasiHttpHooks` of a call: the policy in front of the upstream.

use std::future::Future;
use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use wasmtime_wasi_http::{Error, ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks};

use crate::egress::{EgressLimits, EgressPolicy, Upstream, UpstreamResponse, full_body, is_forbidden};

/// What wasmtime-wasi-http asks before each guest request.
pub struct EgressHooks {
    /// What may be reached.
    pub policy: Arc<EgressPolicy>,
    /// Where allowed requests go.
    pub upstream: Arc<dyn Upstream>,
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
    ) -> Box<dyn Future<Output = Result<UpstreamResponse, Error>> + Send> {
        drop(fut);
        let verdict = self.policy.authorize(&mut request);
        let limits = self.policy.limits;
        let upstream = self.upstream.clone();
        Box::new(async move {
            verdict?;
            let options = limits.clamp(options);
            let bound = limits.exchange_bound(&options);
            tokio::time::timeout(bound, exchange(upstream, request, options, limits)).await.map_err(|_| Error::ConnectionReadTimeout)?
        })
    }
}

/// Sends `request` upstream and reads the whole answer within the size cap.
async fn exchange(
    upstream: Arc<dyn Upstream>,
    request: http::Request<WasiBody>,
    options: RequestOptions,
    limits: EgressLimits,
) -> Result<UpstreamResponse, Error> {
    let (response, io) = upstream.send(request, options).await?;
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
    // reaches the guest as `http-response-body-size`: wasmtime-wasi-http 48
    // hands a body that breaks half-way to the guest as an opaque `io-error`.
    let mut driver = AbortOnDrop(tokio::spawn(Box::into_pin(io)));
    let (parts, body) = response.into_parts();
    let collected = Limited::new(body, cap).collect().await.map_err(|err| match err.downcast::<Error>() {
        Ok(inner) => *inner,
        Err(_) => Error::HttpResponseBodySize(Some(cap as u64)),
    })?;
    let io = async move { (&mut driver.0).await.unwrap_or(Ok(())) };
    Ok((http::Response::from_parts(parts, full_body(collected.to_bytes())), Box::new(io) as Box<dyn Future<Output = _> + Send>))
}

/// The task driving a connection, stopped when the exchange is given up (a
/// deadline or a broken body) instead of left running.
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), Error>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
