//! The durable event outbox. `emit` commits the event first ([`store`]),
//! then tries to deliver it with whatever else waits ([`deliver`]); an event
//! leaves only when the control plane answered `success` or `duplicate` for
//! its `event_id`, so a crash or an outage at any point loses nothing.

mod deliver;
mod store;

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use spec_kitty_origin::wire::MAX_EVENTS_PER_BATCH;

use crate::credentials::SaasAccess;
use crate::events::{Delivery, EmitError, Event, EventSink};
/// Reads an events batch answer (defined with the wire format, which the
/// WASI-only build's events adapter reads too).
pub use spec_kitty_origin::wire::parse_batch_answer as parse_answer;
use store::{Destination, Store};
pub use store::{OUTBOX_FILE, SCHEMA_VERSION};

/// How long `emit` waits for the control plane before leaving the events
/// queued: short, because the developer is waiting and the events are safe.
const EMIT_TIMEOUT: Duration = Duration::from_secs(3);
/// How many waiting events an `emit` sends along with its own: a bounded
/// share of the backlog, so one call never waits on a long outage's queue.
const EMIT_BATCH: usize = 100;
/// How long a flush waits for each batch's answer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a claim holds: the longest exchange plus a margin, so a sender
/// that died frees its rows soon after, and a live one keeps them.
const CLAIM_MARGIN: Duration = Duration::from_secs(30);
/// How many rejections turn an event into a dead letter.
pub const DEAD_AFTER_REJECTIONS: i64 = 3;

/// Whether a row still waits for delivery or was given up after rejections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowState {
    /// Waiting for delivery.
    Pending,
    /// Rejected [`DEAD_AFTER_REJECTIONS`] times; retried only by `events flush --include-rejected`.
    Dead,
}

impl RowState {
    fn as_str(self) -> &'static str {
        match self {
            RowState::Pending => "pending",
            RowState::Dead => "dead",
        }
    }
}

/// An event waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queued {
    /// Position in the outbox (also the event's lamport clock).
    pub seq: i64,
    /// The envelope as it will be sent.
    pub envelope: Value,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed (the control plane's reason for a rejection).
    pub last_error: Option<String>,
    /// Pending or dead.
    pub state: RowState,
    /// The control plane it goes to.
    pub origin: String,
    /// The team it is sent as.
    pub team: String,
}

/// What a flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FlushReport {
    /// Acknowledged and removed.
    pub delivered: usize,
    /// Still waiting for this control plane and team.
    pub remaining: usize,
    /// Dead letters for this control plane and team.
    pub dead: usize,
}

/// The durable outbox, delivering to one control plane as one team.
pub struct Outbox {
    store: Store,
    saas: SaasAccess,
    /// This instance's name on its claims.
    claimant: String,
}

