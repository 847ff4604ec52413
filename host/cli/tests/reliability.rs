//! The promises under a hostile world: `kill -9` at random instants, parallel
//! starts and flushes, a hostile control plane and hostile local files.
//! Every wait is bounded; a failing random run prints its seed
//! (`KITTY_ORIGIN_CRASH_SEED=<seed>` replays it).

mod common;
#[path = "../../tests/common/events.rs"]
mod events;

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// `kitty-origin args...` in `s`'s repo against `url`, not waited for.
fn spawn(s: &Scratch, url: &str, args: &[&str]) -> Child {
    spawn_in(s.repo.path(), s.home.path(), url, args)
}

/// `kitty-origin args...` in `repo` with the state directory `home`, not waited for.
fn spawn_in(repo: &Path, home: &Path, url: &str, args: &[&str]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kitty-origin"));
    cmd.arg("--repo").arg(repo).args(args);
    test_env(&mut cmd, home, Some(url)).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits for `child` at most `limit`, killing it past that; its exit code (None: killed).
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<i32> {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a kitty-origin process ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Ticket keys of the dev control plane's Linear team.
const KEYS: [&str; 16] = [
    "WEB-101", "WEB-104", "WEB-108", "WEB-112", "WEB-115", "WEB-118", "WEB-121", "WEB-123", "WEB-124", "WEB-127", "WEB-130", "WEB-133",
    "WEB-136", "WEB-139", "WEB-142", "WEB-145",
];

/// A tiny seeded generator (xorshift), so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn seed() -> u64 {
    std::env::var("KITTY_ORIGIN_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_c0de_2026)
}

/// Every file under `dir` (not following links), relative.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

/// The promises after a crash and one later command, checked in `repo`
/// against what the control plane recorded. Returns the missions' meta.
fn check_repaired(repo: &Path, saas: &DevSaasServer, outbox_ids: &BTreeSet<String>) -> Result<Vec<Value>, String> {
    let mut metas = Vec::new();
    let specs = repo.join("kitty-specs");
    for entry in std::fs::read_dir(&specs).into_iter().flatten().flatten() {
        let dir = entry.path();
        for needed in ["meta.json", "status.events.jsonl", "spec.md", "tasks/README.md", "tasks/.gitkeep"] {
            if !dir.join(needed).is_file() {
                return Err(format!("partial mission {}: no {needed}", dir.display()));
            }
        }
        let text = std::fs::read_to_string(dir.join("meta.json")).map_err(|e| e.to_string())?;
        metas.push(serde_json::from_str::<Value>(&text).map_err(|e| format!("{} does not parse: {e}", dir.display()))?);
    }
    let by_id: HashMap<&str, &Value> = metas.iter().filter_map(|m| Some((m["mission_id"].as_str()?, m))).collect();
    let delivered: BTreeSet<String> = saas.events().iter().filter_map(|e| Some(e["event_id"].as_str()?.to_string())).collect();
    for (mission_id, issue) in saas.links() {
        let Some(meta) = by_id.get(mission_id.as_str()) else { continue };
        if meta["origin_ticket"]["external_issue_id"] != issue.as_str() {
            return Err(format!("the control plane bound {mission_id} to {issue}, but its meta.json says {}", meta["origin_ticket"]));
        }
        let event_id = spec_kitty_origin::events::derived_id(&mission_id, &["MissionOriginBound", &issue]);
        if !delivered.contains(&event_id) && !outbox_ids.contains(&event_id) {
            return Err(format!("the MissionOriginBound event of {mission_id} was lost"));
        }
    }
    let leftovers: Vec<String> = files_under(repo)
        .into_iter()
        .filter(|f| !f.starts_with(".git") && !f.starts_with(".kittify/origin/.gitignore") && !f.starts_with(".kittify/config.yaml"))
        .filter(|f| f.starts_with(".kittify/origin") || f.extension().is_some_and(|e| e == "tmp"))
        .map(|f| f.display().to_string())
        .collect();
    if !leftovers.is_empty() {
        return Err(format!("left behind: {leftovers:?}"));
    }
    Ok(metas)
}

fn outbox_ids(s: &Scratch) -> BTreeSet<String> {
    outbox_ids_in(s.home.path())
}

/// The event ids in the outbox of the state directory `home`.
fn outbox_ids_in(home: &Path) -> BTreeSet<String> {
    let access = kitty_origin_host::SaasAccess { origin: None, credentials: None };
    let outbox = kitty_origin_host::outbox::Outbox::open(home, access).unwrap();
    outbox.pending().unwrap().iter().filter_map(|q| Some(q.envelope["event_id"].as_str()?.to_string())).collect()
}

#[test]
fn a_kill_at_any_instant_of_start_or_bind_is_repaired_by_the_next_command() {
    let saas = DevSaasServer::start(&[]);
    let mut rng = Rng(seed());
    let runs = 100;
    let mut bound_runs = 0;
    let mut recovered_runs = 0;
    // One state directory for every run: the component is compiled once, so
    // the kills land in the work itself, not in the first compile.
    let home = tempfile::tempdir().unwrap();
    let warm = Scratch::new(Some(LINEAR));
    let mut warmup = spawn_in(warm.repo.path(), home.path(), &saas.url, &["--json", "search", "--key", "WEB-123"]);
    assert_eq!(wait_bounded(&mut warmup, Duration::from_secs(60)), Some(0));
    for run in 0..runs {
        let s = Scratch::new(Some(LINEAR));
        let key = KEYS[usize::try_from(rng.below(KEYS.len() as u64)).unwrap()].to_string();
        let binding = run % 3 == 2;
        let args: Vec<String> = if binding {
            let meta = serde_json::json!({"mission_id": ulid::Ulid::new().to_string(), "mission_slug": "existing"});
            s.write("kitty-specs/existing/meta.json", &format!("{meta}\n"));
            for scaffold in ["status.events.jsonl", "spec.md", "tasks/README.md", "tasks/.gitkeep"] {
                s.write(&format!("kitty-specs/existing/{scaffold}"), "");
            }
            let mission = s.repo.path().join("kitty-specs/existing");
            ["bind", "--mission", mission.to_str().unwrap(), "--key", &key, "--yes"].map(String::from).to_vec()
        } else {
            ["start", "--key", &key, "--yes"].map(String::from).to_vec()
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let delay = rng.below(70);
        let mut child = spawn_in(s.repo.path(), home.path(), &saas.url, &args);
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL, wherever it is (or a no-op if it finished)
        let _ = child.wait();
        // One later command: it repairs, then delivers.
        let mut later = spawn_in(s.repo.path(), home.path(), &saas.url, &["--json", "events", "flush"]);
        let code = wait_bounded(&mut later, Duration::from_secs(60));
        let mut said = String::new();
        later.stderr.take().unwrap().read_to_string(&mut said).unwrap();
        recovered_runs += usize::from(said.contains("completed the interrupted origin bind"));
        let context = format!("seed {:#x}, run {run} ({args:?}, killed after {delay} ms)", seed());
        assert!(code.is_some(), "{context}");
        let result = check_repaired(s.repo.path(), &saas, &outbox_ids_in(home.path()));
        match result {
            Err(why) => panic!("{why} — {context}"),
            Ok(metas) => bound_runs += usize::from(metas.iter().any(|m| m["origin_ticket"].is_object())),
        }
        // The binding mission, whatever happened, is never half-bound: meta parses and a start works again.
        if binding && run % 30 == 2 {
            let mut again = spawn_in(s.repo.path(), home.path(), &saas.url, &["--json", "start", "--key", &key, "--yes"]);
            assert_eq!(wait_bounded(&mut again, Duration::from_secs(60)), Some(0), "{context}");
        }
    }
    // The kills landed everywhere: some runs finished their bind (by themselves or by recovery), some did not start it.
    assert!(bound_runs > runs / 4 && bound_runs < runs, "{bound_runs} of {runs} runs ended bound");
    assert!(recovered_runs > 0, "no kill landed between the journal and the end of a bind ({bound_runs} bound)");
    eprintln!("{runs} runs: {bound_runs} ended bound, {recovered_runs} of them completed by the recovery");
}

#[test]
fn parallel_starts_with_kills_never_share_a_directory_and_survivors_are_whole() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let mut rng = Rng(seed() ^ 0xabcd);
    let mut children: Vec<(Child, bool)> = (0..16)
        .map(|i| {
            let key = KEYS[i];
            (spawn(&s, &saas.url, &["--json", "start", "--key", key, "--yes"]), rng.below(4) == 0)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(rng.below(300)));
    for (child, kill) in &mut children {
        if *kill {
            let _ = child.kill();
        }
    }
    let mut finished = Vec::new();
    for (child, _) in &mut children {
        if let Some(0) = wait_bounded(child, Duration::from_secs(120)) {
            let mut out = String::new();
            child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
            finished.push(serde_json::from_str::<Value>(&out).unwrap()["feature_dir"].as_str().unwrap().to_string());
        }
    }
    let unique: BTreeSet<&String> = finished.iter().collect();
    assert_eq!(unique.len(), finished.len(), "two starts reported one directory: {finished:?}");
    let mut later = spawn(&s, &saas.url, &["--json", "events", "flush"]);
    wait_bounded(&mut later, Duration::from_secs(120));
    let metas = check_repaired(s.repo.path(), &saas, &outbox_ids(&s)).unwrap_or_else(|why| panic!("{why} (seed {:#x})", seed()));
    let ids: BTreeSet<&str> = metas.iter().filter_map(|m| m["mission_id"].as_str()).collect();
    assert_eq!(ids.len(), metas.len(), "one mission per directory");
    assert!(metas.len() >= finished.len());
}

#[test]
fn four_parallel_flushes_send_each_event_once() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    {
        let access = kitty_origin_host::SaasAccess {
            origin: Some(kitty_origin_host::SaasOrigin::parse(&saas.url).unwrap()),
            credentials: Some(kitty_origin_host::Credentials { token: TOKEN.into(), team_slug: "acme".into() }),
        };
        let outbox = kitty_origin_host::outbox::Outbox::open(s.home.path(), access).unwrap();
        for n in 0..600 {
            outbox.enqueue(&events::event(n)).unwrap();
        }
    }
    let mut flushes: Vec<Child> = (0..4).map(|_| spawn(&s, &saas.url, &["--json", "events", "flush"])).collect();
    for flush in &mut flushes {
        assert_eq!(wait_bounded(flush, Duration::from_secs(120)), Some(0));
    }
    let mut sent: HashMap<String, usize> = HashMap::new();
    for request in saas.requests().iter().filter(|r| r.path == "/api/v1/events/batch/") {
        for event in request.body["events"].as_array().unwrap() {
            *sent.entry(event["event_id"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    assert_eq!(sent.len(), 600);
    assert!(sent.values().all(|n| *n == 1), "an event was sent twice: {:?}", sent.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>());
    assert_eq!(outbox_ids(&s).len(), 0);
}

#[test]
fn rejected_events_become_dead_letters_with_the_reason_and_can_be_retried() {
    let rejecting = DevSaasServer::start(&["--fail-events", "reject"]);
    let (url, addr) = (rejecting.url.clone(), rejecting.addr());
    let s = Scratch::new(Some(LINEAR));
    s.run(Some(&url), &["--json", "start", "--key", "WEB-123", "--yes"]).ok_json();
    for _ in 0..3 {
        s.run(Some(&url), &["--json", "events", "flush"]).assert_error(1, "events_undelivered");
    }
    let listed = s.run(None, &["--json", "events", "list"]).ok_json();
    let events = listed["events"].as_array().unwrap();
    assert!(events.iter().all(|e| e["state"] == "dead"), "{listed}");
    assert!(events[0]["last_error"].as_str().unwrap().contains("schema validation"), "{listed}");
    let text = s.run(None, &["events", "list"]);
    assert!(text.stdout.contains("DEAD (rejected)"), "{text:?}");
    drop(rejecting);
    let up = DevSaasServer::start_on(&addr, &[]);
    let plain = s.run(Some(&up.url), &["--json", "events", "flush"]);
    plain.assert_error(1, "events_undelivered");
    assert!(up.events().is_empty(), "dead letters wait for --include-rejected");
    let retried = s.run(Some(&up.url), &["--json", "events", "flush", "--include-rejected"]).ok_json();
    assert_eq!(retried["delivered"], 3);
    assert_eq!(up.events().len(), 3);
}

/// How a hostile control plane answers a connection.
type Responder = fn(&mut std::net::TcpStream);

/// A control plane that answers every connection with `respond`.
struct Hostile {
    url: String,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Hostile {
    fn start(respond: Responder) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut head = [0u8; 8192];
                    let _ = stream.read(&mut head);
                    respond(&mut stream);
                });
            }
        });
        Self { url, connections }
    }
}

fn answer(stream: &mut std::net::TcpStream, status: &str, body: &[u8]) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(body);
}

