//! The guest's capabilities on WASI: `wasi:http` transport, clocks,
//! randomness and file writes, over bindings of the WIT world `wasi-imports`.
//! The component (`bindings`) and the events adapter (`adapter/`) both use
//! them; neither holds anything the host did not grant.

use std::path::{Path, PathBuf};

wit_bindgen::generate!({
    path: "wit",
    world: "wasi-imports",
    generate_all,
});

/// Generates the bindings of the WIT world `$world` (of the WIT folder
/// `$path`) with every WASI interface mapped onto this module's, so WASI is
/// bound once for the component and the events adapter; `$with` holds the
/// world's other mappings.
#[macro_export]
macro_rules! generate_over_wasi_caps {
    ($path:literal, $world:literal, { $($with:tt)* }) => {
        wit_bindgen::generate!({
            path: $path,
            world: $world,
            with: {
                $($with)*
                "wasi:io/poll@0.2.12": spec_kitty_origin::wasi_caps::wasi::io::poll,
                "wasi:io/error@0.2.12": spec_kitty_origin::wasi_caps::wasi::io::error,
                "wasi:io/streams@0.2.12": spec_kitty_origin::wasi_caps::wasi::io::streams,
                "wasi:clocks/monotonic-clock@0.2.12": spec_kitty_origin::wasi_caps::wasi::clocks::monotonic_clock,
                "wasi:clocks/wall-clock@0.2.12": spec_kitty_origin::wasi_caps::wasi::clocks::wall_clock,
                "wasi:http/types@0.2.12": spec_kitty_origin::wasi_caps::wasi::http::types,
                "wasi:http/outgoing-handler@0.2.12": spec_kitty_origin::wasi_caps::wasi::http::outgoing_handler,
                "wasi:filesystem/types@0.2.12": spec_kitty_origin::wasi_caps::wasi::filesystem::types,
                "wasi:filesystem/preopens@0.2.12": spec_kitty_origin::wasi_caps::wasi::filesystem::preopens,
                "wasi:random/random@0.2.12": spec_kitty_origin::wasi_caps::wasi::random::random,
                "wasi:random/insecure-seed@0.2.12": spec_kitty_origin::wasi_caps::wasi::random::insecure_seed,
                "wasi:cli/environment@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::environment,
                "wasi:cli/exit@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::exit,
                "wasi:cli/stdin@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::stdin,
                "wasi:cli/stdout@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::stdout,
                "wasi:cli/stderr@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::stderr,
                "wasi:cli/terminal-input@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::terminal_input,
                "wasi:cli/terminal-output@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::terminal_output,
                "wasi:cli/terminal-stdin@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::terminal_stdin,
                "wasi:cli/terminal-stdout@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::terminal_stdout,
                "wasi:cli/terminal-stderr@0.2.12": spec_kitty_origin::wasi_caps::wasi::cli::terminal_stderr,
            },
        });
    };
}

use wasi::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode as FsErrorCode, OpenFlags, PathFlags};
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme};
use wasi::io::streams::{OutputStream, StreamError};

use crate::capabilities::{Clock, Entropy, FileWriter, HttpResponse, Transport, TransportError};
use crate::wire::{MAX_RESPONSE_BYTES, SAAS_URL_VAR};

/// The largest write to an output stream at once.
const WRITE_CHUNK: usize = 4096;

/// HTTP to the control plane through `wasi:http/outgoing-handler`.
pub struct WasiTransport;

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
        | ErrorCode::ConnectionWriteTimeout => TransportError::TimedOut(describe(&code)),
        ErrorCode::HttpResponseBodySize(limit) => {
            TransportError::TooLarge(format!("more than {} bytes", limit.map_or(MAX_RESPONSE_BYTES as u64, |l| l)))
        }
        other => TransportError::Unreachable(describe(&other)),
    }
}

