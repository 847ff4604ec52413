//! The git steps Spec Kitty (spec-kitty-cli 3.2.7) takes when it creates a
//! mission, done with `std::process` only.
//!
//! The order a caller follows is the one Spec Kitty follows:
//!
//! 1. [`WorkTree::discover`] the checkout. `Ok(None)` means "not a git work
//!    tree": commit nothing and refuse nothing.
//! 2. [`WorkTree::preflight`] checks everything *before anything is written*:
//!    no commits yet, detached HEAD, protected branch, a bad `--start-branch`.
//!    It changes nothing, and tells what would happen.
//! 3. [`WorkTree::switch_to`] the start branch, if one was given. Keep the
//!    [`Switched`] value: [`Switched::undo`] puts the checkout back when a later
//!    step fails.
//! 4. [`WorkTree::commit_paths`] commits exactly the scaffold files
//!    ("Add scaffold for feature <dir>", later "Add origin-ticket binding for
//!    feature <dir>"), leaving the user's other staged changes staged.
//!
//! Every git call is bounded: it runs with `-C <root>`, a timeout
//! ([`DEFAULT_TIMEOUT`], the child and its process group are killed and reaped
//! when it fires), at most [`MAX_OUTPUT_BYTES`] of stdout and of stderr are
//! kept, `GIT_TERMINAL_PROMPT=0`, and git can open no editor or pager
//! (`-c core.pager=cat`, `GIT_PAGER=cat`, `GIT_EDITOR=true`). The variables
//! that would point git at another repository (`GIT_DIR`, `GIT_WORK_TREE`,
//! `GIT_INDEX_FILE`, ...) are removed, so `-C <root>` is what decides.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long one git invocation may run before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How many bytes of stdout, and of stderr, are kept from one git invocation.
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// The operator override: when truthy, protected branches may be committed to.
pub const ALLOW_PROTECTED_ENV: &str = "SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS";

/// The branches protected when no `protection.protected_branches` is configured
/// (the remote default branch is added to them).
pub const DEFAULT_PROTECTED_BRANCHES: [&str; 2] = ["main", "master"];

/// The command the refusal messages point to.
const START_BRANCH_ADVICE: &str = "kitty-origin start --start-branch <feature-branch>";

/// Spec Kitty's text for a checkout without commits (`core/mission_creation.py`).
const NO_COMMITS_MESSAGE: &str = "This checkout has no commits yet, so Spec Kitty cannot commit the mission scaffold.\n\n\
     Make an initial commit first, then create the mission:\n  git commit --allow-empty -m 'Initial commit'\n\n\
     If the repository already has files staged, commit those instead.";

/// Spec Kitty's text for a detached HEAD (`core/mission_creation.py`).
const DETACHED_HEAD_MESSAGE: &str = "Must be on a branch to create missions (detached HEAD detected).";