#[test]
fn a_hostile_control_plane_gets_a_bounded_typed_error() {
    let cases: [(&str, Responder, &str); 8] = [
        (
            "drips its answer",
            |s| {
                let _ = write!(s, "HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n");
                for _ in 0..100 {
                    if s.write_all(b" ").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            },
            "timed_out",
        ),
        (
            "resets mid-body",
            |s| {
                let _ = write!(s, "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{{\"candidates\": [");
                let _ = s.shutdown(std::net::Shutdown::Both);
            },
            "control_plane_unreachable",
        ),
        ("answers malformed JSON", |s| answer(s, "200 OK", b"{\"candidates\": [{\"title\": 3"), "unexpected_response"),
        ("answers wrongly typed JSON", |s| answer(s, "200 OK", br#"{"candidates": "none", "resource_type": 7}"#), "unexpected_response"),
        (
            "answers 50 MB",
            |s| {
                let _ = write!(s, "HTTP/1.1 200 OK\r\ncontent-length: 52428800\r\n\r\n");
                let chunk = vec![b' '; 1 << 20];
                for _ in 0..50 {
                    if s.write_all(&chunk).is_err() {
                        return;
                    }
                }
            },
            "unexpected_response",
        ),
        (
            "redirects elsewhere",
            |s| {
                let _ = write!(s, "HTTP/1.1 302 Found\r\nlocation: http://evil.example/steal\r\ncontent-length: 0\r\n\r\n");
            },
            "unexpected_response",
        ),
        (
            "answers garbage",
            |s| {
                let _ = s.write_all(b"\x00\x01garbage\r\n\r\n\xff\xfe");
            },
            "control_plane_unreachable",
        ),
        (
            "sends huge headers",
            |s| {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nx-huge: {}\r\ncontent-length: 2\r\n\r\n{{}}", "a".repeat(1 << 20));
            },
            "control_plane_unreachable",
        ),
    ];
    for (what, respond, code) in cases {
        let hostile = Hostile::start(respond);
        let s = Scratch::new(Some(LINEAR));
        let mut child = spawn(&s, &hostile.url, &["--json", "search", "--key", "WEB-123"]);
        let exit = wait_bounded(&mut child, Duration::from_secs(40));
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert_eq!(exit, Some(1), "{what}: {out}");
        let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{what}: {e}: {out}"));
        assert_eq!(json["error"]["code"], code, "{what}: {json}");
    }
}

#[test]
fn a_retry_after_of_zero_is_not_a_storm() {
    let hostile = Hostile::start(|s| answer(s, "429 Too Many Requests", br#"{"retry_after_seconds": 0}"#));
    let s = Scratch::new(Some(LINEAR));
    let mut child = spawn(&s, &hostile.url, &["--json", "search", "--key", "WEB-123"]);
    assert_eq!(wait_bounded(&mut child, Duration::from_secs(40)), Some(1));
    let requests = hostile.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(requests <= 10_000 / 250 + 1, "{requests} requests in 10 s");
}

#[test]
fn hostile_local_files_get_clear_errors_not_hangs() {
    let saas = DevSaasServer::start(&[]);
    // A FIFO as config.yaml.
    let s = Scratch::new(None);
    std::fs::create_dir_all(s.repo.path().join(".kittify")).unwrap();
    assert!(Command::new("mkfifo").arg(s.repo.path().join(".kittify/config.yaml")).status().unwrap().success());
    let mut child = spawn(&s, &saas.url, &["--json", "search", "--key", "WEB-123"]);
    assert_eq!(wait_bounded(&mut child, Duration::from_secs(20)), Some(1));
    // Huge and deeply nested config files.
    for text in
        ["x: ".to_string() + &"a".repeat(2 << 20), format!("tracker:\n  provider: linear\n  project_slug: x\nz: {}\n", "[".repeat(100_000))]
    {
        let s = Scratch::new(Some(&text));
        let mut child = spawn(&s, &saas.url, &["--json", "search", "--key", "WEB-123"]);
        assert_eq!(wait_bounded(&mut child, Duration::from_secs(20)), Some(1));
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert!(out.contains("invalid_tracker_config"), "{out}");
    }
    // A FIFO as meta.json.
    let s = Scratch::new(Some(LINEAR));
    std::fs::create_dir_all(s.repo.path().join("kitty-specs/fifo")).unwrap();
    assert!(Command::new("mkfifo").arg(s.repo.path().join("kitty-specs/fifo/meta.json")).status().unwrap().success());
    let mission = s.repo.path().join("kitty-specs/fifo");
    let mut child = spawn(&s, &saas.url, &["--json", "bind", "--mission", mission.to_str().unwrap(), "--key", "WEB-123", "--yes"]);
    assert_eq!(wait_bounded(&mut child, Duration::from_secs(20)), Some(1));
    // A huge .git/HEAD: the mission plans on main.
    s.write(".git/HEAD", &"x".repeat(4 << 20));
    let started = s.run(Some(&saas.url), &["--json", "start", "--key", "WEB-123", "--yes"]).ok_json();
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(started["feature_dir"].as_str().unwrap()).join("meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["target_branch"], "main");
}

#[test]
fn authority_cannot_widen() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    // A mission with no repo above it: nothing is preopened, nothing sent.
    let lone = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(lone.path().join("kitty-specs/m")).unwrap();
    std::fs::write(lone.path().join("kitty-specs/m/meta.json"), "{}").unwrap();
    s.run(
        Some(&saas.url),
        &["--json", "bind", "--mission", lone.path().join("kitty-specs/m").to_str().unwrap(), "--key", "WEB-123", "--yes"],
    )
    .assert_error(1, "no_tracker_binding");
    s.run(Some(&saas.url), &["--json", "bind", "--mission", "/", "--key", "WEB-123", "--yes"]).assert_error(1, "invalid_metadata");
    // A mission reached through a symlink into another repo.
    let other = Scratch::new(Some(LINEAR));
    other.write("kitty-specs/theirs/meta.json", "{\"mission_slug\": \"theirs\"}\n");
    std::fs::create_dir_all(s.repo.path().join("kitty-specs")).unwrap();
    std::os::unix::fs::symlink(other.repo.path().join("kitty-specs/theirs"), s.repo.path().join("kitty-specs/link")).unwrap();
    let err = s
        .run(Some(&saas.url), &["--json", "bind", "--mission", "kitty-specs/link", "--key", "WEB-123", "--yes"])
        .assert_error(1, "invalid_metadata");
    assert!(err["error"]["message"].as_str().unwrap().contains("another repo"), "{err}");
    assert!(!std::fs::read_to_string(other.repo.path().join("kitty-specs/theirs/meta.json")).unwrap().contains("origin_ticket"));
    // Plain http to another machine, and credentials in the URL.
    s.run(Some("http://saas.example.com"), &["--json", "search", "--key", "WEB-123"]).assert_error(1, "invalid_configuration");
    s.run(Some(&saas.url.replace("http://", "http://user:pw@")), &["--json", "search", "--key", "WEB-123"])
        .assert_error(1, "invalid_configuration");
    // The state directory inside the repo.
    let inside = Command::new(env!("CARGO_BIN_EXE_kitty-origin"))
        .args(["--json", "--repo"])
        .arg(s.repo.path())
        .args(["search", "--key", "WEB-123"])
        .env("KITTY_ORIGIN_HOME", s.repo.path().join(".state"))
        .env("KITTY_ORIGIN_COMPONENT", wasm_path())
        .env("SPEC_KITTY_TOKEN", TOKEN)
        .env("SPEC_KITTY_TEAM_SLUG", "acme")
        .env("SPEC_KITTY_SAAS_URL", &saas.url)
        .output()
        .unwrap();
    assert_eq!(inside.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&inside.stdout).contains("outside the repo"), "{inside:?}");
    assert!(saas.requests().is_empty(), "nothing was sent");
    // The outbox is private.
    s.run(Some(&saas.url), &["--json", "events", "list"]).ok_json();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.home.path().join("outbox.sqlite3")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn remote_text_is_cleaned_before_it_reaches_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures.json");
    std::fs::write(
        &fixtures,
        r#"{"projects": [{"project_slug": "acme-web", "provider": "linear", "resource_type": "linear_team", "resource_id": "t",
            "tickets": [{"external_issue_id": "1", "external_issue_key": "WEB-1", "title": "Evil \u001b[2J\u001b]0;pwned\u0007 title",
                         "status": "To\rDo", "url": "https://x/\u001b[31m", "body": "b"}]}]}"#,
    )
    .unwrap();
    let saas = DevSaasServer::start(&["--fixtures", fixtures.to_str().unwrap()]);
    let s = Scratch::new(Some(LINEAR));
    let out = s.run(Some(&saas.url), &["search", "--key", "WEB-1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains('\u{1b}') && !out.stdout.contains('\r') && !out.stdout.contains('\u{7}'), "{:?}", out.stdout);
    assert!(out.stdout.contains("Evil ?[2J?]0;pwned? title"), "{:?}", out.stdout);
}
