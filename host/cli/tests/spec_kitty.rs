//! Missions that the real Spec Kitty (PyPI `spec-kitty-cli` 3.2.7, installed by
//! `make test` into `<target>/spec-kitty-3.2.7`) accepts as its own: a repo set
//! up by `git init` and `spec-kitty init`, `kitty-origin start` against the dev
//! control plane, then Spec Kitty's readers and commands on the result, and a
//! side-by-side comparison with `spec-kitty agent mission create`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{DevSaasServer, TOKEN, target_dir, wasm_path};
use serde_json::Value;

/// The `spec-kitty` the Makefile installed.
fn spec_kitty_bin() -> PathBuf {
    let bin = target_dir().join("spec-kitty-3.2.7/bin/spec-kitty");
    assert!(bin.is_file(), "{} is missing: run `make test`, which installs spec-kitty-cli 3.2.7 there", bin.display());
    bin
}

/// Spec Kitty's environment: an isolated home, no upgrade checks, no prompts, no sync.
fn hermetic(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("SPEC_KITTY_NO_UPGRADE_CHECK", "1")
        .env("SPEC_KITTY_UPGRADE_DISABLED", "1")
        .env("SPEC_KITTY_NON_INTERACTIVE", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TZ", "UTC")
        .env("COLUMNS", "200")
        .env_remove("SPEC_KITTY_ENABLE_SAAS_SYNC")
        .env_remove("SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS")
        .env_remove("SPEC_KITTY_HOME")
        .env_remove("SPEC_KITTY_PACKS_ROOT");
}

fn run(cmd: &mut Command) -> Output {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn git(repo: &Path, args: &[&str]) -> String {
    String::from_utf8(run(Command::new("git").arg("-C").arg(repo).args(args)).stdout).unwrap()
}

/// A repo and its home as `git init` + `spec-kitty init --ai claude` left them,
/// with a Linear tracker binding and both committed; made once, copied per test.
fn initialised() -> &'static (PathBuf, PathBuf) {
    static TEMPLATE: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        // Earlier runs' templates: this test binary is their only user.
        for entry in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with("spec-kitty-template-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let root = tmp.join(format!("spec-kitty-template-{}", std::process::id()));
        let (repo, home) = (root.join("repo"), root.join("home"));
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        for (key, value) in [("user.name", "Dev"), ("user.email", "dev@example.com"), ("commit.gpgsign", "false")] {
            git(&repo, &["config", key, value]);
        }
        std::fs::write(repo.join("README.md"), "# acme-web\n").unwrap();
        git(&repo, &["add", "README.md"]);
        git(&repo, &["commit", "-q", "-m", "Initial commit"]);
        let mut init = Command::new(spec_kitty_bin());
        init.args(["init", "--ai", "claude", "--non-interactive"]).current_dir(&repo);
        hermetic(&mut init, &home);
        run(&mut init);
        let config = repo.join(".kittify/config.yaml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str("tracker:\n  provider: linear\n  project_slug: acme-web\n");
        std::fs::write(&config, text).unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "Initialize Spec Kitty"]);
        (repo, home)
    })
}

/// A fresh copy of the initialised repo and home.
struct Project {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    home: PathBuf,
    state: PathBuf,
}

impl Project {
    fn new() -> Self {
        let (repo, home) = initialised();
        let dir = tempfile::tempdir().unwrap();
        for source in [repo, home] {
            run(Command::new("cp").arg("-a").arg(source).arg(dir.path()));
        }
        Self { repo: dir.path().join("repo"), home: dir.path().join("home"), state: dir.path().join("state"), _dir: dir }
    }

    fn git(&self, args: &[&str]) -> String {
        git(&self.repo, args)
    }

    /// `spec-kitty args...` in the repo: stdout, and whether it succeeded.
    fn spec_kitty(&self, args: &[&str]) -> (bool, String) {
        let mut cmd = Command::new(spec_kitty_bin());
        cmd.args(args).current_dir(&self.repo);
        hermetic(&mut cmd, &self.home);
        let output = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let detail = format!("spec-kitty {args:?}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        (output.status.success(), if output.status.success() { stdout } else { detail })
    }

    /// `spec-kitty args... --json` that must succeed, as JSON.
    fn spec_kitty_json(&self, args: &[&str]) -> Value {
        let (ok, out) = self.spec_kitty(args);
        assert!(ok, "{out}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
    }

    /// `kitty-origin args...` in the repo against `saas`.
    fn kitty_origin(&self, saas: &DevSaasServer, args: &[&str]) -> (i32, Value) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kitty-origin"));
        cmd.arg("--repo").arg(&self.repo).arg("--json").args(args);
        hermetic(&mut cmd, &self.home);
        cmd.env("KITTY_ORIGIN_HOME", &self.state)
            .env("KITTY_ORIGIN_COMPONENT", wasm_path())
            .env("SPEC_KITTY_SAAS_URL", &saas.url)
            .env("SPEC_KITTY_TOKEN", TOKEN)
            .env("SPEC_KITTY_TEAM_SLUG", "acme")
            .env("PATH", format!("{}:{}", spec_kitty_bin().parent().unwrap().display(), std::env::var("PATH").unwrap_or_default()))
            .stdin(std::process::Stdio::null());
        let output = cmd.output().unwrap();
        let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!("no JSON ({e}): {}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
        });
        (output.status.code().unwrap_or(-1), json)
    }