/// Environment variables that would make git use another repository, index
/// or work tree than the one `-C <root>` names.
const REPOSITORY_ENV: [&str; 9] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_LITERAL_PATHSPECS",
];

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a git step failed or was refused; [`GitError::message`] says what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitError {
    /// The directory is inside a git repository but the git program could not be found.
    NotInstalled {
        /// The program that was tried.
        program: PathBuf,
    },
    /// The commit would land on a protected branch and the override is not set.
    ProtectedBranch {
        /// The protected branch.
        branch: String,
        /// The work tree root.
        root: PathBuf,
    },
    /// HEAD is detached and no start branch was given.
    DetachedHead,
    /// The current branch has no commits yet (unborn HEAD).
    NoCommits {
        /// The unborn branch HEAD points at.
        branch: String,
    },
    /// The start branch is not a valid git branch name.
    InvalidBranchName {
        /// The name as given, trimmed.
        name: String,
        /// Why: git's own message, or ours.
        detail: String,
    },
    /// A path given to [`WorkTree::commit_paths`] cannot be committed as given.
    InvalidPath {
        /// The path as given.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The given paths already match HEAD: there is nothing to commit.
    NothingToCommit {
        /// The paths that were staged.
        paths: Vec<PathBuf>,
    },
    /// A git command could not be started, or exited unsuccessfully.
    CommandFailed {
        /// The command line, for the message.
        command: String,
        /// The exit code; `None` when git could not be started or was killed by a signal.
        status: Option<i32>,
        /// git's stderr (trimmed, at most [`MAX_OUTPUT_BYTES`]), or why it could not start.
        stderr: String,
    },
    /// A git command did not finish in time; it was killed and reaped.
    TimedOut {
        /// The command line, for the message.
        command: String,
        /// The timeout that fired.
        after: Duration,
    },
}

impl GitError {
    /// The stable machine code of this error (`--json`, MCP).
    pub fn code(&self) -> &'static str {
        match self {
            GitError::NotInstalled { .. } => "git_not_installed",
            GitError::ProtectedBranch { .. } => "protected_branch",
            GitError::DetachedHead => "detached_head",
            GitError::NoCommits { .. } => "no_commits",
            GitError::InvalidBranchName { .. } => "invalid_start_branch",
            GitError::InvalidPath { .. } | GitError::NothingToCommit { .. } | GitError::CommandFailed { .. } => "git_failed",
            GitError::TimedOut { .. } => "git_timed_out",
        }
    }

    /// Whether the developer must act before a retry can succeed.
    pub fn user_action_required(&self) -> bool {
        !matches!(self, GitError::TimedOut { .. })
    }

    /// A one-paragraph explanation for the user, ending with what to do next.
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            GitError::NotInstalled { program } => format!(
                "git could not be found (tried '{}'), but this directory is inside a git repository and the mission scaffold \
                 must be committed. Install git and make sure it is on PATH, then run the command again.",
                program.display()
            ),
            GitError::ProtectedBranch { branch, root } => format!(
                "refusing to commit to protected branch '{branch}' in {}. Start a non-protected feature branch and commit there \
                 ('{START_BRANCH_ADVICE}', or check out an existing feature branch). Planning artifacts must land on a feature \
                 branch. To commit to '{branch}' anyway, set {ALLOW_PROTECTED_ENV}=1.",
                root.display()
            ),
            GitError::DetachedHead => format!(
                "{DETACHED_HEAD_MESSAGE} Check out a branch first ('git switch <branch>'), or pass a branch to start \
                 ('{START_BRANCH_ADVICE}')."
            ),
            GitError::NoCommits { .. } => NO_COMMITS_MESSAGE.to_string(),
            GitError::InvalidBranchName { name, detail } if name.is_empty() => {
                format!("--start-branch requires a non-empty branch name ({detail}). Pass the feature branch to start, e.g. 'feature/x'.")
            }
            GitError::InvalidBranchName { name, detail } => {
                format!(
                    "Invalid --start-branch '{name}': {detail}. Pass a name that 'git check-ref-format --branch' accepts, e.g. 'feature/x'."
                )
            }
            GitError::InvalidPath { path, reason } => {
                format!("cannot commit '{}': {reason}. Pass files relative to the work tree root.", path.display())
            }
            GitError::NothingToCommit { paths } => {
                let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                format!("nothing to commit: {} already match HEAD. Nothing needs to be done.", paths.join(", "))
            }
            GitError::CommandFailed { command, status, stderr } => {
                let status = status.map_or_else(|| "no exit status".to_string(), |code| format!("exit status {code}"));
                let detail = if stderr.is_empty() { String::new() } else { format!(": {stderr}") };
                format!("'{command}' failed ({status}){detail}. Fix what git reports, then run the command again.")
            }
            GitError::TimedOut { command, after } => format!(
                "'{command}' did not finish within {} s and was stopped. Check whether another git process holds the repository \
                 lock or a hook is waiting, then run the command again.",
                after.as_secs_f64()
            ),
        }
    }
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for GitError {}

// ---------------------------------------------------------------------------
// Protection policy (pure)
// ---------------------------------------------------------------------------

/// Whether committing to `branch` is refused (before the override is considered).
///
/// `configured` is `protection.protected_branches` from `.kittify/config.yaml`:
/// `Some(list)` is used exactly (an empty list protects nothing); `None` means
/// `main`, `master` and the remote default branch.
#[must_use]
pub fn is_protected(branch: &str, configured: Option<&[String]>, remote_default: Option<&str>) -> bool {
    match configured {
        Some(list) => list.iter().any(|b| b == branch),
        None => DEFAULT_PROTECTED_BRANCHES.contains(&branch) || remote_default == Some(branch),
    }
}

/// Whether [`ALLOW_PROTECTED_ENV`] is set to a truthy value in this process's environment.
#[must_use]
pub fn protection_overridden() -> bool {
    std::env::var(ALLOW_PROTECTED_ENV).is_ok_and(|value| override_value_is_truthy(&value))
}

