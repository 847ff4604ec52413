//! The guest's own bookkeeping in the repo, under `.kittify/origin/` (never
//! committed: the folder holds a `.gitignore` of `*`), which makes a crash at
//! any instant repairable:
//!
//! - `staging/<call>/<mission>/`: a mission's scaffold while it is written;
//!   it reaches `kitty-specs/` whole, by one rename, or not at all.
//! - `pending/<mission>.json`: a bind that was decided but is not yet
//!   complete (control plane, `meta.json`, event). A later call completes it
//!   (the bind is idempotent), or a retried start of the same ticket reuses
//!   its mission instead of creating a second one.
//!
//! `<call>` names the host call that owns the files (the host holds a lock
//! named after it while the call runs; see the reference host's recovery).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::capabilities::{Capabilities, FileWriter};
use crate::error::{OriginError, Result};
use crate::model::{OriginCandidate, Routing};

/// The folder, relative to the repo root.
pub const JOURNAL_DIR: &str = ".kittify/origin";
/// The environment variable naming the host call; without it each call picks its own.
pub const CALL_ID_VAR: &str = "KITTY_ORIGIN_CALL_ID";
/// The most bytes of one pending record read.
const MAX_RECORD_BYTES: u64 = 256 * 1024;

/// A bind decided but not yet complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBind {
    /// The call that wrote it.
    pub call_id: String,
    /// `start` (the mission was created for this ticket) or `bind`.
    pub kind: String,
    /// The mission directory, relative to the repo root.
    pub feature_dir: String,
    /// The confirmed candidate.
    pub candidate: PendingCandidate,
    /// Its routing context.
    pub provider: String,
    /// `linear_team` or `jira_project`.
    pub resource_type: String,
    /// The team or project.
    pub resource_id: String,
    /// The error code of a definitive refusal (no retry helps; a retried start
    /// of the ticket still reuses the mission).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// The candidate as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCandidate {
    /// Provider-native id.
    pub external_issue_id: String,
    /// Key.
    pub external_issue_key: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// Deep link.
    pub url: String,
    /// Description.
    #[serde(default)]
    pub body: Option<String>,
}

impl PendingBind {
    /// The record of binding `candidate` (under `routing`) to `feature_dir` of `repo_root`.
    pub fn new(
        caps: Capabilities<'_>,
        kind: &str,
        repo_root: &Path,
        feature_dir: &Path,
        candidate: &OriginCandidate,
        routing: &Routing,
    ) -> Self {
        let relative = feature_dir.strip_prefix(repo_root).unwrap_or(feature_dir);
        Self {
            call_id: call_id(caps),
            kind: kind.to_string(),
            feature_dir: relative.display().to_string(),
            candidate: PendingCandidate {
                external_issue_id: candidate.external_issue_id.clone(),
                external_issue_key: candidate.external_issue_key.clone(),
                title: candidate.title.clone(),
                status: candidate.status.clone(),
                url: candidate.url.clone(),
                body: candidate.body.clone(),
            },
            provider: routing.provider.clone(),
            resource_type: routing.resource_type.clone(),
            resource_id: routing.resource_id.clone(),
            failed: None,
        }
    }

    /// The candidate, as `bind_mission_origin` takes it.
    pub fn origin_candidate(&self) -> OriginCandidate {
        let c = &self.candidate;
        OriginCandidate {
            external_issue_id: c.external_issue_id.clone(),
            external_issue_key: c.external_issue_key.clone(),
            title: c.title.clone(),
            status: c.status.clone(),
            url: c.url.clone(),
            match_type: crate::model::MatchType::Exact,
            body: c.body.clone(),
        }
    }

    /// The routing context.
    pub fn routing(&self) -> Routing {
        Routing { provider: self.provider.clone(), resource_type: self.resource_type.clone(), resource_id: self.resource_id.clone() }
    }
}

