//! The outbox's storage: SQLite in WAL mode with `synchronous=FULL`, so a
//! committed event survives a power cut, and readers never block the writer.
//!
//! Each row remembers the control plane and team it belongs to and is
//! delivered only there. A sender first *claims* rows (for a lease), so two
//! flushes never send the same event; a sender that dies leaves claims that
//! expire with their lease. A row the control plane keeps rejecting becomes
//! `dead` (a dead letter) with the server's reason, until retried on request.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;
use spec_kitty_origin::events::{Sender, envelope, validate};

use super::{Queued, RowState};
use crate::events::{EmitError, Event};

/// The outbox database file under the state directory.
pub const OUTBOX_FILE: &str = "outbox.sqlite3";
/// The schema this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 2;

/// How long a writer waits for another process's transaction: SQLite holds
/// its write lock for milliseconds, so 10 s only runs out on a stuck process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a row goes: the control plane's base URL and the team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The control plane's base URL.
    pub origin: String,
    /// The team slug.
    pub team: String,
}

/// The SQLite database of queued events.
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Creates `path` readable and writable by its owner only, or narrows an
/// existing one: the outbox holds the team's event payloads.
fn private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        options.open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    options.open(path).map(drop)
}

impl Store {
    /// Opens (creating) `state_dir/outbox.sqlite3` and brings its schema to
    /// [`SCHEMA_VERSION`]; rows of an older schema are kept and assigned to
    /// `legacy` (the control plane configured now).
    pub fn open(state_dir: &Path, legacy: Option<&Destination>) -> Result<Self, String> {
        std::fs::create_dir_all(state_dir).map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
        let path = state_dir.join(OUTBOX_FILE);
        private_file(&path).map_err(|e| format!("cannot create the event outbox {}: {e}", path.display()))?;
        let fail = |e: rusqlite::Error| format!("cannot open the event outbox {}: {e}", path.display());
        let mut conn = Connection::open(&path).map_err(fail)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(fail)?;
        migrate(&mut conn, legacy).map_err(fail)?;
        Ok(Self { path, conn: Mutex::new(conn) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, String> {
        self.conn.lock().map_err(|_| "the outbox lock is poisoned".to_string())
    }

    /// Stores `event` for `to` as the envelope the control plane takes, in
    /// one transaction; the same `event_id` twice keeps the first.
    pub fn enqueue(&self, event: &Event, to: &Destination) -> Result<i64, EmitError> {
        let payload = validate(event)?;
        let storage = |e: rusqlite::Error| EmitError::StorageFailed(format!("{e}; the event was not stored"));
        let mut conn = self.conn().map_err(EmitError::StorageFailed)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(storage)?;
        if let Some(seq) =
            tx.query_row("SELECT seq FROM events WHERE event_id = ?1", [&event.event_id], |r| r.get(0)).optional().map_err(storage)?
        {
            return Ok(seq);
        }
        let node_id: String = tx.query_row("SELECT node_id FROM node WHERE id = 1", [], |r| r.get(0)).map_err(storage)?;
        tx.execute(
            "INSERT INTO events (event_id, envelope, saas_origin, team_slug) VALUES (?1, '{}', ?2, ?3)",
            params![event.event_id, to.origin, to.team],
        )
        .map_err(storage)?;
        let seq = tx.last_insert_rowid();
        let envelope = envelope(event, payload, Sender { node_id: &node_id, lamport_clock: seq, team_slug: Some(&to.team) });
        tx.execute("UPDATE events SET envelope = ?1 WHERE seq = ?2", params![envelope.to_string(), seq]).map_err(storage)?;
        tx.commit().map_err(storage)?;
        Ok(seq)
    }

    /// The rows matching `tail` (a `WHERE` / `ORDER BY` clause) with `args`.
    pub fn select<P: rusqlite::Params>(&self, tail: &str, args: P) -> Result<Vec<Queued>, String> {
        let conn = self.conn()?;
        select_on(&conn, tail, args)
    }

    /// Claims up to `limit` pending rows for `to` after `after_seq`, oldest first, for `lease`
    /// under the name `claimant`; returns them. Rows another live sender
    /// claimed are skipped; expired claims are taken over.
    pub fn claim(&self, to: &Destination, claimant: &str, after_seq: i64, limit: usize, lease: Duration) -> Result<Vec<Queued>, String> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| e.to_string())?;
        let now = now_ms();
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        tx.execute(
            "UPDATE events SET claimed_by = ?1, claimed_until = ?2 WHERE seq IN (
                SELECT seq FROM events WHERE state = 'pending' AND saas_origin = ?3 AND team_slug = ?4 AND seq > ?7
                  AND (claimed_until IS NULL OR claimed_until < ?5) ORDER BY seq LIMIT ?6)",
            params![claimant, until, to.origin, to.team, now, i64::try_from(limit).unwrap_or(i64::MAX), after_seq],
        )
        .map_err(|e| e.to_string())?;
        let rows = select_on(&tx, "WHERE claimed_by = ?1 ORDER BY seq", [claimant])?;
        tx.commit().map_err(|e| e.to_string())?;
        Ok(rows)
    }