/// Whether a value of [`ALLOW_PROTECTED_ENV`] is truthy: only `1`, `true`, `yes`,
/// case-insensitive, not trimmed (as Spec Kitty; `y` and `on` are not).
#[must_use]
pub fn override_value_is_truthy(value: &str) -> bool {
    ["1", "true", "yes"].iter().any(|t| value.eq_ignore_ascii_case(t))
}

// ---------------------------------------------------------------------------
// The bounded git runner
// ---------------------------------------------------------------------------

/// The git program and the timeout of each call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Git {
    program: PathBuf,
    timeout: Duration,
}

impl Default for Git {
    /// `git` from PATH, with [`DEFAULT_TIMEOUT`].
    fn default() -> Self {
        Git::new("git")
    }
}

/// What a finished git call produced.
#[derive(Debug)]
struct Output {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Output {
    fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// stdout as text, without the trailing newline.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end_matches(['\n', '\r']).to_string()
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// One pipe being drained by a thread: the kept bytes, and a channel that
/// disconnects when the pipe reaches end of file.
struct Drain {
    kept: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Drain {
    fn start(mut pipe: impl Read + Send + 'static) -> std::io::Result<Drain> {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel::<()>();
        let sink = Arc::clone(&kept);
        thread::Builder::new().name("kitty-git-pipe".to_string()).spawn(move || {
            let _done_when_dropped = tx;
            let mut buf = [0u8; 8192];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut kept = sink.lock().unwrap_or_else(PoisonError::into_inner);
                        let room = MAX_OUTPUT_BYTES.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                        // Past the cap the rest is read and dropped, so git never blocks on a full pipe.
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        })?;
        Ok(Drain { kept, done })
    }

    /// Waits until end of file or `until`, then returns what was kept so far.
    fn finish(self, until: Instant) -> Vec<u8> {
        let wait = until.saturating_duration_since(Instant::now());
        // Ends on end of file (the sender is dropped) or at `until`; either way, take what is kept.
        let _ = self.done.recv_timeout(wait);
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.clone()
    }
}

#[cfg(unix)]
mod signal {
    // The one libc function std does not wrap: signalling a process group.
    unsafe extern "C" {
        safe fn kill(pid: i32, sig: i32) -> i32;
    }

    const SIGKILL: i32 = 9;

    /// Kills the process group `pgid` (git and whatever it started: hooks, helpers).
    pub(super) fn kill_group(pgid: u32) {
        if let Ok(pgid) = i32::try_from(pgid)
            && pgid > 1
        {
            kill(-pgid, SIGKILL);
        }
    }
}

/// Kills `child` (and on Unix its process group) and reaps it.
fn kill_and_reap(child: &mut Child) {
    #[cfg(unix)]
    signal::kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

/// `git <args>` as text for messages, quoting arguments with spaces.
fn display_command(dir: &Path, args: &[OsString]) -> String {
    let mut words = vec!["git".to_string(), "-C".to_string(), quote(dir.as_os_str())];
    words.extend(args.iter().map(|a| quote(a)));
    words.join(" ")
}

fn quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    if text.is_empty() || text.contains(char::is_whitespace) { format!("'{text}'") } else { text.into_owned() }
}

impl Git {
    /// The given git program (a name looked up on PATH, or a path), with [`DEFAULT_TIMEOUT`].
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Git { program: program.into(), timeout: DEFAULT_TIMEOUT }
    }

    /// The same program with another per-call timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The git program.
    #[must_use]
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The per-call timeout.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `git -C <dir> -c core.pager=cat <args>`, bounded in time and output.
    ///
    /// A non-zero exit is returned as an `Output`, not an error: the callers
    /// decide what an exit code means.
    fn run(&self, dir: &Path, args: &[OsString], env: &[(&str, &str)]) -> Result<Output, GitError> {
        let command = || display_command(dir, args);
        let mut cmd = Command::new(&self.program);
        cmd.arg("-C").arg(dir).args(["-c", "core.pager=cat"]).args(args);
        for name in REPOSITORY_ENV {
            cmd.env_remove(name);
        }
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_EDITOR", "true")
            .env("GIT_SEQUENCE_EDITOR", "true")
            .env("GIT_PAGER", "cat")
            .env("PAGER", "cat")
            .env("GIT_OPTIONAL_LOCKS", "0");
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own process group, so a timeout can kill git and everything it started.
            cmd.process_group(0);
        }

        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(GitError::NotInstalled { program: self.program.clone() }),
            Err(e) => {
                return Err(GitError::CommandFailed { command: command(), status: None, stderr: format!("could not start git: {e}") });
            }
        };
        let drains = (child.stdout.take().map(Drain::start).transpose(), child.stderr.take().map(Drain::start).transpose());
        let (stdout, stderr) = match drains {
            (Ok(stdout), Ok(stderr)) => (stdout, stderr),
            (Err(e), _) | (_, Err(e)) => {
                kill_and_reap(&mut child);
                return Err(GitError::CommandFailed {
                    command: command(),
                    status: None,
                    stderr: format!("could not read git's output: {e}"),
                });
            }
        };

