//! Test doubles of the caps: a scripted control plane, a fake clock, fixed
//! entropy and a recording event sink.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::Path;

use crate::capabilities::{Capabilities, Clock, Delivery, Entropy, Event, EventSink, HttpResponse, Transport, TransportError};
use crate::files::StdFiles;

/// One request the fake control plane received.
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    pub timeout_ms: u64,
}

/// Answers requests from a script, in order; records them.
#[derive(Default)]
pub struct FakeSaas {
    pub script: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
    pub sent: RefCell<Vec<SentRequest>>,
}

impl FakeSaas {
    pub fn push(&self, status: u16, body: &str) {
        self.script.borrow_mut().push_back(Ok(HttpResponse { status, body: body.as_bytes().to_vec() }));
    }

    pub fn fail(&self, err: TransportError) {
        self.script.borrow_mut().push_back(Err(err));
    }
}

impl Transport for FakeSaas {
    fn post_json(&self, path: &str, headers: &[(String, String)], body: &[u8], timeout_ms: u64) -> Result<HttpResponse, TransportError> {
        self.sent.borrow_mut().push(SentRequest {
            path: path.to_string(),
            headers: headers.to_vec(),
            body: serde_json::from_slice(body).unwrap(),
            timeout_ms,
        });
        self.script.borrow_mut().pop_front().unwrap_or_else(|| panic!("unscripted request to {path}"))
    }
}

/// A clock that only moves when slept on.
pub struct FakeClock {
    pub now_ms: Cell<u64>,
    pub sleeps: RefCell<Vec<u64>>,
}

impl Default for FakeClock {
    fn default() -> Self {
        // 2026-04-01T12:00:00Z
        Self { now_ms: Cell::new(1_775_044_800_000), sleeps: RefCell::default() }
    }
}

impl Clock for FakeClock {
    fn monotonic_ms(&self) -> u64 {
        self.now_ms.get()
    }
    fn sleep_ms(&self, ms: u64) {
        self.sleeps.borrow_mut().push(ms);
        self.now_ms.set(self.now_ms.get() + ms);
    }
    fn unix_ms(&self) -> u64 {
        self.now_ms.get()
    }
}

/// Counts up from 1.
#[derive(Default)]
pub struct CountingEntropy(Cell<u128>);

impl Entropy for CountingEntropy {
    fn random_u128(&self) -> u128 {
        self.0.set(self.0.get() + 1);
        self.0.get()
    }
}

/// Records events; fails every emit when `fail` is set.
#[derive(Default)]
pub struct RecordingSink {
    pub events: RefCell<Vec<Event>>,
    pub fail: bool,
}

impl EventSink for RecordingSink {
    fn emit(&self, event: &Event) -> Result<Delivery, crate::model::EmitError> {
        if self.fail {
            return Err(crate::model::EmitError::StorageFailed("disk full".into()));
        }
        self.events.borrow_mut().push(event.clone());
        Ok(Delivery::Queued)
    }
}

/// All doubles together.
#[derive(Default)]
pub struct Doubles {
    pub saas: FakeSaas,
    pub clock: FakeClock,
    pub entropy: CountingEntropy,
    pub sink: RecordingSink,
}

impl Doubles {
    pub fn caps(&self) -> Capabilities<'_> {
        Capabilities { transport: &self.saas, clock: &self.clock, entropy: &self.entropy, events: &self.sink, files: &StdFiles }
    }
}

/// A repo bound to linear / acme-web in a temp dir.
pub fn bound_repo(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".kittify/config.yaml", config);
    dir
}

/// The usual binding.
pub const LINEAR_CONFIG: &str = "tracker:\n  provider: linear\n  project_slug: acme-web\n";

/// Writes `text` to `root/rel`, creating parents.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
