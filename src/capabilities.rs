//! The guest's capabilities as small traits: the WASI adapters of
//! `bindings` implement them on wasm32, the doubles of `testing` natively
//! (success criterion 6). The host grants the same set under the same name.

use std::path::Path;

pub use crate::model::{Delivery, EmitError, Event};

/// A response from the control plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response body bytes.
    pub body: Vec<u8>,
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The host refused the request (not an allowed origin, or no session).
    Denied(String),
    /// The host has no Spec Kitty session to authorise the request.
    NotLoggedIn(String),
    /// Connection refused, DNS failure, TLS failure, reset.
    Unreachable(String),
    /// A connect, first-byte or between-bytes timeout fired.
    TimedOut(String),
    /// The answer was larger than the host or the guest accepts.
    TooLarge(String),
}

/// The HTTP transport to the Spec Kitty control plane (wasi:http on wasm32).
pub trait Transport {
    /// POST `body` (JSON) to `path` under the control plane's base URL, with
    /// extra `headers`, giving up after `timeout_ms`.
    fn post_json(&self, path: &str, headers: &[(String, String)], body: &[u8], timeout_ms: u64) -> Result<HttpResponse, TransportError>;
}

/// Time: a monotonic clock to bound calls, a sleep for retries, and UTC wall time.
pub trait Clock {
    /// Milliseconds on a monotonic clock.
    fn monotonic_ms(&self) -> u64;
    /// Block for `ms` milliseconds.
    fn sleep_ms(&self, ms: u64);
    /// Milliseconds since the Unix epoch, UTC.
    fn unix_ms(&self) -> u64;
    /// Microseconds since the Unix epoch, UTC (Spec Kitty's timestamps carry them).
    fn unix_micros(&self) -> u64 {
        self.unix_ms().saturating_mul(1000)
    }
}

/// Randomness for ULIDs and temporary file names.
pub trait Entropy {
    /// 128 random bits.
    fn random_u128(&self) -> u128;
}

/// The host's event sink (the `events` import).
pub trait EventSink {
    /// Hand over `event`; an error means it was not accepted.
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError>;
}

/// Creating and appending to the repo's files, each write synced.
///
/// On wasm32 files are opened through `wasi:filesystem`'s `open-at` with the
/// `write` descriptor flag only: `std::fs` also asks for `mutate-directory`,
/// which some hosts (jco's preview2-shim) refuse. Natively it is `std::fs`
/// ([`crate::files::StdFiles`]).
pub trait FileWriter {
    /// Creates `path`, which must not exist (not even as a symlink), with
    /// `bytes`, and syncs it.
    fn create_new(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()>;
    /// Appends `bytes` to the existing file `path` and syncs it.
    fn append(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()>;
}

/// Everything a service method may use.
#[derive(Clone, Copy)]
pub struct Capabilities<'a> {
    /// HTTP to the control plane.
    pub transport: &'a dyn Transport,
    /// Time.
    pub clock: &'a dyn Clock,
    /// Randomness.
    pub entropy: &'a dyn Entropy,
    /// The event sink.
    pub events: &'a dyn EventSink,
    /// File creation and appends.
    pub files: &'a dyn FileWriter,
}

impl Capabilities<'_> {
    /// A new ULID from the clock and entropy.
    pub fn new_ulid(&self) -> String {
        ulid::Ulid::from_parts(self.clock.unix_ms(), self.entropy.random_u128()).to_string()
    }

    /// Now, as ISO-8601 UTC with second precision (`2026-04-01T12:00:00Z`).
    pub fn now_iso(&self) -> String {
        crate::timestamps::iso_utc_seconds(self.clock.unix_micros())
    }
}
