//! The host's own requests to the control plane (event delivery), over the
//! same client as the guest's, with the host's credentials and bounds.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use wasmtime_wasi_http::RequestOptions;

use crate::credentials::{Credentials, SaasOrigin};
use crate::egress::{add_credentials, full_body};

/// An answer: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Bytes,
}

/// POSTs `body` to `path` on `origin` as `credentials`, within `timeout`.
pub fn post(
    origin: &SaasOrigin,
    credentials: &Credentials,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Answer, String> {
    let mut request = http::Request::post(origin.url(path)).header(http::header::CONTENT_LENGTH, body.len());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(full_body(body)).map_err(|e| format!("bad request: {e}"))?;
    add_credentials(request.headers_mut(), credentials).map_err(|_| "the credentials are not valid header values".to_string())?;
    let options = RequestOptions { connect_timeout: Some(timeout), first_byte_timeout: Some(timeout), between_bytes_timeout: Some(timeout) };
    wasmtime_wasi::runtime::in_tokio(async move {
        let exchange = async {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await.map_err(|e| format!("{e:?}"))?;
            let driver = tokio::spawn(io);
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), 16 * 1024 * 1024)
                .collect()
                .await
                .map_err(|e| format!("reading the answer failed: {e}"))?
                .to_bytes();
            driver.abort();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(timeout, exchange).await.map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
    })
}