    /// The files under `dir`, relative, directories marked with a trailing `/`.
    fn tree(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                if path.is_dir() {
                    out.push(format!("{rel}/"));
                    walk(base, &path, out);
                } else {
                    out.push(rel);
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn spec_kitty_accepts_a_kitty_origin_mission_as_its_own() {
    let p = Project::new();
    p.git(&["checkout", "-q", "-b", "feature/clerk"]);
    let saas = DevSaasServer::start(&[]);
    let (code, out) = p.kitty_origin(&saas, &["start", "--key", "WEB-123", "--yes"]);
    assert_eq!(code, 0, "{out}");
    let slug = out["feature_slug"].as_str().unwrap().to_string();
    let dir = PathBuf::from(out["feature_dir"].as_str().unwrap());

    let prerequisites = p.spec_kitty_json(&["agent", "mission", "check-prerequisites", "--mission", &slug, "--json"]);
    assert_eq!(
        (prerequisites["valid"].clone(), prerequisites["errors"].clone()),
        (Value::Bool(true), Value::Array(vec![])),
        "{prerequisites}"
    );
    assert_eq!(prerequisites["warnings"], Value::Array(vec![]), "{prerequisites}");
    let probe = p.spec_kitty_json(&["agent", "mission", "check-prerequisites", "--mission", &slug, "--resume-probe", "--json"]);
    assert_eq!(probe["resume_state"], "found", "{probe}");
    assert_eq!(probe["topology"], "single_branch");
    let lifecycle = p.spec_kitty_json(&["agent", "status", "lifecycle", "--mission", &slug, "--json"]);
    assert_eq!(
        (lifecycle["mission_slug"].as_str(), lifecycle["has_event_log"].as_bool()),
        (Some(slug.as_str()), Some(true)),
        "{lifecycle}"
    );
    let materialized = p.spec_kitty_json(&["agent", "status", "materialize", "--mission", &slug, "--json"]);
    assert_eq!(materialized["mission_type"], "software-dev", "{materialized}");
    let (ok, tasks) = p.spec_kitty(&["agent", "tasks", "status", "--mission", &slug, "--json"]);
    assert!(ok && tasks.contains("No work packages found"), "{tasks}");
    let identity = p.spec_kitty_json(&["doctor", "identity", "--json"]);
    assert_eq!(identity["missions"][0]["state"], "pending", "{identity}");
    assert_eq!(identity["missions"][0]["slug"], slug.as_str());
    let topology = p.spec_kitty_json(&["doctor", "topology", "--json"]);
    assert_eq!(topology["missions"][0]["topology"], "single_branch", "{topology}");
    assert_eq!(topology["missions"][0]["error"], Value::Null);
    let dashboard = p.spec_kitty_json(&["dashboard", "--json"]);
    let mission_id = out_mission_id(&dir);
    assert_eq!(dashboard["missions"][&mission_id]["mission_slug"], slug.as_str(), "{dashboard}");

    // Spec Kitty's own Python readers.
    let script = "import sys, json; from pathlib import Path\nfrom specify_cli.mission_metadata import load_meta, validate_meta, resolve_mission_identity\n\
                  d = Path(sys.argv[1]); meta = load_meta(d)\nprint(json.dumps({'problems': validate_meta(meta), 'origin': meta['origin_ticket']['external_issue_key'], 'id': resolve_mission_identity(d).mission_id}))";
    let python = spec_kitty_bin().parent().unwrap().join("python");
    let read = run(Command::new(python).args(["-c", script]).arg(&dir));
    let read: Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(read, serde_json::json!({"problems": [], "origin": "WEB-123", "id": mission_id}));

    // Committed the way Spec Kitty commits: the scaffold, then the origin; only spec.md stays untracked.
    let log = p.git(&["log", "--format=%s", "-2"]);
    assert_eq!(log, format!("Add origin-ticket binding for feature {slug}\nAdd scaffold for feature {slug}\n"));
    let scaffold = p.git(&["show", "--name-only", "--format=", "HEAD~1"]);
    let mut files: Vec<&str> = scaffold.lines().collect();
    files.sort();
    let expected: Vec<String> = ["meta.json", "status.events.jsonl", "tasks/.gitkeep", "tasks/README.md"]
        .iter()
        .map(|f| format!("kitty-specs/{slug}/{f}"))
        .collect();
    assert_eq!(files, expected);
    assert_eq!(p.git(&["show", "--name-only", "--format=", "HEAD"]).trim(), format!("kitty-specs/{slug}/meta.json"));
    let status = p.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(status, format!("?? kitty-specs/{slug}/spec.md\n?? kitty-specs/{slug}/status.json\n"), "materialize wrote status.json");
}

fn out_mission_id(dir: &Path) -> String {
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    meta["mission_id"].as_str().unwrap().to_string()
}

#[test]
fn the_mission_has_the_files_and_fields_spec_kittys_own_create_writes() {
    let ours = Project::new();
    let theirs = Project::new();
    for p in [&ours, &theirs] {
        p.git(&["checkout", "-q", "-b", "feature/clerk"]);
    }
    let saas = DevSaasServer::start(&[]);
    let (code, out) = ours.kitty_origin(&saas, &["start", "--key", "WEB-123", "--yes"]);
    assert_eq!(code, 0, "{out}");
    let our_dir = PathBuf::from(out["feature_dir"].as_str().unwrap());
    let created = theirs.spec_kitty_json(&[
        "agent",
        "mission",
        "create",
        "add-clerk-auth",
        "--topology",
        "single_branch",
        "--mission-type",
        "software-dev",
        "--json",
    ]);
    let their_dir = PathBuf::from(created["feature_dir"].as_str().unwrap());

    assert_eq!(Project::tree(&our_dir), Project::tree(&their_dir), "the same files and folders");
    for same in ["spec.md", "tasks/README.md", "tasks/.gitkeep"] {
        assert_eq!(std::fs::read(our_dir.join(same)).unwrap(), std::fs::read(their_dir.join(same)).unwrap(), "{same}");
    }
    let read = |dir: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap() };
    let (our_meta, their_meta) = (read(&our_dir), read(&their_dir));
    let mut our_keys = keys(&our_meta);
    our_keys.retain(|k| k != "origin_ticket");
    assert_eq!(our_keys, keys(&their_meta));
    for same in ["flattened", "mission_number", "mission_type", "target_branch", "topology"] {
        assert_eq!(our_meta[same], their_meta[same], "{same}");
    }
    let events = |dir: &Path| -> Vec<Value> {
        std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let (our_events, their_events) = (events(&our_dir), events(&their_dir));
    assert_eq!(our_events.len(), their_events.len());
    for (ours, theirs) in our_events.iter().zip(&their_events) {
        assert_eq!((ours["event_type"].clone(), keys(ours)), (theirs["event_type"].clone(), keys(theirs)));
        assert_eq!(keys(&ours["payload"]), keys(&theirs["payload"]), "{}", ours["event_type"]);
        assert_eq!(ours["schema_version"], theirs["schema_version"]);
        assert_eq!(ours["project_uuid"], theirs["project_uuid"]);
    }
    // One scaffold commit each, with the same files.
    let scaffold = |p: &Project, back: &str| -> Vec<String> {
        let names = p.git(&["show", "--name-only", "--format=", back]);
        let mut files: Vec<String> = names.lines().map(|l| l.rsplit_once('/').map_or(l, |(_, f)| f).to_string()).collect();
        files.sort();
        files
    };
    assert_eq!(scaffold(&ours, "HEAD~1"), scaffold(&theirs, "HEAD"));
}

#[test]
fn on_main_start_refuses_with_spec_kittys_advice_and_start_branch_works() {
    let p = Project::new();
    let saas = DevSaasServer::start(&[]);
    let (code, out) = p.kitty_origin(&saas, &["start", "--key", "WEB-123", "--yes"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["error"]["code"], "protected_branch", "{out}");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(message.contains("protected branch 'main'") && message.contains("--start-branch"), "{message}");
    assert!(!p.repo.join("kitty-specs").exists(), "nothing created");
    assert!(saas.requests().is_empty(), "nothing sent");
    assert_eq!(p.git(&["status", "--porcelain"]), "");

    let (code, out) = p.kitty_origin(&saas, &["start", "--key", "WEB-123", "--yes", "--start-branch", "feature/clerk"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(p.git(&["branch", "--show-current"]).trim(), "feature/clerk");
    assert_eq!(out["git"]["branch"], "feature/clerk");
    assert_eq!(out["git"]["commits"].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(p.git(&["log", "--format=%s", "main", "-1"]).trim(), "Initialize Spec Kitty", "main is untouched");
    let slug = out["feature_slug"].as_str().unwrap();
    let probe = p.spec_kitty_json(&["agent", "mission", "check-prerequisites", "--mission", slug, "--resume-probe", "--json"]);
    assert_eq!(probe["resume_state"], "found", "{probe}");
    assert_eq!(probe["target_branch"], "feature/clerk");
}