        let mut poll = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {
                    let now = Instant::now();
                    if now >= deadline {
                        kill_and_reap(&mut child);
                        // The pipes close once the group is dead; do not wait long for them.
                        let grace = Instant::now() + Duration::from_millis(200);
                        drop(stdout.map(|d| d.finish(grace)));
                        drop(stderr.map(|d| d.finish(grace)));
                        return Err(GitError::TimedOut { command: command(), after: self.timeout });
                    }
                    thread::sleep(poll.min(deadline - now));
                    poll = (poll * 2).min(Duration::from_millis(25));
                }
                Err(e) => {
                    kill_and_reap(&mut child);
                    return Err(GitError::CommandFailed {
                        command: command(),
                        status: None,
                        stderr: format!("could not wait for git: {e}"),
                    });
                }
            }
        };
        // git has exited; a process it left behind may still hold the pipes, so wait
        // for them only until the deadline (at least briefly).
        let until = deadline.max(Instant::now() + Duration::from_millis(100));
        let stdout = stdout.map(|d| d.finish(until)).unwrap_or_default();
        let stderr = stderr.map(|d| d.finish(until)).unwrap_or_default();
        Ok(Output { code: status.code(), stdout, stderr })
    }

    /// Like [`Git::run`], but a non-zero exit is a [`GitError::CommandFailed`].
    fn run_ok(&self, dir: &Path, args: &[OsString], env: &[(&str, &str)]) -> Result<Output, GitError> {
        let out = self.run(dir, args, env)?;
        if out.success() {
            Ok(out)
        } else {
            Err(GitError::CommandFailed { command: display_command(dir, args), status: out.code, stderr: out.stderr_text() })
        }
    }
}

/// Builds an argument list from anything path- or string-like.
fn args<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    items.into_iter().map(|s| s.as_ref().to_os_string()).collect()
}

/// The path git printed (bytes on Unix, so non-UTF-8 roots survive).
fn path_from_output(out: &Output) -> PathBuf {
    let mut bytes = out.stdout.clone();
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(OsString::from_vec(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Whether `dir` or one of its ancestors holds a `.git` file or directory.
fn has_dot_git_ancestor(dir: &Path) -> bool {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.ancestors().any(|a| a.join(".git").exists())
}

// ---------------------------------------------------------------------------
// Work tree
// ---------------------------------------------------------------------------

/// What HEAD points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchState {
    /// On a branch that has commits.
    Branch(String),
    /// HEAD is detached (points at a commit, not a branch).
    Detached,
    /// On a branch with no commits yet (a fresh `git init`).
    Unborn(String),
}

/// What [`WorkTree::switch_to`] would do for the start branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchPlan {
    /// Nothing: no start branch was given, or it is already checked out.
    Stay,
    /// `git switch <branch>`: the branch exists locally.
    SwitchExisting {
        /// The branch.
        branch: String,
    },
    /// `git switch -c <branch> refs/remotes/origin/<branch>`: it exists only as a
    /// remote-tracking branch (tracking is set up as `branch.autoSetupMerge` says).
    TrackRemote {
        /// The branch.
        branch: String,
    },
    /// `git switch -c <branch>`: a new branch from the current HEAD.
    Create {
        /// The branch.
        branch: String,
        /// The commit it will start at (the current HEAD).
        from: String,
    },
}

/// The outcome of a successful [`WorkTree::preflight`]: what will happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// The checkout now: [`BranchState::Branch`], or [`BranchState::Detached`] when a start branch was given.
    pub current: BranchState,
    /// The commit HEAD points at now.
    pub head: String,
    /// The branch the scaffold commit will land on.
    pub target_branch: String,
    /// What switching to the start branch will do.
    pub switch: SwitchPlan,
    /// `target_branch` is protected but the override allows committing to it.
    pub protection_overridden: bool,
}

