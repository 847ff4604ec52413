//! The durable event outbox: SQLite in WAL mode with `synchronous=FULL`.
//! `emit` commits first, then tries to deliver; an event leaves only when
//! the control plane answered `success` or `duplicate` for its `event_id`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::credentials::SaasAccess;
use crate::http_client;
use crate::sink::{Delivery, EmitError, Event, EventSink};

/// The outbox database file under the state directory.
pub const OUTBOX_FILE: &str = "outbox.sqlite3";
/// The events batch endpoint.
pub const BATCH_PATH: &str = "/api/v1/events/batch/";
/// The most events in one batch.
pub const MAX_BATCH: usize = 1000;
/// The payload fields every `MissionOriginBound` must carry, non-empty.
pub const REQUIRED_PAYLOAD: [&str; 6] =
    ["mission_slug", "provider", "external_issue_id", "external_issue_key", "external_issue_url", "title"];

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

/// The durable outbox.
pub struct Outbox {
    path: PathBuf,
    conn: Mutex<Connection>,
    saas: SaasAccess,
    /// How long `emit` waits for the control plane before queueing.
    emit_timeout: Duration,
}

impl Outbox {
    /// Opens (creating) the outbox in `state_dir`; deliveries go to `saas`.
    pub fn open(state_dir: &Path, saas: SaasAccess) -> Result<Self, String> {
        std::fs::create_dir_all(state_dir).map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
        let path = state_dir.join(OUTBOX_FILE);
        let fail = |e: rusqlite::Error| format!("cannot open the event outbox {}: {e}", path.display());
        let conn = Connection::open(&path).map_err(fail)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(fail)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                event_id TEXT NOT NULL UNIQUE,
                envelope TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
             );
             CREATE TABLE IF NOT EXISTS node (id INTEGER PRIMARY KEY CHECK (id = 1), node_id TEXT NOT NULL);",
        )
        .map_err(fail)?;
        conn.execute("INSERT OR IGNORE INTO node (id, node_id) VALUES (1, ?1)", [ulid::Ulid::new().to_string()]).map_err(fail)?;
        Ok(Self { path, conn: Mutex::new(conn), saas, emit_timeout: Duration::from_secs(3) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, String> {
        self.conn.lock().map_err(|_| "the outbox lock is poisoned".to_string())
    }

    /// Stores `event` durably; returns its sequence number. Storing the same
    /// `event_id` twice keeps one copy.
    pub fn enqueue(&self, event: &Event) -> Result<i64, EmitError> {
        let payload = validate(event)?;
        let storage = |e: String| EmitError::StorageFailed(format!("{e}; the event was not stored"));
        let mut conn = self.conn().map_err(storage)?;
        let tx = conn.transaction().map_err(|e| storage(e.to_string()))?;
        let node_id: String = tx.query_row("SELECT node_id FROM node WHERE id = 1", [], |r| r.get(0)).map_err(|e| storage(e.to_string()))?;
        let team_slug = self.saas.credentials.as_ref().map(|c| c.team_slug.clone());
        tx.execute("INSERT OR IGNORE INTO events (event_id, envelope) VALUES (?1, '{}')", [&event.event_id])
            .map_err(|e| storage(e.to_string()))?;
        let seq: i64 = tx
            .query_row("SELECT seq FROM events WHERE event_id = ?1", [&event.event_id], |r| r.get(0))
            .map_err(|e| storage(e.to_string()))?;
        let envelope = json!({
            "event_id": event.event_id,
            "event_type": event.event_type,
            "aggregate_id": event.aggregate_id,
            "aggregate_type": event.aggregate_type,
            "schema_version": event.schema_version,
            "payload": payload,
            "node_id": node_id,
            "lamport_clock": seq,
            "causation_id": null,
            "correlation_id": event.correlation_id,
            "timestamp": event.timestamp,
            "team_slug": team_slug,
            "project_slug": event.project_slug,
        });
        tx.execute("UPDATE events SET envelope = ?1 WHERE seq = ?2 AND envelope = '{}'", params![envelope.to_string(), seq])
            .map_err(|e| storage(e.to_string()))?;
        tx.commit().map_err(|e| storage(e.to_string()))?;
        Ok(seq)
    }

    /// Every event waiting, oldest first.
    pub fn pending(&self) -> Result<Vec<Queued>, String> {
        self.select("ORDER BY seq", [])
    }

    fn select<P: rusqlite::Params>(&self, tail: &str, args: P) -> Result<Vec<Queued>, String> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare(&format!("SELECT seq, envelope, attempts, last_error FROM events {tail}"))
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map(args, |r| {
                let text: String = r.get(1)?;
                Ok(Queued { seq: r.get(0)?, envelope: serde_json::from_str(&text).unwrap_or(Value::Null), attempts: r.get(2)?, last_error: r.get(3)? })
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }

    /// Delivers everything waiting, in batches of at most [`MAX_BATCH`];
    /// `progress` is told `(delivered so far, total)` after each batch.
    pub fn flush(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<FlushReport, String> {
        let waiting = self.pending()?;
        let total = waiting.len();
        let mut report = FlushReport::default();
        for batch in waiting.chunks(MAX_BATCH) {
            match self.deliver(batch, Duration::from_secs(30)) {
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
        let (Some(origin), Some(credentials)) = (&self.saas.origin, &self.saas.credentials) else {
            return Err("not logged in to Spec Kitty (SPEC_KITTY_SAAS_URL, SPEC_KITTY_TOKEN, SPEC_KITTY_TEAM_SLUG)".into());
        };
        let envelopes: Vec<&Value> = batch.iter().map(|q| &q.envelope).collect();
        let body = gzip(json!({ "events": envelopes }).to_string().as_bytes()).map_err(|e| format!("gzip failed: {e}"))?;
        let headers = [("content-type", "application/json"), ("content-encoding", "gzip")];
        let answer = http_client::post(origin, credentials, BATCH_PATH, &headers, body, timeout);
        let seqs: Vec<i64> = batch.iter().map(|q| q.seq).collect();
        let answer = match answer {
            Ok(answer) if answer.status == 200 => answer,
            Ok(answer) => return Err(self.note_failure(&seqs, &format!("the control plane answered HTTP {}", answer.status))),
            Err(why) => return Err(self.note_failure(&seqs, &format!("the control plane is unreachable ({why})"))),
        };
        let results: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let acknowledged: Vec<&str> = results["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| matches!(r["status"].as_str(), Some("success" | "duplicate")))
            .filter_map(|r| r["event_id"].as_str())
            .collect();
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        let mut removed = 0;
        for event_id in &acknowledged {
            removed += tx.execute("DELETE FROM events WHERE event_id = ?1", [event_id]).map_err(|e| e.to_string())?;
        }
        for seq in &seqs {
            tx.execute(
                "UPDATE events SET attempts = attempts + 1, last_error = 'not acknowledged by the control plane' WHERE seq = ?1",
                [seq],
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(removed)
    }

    fn note_failure(&self, seqs: &[i64], why: &str) -> String {
        if let Ok(conn) = self.conn() {
            for seq in seqs {
                let _ = conn.execute("UPDATE events SET attempts = attempts + 1, last_error = ?1 WHERE seq = ?2", params![why, seq]);
            }
        }
        why.to_string()
    }

    /// The number of events waiting.
    pub fn len(&self) -> Result<usize, String> {
        let conn = self.conn()?;
        conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0)).map(|n| n as usize).map_err(|e| e.to_string())
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> Result<bool, String> {
        self.len().map(|n| n == 0)
    }

    /// The event with `event_id`, if it still waits.
    pub fn get(&self, event_id: &str) -> Result<Option<Queued>, String> {
        self.select("WHERE event_id = ?1", [event_id]).map(|rows| rows.into_iter().next())
    }
}

impl EventSink for Outbox {
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError> {
        let seq = self.enqueue(event)?;
        let stored = self.select("WHERE seq = ?1", [seq]).unwrap_or_default();
        match self.deliver(&stored, self.emit_timeout) {
            Ok(1) => Ok(Delivery::Delivered),
            _ => Ok(Delivery::Queued),
        }
    }
}

/// Checks the envelope and returns the payload object.
fn validate(event: &Event) -> Result<Value, EmitError> {
    let invalid = |why: String| EmitError::InvalidEvent(why);
    for (name, value) in [
        ("event_id", &event.event_id),
        ("event_type", &event.event_type),
        ("aggregate_id", &event.aggregate_id),
        ("aggregate_type", &event.aggregate_type),
        ("timestamp", &event.timestamp),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(format!("{name} is empty")));
        }
    }
    if ulid::Ulid::from_string(&event.event_id).is_err() {
        return Err(invalid(format!("event_id {:?} is not a ULID", event.event_id)));
    }
    let payload: Value = serde_json::from_str(&event.payload_json).map_err(|e| invalid(format!("payload is not JSON ({e})")))?;
    if !payload.is_object() {
        return Err(invalid("payload is not a JSON object".into()));
    }
    if event.event_type == "MissionOriginBound" {
        for field in REQUIRED_PAYLOAD {
            if payload[field].as_str().is_none_or(|v| v.trim().is_empty()) {
                return Err(invalid(format!("payload.{field} must be a non-empty string")));
            }
        }
    }
    Ok(payload)
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}
