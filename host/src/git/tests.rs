//! The git steps against real temporary repos.
use super::*;
use std::fs;

/// A throwaway repository with local identity and no signing.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo::empty();
        repo.write("README.md", "hello\n");
        repo.git(&["add", "README.md"]);
        repo.git(&["commit", "-q", "-m", "Initial commit"]);
        repo
    }

    fn empty() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn tree(&self) -> WorkTree {
        WorkTree::discover(self.path()).unwrap().unwrap()
    }

    fn git(&self, argv: &[&str]) -> String {
        let out = Command::new("git").arg("-C").arg(self.path()).args(argv).stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "git {argv:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Working tree, index, refs and HEAD, to prove that nothing changed.
    fn snapshot(&self) -> String {
        [
            self.git(&["status", "--porcelain=v1", "--untracked-files=all", "--ignored"]),
            self.git(&["ls-files", "-s"]),
            self.git(&["for-each-ref", "--format=%(refname) %(objectname)"]),
            fs::read_to_string(self.path().join(".git/HEAD")).unwrap(),
        ]
        .join("\n--\n")
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

#[test]
fn main_and_master_are_protected_by_default() {
    assert!(is_protected("main", None, None));
    assert!(is_protected("master", None, None));
    assert!(!is_protected("feature/x", None, None));
    assert!(is_protected("trunk", None, Some("trunk")));
    assert!(!is_protected("trunk", None, Some("develop")));
}

#[test]
fn a_configured_list_is_used_exactly() {
    let list = names(&["release", "prod"]);
    assert!(is_protected("release", Some(&list), Some("main")));
    assert!(!is_protected("main", Some(&list), Some("main")));
    assert!(!is_protected("master", Some(&list), None));
    assert!(!is_protected("main", Some(&[]), Some("main")));

    let repo = Repo::new();
    let tree = repo.tree();
    let ok = tree.preflight_with_override(Some(&list), None, false).unwrap();
    assert_eq!(ok.target_branch, "main");
    assert!(!ok.protection_overridden);
    repo.git(&["switch", "-q", "-c", "release"]);
    assert!(matches!(tree.preflight_with_override(Some(&list), None, false), Err(GitError::ProtectedBranch { .. })));
    assert!(tree.preflight_with_override(Some(&[]), None, false).is_ok());
}

#[test]
fn the_remote_default_branch_comes_from_origin_head() {
    let repo = Repo::new();
    let tree = repo.tree();
    assert_eq!(tree.remote_default_branch(), None);

    let origin = tempfile::tempdir().unwrap();
    let bare = origin.path().join("origin.git");
    let status = Command::new("git").args(["init", "-q", "--bare", "-b", "trunk"]).arg(&bare).status().unwrap();
    assert!(status.success());
    repo.git(&["switch", "-q", "-c", "trunk"]);
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "trunk"]);
    repo.git(&["fetch", "-q", "origin"]);
    repo.git(&["remote", "set-head", "origin", "trunk"]);
    assert_eq!(tree.remote_default_branch().as_deref(), Some("trunk"));

    let before = repo.snapshot();
    let err = tree.preflight_with_override(None, None, false).unwrap_err();
    assert_eq!(err, GitError::ProtectedBranch { branch: "trunk".into(), root: tree.root().to_path_buf() });
    assert_eq!(repo.snapshot(), before);
    // A configured list replaces the defaults, the remote default included.
    assert!(tree.preflight_with_override(Some(&names(&["main"])), None, false).is_ok());
}

#[test]
fn the_override_accepts_only_1_true_yes() {
    for yes in ["1", "true", "TRUE", "True", "yes", "YES"] {
        assert!(override_value_is_truthy(yes), "{yes}");
    }
    for no in ["", "0", "false", "no", "y", "on", " 1", "yes ", "2"] {
        assert!(!override_value_is_truthy(no), "{no:?}");
    }
}