/// Where the checkout was before a [`WorkTree::switch_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Previous {
    /// On this branch.
    Branch(String),
    /// Detached at this commit.
    Detached(String),
}

/// A branch switch done by [`WorkTree::switch_to`], which [`Switched::undo`] reverts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "keep it to undo the switch if a later step fails"]
pub struct Switched {
    branch: String,
    previous: Previous,
    changed: bool,
    created: bool,
    /// The tip of a branch that existed before the switch.
    prior_tip: Option<String>,
}

/// A git work tree: the checkout the mission is created in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkTree {
    root: PathBuf,
    git: Git,
}

impl WorkTree {
    /// The work tree containing `dir`, using `git` from PATH.
    ///
    /// # Errors
    ///
    /// See [`WorkTree::discover_with`].
    pub fn discover(dir: &Path) -> Result<Option<WorkTree>, GitError> {
        WorkTree::discover_with(Git::default(), dir)
    }

    /// The work tree containing `dir`; `Ok(None)` when `dir` is not a directory
    /// inside a git work tree (including inside a `.git` directory), or when git
    /// is missing and no `.git` exists in `dir` or its ancestors.
    ///
    /// # Errors
    ///
    /// [`GitError::NotInstalled`] when git is missing but a `.git` exists;
    /// [`GitError::CommandFailed`] when git refuses the repository (e.g. "dubious
    /// ownership"); [`GitError::TimedOut`].
    pub fn discover_with(git: Git, dir: &Path) -> Result<Option<WorkTree>, GitError> {
        if !dir.is_dir() {
            return Ok(None);
        }
        let inside = match git.run(dir, &args(["rev-parse", "--is-inside-work-tree"]), &[]) {
            Ok(out) => out,
            Err(GitError::NotInstalled { .. }) if !has_dot_git_ancestor(dir) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !inside.success() {
            let stderr = inside.stderr_text();
            if !has_dot_git_ancestor(dir) || stderr.contains("not a git repository") {
                return Ok(None);
            }
            let command = display_command(dir, &args(["rev-parse", "--is-inside-work-tree"]));
            return Err(GitError::CommandFailed { command, status: inside.code, stderr });
        }
        if inside.text() != "true" {
            return Ok(None);
        }
        let top = git.run_ok(dir, &args(["rev-parse", "--show-toplevel"]), &[])?;
        Ok(Some(WorkTree { root: path_from_output(&top), git }))
    }

    /// A work tree at a known `root`, without asking git (for callers that already know it, and tests).
    pub fn at(root: impl Into<PathBuf>, git: Git) -> WorkTree {
        WorkTree { root: root.into(), git }
    }

    /// The work tree's top-level directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The git program and timeout used for this work tree.
    #[must_use]
    pub fn git(&self) -> &Git {
        &self.git
    }

    fn run(&self, argv: &[OsString]) -> Result<Output, GitError> {
        self.git.run(&self.root, argv, &[])
    }

    fn run_ok(&self, argv: &[OsString]) -> Result<Output, GitError> {
        self.git.run_ok(&self.root, argv, &[])
    }

    /// Whether `rev` resolves to a commit (`git rev-parse --verify --quiet <rev>^{commit}`); its SHA if so.
    fn resolve(&self, rev: &str) -> Result<Option<String>, GitError> {
        let argv = args(["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")]);
        let out = self.run(&argv)?;
        match out.code {
            Some(0) => Ok(Some(out.text())),
            Some(1) => Ok(None),
            code => Err(GitError::CommandFailed { command: display_command(&self.root, &argv), status: code, stderr: out.stderr_text() }),
        }
    }

    /// The commit HEAD points at; `None` when the branch has no commits yet.
    ///
    /// # Errors
    ///
    /// [`GitError::CommandFailed`] or [`GitError::TimedOut`] when git fails.
    pub fn head_commit(&self) -> Result<Option<String>, GitError> {
        self.resolve("HEAD")
    }

    /// What HEAD points at: a branch, a detached commit, or an unborn branch.
    ///
    /// # Errors
    ///
    /// [`GitError::CommandFailed`] or [`GitError::TimedOut`] when git fails.
    pub fn current_branch(&self) -> Result<BranchState, GitError> {
        let argv = args(["symbolic-ref", "--quiet", "HEAD"]);
        let out = self.run(&argv)?;
        match out.code {
            Some(0) => {
                let full = out.text();
                let name = full.strip_prefix("refs/heads/").unwrap_or(&full).to_string();
                if self.head_commit()?.is_some() { Ok(BranchState::Branch(name)) } else { Ok(BranchState::Unborn(name)) }
            }
            Some(1) => Ok(BranchState::Detached),
            code => Err(GitError::CommandFailed { command: display_command(&self.root, &argv), status: code, stderr: out.stderr_text() }),
        }
    }