/// What went wrong, in words (the host's own message where it sent one).
fn describe(code: &ErrorCode) -> String {
    let what = match code {
        ErrorCode::InternalError(Some(message)) => return message.clone(),
        ErrorCode::DnsTimeout | ErrorCode::DnsError(_) => "the name lookup failed",
        ErrorCode::DestinationNotFound | ErrorCode::DestinationUnavailable => "the control plane's host cannot be reached",
        ErrorCode::DestinationIpProhibited | ErrorCode::DestinationIpUnroutable => "the control plane's address cannot be reached",
        ErrorCode::ConnectionRefused => "the connection was refused",
        ErrorCode::ConnectionTerminated => "the connection was closed",
        ErrorCode::ConnectionTimeout => "connecting timed out",
        ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout => "no answer in time",
        ErrorCode::ConnectionWriteTimeout => "sending timed out",
        ErrorCode::TlsProtocolError | ErrorCode::TlsCertificateError | ErrorCode::TlsAlertReceived(_) => "the TLS handshake failed",
        ErrorCode::HttpProtocolError => "the answer is not valid HTTP",
        _ => "the HTTP exchange failed",
    };
    what.to_string()
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
pub struct WasiClock;

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
pub struct WasiEntropy;

impl Entropy for WasiEntropy {
    fn random_u128(&self) -> u128 {
        (u128::from(wasi::random::random::get_random_u64()) << 64) | u128::from(wasi::random::random::get_random_u64())
    }
}

/// File writes through `wasi:filesystem` `open-at`, with the `write`
/// descriptor flag only (no `mutate-directory`), so every WASI host accepts them.
pub struct WasiFiles;

impl WasiFiles {
    /// Opens `path` for writing, relative to the preopened directory holding it.
    fn open(path: &Path, flags: OpenFlags) -> std::io::Result<Descriptor> {
        let (dir, root) = preopen_holding(path).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, "it lies outside every directory this host granted")
        })?;
        let relative = path.strip_prefix(&root).map_err(std::io::Error::other)?;
        let relative = relative.to_str().filter(|r| !r.is_empty()).ok_or_else(|| std::io::Error::other("it names no file"))?;
        dir.open_at(PathFlags::SYMLINK_FOLLOW, relative, flags, DescriptorFlags::WRITE).map_err(fs_error)
    }

    /// Writes `bytes` to `stream`, closes it, and syncs `file`.
    fn write_and_sync(file: &Descriptor, stream: OutputStream, bytes: &[u8]) -> std::io::Result<()> {
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream.blocking_write_and_flush(chunk).map_err(|err| match err {
                StreamError::LastOperationFailed(err) => std::io::Error::other(err.to_debug_string()),
                StreamError::Closed => std::io::Error::from(std::io::ErrorKind::WriteZero),
            })?;
        }
        drop(stream);
        file.sync().map_err(fs_error)
    }
}

impl FileWriter for WasiFiles {
    fn create_new(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let file = Self::open(path, OpenFlags::CREATE | OpenFlags::EXCLUSIVE)?;
        let stream = file.write_via_stream(0).map_err(fs_error)?;
        Self::write_and_sync(&file, stream, bytes)
    }

    fn append(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let file = Self::open(path, OpenFlags::empty())?;
        let stream = file.append_via_stream().map_err(fs_error)?;
        Self::write_and_sync(&file, stream, bytes)
    }
}

/// A `wasi:filesystem` error as the `std::io::Error` `std::fs` would give.
fn fs_error(code: FsErrorCode) -> std::io::Error {
    use std::io::ErrorKind;
    let kind = match code {
        FsErrorCode::Exist => ErrorKind::AlreadyExists,
        FsErrorCode::NoEntry => ErrorKind::NotFound,
        FsErrorCode::Access | FsErrorCode::NotPermitted | FsErrorCode::ReadOnly => ErrorKind::PermissionDenied,
        FsErrorCode::IsDirectory => ErrorKind::IsADirectory,
        FsErrorCode::NotDirectory => ErrorKind::NotADirectory,
        FsErrorCode::InsufficientSpace => ErrorKind::StorageFull,
        FsErrorCode::Unsupported => ErrorKind::Unsupported,
        _ => ErrorKind::Other,
    };
    std::io::Error::new(kind, format!("{} ({})", code.message().trim_end_matches('.'), code.name()))
}

/// The preopened directory that holds `path` (the innermost one), and its path.
pub fn preopen_holding(path: &Path) -> Option<(Descriptor, PathBuf)> {
    wasi::filesystem::preopens::get_directories()
        .into_iter()
        .map(|(dir, root)| (dir, PathBuf::from(root)))
        .filter(|(_, root)| path.starts_with(root))
        .max_by_key(|(_, root)| root.as_os_str().len())
}
