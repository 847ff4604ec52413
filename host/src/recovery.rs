//! Repairing what a killed call left behind, so no crash blocks or confuses
//! a later run.
//!
//! Every call that writes (start, bind) holds an OS file lock (`flock`) on
//! `.kittify/origin/calls/<call>.lock` in the repo for as long as it runs,
//! and tells the guest its `<call>` id; the kernel drops the lock when the
//! process dies, however it dies. [`recover`] then knows, for each leftover,
//! whether its owner still runs:
//!
//! - a dead call's staging directory (a scaffold never published) is removed;
//! - a bind a dead call journaled but did not complete is completed: the
//!   creation events are queued again (same ids), the scaffold and then the
//!   bound `meta.json` committed (with git steps), and the bind redone (the
//!   control plane answers a same-origin bind as a no-op); a mission that was
//!   never published is forgotten;
//! - temporary files of interrupted writes are removed when no call is live.

use std::fs::File;
use std::path::{Path, PathBuf};

use spec_kitty_origin::files::StdFiles;
use spec_kitty_origin::journal::{self, JOURNAL_DIR};
use spec_kitty_origin::mission_dir::SPECS_DIR;

use crate::error::Error;
use crate::runtime::Runtime;

/// The folder of call locks under the journal.
const CALLS_DIR: &str = "calls";

/// The lock a running call holds; dropping it releases and removes it.
pub struct CallLock {
    id: String,
    path: PathBuf,
    _file: File,
}

impl CallLock {
    /// Takes a new call's lock in the repo at `repo_root`.
    ///
    /// # Errors
    ///
    /// `io` when the lock file cannot be created or locked.
    pub fn acquire(repo_root: &Path) -> Result<Self, Error> {
        let io = |what: &str, path: &Path, err: std::io::Error| Error::Origin(spec_kitty_origin::model::OriginError::io(what, path, &err));
        let dir = journal::ensure_journal(&StdFiles, repo_root)?.join(CALLS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
        let id = ulid::Ulid::new().to_string();
        let path = dir.join(format!("{id}.lock"));
        let file = File::create(&path).map_err(|e| io("create", &path, e))?;
        file.lock().map_err(|e| io("lock", &path, e))?;
        Ok(Self { id, path, _file: file })
    }

    /// The call's id, as the guest sees it in `KITTY_ORIGIN_CALL_ID`.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for CallLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the call `id` still runs (its lock is held by a live process).
fn is_live(repo_root: &Path, id: &str) -> bool {
    let path = repo_root.join(JOURNAL_DIR).join(CALLS_DIR).join(format!("{id}.lock"));
    match File::open(&path) {
        Ok(file) => file.try_lock().is_err(),
        Err(_) => false,
    }
}

/// What a recovery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Binds completed.
    pub completed: Vec<String>,
    /// Binds that could not be completed now (they stay journaled), with why.
    pub postponed: Vec<(String, String)>,
    /// Leftovers of dead calls removed (staging directories, locks, temporary files).
    pub removed: usize,
}

impl RecoveryReport {
    /// Whether anything was found.
    pub fn is_empty(&self) -> bool {
        self.completed.is_empty() && self.postponed.is_empty() && self.removed == 0
    }
}

/// Whether the repo at `repo_root` holds anything a crash may have left.
pub fn needs_recovery(repo_root: &Path) -> bool {
    let dir = repo_root.join(JOURNAL_DIR);
    ["staging", "pending", CALLS_DIR].iter().any(|sub| std::fs::read_dir(dir.join(sub)).is_ok_and(|mut entries| entries.next().is_some()))
}

/// Repairs the repo at `repo_root` after crashed calls (see the module doc).
pub fn recover(runtime: &Runtime, repo_root: &Path) -> RecoveryReport {
    let mut report = RecoveryReport::default();
    if !needs_recovery(repo_root) {
        return report;
    }
    let journal_dir = repo_root.join(JOURNAL_DIR);
    let mut live = 0;
    for entry in std::fs::read_dir(journal_dir.join(CALLS_DIR)).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".lock") else { continue };
        if is_live(repo_root, id) {
            live += 1;
            continue;
        }
        let _ = std::fs::remove_dir_all(journal_dir.join("staging").join(id));
        let _ = std::fs::remove_file(entry.path());
        report.removed += 1;
    }
    if live == 0 {
        // No call runs: every staging directory and temporary file is a leftover.
        for entry in std::fs::read_dir(journal_dir.join("staging")).into_iter().flatten().flatten() {
            if std::fs::remove_dir_all(entry.path()).is_ok() {
                report.removed += 1;
            }
        }
        report.removed += remove_temporary_files(repo_root);
    }
    for (name, pending) in journal::pending(repo_root) {
        if pending.failed.is_some() || is_live(repo_root, &pending.call_id) {
            continue;
        }
        let dir = repo_root.join(&pending.feature_dir);
        if !dir.join("meta.json").is_file() {
            // Never published: there is no mission to bind.
            journal::forget(repo_root, &name);
            report.removed += 1;
            continue;
        }
        if pending.kind == "start" {
            runtime.requeue_creation_events(repo_root, &dir);
        }
        let routing = pending.routing();
        match runtime.bind_mission_origin(
            &dir,
            &pending.origin_candidate(),
            &routing.provider,
            &routing.resource_type,
            &routing.resource_id,
        ) {
            Ok(_) => report.completed.push(name),
            Err(err) => report.postponed.push((name, err.message())),
        }
    }
    report
}

/// Removes the temporary files interrupted writes leave: `.meta.json.*.tmp`
/// in missions and `.*.tmp` in the journal. Only called when no call runs.
fn remove_temporary_files(repo_root: &Path) -> usize {
    let mut removed = 0;
    let folders = std::fs::read_dir(repo_root.join(SPECS_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .chain([repo_root.join(JOURNAL_DIR).join("pending")]);
    for folder in folders {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}