    /// The remote default branch: `refs/remotes/origin/HEAD` without its `refs/remotes/origin/` prefix.
    ///
    /// Reads `git symbolic-ref --quiet refs/remotes/origin/HEAD` (the full ref
    /// rather than Spec Kitty's `--short` + last path component, so a default
    /// such as `release/2` stays whole). Spec Kitty falls back to `git remote
    /// show origin` ("HEAD branch:"), which contacts the remote; that fallback
    /// is deliberately skipped. `None` when unset, or when git fails or times out.
    #[must_use]
    pub fn remote_default_branch(&self) -> Option<String> {
        let out = self.run(&args(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"])).ok()?;
        if !out.success() {
            return None;
        }
        let text = out.text();
        let name = text.trim().strip_prefix("refs/remotes/origin/")?;
        if name.is_empty() { None } else { Some(name.to_string()) }
    }

    /// Trims `name` and checks it with `git check-ref-format --branch`; returns the trimmed name.
    ///
    /// Names git would expand to another branch (`@{-1}`) are refused.
    ///
    /// # Errors
    ///
    /// [`GitError::InvalidBranchName`]; [`GitError::CommandFailed`] or [`GitError::TimedOut`] when git fails.
    pub fn validate_branch_name(&self, name: &str) -> Result<String, GitError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(GitError::InvalidBranchName { name: String::new(), detail: "the name is empty".to_string() });
        }
        let out = self.run(&args(["check-ref-format", "--branch", name]))?;
        if !out.success() {
            let detail = [out.stderr_text(), out.text().trim().to_string()]
                .into_iter()
                .find(|s| !s.is_empty())
                .unwrap_or_else(|| "invalid branch name".to_string());
            return Err(GitError::InvalidBranchName { name: name.to_string(), detail });
        }
        if out.text().trim() != name {
            let detail = format!("it names another branch ('{}'); pass the branch name itself", out.text().trim());
            return Err(GitError::InvalidBranchName { name: name.to_string(), detail });
        }
        Ok(name.to_string())
    }

    /// Whether `refs/heads/<branch>` exists.
    fn local_branch_tip(&self, branch: &str) -> Result<Option<String>, GitError> {
        self.resolve(&format!("refs/heads/{branch}"))
    }

    /// What switching to `branch` would do, from `current` at `head`.
    fn plan_switch(&self, branch: &str, current: &BranchState, head: &str) -> Result<SwitchPlan, GitError> {
        if *current == BranchState::Branch(branch.to_string()) {
            return Ok(SwitchPlan::Stay);
        }
        if self.local_branch_tip(branch)?.is_some() {
            return Ok(SwitchPlan::SwitchExisting { branch: branch.to_string() });
        }
        if self.resolve(&format!("refs/remotes/origin/{branch}"))?.is_some() {
            return Ok(SwitchPlan::TrackRemote { branch: branch.to_string() });
        }
        Ok(SwitchPlan::Create { branch: branch.to_string(), from: head.to_string() })
    }

    /// Checks, without changing anything, that the scaffold can be committed, and says how.
    ///
    /// Refuses an unborn HEAD, a detached HEAD without a start branch, an
    /// invalid start branch, and a protected destination (the start branch if
    /// given, else the current branch) unless [`protection_overridden`].
    /// `configured` is `protection.protected_branches` (see [`is_protected`]).
    ///
    /// # Errors
    ///
    /// [`GitError::NoCommits`], [`GitError::DetachedHead`],
    /// [`GitError::InvalidBranchName`], [`GitError::ProtectedBranch`];
    /// [`GitError::CommandFailed`] or [`GitError::TimedOut`] when git fails.
    pub fn preflight(&self, configured: Option<&[String]>, start_branch: Option<&str>) -> Result<Preflight, GitError> {
        self.preflight_with_override(configured, start_branch, protection_overridden())
    }

