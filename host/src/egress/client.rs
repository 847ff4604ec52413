//! The host's own requests to the control plane (event delivery), over the
//! same client as the guest's, with the host's credentials and bounds.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use spec_kitty_origin::wire::MAX_RESPONSE_BYTES;
use wasmtime_wasi_http::{RequestOptions, WasiBody};

use crate::credentials::{Credentials, SaasOrigin};
use crate::egress::{add_credentials, full_body};

/// The control plane's answer to one of the host's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// HTTP status.
    pub status: u16,
    /// Body bytes (at most [`MAX_RESPONSE_BYTES`]).
    pub body: Bytes,
}

/// POSTs `body` to `path` on `origin` as `credentials`; the whole exchange
/// (connect, headers, body) ends within `timeout`. Blocks: call it outside
/// async code (on a blocking thread, from async code).
///
/// # Errors
///
/// A message naming what failed: the connection, the timeout, or an answer
/// larger than [`MAX_RESPONSE_BYTES`].
pub fn post(
    origin: &SaasOrigin,
    credentials: &Credentials,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<HttpAnswer, String> {
    let request = request(origin, credentials, path, headers, body)?;
    // An event loop of this exchange's own: it does not depend on whether,
    // or how, a runtime around the caller is being driven.
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start an event loop ({e})"))?
        .block_on(exchange(request, timeout))
}

/// The POST of `body` to `path` on `origin` with `headers`, as `credentials`.
///
/// # Errors
///
/// A header that is not a valid header value, the credentials included.
pub fn request(
    origin: &SaasOrigin,
    credentials: &Credentials,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<http::Request<WasiBody>, String> {
    let mut request = http::Request::post(origin.url(path)).header(http::header::CONTENT_LENGTH, body.len());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(full_body(body)).map_err(|e| format!("bad request: {e}"))?;
    add_credentials(request.headers_mut(), credentials).map_err(|_| "the credentials are not valid header values".to_string())?;
    Ok(request)
}

/// Sends `request` (credentials already added) on the network and reads the
/// answer; the whole exchange (connect, headers, body) ends within `timeout`.
/// Call it inside a tokio runtime.
///
/// # Errors
///
/// A message naming what failed: the connection, the timeout, or an answer
/// larger than [`MAX_RESPONSE_BYTES`].
pub async fn exchange(request: http::Request<WasiBody>, timeout: Duration) -> Result<HttpAnswer, String> {
    let options =
        RequestOptions { connect_timeout: Some(timeout), first_byte_timeout: Some(timeout), between_bytes_timeout: Some(timeout) };
    let exchange = async {
        let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await.map_err(|e| format!("{e:?}"))?;
        let driver = tokio::spawn(io);
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the answer failed: {e}"))?
            .to_bytes();
        driver.abort();
        Ok(HttpAnswer { status, body })
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}
