//! The queue the WASI-only build keeps in a repo
//! (`.kittify/origin-events/queue.jsonl`, one event envelope per line) for
//! the events the control plane did not take. [`flush`] hands its events to
//! the [`Outbox`] and delivers them there; a line leaves the file only once
//! its event was delivered, and the file is rewritten atomically.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_kitty_origin::events::{QUEUE_DIR, QUEUE_FILE, from_envelope};

use crate::outbox::{FlushReport, Outbox};

/// The queue file of the repo at `repo`.
pub fn queue_path(repo: &Path) -> PathBuf {
    repo.join(QUEUE_DIR).join(QUEUE_FILE)
}

/// What a flush of a repo's queue did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueReport {
    /// The queue file.
    pub path: PathBuf,
    /// Lines whose events were delivered, and removed.
    pub delivered: usize,
    /// Lines whose events still wait (the control plane did not take them).
    pub remaining: usize,
    /// Lines that are not an event envelope; they stay in the file.
    pub unreadable: usize,
}

/// Delivers the events queued in `repo` through `outbox`, with every other
/// event the outbox holds (dead letters too when `include_dead`); `progress`
/// is the outbox's. Returns `None` when the repo has no queue, with the
/// outbox's report.
///
/// # Errors
///
/// The queue cannot be read or rewritten, or the outbox cannot store or
/// deliver (then every line stays, and the events also wait in the outbox).
pub fn flush(
    outbox: &Outbox,
    repo: &Path,
    include_dead: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Option<QueueReport>, FlushReport), String> {
    let path = queue_path(repo);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return outbox.flush(include_dead, progress).map(|report| (None, report)),
        Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
    };
    let read_failed = |err: std::io::Error| format!("cannot read {}: {err}", path.display());
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(read_failed)?;
    // The events stored in the outbox; invalid envelopes stay in the file.
    let stored: HashSet<String> =
        text.lines().filter_map(parse).filter(|event| outbox.enqueue(event).is_ok()).map(|event| event.event_id).collect();
    let report = outbox.flush(include_dead, progress)?;

    // Lines appended since the first read (a host still writing) stay too.
    let mut now = String::new();
    file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_string(&mut now)).map_err(read_failed)?;
    let mut queue = QueueReport { path: path.clone(), delivered: 0, remaining: 0, unreadable: 0 };
    let mut kept = String::new();
    for line in now.lines().filter(|line| !line.trim().is_empty()) {
        match parse(line).map(|event| event.event_id).filter(|id| stored.contains(id)) {
            Some(id) if outbox.get(&id)?.is_none() => {
                queue.delivered += 1;
                continue;
            }
            Some(_) => queue.remaining += 1,
            None if text.contains(line) => queue.unreadable += 1,
            None => queue.remaining += 1,
        }
        kept.push_str(line);
        kept.push('\n');
    }
    rewrite(&path, &kept, &mut file, now.len())?;
    Ok((Some(queue), report))
}

/// The event of a queue line, if it is an envelope.
fn parse(line: &str) -> Option<crate::types::Event> {
    serde_json::from_str::<Value>(line).ok().as_ref().and_then(from_envelope)
}

/// Replaces `path` with `kept` atomically (temporary file, sync, rename),
/// then carries over what was appended to the old file (`old`, of which
/// `seen` bytes were read) while it was being replaced.
fn rewrite(path: &Path, kept: &str, old: &mut File, seen: usize) -> Result<(), String> {
    let failed = |err: std::io::Error| {
        format!("cannot rewrite {}: {err}; every line stays queued. Make its folder writable, then flush again", path.display())
    };
    let temp = path.with_extension(format!("jsonl.{}.tmp", ulid::Ulid::new()));
    let written = File::create_new(&temp).and_then(|mut file| {
        file.write_all(kept.as_bytes())?;
        file.sync_all()
    });
    if let Err(err) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(failed(err));
    }
    let mut late = Vec::new();
    old.seek(SeekFrom::Start(seen as u64)).and_then(|_| old.read_to_end(&mut late)).map_err(failed)?;
    if !late.is_empty() {
        let mut file = std::fs::OpenOptions::new().append(true).open(path).map_err(failed)?;
        file.write_all(&late).and_then(|()| file.sync_all()).map_err(failed)?;
    }
    Ok(())
}