    /// After an answer to the claimed `batch`: removes the `acknowledged`
    /// event ids; counts an attempt on the rest, keeping each `rejected`
    /// reason and turning a row rejected `dead_after` times into a dead
    /// letter; releases the claims. Returns how many were removed.
    pub fn settle(
        &self,
        batch: &[Queued],
        acknowledged: &[String],
        rejected: &[(String, String)],
        dead_after: i64,
    ) -> Result<usize, String> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| e.to_string())?;
        let mut removed = 0;
        for row in batch {
            let id = row.envelope["event_id"].as_str().unwrap_or_default();
            if acknowledged.iter().any(|a| a == id) {
                removed += tx.execute("DELETE FROM events WHERE seq = ?1", [row.seq]).map_err(|e| e.to_string())?;
                continue;
            }
            let (reason, rejected_now) = match rejected.iter().find(|(r, _)| r == id) {
                Some((_, reason)) => (format!("rejected by the control plane: {reason}"), true),
                None => ("not acknowledged by the control plane".to_string(), false),
            };
            tx.execute(
                "UPDATE events SET attempts = attempts + 1, last_error = ?1, claimed_by = NULL, claimed_until = NULL,
                    state = CASE WHEN ?2 AND attempts + 1 >= ?3 THEN 'dead' ELSE state END WHERE seq = ?4",
                params![reason, rejected_now, dead_after, row.seq],
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(removed)
    }

    /// Counts a failed attempt on `batch` with its reason and releases the
    /// claims. Best effort: the events stay queued whether or not this is written.
    pub fn note_failure(&self, batch: &[Queued], why: &str) {
        if let Ok(conn) = self.conn() {
            for row in batch {
                let _ = conn.execute(
                    "UPDATE events SET attempts = attempts + 1, last_error = ?1, claimed_by = NULL, claimed_until = NULL WHERE seq = ?2",
                    params![why, row.seq],
                );
            }
        }
    }

    /// Makes the dead letters for `to` pending again; returns how many.
    pub fn revive(&self, to: &Destination) -> Result<usize, String> {
        let conn = self.conn()?;
        conn.execute(
            "UPDATE events SET state = 'pending', attempts = 0 WHERE state = 'dead' AND saas_origin = ?1 AND team_slug = ?2",
            params![to.origin, to.team],
        )
        .map_err(|e| e.to_string())
    }

    /// The number of rows in `state` for `to` (all destinations when `None`);
    /// for `to`, rows another sender is delivering right now are not counted.
    pub fn count(&self, state: RowState, to: Option<&Destination>) -> Result<usize, String> {
        let conn = self.conn()?;
        let n: i64 = match to {
            Some(to) => conn.query_row(
                "SELECT COUNT(*) FROM events WHERE state = ?1 AND saas_origin = ?2 AND team_slug = ?3
                   AND (claimed_until IS NULL OR claimed_until < ?4)",
                params![state.as_str(), to.origin, to.team, now_ms()],
                |r| r.get(0),
            ),
            None => conn.query_row("SELECT COUNT(*) FROM events WHERE state = ?1", [state.as_str()], |r| r.get(0)),
        }
        .map_err(|e| e.to_string())?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

fn select_on<P: rusqlite::Params>(conn: &Connection, tail: &str, args: P) -> Result<Vec<Queued>, String> {
    let sql = format!("SELECT seq, envelope, attempts, last_error, state, saas_origin, team_slug FROM events {tail}");
    let mut stmt = conn.prepare(&sql).map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map(args, |r| {
            let text: String = r.get(1)?;
            let state: String = r.get(4)?;
            Ok(Queued {
                seq: r.get(0)?,
                envelope: serde_json::from_str(&text).unwrap_or(Value::Null),
                attempts: r.get(2)?,
                last_error: r.get(3)?,
                state: if state == "dead" { RowState::Dead } else { RowState::Pending },
                origin: r.get(5)?,
                team: r.get(6)?,
            })
        })
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
}

/// Brings the schema to [`SCHEMA_VERSION`] in one transaction.
fn migrate(conn: &mut Connection, legacy: Option<&Destination>) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_events: bool =
        tx.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'", [], |r| r.get::<_, i64>(0))? > 0;
    if version < 1 && !has_events {
        tx.execute_batch(
            "CREATE TABLE events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                event_id TEXT NOT NULL UNIQUE,
                envelope TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
             );",
        )?;
    }
    if version < 2 {
        // Version 1 (the first release) had no destination, state or claims.
        let (origin, team) = legacy.map_or((String::new(), String::new()), |d| (d.origin.clone(), d.team.clone()));
        tx.execute_batch(
            "ALTER TABLE events ADD COLUMN saas_origin TEXT NOT NULL DEFAULT '';
             ALTER TABLE events ADD COLUMN team_slug TEXT NOT NULL DEFAULT '';
             ALTER TABLE events ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
             ALTER TABLE events ADD COLUMN claimed_by TEXT;
             ALTER TABLE events ADD COLUMN claimed_until INTEGER;
             CREATE INDEX IF NOT EXISTS events_by_destination ON events (state, saas_origin, team_slug, seq);",
        )?;
        tx.execute("UPDATE events SET saas_origin = ?1, team_slug = ?2", params![origin, team])?;
    }
    tx.execute_batch("CREATE TABLE IF NOT EXISTS node (id INTEGER PRIMARY KEY CHECK (id = 1), node_id TEXT NOT NULL);")?;
    tx.execute("INSERT OR IGNORE INTO node (id, node_id) VALUES (1, ?1)", [ulid::Ulid::new().to_string()])?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}
