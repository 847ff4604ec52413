//! The outbox's storage: SQLite in WAL mode with `synchronous=FULL`, so a
//! committed event survives a power cut, and readers never block the writer.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, params};
use serde_json::{Value, json};
use spec_kitty_origin::wire::{MISSION_ORIGIN_BOUND, MISSION_ORIGIN_BOUND_REQUIRED};

use super::Queued;
use crate::events::{EmitError, Event};

/// The outbox database file under the state directory.
pub const OUTBOX_FILE: &str = "outbox.sqlite3";

/// How long a writer waits for another process's transaction: SQLite holds
/// its write lock for milliseconds, so 10 s only runs out on a stuck process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite database of queued events.
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating) `state_dir/outbox.sqlite3` and its schema.
    pub fn open(state_dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(state_dir).map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
        let path = state_dir.join(OUTBOX_FILE);
        let fail = |e: rusqlite::Error| format!("cannot open the event outbox {}: {e}", path.display());
        let conn = Connection::open(&path).map_err(fail)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
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
        Ok(Self { path, conn: Mutex::new(conn) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, String> {
        self.conn.lock().map_err(|_| "the outbox lock is poisoned".to_string())
    }

    /// Stores `event` as the envelope the control plane takes, in one
    /// transaction; the same `event_id` twice keeps the first.
    pub fn enqueue(&self, event: &Event, team_slug: Option<&str>) -> Result<i64, EmitError> {
        let payload = validate(event)?;
        let storage = |e: String| EmitError::StorageFailed(format!("{e}; the event was not stored"));
        let mut conn = self.conn().map_err(storage)?;
        let tx = conn.transaction().map_err(|e| storage(e.to_string()))?;
        let node_id: String =
            tx.query_row("SELECT node_id FROM node WHERE id = 1", [], |r| r.get(0)).map_err(|e| storage(e.to_string()))?;
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

    /// The rows matching `tail` (a `WHERE` / `ORDER BY` clause) with `args`.
    pub fn select<P: rusqlite::Params>(&self, tail: &str, args: P) -> Result<Vec<Queued>, String> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare(&format!("SELECT seq, envelope, attempts, last_error FROM events {tail}")).map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map(args, |r| {
                let text: String = r.get(1)?;
                Ok(Queued {
                    seq: r.get(0)?,
                    envelope: serde_json::from_str(&text).unwrap_or(Value::Null),
                    attempts: r.get(2)?,
                    last_error: r.get(3)?,
                })
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }

    /// The number of rows.
    pub fn count(&self) -> Result<usize, String> {
        let conn = self.conn()?;
        conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| e.to_string())
    }

    /// After an answer to the batch `seqs`: removes the `acknowledged` event
    /// ids and counts an attempt on the rest, in one transaction. Returns how
    /// many were removed.
    pub fn settle(&self, acknowledged: &[String], seqs: &[i64]) -> Result<usize, String> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        let mut removed = 0;
        for event_id in acknowledged {
            removed += tx.execute("DELETE FROM events WHERE event_id = ?1", [event_id]).map_err(|e| e.to_string())?;
        }
        for seq in seqs {
            tx.execute(
                "UPDATE events SET attempts = attempts + 1, last_error = 'not acknowledged by the control plane' WHERE seq = ?1",
                [seq],
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(removed)
    }

    /// Counts a failed attempt on `seqs`, with its reason. Best effort: the
    /// events stay queued whether or not the note is written.
    pub fn note_failure(&self, seqs: &[i64], why: &str) {
        if let Ok(conn) = self.conn() {
            for seq in seqs {
                let _ = conn.execute("UPDATE events SET attempts = attempts + 1, last_error = ?1 WHERE seq = ?2", params![why, seq]);
            }
        }
    }
}

/// Checks the envelope and returns the payload object.
fn validate(event: &Event) -> Result<Value, EmitError> {
    let invalid = EmitError::InvalidEvent;
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
    if event.event_type == MISSION_ORIGIN_BOUND {
        for field in MISSION_ORIGIN_BOUND_REQUIRED {
            if payload[field].as_str().is_none_or(|v| v.trim().is_empty()) {
                return Err(invalid(format!("payload.{field} must be a non-empty string")));
            }
        }
    }
    Ok(payload)
}