    /// [`WorkTree::preflight`] with the override given instead of read from the environment.
    ///
    /// # Errors
    ///
    /// As [`WorkTree::preflight`].
    pub fn preflight_with_override(
        &self,
        configured: Option<&[String]>,
        start_branch: Option<&str>,
        overridden: bool,
    ) -> Result<Preflight, GitError> {
        let current = self.current_branch()?;
        if let BranchState::Unborn(branch) = current {
            return Err(GitError::NoCommits { branch });
        }
        let head = self.head_commit()?.ok_or(GitError::NoCommits { branch: String::new() })?;
        let (target_branch, switch) = match (start_branch, &current) {
            (Some(start), _) => {
                let name = self.validate_branch_name(start)?;
                let plan = self.plan_switch(&name, &current, &head)?;
                (name, plan)
            }
            (None, BranchState::Branch(name)) => (name.clone(), SwitchPlan::Stay),
            (None, _) => return Err(GitError::DetachedHead),
        };
        let remote_default = if configured.is_none() { self.remote_default_branch() } else { None };
        let protected = is_protected(&target_branch, configured, remote_default.as_deref());
        if protected && !overridden {
            return Err(GitError::ProtectedBranch { branch: target_branch, root: self.root.clone() });
        }
        Ok(Preflight { current, head, target_branch, switch, protection_overridden: protected })
    }

    /// Switches to the start branch `name` (trimmed and validated): nothing when it
    /// is checked out already, `git switch <name>` when it exists locally,
    /// `git switch -c <name> refs/remotes/origin/<name>` when it exists only as a
    /// remote-tracking branch (what `git switch <name>` guesses, without needing the guess),
    /// else `git switch -c <name>` from the current HEAD.
    ///
    /// Local changes are carried over as `git switch` does; git refuses (and
    /// nothing changes) when they would be overwritten. This does not check
    /// protection: run [`WorkTree::preflight`] first.
    ///
    /// # Errors
    ///
    /// [`GitError::InvalidBranchName`], [`GitError::NoCommits`] (an unborn HEAD
    /// could not be switched back to), [`GitError::CommandFailed`], [`GitError::TimedOut`].
    pub fn switch_to(&self, name: &str) -> Result<Switched, GitError> {
        let branch = self.validate_branch_name(name)?;
        let current = self.current_branch()?;
        let head = match &current {
            BranchState::Unborn(branch) => return Err(GitError::NoCommits { branch: branch.clone() }),
            _ => self.head_commit()?.ok_or(GitError::NoCommits { branch: String::new() })?,
        };
        let previous = match &current {
            BranchState::Branch(name) => Previous::Branch(name.clone()),
            _ => Previous::Detached(head.clone()),
        };
        let plan = self.plan_switch(&branch, &current, &head)?;
        let prior_tip = self.local_branch_tip(&branch)?;
        let argv = match &plan {
            SwitchPlan::Stay => return Ok(Switched { branch, previous, changed: false, created: false, prior_tip }),
            SwitchPlan::SwitchExisting { .. } => args(["switch", "--end-of-options", &branch]),
            SwitchPlan::TrackRemote { .. } => args(["switch", "-c", &branch, &format!("refs/remotes/origin/{branch}")]),
            SwitchPlan::Create { .. } => args(["switch", "-c", &branch]),
        };
        self.run_ok(&argv)?;
        let created = !matches!(plan, SwitchPlan::SwitchExisting { .. });
        Ok(Switched { branch, previous, changed: true, created, prior_tip })
    }

