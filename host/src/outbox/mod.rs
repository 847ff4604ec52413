//! The durable event outbox. `emit` commits the event first ([`store`]),
//! then tries to deliver it ([`deliver`]); an event leaves only when the
//! control plane answered `success` or `duplicate` for its `event_id`, so a
//! crash or an outage at any point loses nothing.

mod deliver;
mod store;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use spec_kitty_origin::wire::MAX_EVENTS_PER_BATCH;

use crate::credentials::SaasAccess;
use crate::events::{Delivery, EmitError, Event, EventSink};
pub use store::OUTBOX_FILE;
use store::Store;

/// How long `emit` waits for the control plane before leaving the event
/// queued: short, because the developer is waiting and the event is safe.
const EMIT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a flush waits for each batch's answer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// An event waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// Position in the outbox (also the event's lamport clock).
    pub seq: i64,
    /// The envelope as it will be sent.
    pub envelope: Value,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// What a flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Acknowledged and removed.
    pub delivered: usize,
    /// Still waiting (rejected, or the control plane did not answer).
    pub remaining: usize,
}

/// The durable outbox, delivering to one control plane as one team.
pub struct Outbox {
    store: Store,
    saas: SaasAccess,
}

impl Outbox {
    /// Opens (creating) the outbox in `state_dir`; deliveries go to `saas`.
    ///
    /// # Errors
    ///
    /// The directory or the database cannot be created or opened.
    pub fn open(state_dir: &Path, saas: SaasAccess) -> Result<Self, String> {
        Ok(Self { store: Store::open(state_dir)?, saas })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Stores `event` durably; returns its sequence number. Storing the same
    /// `event_id` twice keeps one copy.
    ///
    /// # Errors
    ///
    /// `invalid-event` for an incomplete envelope; `storage-failed` when the
    /// commit did not happen (then nothing was stored).
    pub fn enqueue(&self, event: &Event) -> Result<i64, EmitError> {
        let team_slug = self.saas.credentials.as_ref().map(|c| c.team_slug.as_str());
        self.store.enqueue(event, team_slug)
    }

    /// Every event waiting, oldest first.
    pub fn pending(&self) -> Result<Vec<Queued>, String> {
        self.store.select("ORDER BY seq", [])
    }

    /// The event with `event_id`, if it still waits.
    pub fn get(&self, event_id: &str) -> Result<Option<Queued>, String> {
        self.store.select("WHERE event_id = ?1", [event_id]).map(|rows| rows.into_iter().next())
    }

    /// The number of events waiting.
    pub fn len(&self) -> Result<usize, String> {
        self.store.count()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> Result<bool, String> {
        self.len().map(|n| n == 0)
    }

    /// Delivers everything waiting, in batches of at most
    /// [`MAX_EVENTS_PER_BATCH`]; `progress` is told `(delivered so far, total)`
    /// after each batch.
    ///
    /// # Errors
    ///
    /// Why a batch could not be delivered, with how many events stay queued.
    pub fn flush(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<FlushReport, String> {
        let waiting = self.pending()?;
        let total = waiting.len();
        let mut report = FlushReport::default();
        for batch in waiting.chunks(MAX_EVENTS_PER_BATCH) {
            match self.deliver(batch, FLUSH_TIMEOUT) {
                Ok(done) => report.delivered += done,
                Err(why) => {
                    report.remaining = total - report.delivered;
                    progress(report.delivered, total);
                    return Err(format!("{why}; {} event(s) stay queued", report.remaining));
                }
            }
            progress(report.delivered, total);
        }
        report.remaining = total - report.delivered;
        Ok(report)
    }

    /// POSTs `batch`; removes what was acknowledged; returns how many were.
    fn deliver(&self, batch: &[Queued], timeout: Duration) -> Result<usize, String> {
        let seqs: Vec<i64> = batch.iter().map(|q| q.seq).collect();
        match deliver::send_batch(&self.saas, batch, timeout) {
            Ok(acknowledged) => self.store.settle(&acknowledged, &seqs),
            Err(why) => {
                self.store.note_failure(&seqs, &why);
                Err(why)
            }
        }
    }
}

impl EventSink for Outbox {
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError> {
        let seq = self.enqueue(event)?;
        let stored = self.store.select("WHERE seq = ?1", [seq]).unwrap_or_default();
        match self.deliver(&stored, EMIT_TIMEOUT) {
            Ok(1) => Ok(Delivery::Delivered),
            _ => Ok(Delivery::Queued),
        }
    }
}
