//! The events adapter of the WASI-only build
//! (`spec_kitty_origin.standalone.wasm`): the `spec-kitty:origin/events` the
//! component imports, on WASI alone, so hosts that know nothing of Spec
//! Kitty run the component.
//!
//! `emit` keeps the zero-loss promise without the reference host's outbox:
//! it POSTs the event to the control plane's events batch endpoint through
//! `wasi:http` (`delivered` when the answer acknowledges it); otherwise it
//! appends the envelope, synced, as one line to
//! `.kittify/origin-events/queue.jsonl` in the repo (the folder ignores
//! itself in git) and answers `queued`. `kitty-origin events flush --repo
//! DIR` delivers that queue.
//!
//! The logic is here, over the guest's capability traits, and unit-tests
//! natively; `bindings` (wasm32) adapts it to the WIT world `events-adapter`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};
use spec_kitty_origin::capabilities::{Clock, FileWriter, Transport};
use spec_kitty_origin::events::{QUEUE_DIR, QUEUE_FILE, QUEUE_GITIGNORE, Sender, envelope, validate};
use spec_kitty_origin::model::{Delivery, EmitError, Event};
use spec_kitty_origin::wire::{EVENTS_BATCH_PATH, parse_batch_answer, to_body};

#[cfg(target_arch = "wasm32")]
mod bindings;

/// How long `emit` waits for the control plane before queueing the event:
/// short, because a developer waits and the queue keeps the event.
pub const EMIT_TIMEOUT_MS: u64 = 3_000;

/// What the adapter may use: the guest's capabilities, and the repo.
pub struct Adapter<'a> {
    /// HTTP to the control plane.
    pub transport: &'a dyn Transport,
    /// Time, for the envelope's Lamport clock.
    pub clock: &'a dyn Clock,
    /// Synced creates and appends.
    pub files: &'a dyn FileWriter,
    /// The repo the queue lives in (the preopened directory), if the host granted one.
    pub repo_root: Option<PathBuf>,
}

impl Adapter<'_> {
    /// Delivers `event`, or queues it durably in the repo.
    ///
    /// # Errors
    ///
    /// `invalid-event` for an incomplete event (nothing sent or stored);
    /// `storage-failed` when the control plane did not take it and the queue
    /// could not be written.
    pub fn emit(&self, event: &Event) -> Result<Delivery, EmitError> {
        let payload = validate(event)?;
        let node_id = node_id(self.repo_root.as_deref());
        let lamport_clock = i64::try_from(self.clock.unix_ms()).unwrap_or(i64::MAX);
        let envelope = envelope(event, payload, Sender { node_id: &node_id, lamport_clock, team_slug: None });
        let body = to_body(&json!({ "events": [&envelope] }));
        let delivered = self.transport.post_json(EVENTS_BATCH_PATH, &[], &body, EMIT_TIMEOUT_MS).is_ok_and(|answer| {
            answer.status == 200 && parse_batch_answer(&answer.body).is_ok_and(|batch| batch.acknowledged.contains(&event.event_id))
        });
        if delivered {
            return Ok(Delivery::Delivered);
        }
        let repo = self.repo_root.as_deref().ok_or_else(|| {
            EmitError::StorageFailed(
                "the control plane did not take the event and no repo directory is granted to queue it in: \
                 grant the repo (e.g. wasmtime run --dir REPO::REPO), then retry"
                    .into(),
            )
        })?;
        append_to_queue(self.files, repo, &envelope.to_string()).map_err(|err| {
            EmitError::StorageFailed(format!(
                "the control plane did not take the event and {} could not be written ({err}); the event was not stored. \
                 Make the repo writable to the host (or the control plane reachable), then retry",
                repo.join(QUEUE_DIR).join(QUEUE_FILE).display()
            ))
        })?;
        Ok(Delivery::Queued)
    }
}

/// The node id of events sent from `repo`: stable per repo, so the control
/// plane sees one sender per checkout.
pub fn node_id(repo: Option<&Path>) -> String {
    let digest = Sha256::digest(repo.map(|r| r.to_string_lossy().into_owned()).unwrap_or_default().as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("kitty-origin-standalone-{hex}")
}

/// Appends `line` to the repo's queue, creating the folder, its
/// `.gitignore` and the file as needed; every write is synced.
fn append_to_queue(files: &dyn FileWriter, repo: &Path, line: &str) -> std::io::Result<()> {
    let dir = repo.join(QUEUE_DIR);
    std::fs::create_dir_all(&dir)?;
    match files.create_new(&dir.join(".gitignore"), QUEUE_GITIGNORE.as_bytes()) {
        Err(err) if err.kind() != ErrorKind::AlreadyExists => return Err(err),
        _ => {}
    }
    let queue = dir.join(QUEUE_FILE);
    let bytes = format!("{line}\n");
    match files.append(&queue, bytes.as_bytes()) {
        Err(err) if err.kind() == ErrorKind::NotFound => match files.create_new(&queue, bytes.as_bytes()) {
            // Another emit created it in between.
            Err(err) if err.kind() == ErrorKind::AlreadyExists => files.append(&queue, bytes.as_bytes()),
            created => created,
        },
        appended => appended,
    }
}

#[cfg(test)]
mod tests;