impl Outbox {
    /// Opens (creating) the outbox in `state_dir`; deliveries go to `saas`.
    ///
    /// # Errors
    ///
    /// The directory or the database cannot be created, opened or migrated.
    pub fn open(state_dir: &Path, saas: SaasAccess) -> Result<Self, String> {
        let destination = destination(&saas);
        Ok(Self { store: Store::open(state_dir, destination.as_ref())?, saas, claimant: ulid::Ulid::new().to_string() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    fn destination(&self) -> Result<Destination, String> {
        destination(&self.saas)
            .ok_or_else(|| "not logged in to Spec Kitty: set SPEC_KITTY_SAAS_URL, SPEC_KITTY_TOKEN and SPEC_KITTY_TEAM_SLUG".into())
    }

    /// Stores `event` durably for the configured control plane and team;
    /// returns its sequence number. Storing the same `event_id` twice keeps one copy.
    ///
    /// # Errors
    ///
    /// `invalid-event` for an incomplete envelope; `storage-failed` when no
    /// control plane is configured or the commit did not happen (then nothing was stored).
    pub fn enqueue(&self, event: &Event) -> Result<i64, EmitError> {
        let to = self.destination().map_err(EmitError::StorageFailed)?;
        self.store.enqueue(event, &to)
    }

    /// Every event in the outbox (pending and dead, every destination), oldest first.
    pub fn pending(&self) -> Result<Vec<Queued>, String> {
        self.store.select("ORDER BY seq", [])
    }

    /// The event with `event_id`, if it is still in the outbox.
    pub fn get(&self, event_id: &str) -> Result<Option<Queued>, String> {
        self.store.select("WHERE event_id = ?1", [event_id]).map(|rows| rows.into_iter().next())
    }

    /// The number of events waiting for delivery (all destinations).
    pub fn len(&self) -> Result<usize, String> {
        self.store.count(RowState::Pending, None)
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> Result<bool, String> {
        self.len().map(|n| n == 0)
    }

    /// Delivers what waits for the configured control plane and team, in
    /// batches of at most [`MAX_EVENTS_PER_BATCH`], each row claimed first so
    /// a concurrent flush never sends it too; with `include_dead`, dead
    /// letters are retried as well. `progress` is told `(delivered so far,
    /// waiting at the start)` after each batch.
    ///
    /// # Errors
    ///
    /// Why a batch could not be delivered; the rest stays queued.
    pub fn flush(&self, include_dead: bool, progress: &mut dyn FnMut(usize, usize)) -> Result<FlushReport, String> {
        let to = self.destination()?;
        if include_dead {
            self.store.revive(&to)?;
        }
        let total = self.store.count(RowState::Pending, Some(&to))?;
        let mut report = FlushReport::default();
        let mut after = 0;
        loop {
            let batch = self.store.claim(&to, &self.claimant, after, MAX_EVENTS_PER_BATCH, FLUSH_TIMEOUT + CLAIM_MARGIN)?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            report.delivered += self.deliver(&batch, FLUSH_TIMEOUT)?;
            progress(report.delivered, total);
        }
        report.remaining = self.store.count(RowState::Pending, Some(&to))?;
        report.dead = self.store.count(RowState::Dead, Some(&to))?;
        Ok(report)
    }

    /// POSTs the claimed `batch`; removes what was acknowledged; returns how many were.
    fn deliver(&self, batch: &[Queued], timeout: Duration) -> Result<usize, String> {
        match deliver::send_batch(&self.saas, batch, timeout) {
            Ok(answer) => self.store.settle(batch, &answer.acknowledged, &answer.rejected, DEAD_AFTER_REJECTIONS),
            Err(why) => {
                self.store.note_failure(batch, &why);
                Err(why)
            }
        }
    }
}

impl EventSink for Outbox {
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError> {
        self.enqueue(event)?;
        let Ok(to) = self.destination() else { return Ok(Delivery::Queued) };
        // The backlog goes with the new event, oldest first, within a bounded batch.
        let Ok(batch) = self.store.claim(&to, &self.claimant, 0, EMIT_BATCH, EMIT_TIMEOUT + CLAIM_MARGIN) else {
            return Ok(Delivery::Queued);
        };
        let _ = self.deliver(&batch, EMIT_TIMEOUT);
        match self.get(&event.event_id) {
            Ok(None) => Ok(Delivery::Delivered),
            _ => Ok(Delivery::Queued),
        }
    }
}

fn destination(saas: &SaasAccess) -> Option<Destination> {
    match (&saas.origin, &saas.credentials) {
        (Some(origin), Some(credentials)) => Some(Destination { origin: origin.base_url(), team: credentials.team_slug.clone() }),
        _ => None,
    }
}

/// An [`Outbox`] opened on first use: a call that emits nothing (a search)
/// never opens the database.
pub struct LazyOutbox {
    state_dir: std::path::PathBuf,
    saas: SaasAccess,
    opened: std::sync::OnceLock<Result<Outbox, String>>,
}

impl LazyOutbox {
    /// The outbox of `state_dir` for `saas`, not opened yet.
    pub fn new(state_dir: &Path, saas: SaasAccess) -> Self {
        Self { state_dir: state_dir.to_path_buf(), saas, opened: std::sync::OnceLock::new() }
    }

    /// The outbox, opened now if it was not.
    ///
    /// # Errors
    ///
    /// As [`Outbox::open`].
    pub fn get(&self) -> Result<&Outbox, String> {
        self.opened.get_or_init(|| Outbox::open(&self.state_dir, self.saas.clone())).as_ref().map_err(Clone::clone)
    }
}

impl EventSink for LazyOutbox {
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError> {
        self.get().map_err(EmitError::StorageFailed)?.emit(event)
    }
}