    /// Stages each of `paths` (relative to the root) with `git add --force` and
    /// commits exactly those paths with `message`; returns the new commit's SHA.
    ///
    /// The commit is `git -c commit.gpgsign=false commit --only -m <message> --
    /// <paths>`: other staged changes stay staged and are not committed,
    /// untracked files stay untracked. Paths are literal (no globs). Hooks run
    /// as usual. This does not check protection: run [`WorkTree::preflight`] first.
    ///
    /// # Errors
    ///
    /// [`GitError::InvalidPath`] for no paths, an absolute path, a path with
    /// `..`, or a directory; [`GitError::NothingToCommit`] when the paths
    /// already match HEAD; [`GitError::CommandFailed`] (e.g. a hook refused,
    /// a merge is in progress) or [`GitError::TimedOut`].
    pub fn commit_paths(&self, paths: &[&Path], message: &str) -> Result<String, GitError> {
        if paths.is_empty() {
            return Err(GitError::InvalidPath { path: PathBuf::new(), reason: "no paths were given".to_string() });
        }
        for path in paths {
            check_relative_path(&self.root, path)?;
        }
        let literal = [("GIT_LITERAL_PATHSPECS", "1")];
        for path in paths {
            let mut argv = args(["add", "--force", "--"]);
            argv.push(path.as_os_str().to_os_string());
            self.git.run_ok(&self.root, &argv, &literal)?;
        }
        if self.head_commit()?.is_some() {
            let mut argv = args(["diff", "--cached", "--quiet", "--no-ext-diff", "HEAD", "--"]);
            argv.extend(paths.iter().map(|p| p.as_os_str().to_os_string()));
            let out = self.git.run(&self.root, &argv, &literal)?;
            match out.code {
                Some(0) => return Err(GitError::NothingToCommit { paths: paths.iter().map(|p| p.to_path_buf()).collect() }),
                Some(1) => {}
                code => {
                    return Err(GitError::CommandFailed {
                        command: display_command(&self.root, &argv),
                        status: code,
                        stderr: out.stderr_text(),
                    });
                }
            }
        }
        let mut argv = args(["-c", "commit.gpgsign=false", "commit", "--only", "--quiet", "-m", message, "--"]);
        argv.extend(paths.iter().map(|p| p.as_os_str().to_os_string()));
        self.git.run_ok(&self.root, &argv, &literal)?;
        self.head_commit()?.ok_or_else(|| GitError::CommandFailed {
            command: display_command(&self.root, &argv),
            status: Some(0),
            stderr: "HEAD does not resolve after the commit".to_string(),
        })
    }
}

/// Refuses paths that are empty, absolute, leave the root (`..`), or are directories.
fn check_relative_path(root: &Path, path: &Path) -> Result<(), GitError> {
    let invalid = |reason: &str| Err(GitError::InvalidPath { path: path.to_path_buf(), reason: reason.to_string() });
    if path.as_os_str().is_empty() || path.components().all(|c| c == Component::CurDir) {
        return invalid("the path is empty");
    }
    if path.components().any(|c| matches!(c, Component::RootDir | Component::Prefix(_))) {
        return invalid("the path is absolute");
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return invalid("the path contains '..'");
    }
    if root.join(path).is_dir() {
        return invalid("it is a directory (git add --force would also add ignored files under it); pass the files");
    }
    Ok(())
}

impl Switched {
    /// The branch now checked out.
    #[must_use]
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// Where the checkout was before.
    #[must_use]
    pub fn previous(&self) -> &Previous {
        &self.previous
    }

    /// Whether the switch changed anything (false when the branch was already checked out).
    #[must_use]
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Whether the local branch was created by the switch.
    #[must_use]
    pub fn created(&self) -> bool {
        self.created
    }

    /// Reverts the switch, as Spec Kitty's rollback does: switches back to the
    /// previous branch (or detached commit); deletes the branch if the switch
    /// created it; if it existed and its tip has moved since, resets it to the
    /// old tip (compare-and-swap, `git update-ref`). Staged changes are carried
    /// back by `git switch`; the index is not otherwise restored. Nothing when
    /// the switch changed nothing.
    ///
    /// # Errors
    ///
    /// [`GitError::CommandFailed`] (e.g. local changes would be overwritten by
    /// switching back) or [`GitError::TimedOut`].
    pub fn undo(&self, tree: &WorkTree) -> Result<(), GitError> {
        if !self.changed {
            return Ok(());
        }
        let back = match &self.previous {
            Previous::Branch(name) => args(["switch", "--end-of-options", name]),
            Previous::Detached(commit) => args(["switch", "--detach", commit]),
        };
        let already_back = match (&self.previous, tree.current_branch()?) {
            (Previous::Branch(name), BranchState::Branch(now)) => *name == now,
            (Previous::Detached(commit), BranchState::Detached) => tree.head_commit()?.as_deref() == Some(commit.as_str()),
            _ => false,
        };
        if !already_back {
            tree.run_ok(&back)?;
        }
        let now_tip = tree.local_branch_tip(&self.branch)?;
        match (&self.prior_tip, now_tip) {
            (None, Some(_)) if self.created => {
                tree.run_ok(&args(["branch", "-D", "--", &self.branch]))?;
            }
            (Some(old), Some(now)) if *old != now => {
                let refname = format!("refs/heads/{}", self.branch);
                tree.run_ok(&args(["update-ref", "-m", "kitty-git: undo start branch", &refname, old, &now]))?;
            }
            _ => {}
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests;