/// This call's id: the host's, else one minted once for this instance
/// (each host call gets a fresh instance).
pub fn call_id(caps: Capabilities<'_>) -> String {
    std::env::var(CALL_ID_VAR).ok().filter(|id| is_plain_name(id)).unwrap_or_else(|| {
        static OWN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        OWN.get_or_init(|| format!("guest-{}", caps.new_ulid())).clone()
    })
}

/// A single path segment: no separators, not `.` or `..`, not hidden.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
}

/// Creates `.kittify/origin/` with its `.gitignore` (once); returns the folder.
///
/// # Errors
///
/// `io` when the folder or its `.gitignore` cannot be written.
pub fn ensure_journal(files: &dyn FileWriter, repo_root: &Path) -> Result<PathBuf> {
    let dir = repo_root.join(JOURNAL_DIR);
    std::fs::create_dir_all(&dir).map_err(|err| OriginError::io("create", &dir, &err))?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        match files.create_new(&ignore, b"*\n") {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(OriginError::io("write", &ignore, &err)),
        }
    }
    Ok(dir)
}

/// A new, empty staging directory for `name` of this call.
pub fn staging_dir(caps: Capabilities<'_>, repo_root: &Path, name: &str) -> Result<PathBuf> {
    let dir = ensure_journal(caps.files, repo_root)?.join("staging").join(call_id(caps)).join(name);
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|err| OriginError::io("create", parent, &err))?;
    }
    std::fs::create_dir(&dir).map_err(|err| OriginError::io("create", &dir, &err))?;
    Ok(dir)
}

/// Removes this call's (now empty) staging folder.
pub fn clear_staging(caps: Capabilities<'_>, repo_root: &Path) {
    let _ = std::fs::remove_dir_all(repo_root.join(JOURNAL_DIR).join("staging").join(call_id(caps)));
}

fn pending_path(repo_root: &Path, mission: &str) -> PathBuf {
    repo_root.join(JOURNAL_DIR).join("pending").join(format!("{mission}.json"))
}

/// Records `pending` for the mission named `mission`, durably and whole
/// (a temporary file synced, then renamed into place).
pub fn record(caps: Capabilities<'_>, repo_root: &Path, mission: &str, pending: &PendingBind) -> Result<()> {
    let unique = caps.entropy.random_u128();
    let dir = ensure_journal(caps.files, repo_root)?.join("pending");
    std::fs::create_dir_all(&dir).map_err(|err| OriginError::io("create", &dir, &err))?;
    let path = pending_path(repo_root, mission);
    let temp = dir.join(format!(".{mission}.{unique:032x}.tmp"));
    let bytes = serde_json::to_vec(pending).unwrap_or_default();
    let written = caps.files.create_new(&temp, &bytes).and_then(|()| std::fs::rename(&temp, &path));
    if let Err(err) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(OriginError::io("write", &path, &err));
    }
    Ok(())
}

/// Removes the pending record of `mission` (done, or given up).
pub fn forget(repo_root: &Path, mission: &str) {
    let _ = std::fs::remove_file(pending_path(repo_root, mission));
}

/// Every readable pending record, with its mission's name.
pub fn pending(repo_root: &Path) -> Vec<(String, PendingBind)> {
    let Ok(entries) = std::fs::read_dir(repo_root.join(JOURNAL_DIR).join("pending")) else { return Vec::new() };
    let mut found: Vec<(String, PendingBind)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.strip_suffix(".json")?.to_string();
            let text = crate::files::read_bounded(&entry.path(), MAX_RECORD_BYTES).ok()??;
            Some((name, serde_json::from_str(&text).ok()?))
        })
        .filter(|(name, _)| is_plain_name(name))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// A mission this repo already created for the ticket `external_issue_id`
/// whose bind has not completed: a retried start reuses it.
pub fn unfinished_start(repo_root: &Path, external_issue_id: &str) -> Option<(String, PendingBind)> {
    pending(repo_root).into_iter().find(|(_, p)| {
        p.kind == "start"
            && p.candidate.external_issue_id == external_issue_id
            && repo_root.join(&p.feature_dir).join("meta.json").is_file()
    })
}
