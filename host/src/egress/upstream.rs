//! Where allowed requests go: the network, or an in-process stub in tests.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// A response, and the future that drives its connection to the end.
pub type UpstreamResponse = (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>);
/// What [`Upstream::send`] returns.
pub type SendFuture = Pin<Box<dyn Future<Output = Result<UpstreamResponse, Error>> + Send>>;

/// Where allowed requests go. Implement it to answer requests in process.
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

/// A whole body as bytes (for stubs and the host's own client).
pub fn full_body(bytes: impl Into<Bytes>) -> WasiBody {
    http_body_util::Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}