#[test]
fn the_protected_refusal_gives_the_start_branch_advice() {
    let repo = Repo::new();
    let tree = repo.tree();
    let before = repo.snapshot();
    let err = tree.preflight_with_override(None, None, false).unwrap_err();
    let message = err.message();
    assert!(message.starts_with(&format!("refusing to commit to protected branch 'main' in {}.", tree.root().display())), "{message}");
    assert!(message.contains("'kitty-origin start --start-branch <feature-branch>'"), "{message}");
    assert!(message.contains("SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS=1"), "{message}");
    assert_eq!(repo.snapshot(), before);

    let ok = tree.preflight_with_override(None, None, true).unwrap();
    assert!(ok.protection_overridden);
    assert_eq!(ok.target_branch, "main");

    // master too, and a start branch that is protected.
    repo.git(&["switch", "-q", "-c", "feature/a"]);
    let before = repo.snapshot();
    assert!(
        matches!(tree.preflight_with_override(None, Some("master"), false), Err(GitError::ProtectedBranch { branch, .. }) if branch == "master")
    );
    assert!(
        matches!(tree.preflight_with_override(None, Some("main"), false), Err(GitError::ProtectedBranch { branch, .. }) if branch == "main")
    );
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn an_unborn_head_is_refused_and_nothing_changes() {
    let repo = Repo::empty();
    repo.write("staged.txt", "s\n");
    repo.git(&["add", "staged.txt"]);
    repo.write("loose.txt", "u\n");
    let tree = repo.tree();
    assert_eq!(tree.current_branch().unwrap(), BranchState::Unborn("main".into()));
    let before = repo.snapshot();
    for start in [None, Some("feature/x")] {
        let err = tree.preflight_with_override(None, start, true).unwrap_err();
        assert_eq!(err, GitError::NoCommits { branch: "main".into() });
        assert!(err.message().starts_with("This checkout has no commits yet, so Spec Kitty cannot commit the mission scaffold."));
        assert!(err.message().contains("git commit --allow-empty -m 'Initial commit'"));
    }
    assert!(matches!(tree.switch_to("feature/x"), Err(GitError::NoCommits { .. })));
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn a_detached_head_is_refused_and_nothing_changes() {
    let repo = Repo::new();
    repo.git(&["switch", "-q", "--detach", "HEAD"]);
    repo.write("loose.txt", "u\n");
    let tree = repo.tree();
    assert_eq!(tree.current_branch().unwrap(), BranchState::Detached);
    let before = repo.snapshot();
    let err = tree.preflight_with_override(None, None, true).unwrap_err();
    assert_eq!(err, GitError::DetachedHead);
    assert!(err.message().starts_with("Must be on a branch to create missions (detached HEAD detected)."));
    assert_eq!(repo.snapshot(), before);

    // As in Spec Kitty, a start branch gets out of a detached HEAD.
    let plan = tree.preflight_with_override(None, Some("feature/x"), false).unwrap();
    assert_eq!(plan.current, BranchState::Detached);
    assert!(matches!(plan.switch, SwitchPlan::Create { .. }));
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn a_bad_start_branch_is_refused_with_gits_reason_and_nothing_changes() {
    let repo = Repo::new();
    repo.git(&["switch", "-q", "-c", "feature/a"]);
    let tree = repo.tree();
    let before = repo.snapshot();
    let err = tree.preflight_with_override(None, Some(" bad..name "), false).unwrap_err();
    assert_eq!(
        err,
        GitError::InvalidBranchName { name: "bad..name".into(), detail: "fatal: 'bad..name' is not a valid branch name".into() }
    );
    assert!(err.message().starts_with("Invalid --start-branch 'bad..name': fatal: 'bad..name' is not a valid branch name"));
    for bad in ["", "  ", "-x", "HEAD", "a b", "@{-1}"] {
        assert!(matches!(tree.preflight_with_override(None, Some(bad), false), Err(GitError::InvalidBranchName { .. })), "{bad:?}");
    }
    assert!(matches!(tree.switch_to("bad..name"), Err(GitError::InvalidBranchName { .. })));
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn preflight_tells_what_the_switch_will_do() {
    let repo = Repo::new();
    let tree = repo.tree();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["branch", "feature/old"]);
    repo.git(&["update-ref", "refs/remotes/origin/feature/remote", &head]);
    let before = repo.snapshot();

    let plan = tree.preflight_with_override(None, Some("feature/new"), false).unwrap();
    assert_eq!(plan.switch, SwitchPlan::Create { branch: "feature/new".into(), from: head.clone() });
    assert_eq!(plan.target_branch, "feature/new");
    assert_eq!(plan.current, BranchState::Branch("main".into()));
    assert_eq!(plan.head, head);
    let plan = tree.preflight_with_override(None, Some("feature/old"), false).unwrap();
    assert_eq!(plan.switch, SwitchPlan::SwitchExisting { branch: "feature/old".into() });
    let plan = tree.preflight_with_override(None, Some("feature/remote"), false).unwrap();
    assert_eq!(plan.switch, SwitchPlan::TrackRemote { branch: "feature/remote".into() });
    assert_eq!(repo.snapshot(), before);

    repo.git(&["switch", "-q", "feature/old"]);
    let plan = tree.preflight_with_override(None, Some("feature/old"), false).unwrap();
    assert_eq!(plan.switch, SwitchPlan::Stay);
    let plan = tree.preflight_with_override(None, None, false).unwrap();
    assert_eq!((plan.switch, plan.target_branch.as_str()), (SwitchPlan::Stay, "feature/old"));
}

#[test]
fn switching_to_a_new_branch_and_undoing_it() {
    let repo = Repo::new();
    repo.write("staged.txt", "s\n");
    repo.git(&["add", "staged.txt"]);
    repo.write("loose.txt", "u\n");
    let tree = repo.tree();
    let before = repo.snapshot();

    let switched = tree.switch_to(" feature/new ").unwrap();
    assert!(switched.changed() && switched.created());
    assert_eq!(switched.branch(), "feature/new");
    assert_eq!(tree.current_branch().unwrap(), BranchState::Branch("feature/new".into()));
    assert_eq!(repo.git(&["rev-parse", "feature/new"]), repo.git(&["rev-parse", "main"]));

    // A commit on it is discarded with the branch.
    repo.write("kitty-specs/x/meta.json", "{}\n");
    tree.commit_paths(&[Path::new("kitty-specs/x/meta.json")], "Add scaffold for feature x").unwrap();
    fs::remove_file(repo.path().join("kitty-specs/x/meta.json")).ok();
    switched.undo(&tree).unwrap();
    assert_eq!(tree.current_branch().unwrap(), BranchState::Branch("main".into()));
    assert_eq!(repo.git(&["branch", "--list", "feature/new"]), "");
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn switching_to_an_existing_branch_and_undoing_it() {
    let repo = Repo::new();
    repo.git(&["switch", "-q", "-c", "feature/old"]);
    repo.write("old.txt", "o\n");
    repo.git(&["add", "old.txt"]);
    repo.git(&["commit", "-q", "-m", "old"]);
    repo.git(&["switch", "-q", "main"]);
    let tree = repo.tree();
    let before = repo.snapshot();

    let switched = tree.switch_to("feature/old").unwrap();
    assert!(switched.changed() && !switched.created());
    assert_eq!(tree.current_branch().unwrap(), BranchState::Branch("feature/old".into()));
    repo.write("new.txt", "n\n");
    tree.commit_paths(&[Path::new("new.txt")], "Add scaffold for feature y").unwrap();
    switched.undo(&tree).unwrap();
    assert_eq!(tree.current_branch().unwrap(), BranchState::Branch("main".into()));
    // The existing branch stays, at its old tip.
    fs::remove_file(repo.path().join("new.txt")).ok();
    assert_eq!(repo.snapshot(), before);

    // Already on it: nothing to do, nothing to undo.
    repo.git(&["switch", "-q", "feature/old"]);
    let before = repo.snapshot();
    let stay = tree.switch_to("feature/old").unwrap();
    assert!(!stay.changed());
    stay.undo(&tree).unwrap();
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn switching_to_a_remote_only_branch_tracks_it_and_undo_deletes_the_local_one() {
    let repo = Repo::new();
    let origin = tempfile::tempdir().unwrap();
    let bare = origin.path().join("origin.git");
    assert!(Command::new("git").args(["init", "-q", "--bare", "-b", "main"]).arg(&bare).status().unwrap().success());
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    repo.git(&["switch", "-q", "-c", "feature/remote"]);
    repo.write("remote.txt", "r\n");
    repo.git(&["add", "remote.txt"]);
    repo.git(&["commit", "-q", "-m", "remote work"]);
    repo.git(&["push", "-q", "origin", "feature/remote"]);
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "feature/remote"]);
    repo.git(&["fetch", "-q", "origin"]);
    let tree = repo.tree();
    let before = repo.snapshot();
    let switched = tree.switch_to("feature/remote").unwrap();
    assert!(switched.created());
    assert_eq!(repo.git(&["rev-parse", "--abbrev-ref", "feature/remote@{upstream}"]).trim(), "origin/feature/remote");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), repo.git(&["rev-parse", "origin/feature/remote"]));
    switched.undo(&tree).unwrap();
    assert_eq!(repo.snapshot(), before);

    // A remote-tracking ref without a configured remote still works (no tracking then).
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["remote", "remove", "origin"]);
    repo.git(&["update-ref", "refs/remotes/origin/feature/loose", &head]);
    let before = repo.snapshot();
    let switched = tree.switch_to("feature/loose").unwrap();
    assert_eq!(tree.current_branch().unwrap(), BranchState::Branch("feature/loose".into()));
    switched.undo(&tree).unwrap();
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn switching_from_a_detached_head_and_undoing_it() {
    let repo = Repo::new();
    repo.git(&["switch", "-q", "--detach", "HEAD"]);
    let tree = repo.tree();
    let before = repo.snapshot();
    let switched = tree.switch_to("feature/d").unwrap();
    assert_eq!(tree.current_branch().unwrap(), BranchState::Branch("feature/d".into()));
    switched.undo(&tree).unwrap();
    assert_eq!(tree.current_branch().unwrap(), BranchState::Detached);
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn commit_paths_commits_exactly_the_given_paths() {
    let repo = Repo::new();
    repo.write(".gitignore", "*.log\n");
    repo.git(&["add", ".gitignore"]);
    repo.git(&["commit", "-q", "-m", "ignore logs"]);
    repo.git(&["switch", "-q", "-c", "feature/demo"]);
    // The user's own work: a staged new file, a staged edit, an untracked file, an unstaged edit.
    repo.write("user-staged.txt", "mine\n");
    repo.git(&["add", "user-staged.txt"]);
    repo.write("README.md", "hello, edited\n");
    repo.git(&["add", "README.md"]);
    repo.write("README.md", "hello, edited twice\n");
    repo.write("notes.txt", "untracked\n");
    // The scaffold, one of them ignored.
    let dir = "kitty-specs/demo-01ABCDEF";
    for (rel, text) in
        [("meta.json", "{}\n"), ("status.events.jsonl", ""), ("tasks/README.md", "# tasks\n"), ("tasks/.gitkeep", ""), ("debug.log", "x\n")]
    {
        repo.write(&format!("{dir}/{rel}"), text);
    }
    repo.write(&format!("{dir}/spec.md"), "# not committed\n");
    let rels =
        ["meta.json", "status.events.jsonl", "tasks/README.md", "tasks/.gitkeep", "debug.log"].map(|r| PathBuf::from(format!("{dir}/{r}")));
    let paths: Vec<&Path> = rels.iter().map(PathBuf::as_path).collect();
    let tree = repo.tree();
    let parent = repo.git(&["rev-parse", "HEAD"]);

    let sha = tree.commit_paths(&paths, "Add scaffold for feature demo-01ABCDEF").unwrap();
    assert_eq!(sha, repo.git(&["rev-parse", "HEAD"]).trim());
    assert_eq!(repo.git(&["rev-parse", "HEAD^"]), parent);
    assert_eq!(repo.git(&["log", "-1", "--format=%B"]), "Add scaffold for feature demo-01ABCDEF\n\n");
    let mut committed: Vec<String> = repo.git(&["show", "--name-only", "--format=", "HEAD"]).lines().map(str::to_string).collect();
    committed.sort();
    let mut expected: Vec<String> = rels.iter().map(|p| p.to_str().unwrap().to_string()).collect();
    expected.sort();
    assert_eq!(committed, expected);
    assert_eq!(repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(), "feature/demo");

    let status = repo.git(&["status", "--porcelain=v1", "--untracked-files=all"]);
    let mut status: Vec<&str> = status.lines().collect();
    status.sort_unstable();
    assert_eq!(status, ["?? kitty-specs/demo-01ABCDEF/spec.md", "?? notes.txt", "A  user-staged.txt", "MM README.md"]);
    assert_eq!(repo.git(&["show", ":README.md"]), "hello, edited\n");

    // The origin-binding commit: only meta.json.
    repo.write(&format!("{dir}/meta.json"), "{\"origin\": 1}\n");
    let meta = PathBuf::from(format!("{dir}/meta.json"));
    tree.commit_paths(&[&meta], "Add origin-ticket binding for feature demo-01ABCDEF").unwrap();
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=%s", "HEAD"]),
        format!("Add origin-ticket binding for feature demo-01ABCDEF\n\n{dir}/meta.json\n")
    );

    // Again, unchanged: nothing to commit, and nothing changes.
    let before = repo.snapshot();
    assert!(matches!(tree.commit_paths(&[&meta], "again"), Err(GitError::NothingToCommit { .. })));
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn commit_paths_refuses_paths_outside_the_tree_and_directories() {
    let repo = Repo::new();
    repo.write("d/f.txt", "f\n");
    let tree = repo.tree();
    let before = repo.snapshot();
    for bad in ["/etc/passwd", "../x", "d/../../x", "", ".", "d"] {
        assert!(matches!(tree.commit_paths(&[Path::new(bad)], "m"), Err(GitError::InvalidPath { .. })), "{bad:?}");
    }
    assert!(matches!(tree.commit_paths(&[], "m"), Err(GitError::InvalidPath { .. })));
    assert_eq!(repo.snapshot(), before);
    // Literal paths: a glob character is a file name, not a pattern.
    repo.write("d/[a].txt", "a\n");
    tree.commit_paths(&[Path::new("d/[a].txt")], "m").unwrap();
    assert_eq!(repo.git(&["show", "--name-only", "--format=", "HEAD"]), "d/[a].txt\n");
}

#[test]
fn discover_finds_the_top_level_and_ignores_non_repos() {
    let repo = Repo::new();
    repo.write("sub/dir/file.txt", "x\n");
    let tree = WorkTree::discover(&repo.path().join("sub/dir")).unwrap().unwrap();
    assert_eq!(tree.root().canonicalize().unwrap(), repo.path().canonicalize().unwrap());

    let plain = tempfile::tempdir().unwrap();
    assert_eq!(WorkTree::discover(plain.path()).unwrap(), None);
    assert_eq!(WorkTree::discover(&plain.path().join("missing")).unwrap(), None);
    assert_eq!(WorkTree::discover(&repo.path().join(".git")).unwrap(), None);
}

#[test]
fn missing_git_is_none_outside_a_repo_and_an_error_inside() {
    let git = Git::new("/nonexistent/kitty-git-test/git");
    let plain = tempfile::tempdir().unwrap();
    assert_eq!(WorkTree::discover_with(git.clone(), plain.path()).unwrap(), None);
    let repo = Repo::new();
    let err = WorkTree::discover_with(git, repo.path()).unwrap_err();
    assert!(matches!(err, GitError::NotInstalled { .. }));
    assert!(err.message().contains("Install git"), "{}", err.message());
}

#[cfg(unix)]
fn fake_git(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-git");
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Whether `pid` is a live (not zombie) process.
#[cfg(target_os = "linux")]
fn running(pid: &str) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(not(target_os = "linux"))]
fn running(pid: &str) -> bool {
    Command::new("kill").args(["-0", pid]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

#[cfg(unix)]
#[test]
fn a_hanging_git_is_killed_at_the_timeout() {
    let scratch = tempfile::tempdir().unwrap();
    let pids = scratch.path().join("pids");
    let program = fake_git(scratch.path(), &format!("echo $$ > '{0}'\nsleep 30 &\necho $! >> '{0}'\nwait", pids.display()));
    let git = Git::new(&program).with_timeout(Duration::from_millis(500));
    let repo = Repo::new();

    let started = Instant::now();
    let err = WorkTree::discover_with(git.clone(), repo.path()).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, GitError::TimedOut { after, .. } if after == Duration::from_millis(500)), "{err:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(err.message().contains("did not finish within 0.5 s"), "{}", err.message());

    let pids = fs::read_to_string(&pids).unwrap();
    let pids: Vec<&str> = pids.split_whitespace().collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    let deadline = Instant::now() + Duration::from_secs(2);
    while pids.iter().any(|p| running(p)) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    for pid in &pids {
        assert!(!running(pid), "process {pid} is still running");
    }

    // Every other call is bounded the same way.
    let tree = WorkTree::at(repo.path(), git);
    assert!(matches!(tree.current_branch(), Err(GitError::TimedOut { .. })));
    assert_eq!(tree.remote_default_branch(), None);
}

#[cfg(unix)]
#[test]
fn output_is_capped_at_one_mebibyte() {
    let scratch = tempfile::tempdir().unwrap();
    let program = fake_git(scratch.path(), "head -c 3145728 /dev/zero\nhead -c 2097152 /dev/zero >&2\nexit 3");
    let git = Git::new(&program).with_timeout(Duration::from_secs(10));
    let out = git.run(scratch.path(), &args(["anything"]), &[]).unwrap();
    assert_eq!(out.code, Some(3));
    assert_eq!(out.stdout.len(), MAX_OUTPUT_BYTES);
    assert_eq!(out.stderr.len(), MAX_OUTPUT_BYTES);
}

#[test]
fn failed_commands_say_what_failed() {
    let repo = Repo::new();
    repo.write("local.txt", "mine\n");
    repo.git(&["switch", "-q", "-c", "feature/other"]);
    repo.write("local.txt", "theirs\n");
    repo.git(&["add", "local.txt"]);
    repo.git(&["commit", "-q", "-m", "other"]);
    repo.git(&["switch", "-q", "main"]);
    repo.write("local.txt", "mine\n");
    let tree = repo.tree();
    let before = repo.snapshot();
    // An untracked file the switch would overwrite: git refuses, nothing changes.
    let err = tree.switch_to("feature/other").unwrap_err();
    assert!(matches!(&err, GitError::CommandFailed { status: Some(_), stderr, .. } if stderr.contains("local.txt")), "{err:?}");
    assert!(err.message().contains("switch --end-of-options feature/other"), "{}", err.message());
    assert_eq!(repo.snapshot(), before);
}
