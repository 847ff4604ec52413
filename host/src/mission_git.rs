//! Spec Kitty's git steps around a mission call, taken by the host (the
//! guest has no git): refuse a protected branch before anything is sent,
//! switch to the start branch, commit the scaffold when the guest reports
//! `MissionCreated` (the moment Spec Kitty commits it), and commit `meta.json`
//! once the origin is bound. Outside a git work tree nothing is done.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use spec_kitty_origin::config::CONFIG_PATH;
use spec_kitty_origin::journal;
use spec_kitty_origin::mission_dir::SPECS_DIR;
use spec_kitty_origin::model::Event;

use crate::error::Error;
use crate::git::{GitError, Switched, WorkTree};

/// The files of the scaffold commit, relative to the mission directory.
const SCAFFOLD_FILES: [&str; 4] = ["meta.json", "status.events.jsonl", "tasks/README.md", "tasks/.gitkeep"];

/// One commit the host made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    /// Its SHA.
    pub sha: String,
    /// Its message.
    pub message: String,
}

/// What the git steps of a call did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GitSteps {
    /// The branch the mission was planned on (none outside a git work tree).
    pub branch: Option<String>,
    /// The commits made, in order.
    pub commits: Vec<Commit>,
    /// A step that failed after the mission was written: the files are there,
    /// uncommitted, and this says how to commit them.
    pub problem: Option<String>,
}

/// `protection.protected_branches` of the repo's config, if set.
fn configured_protection(repo_root: &Path) -> Result<Option<Vec<String>>, Error> {
    match spec_kitty_origin::config::load_repo_config(repo_root) {
        Ok(config) => Ok(config.project.protected_branches),
        // The guest reports a missing or bad config itself, with nothing sent.
        Err(_) if !repo_root.join(CONFIG_PATH).is_file() => Ok(None),
        Err(err) => Err(Error::Origin(err)),
    }
}

/// The checkout of `repo_root`, when it is a git work tree.
fn work_tree(repo_root: &Path) -> Result<Option<WorkTree>, Error> {
    WorkTree::discover(repo_root).map_err(Error::Git)
}

/// The checkout a start works in: `None` outside a git work tree, where a
/// start branch cannot be honoured and is refused.
fn start_tree(repo_root: &Path, start_branch: Option<&str>) -> Result<Option<WorkTree>, Error> {
    let tree = work_tree(repo_root)?;
    if let (None, Some(name)) = (&tree, start_branch) {
        return Err(Error::Git(GitError::InvalidBranchName {
            name: name.to_string(),
            detail: format!("{} is not a git work tree, so there is no branch to start", repo_root.display()),
        }));
    }
    Ok(tree)
}

/// Checks, changing nothing, that a mission may be started in `repo_root`
/// (on `start_branch` when given): not on a protected branch (unless
/// `SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS`), not detached, not without commits.
///
/// # Errors
///
/// [`Error::Git`] with Spec Kitty's advice.
pub fn preflight(repo_root: &Path, start_branch: Option<&str>) -> Result<(), Error> {
    let Some(tree) = start_tree(repo_root, start_branch)? else { return Ok(()) };
    tree.preflight(configured_protection(repo_root)?.as_deref(), start_branch).map(drop).map_err(Error::Git)
}

/// The git side of one `start` call.
pub struct StartSteps {
    tree: WorkTree,
    switched: Option<Switched>,
    steps: Mutex<GitSteps>,
}

impl StartSteps {
    /// Runs the preflight and switches to `start_branch`; `None` outside a git work tree.
    ///
    /// # Errors
    ///
    /// [`Error::Git`]: the preflight refused, or the switch failed (then nothing changed).
    pub fn begin(repo_root: &Path, start_branch: Option<&str>) -> Result<Option<Arc<Self>>, Error> {
        let Some(tree) = start_tree(repo_root, start_branch)? else { return Ok(None) };
        let preflight = tree.preflight(configured_protection(repo_root)?.as_deref(), start_branch).map_err(Error::Git)?;
        let switched = match start_branch {
            Some(name) => Some(tree.switch_to(name).map_err(Error::Git)?),
            None => None,
        };
        let steps = GitSteps { branch: Some(preflight.target_branch), ..GitSteps::default() };
        Ok(Some(Arc::new(Self { tree, switched, steps: Mutex::new(steps) })))
    }

    fn steps(&self) -> std::sync::MutexGuard<'_, GitSteps> {
        self.steps.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called for every event the guest emits: `MissionCreated` means the
    /// scaffold is complete, so it is committed now.
    pub fn on_event(&self, event: &Event) {
        if event.event_type != "MissionCreated" {
            return;
        }
        let slug = serde_json::from_str::<serde_json::Value>(&event.payload_json)
            .ok()
            .and_then(|payload| payload["mission_slug"].as_str().map(str::to_string));
        match slug.filter(|s| journal::is_plain_name(s)) {
            Some(slug) => {
                let paths: Vec<PathBuf> = SCAFFOLD_FILES.iter().map(|f| Path::new(SPECS_DIR).join(&slug).join(f)).collect();
                self.commit(&paths, &format!("Add scaffold for feature {slug}"));
            }
            None => {
                self.steps().problem = Some("the component reported a mission without a valid mission_slug; nothing was committed".into())
            }
        }
    }

    /// After the call: commits the bound `meta.json` of `feature_slug`; when
    /// nothing was created, switches back from a start branch made for it.
    pub fn finish(&self, feature_slug: Option<&str>) -> GitSteps {
        match feature_slug.filter(|s| journal::is_plain_name(s)) {
            Some(slug) => {
                let meta = Path::new(SPECS_DIR).join(slug).join("meta.json");
                self.commit(&[meta], &format!("Add origin-ticket binding for feature {slug}"));
            }
            None if self.steps().commits.is_empty() => {
                if let Some(switched) = &self.switched
                    && let Err(err) = switched.undo(&self.tree)
                {
                    self.steps().problem = Some(err.message());
                }
            }
            None => {}
        }
        self.steps().clone()
    }

    fn commit(&self, paths: &[PathBuf], message: &str) {
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        match self.tree.commit_paths(&refs, message) {
            Ok(sha) => self.steps().commits.push(Commit { sha, message: message.to_string() }),
            Err(GitError::NothingToCommit { .. }) => {}
            Err(err) => {
                let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                self.steps().problem = Some(format!("{} Then commit {} yourself.", err.message(), files.join(" ")));
            }
        }
    }
}

/// Commits the scaffold of the mission at `feature_dir` if it is not
/// committed yet (recovery after a crash before Spec Kitty's scaffold commit).
pub fn commit_scaffold(repo_root: &Path, feature_dir: &Path) -> GitSteps {
    commit_in_mission(repo_root, feature_dir, &SCAFFOLD_FILES, "Add scaffold for feature")
}

/// Commits `meta.json` of the mission at `feature_dir` after a bind, when it
/// is in a git work tree.
pub fn commit_bound_meta(repo_root: &Path, feature_dir: &Path) -> GitSteps {
    commit_in_mission(repo_root, feature_dir, &["meta.json"], "Add origin-ticket binding for feature")
}

/// Commits `files` of the mission at `feature_dir` as "`subject` <mission>".
fn commit_in_mission(repo_root: &Path, feature_dir: &Path, files: &[&str], subject: &str) -> GitSteps {
    let tree = match work_tree(repo_root) {
        Ok(Some(tree)) => tree,
        Ok(None) => return GitSteps::default(),
        Err(err) => return GitSteps { problem: Some(err.to_string()), ..GitSteps::default() },
    };
    let Some(slug) = feature_dir.file_name().and_then(|n| n.to_str()) else { return GitSteps::default() };
    let Ok(relative) = feature_dir.strip_prefix(repo_root) else { return GitSteps::default() };
    let steps = StartSteps { tree, switched: None, steps: Mutex::new(GitSteps::default()) };
    let paths: Vec<PathBuf> = files.iter().map(|f| relative.join(f)).collect();
    steps.commit(&paths, &format!("{subject} {slug}"));
    steps.steps().clone()
}
