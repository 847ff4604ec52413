//! `kitty-origin --repo R mcp` driven by a real MCP client, the official
//! Python SDK (PyPI `mcp` 2.3.0, installed by `make test` into
//! `<target>/mcp-2.3.0`), over stdio, against the dev control plane in
//! process: the tools and their schemas, a search, FR-011 through elicitation
//! (accepted, declined, cancelled) and through confirmation tokens for a
//! client without elicitation, and errors as tool errors. Every wait is bounded.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use kitty_origin_host::wire::{BIND_PATH, SEARCH_PATH};
use serde_json::{Value, json};

/// The longest one client run may take (each of its steps is bounded at 60 s by the script).
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// The venv's Python, with the `mcp` package (`.installed` marks a complete install).
fn python() -> PathBuf {
    let venv = target_dir().join("mcp-2.3.0");
    assert!(
        venv.join(".installed").is_file(),
        "{} is missing or incomplete: run `make test` (or `make mcp-client`), which installs PyPI mcp 2.3.0 there",
        venv.display()
    );
    venv.join("bin/python")
}

/// Waits for `child` at most `timeout`, reading its output meanwhile; kills it past that.
fn wait_bounded(mut child: Child, timeout: Duration) -> Run {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {timeout:?}, killed; stderr:\n{}", stderr.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run { code: status.code().unwrap_or(-1), stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

/// One MCP client session against `kitty-origin --repo <repo> mcp`: the
/// "developer" answers elicitation requests as `elicitation` says (none: the
/// client declares no elicitation). Returns the script's transcript.
fn session(s: &Scratch, saas: &DevSaasServer, elicitation: Option<&str>, steps: Value) -> Value {
    drive(s, saas, json!({"client": "session", "elicitation": elicitation, "steps": steps}))
}

/// Runs the client script with `plan` (see `mcp_client.py`) against this repo's server.
fn drive(s: &Scratch, saas: &DevSaasServer, mut plan: Value) -> Value {
    let repo = s.repo.path().to_str().unwrap();
    plan["server"] = json!([env!("CARGO_BIN_EXE_kitty-origin"), "--repo", repo, "mcp"]);
    plan["timeout"] = json!(60);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let mut cmd = Command::new(python());
    cmd.arg(script).arg(plan.to_string()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    s.env(&mut cmd, Some(&saas.url));
    let run = wait_bounded(cmd.spawn().unwrap(), RUN_TIMEOUT);
    assert_eq!(run.code, 0, "the MCP client failed: {run:?}");
    let transcript = run.json();
    assert_eq!(transcript["protocol_version"], "2025-11-25", "{transcript}");
    transcript
}

fn call(name: &str, arguments: Value) -> Value {
    json!({"call": name, "arguments": arguments})
}

/// A step's structured content, asserting it is not an error.
fn ok(step: &Value) -> &Value {
    assert_eq!(step["isError"], false, "{step}");
    &step["structuredContent"]
}

/// A step's error, asserting the `--json` error shape and `code`.
fn tool_error<'a>(step: &'a Value, code: &str) -> &'a Value {
    assert_eq!(step["isError"], true, "{step}");
    let error = &step["structuredContent"]["error"];
    assert_eq!(error["code"], code, "{step}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{step}");
    assert!(error["user_action_required"].is_boolean(), "{step}");
    assert_eq!(step["structuredContent"].as_object().unwrap().len(), 1, "only `error`: {step}");
    error
}

/// The paths the dev control plane was sent.
fn paths(saas: &DevSaasServer) -> Vec<String> {
    saas.requests().into_iter().map(|r| r.path).collect()
}

fn missions(s: &Scratch) -> Vec<String> {
    let dir = s.repo.path().join("kitty-specs");
    let mut names: Vec<String> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn the_three_tools_have_schemas_and_search_returns_the_cli_json() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let t = session(
        &s,
        &saas,
        None,
        json!([{"list_tools": true}, call("search_origin_candidates", json!({"query_text": "Clerk auth"})), call(
            "search_origin_candidates",
            json!({"query_key": "web-123", "limit": 5})
        )]),
    );
    assert_eq!(t["tools_capability"], true);
    let tools = t["steps"][0]["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|tool| tool["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["bind_mission_origin", "search_origin_candidates", "start_mission_from_ticket"]);
    let tool = |name: &str| tools.iter().find(|tool| tool["name"] == name).unwrap().clone();
    for tool in tools {
        assert!(tool["description"].as_str().unwrap().len() > 100, "an agent can act on it: {tool}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        for (name, property) in tool["inputSchema"]["properties"].as_object().unwrap() {
            assert!(property["description"].as_str().is_some_and(|d| !d.is_empty()), "{name} is described: {tool}");
        }
    }
    let search = tool("search_origin_candidates");
    assert_eq!(keys(&search["inputSchema"]["properties"]), ["limit", "query_key", "query_text"]);
    assert_eq!(search["inputSchema"]["properties"]["limit"]["minimum"], 1);
    assert_eq!(search["inputSchema"]["properties"]["limit"]["maximum"], 100);
    assert_eq!(search["inputSchema"]["properties"]["limit"]["default"], 10);
    assert_eq!(search["annotations"]["readOnlyHint"], true);
    let start = tool("start_mission_from_ticket");
    assert_eq!(keys(&start["inputSchema"]["properties"]), ["confirmation_token", "mission_type", "start_branch", "ticket_key"]);
    assert_eq!(start["inputSchema"]["required"], json!(["ticket_key"]));
    assert_eq!(start["inputSchema"]["properties"]["mission_type"]["default"], "software-dev");
    let bind = tool("bind_mission_origin");
    assert_eq!(keys(&bind["inputSchema"]["properties"]), ["confirmation_token", "mission", "ticket_key"]);
    let mut required: Vec<&str> = bind["inputSchema"]["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    required.sort();
    assert_eq!(required, ["mission", "ticket_key"]);

    let cli = s.run(Some(&saas.url), &["--json", "search", "--text", "Clerk auth"]).ok_json();
    assert_eq!(ok(&t["steps"][1]), &cli, "structuredContent is what `kitty-origin --json search` prints");
    assert_eq!(serde_json::from_str::<Value>(t["steps"][1]["text"][0].as_str().unwrap()).unwrap(), cli, "and so is the text content");
    let by_key = ok(&t["steps"][2]);
    assert_eq!(by_key["candidates"][0]["external_issue_key"], "WEB-123");
    assert_eq!(by_key["candidates"][0]["match_type"], "exact");
    assert!(missions(&s).is_empty());
}

#[test]
fn start_asks_the_developer_and_creates_the_mission_once_they_accept() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    s.write("kitty-specs/007-login/meta.json", LOGIN_META);
    let t = session(
        &s,
        &saas,
        Some("accept"),
        json!([
            call("start_mission_from_ticket", json!({"ticket_key": "web-123"})),
            call("bind_mission_origin", json!({"mission": "kitty-specs/007-login", "ticket_key": "WEB-121"})),
        ]),
    );
    let asked = t["elicitations"].as_array().unwrap();
    assert_eq!(asked.len(), 2, "one confirmation per call, even for a single exact match: {t}");
    let message = asked[0]["message"].as_str().unwrap();
    for shown in ["WEB-123", "Add Clerk auth", "In Progress", "https://linear.app/acme/issue/WEB-123/add-clerk-auth"] {
        assert!(message.contains(shown), "the message shows {shown}: {message}");
    }
    let schema = &asked[0]["requestedSchema"];
    assert_eq!(schema["properties"]["confirm"]["type"], "boolean", "{schema}");
    assert_eq!(schema["required"], json!(["confirm"]));

    let out = ok(&t["steps"][0]);
    assert_eq!(keys(out), ["event_delivery", "event_emitted", "feature_dir", "feature_slug", "git", "origin_ticket"]);
    assert_eq!(out["event_emitted"], true);
    assert_eq!(out["git"], json!({"branch": null, "commits": [], "problem": null}));
    let slug = out["feature_slug"].as_str().unwrap();
    assert!(slug.starts_with("web-123-add-clerk-auth-"), "{slug}");
    assert_eq!(missions(&s), ["007-login", slug]);
    let dir = PathBuf::from(out["feature_dir"].as_str().unwrap());
    assert_eq!(dir, s.repo.path().canonicalize().unwrap().join("kitty-specs").join(slug));
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["origin_ticket"], out["origin_ticket"]);
    assert_eq!(meta["origin_ticket"]["external_issue_key"], "WEB-123");
    assert_eq!(meta["mission_type"], "software-dev");
    assert!(dir.join("spec.md").is_file() && dir.join("status.events.jsonl").is_file());

    assert!(asked[1]["message"].as_str().unwrap().contains("WEB-121"), "{t}");
    let bound = ok(&t["steps"][1]);
    assert_eq!(keys(bound), ["event_delivery", "event_emitted", "git", "metadata", "origin_ticket"]);
    assert_eq!(bound["metadata"]["friendly_name"], "Login");
    assert_eq!(bound["origin_ticket"]["external_issue_key"], "WEB-121");
    let cli = s.run(Some(&saas.url), &["--json", "bind", "--mission", "kitty-specs/007-login", "--key", "WEB-121", "--yes"]).ok_json();
    assert_eq!(bound, &cli, "the same JSON as `kitty-origin --json bind` (a rebind to the same ticket is a no-op)");
    assert_eq!(paths(&saas).iter().filter(|p| *p == BIND_PATH).count(), 3, "{:?}", paths(&saas));
}

/// `meta.json` of a mission without an origin.
const LOGIN_META: &str =
    "{\"mission_id\": \"01JQ0000000000000000000007\", \"mission_slug\": \"007-login\", \"friendly_name\": \"Login\"}\n";

#[test]
fn a_client_that_probes_server_discover_first_falls_back_to_the_handshake_and_elicitation() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let steps = json!([call("start_mission_from_ticket", json!({"ticket_key": "WEB-127"}))]);
    let t = drive(&s, &saas, json!({"client": "auto", "elicitation": "accept", "steps": steps}));
    assert_eq!(t["elicitations"].as_array().unwrap().len(), 1, "{t}");
    let out = ok(&t["steps"][0]);
    assert_eq!(out["origin_ticket"]["external_issue_key"], "WEB-127");
    assert_eq!(missions(&s), [out["feature_slug"].as_str().unwrap()]);
}

#[test]
fn a_declined_or_cancelled_confirmation_writes_and_binds_nothing() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    s.write("kitty-specs/007-login/meta.json", LOGIN_META);
    let meta_before = std::fs::read_to_string(s.repo.path().join("kitty-specs/007-login/meta.json")).unwrap();
    for answer in ["decline", "cancel", "reject"] {
        let t = session(
            &s,
            &saas,
            Some(answer),
            json!([
                call("start_mission_from_ticket", json!({"ticket_key": "WEB-123"})),
                call("bind_mission_origin", json!({"mission": "kitty-specs/007-login", "ticket_key": "WEB-121"})),
            ]),
        );
        assert_eq!(t["elicitations"].as_array().unwrap().len(), 2, "{t}");
        assert!(t["elicitations"][1]["message"].as_str().unwrap().contains("007-login"), "{t}");
        for step in t["steps"].as_array().unwrap() {
            let error = tool_error(step, "cancelled");
            assert!(error["message"].as_str().unwrap().contains("no mission was created and nothing was bound"), "{error}");
        }
    }
    assert_eq!(missions(&s), ["007-login"], "no mission was created");
    assert_eq!(std::fs::read_to_string(s.repo.path().join("kitty-specs/007-login/meta.json")).unwrap(), meta_before);
    assert!(paths(&saas).iter().all(|p| p == SEARCH_PATH), "only searches reached the control plane: {:?}", paths(&saas));
}

#[test]
fn without_elicitation_a_one_time_token_confirms_the_ticket() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let start = |arguments: Value| call("start_mission_from_ticket", arguments);
    // The first call: a token, with nothing written or bound.
    let first = session(&s, &saas, None, json!([start(json!({"ticket_key": "WEB-123"}))]));
    let pending = ok(&first["steps"][0]).clone();
    assert_eq!(keys(&pending), ["confirmation_required", "confirmation_token", "expires_in_seconds", "message", "ticket"]);
    assert_eq!(pending["confirmation_required"], true);
    assert_eq!(pending["expires_in_seconds"], 600);
    assert_eq!(pending["ticket"]["external_issue_key"], "WEB-123");
    assert_eq!(pending["ticket"]["status"], "In Progress");
    let token = pending["confirmation_token"].as_str().unwrap();
    assert!(token.len() >= 32, "{token}");
    let message = pending["message"].as_str().unwrap();
    for said in ["developer", "Add Clerk auth", "In Progress", "https://linear.app/acme/issue/WEB-123/add-clerk-auth", token] {
        assert!(message.contains(said), "the message says {said}: {message}");
    }
    assert!(missions(&s).is_empty());
    assert_eq!(paths(&saas), [SEARCH_PATH], "nothing sent beyond the search");
    // Tokens live in the server process that issued them.
    let t = session(&s, &saas, None, json!([start(json!({"ticket_key": "WEB-123", "confirmation_token": token}))]));
    tool_error(&t["steps"][0], "confirmation_token_invalid");

    // One session: a token ("$TOKEN" is the last one returned), refused for
    // another ticket and another tool, used for its own, refused when reused.
    s.write("kitty-specs/007-login/meta.json", LOGIN_META);
    let t = session(
        &s,
        &saas,
        None,
        json!([
            start(json!({"ticket_key": "WEB-123"})),
            start(json!({"ticket_key": "WEB-127", "confirmation_token": "$TOKEN"})),
            call(
                "bind_mission_origin",
                json!({"mission": "kitty-specs/007-login", "ticket_key": "WEB-123", "confirmation_token": "$TOKEN"})
            ),
            start(json!({"ticket_key": "WEB-123", "confirmation_token": "$TOKEN"})),
            start(json!({"ticket_key": "WEB-123", "confirmation_token": "$TOKEN"})),
        ]),
    );
    let steps = t["steps"].as_array().unwrap();
    assert_eq!(ok(&steps[0])["confirmation_required"], true);
    let other = tool_error(&steps[1], "confirmation_token_mismatch");
    assert!(other["message"].as_str().unwrap().contains("WEB-127"), "{other}");
    tool_error(&steps[2], "confirmation_token_mismatch");
    let created = ok(&steps[3]);
    assert_eq!(keys(created), ["event_delivery", "event_emitted", "feature_dir", "feature_slug", "git", "origin_ticket"]);
    assert_eq!(created["origin_ticket"]["external_issue_key"], "WEB-123");
    assert_eq!(missions(&s), ["007-login", created["feature_slug"].as_str().unwrap()]);
    let reused = tool_error(&steps[4], "confirmation_token_used");
    assert!(reused["message"].as_str().unwrap().contains("without confirmation_token"), "{reused}");
    assert_eq!(missions(&s).len(), 2, "a reused token created nothing");
    assert_eq!(paths(&saas).iter().filter(|p| *p == BIND_PATH).count(), 1, "{:?}", paths(&saas));
    assert!(t["elicitations"].as_array().unwrap().is_empty());
}

#[test]
fn errors_are_tool_errors_with_the_cli_json_shape() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(None);
    let t = session(
        &s,
        &saas,
        Some("accept"),
        json!([
            call("search_origin_candidates", json!({"query_text": "x"})),
            call("start_mission_from_ticket", json!({"ticket_key": "WEB-123"})),
        ]),
    );
    let cli = s.run(Some(&saas.url), &["--json", "search", "--text", "x"]);
    assert_eq!(cli.code, 1);
    assert_eq!(t["steps"][0]["structuredContent"], cli.json(), "the same error as `kitty-origin --json search`");
    let error = tool_error(&t["steps"][0], "no_tracker_binding");
    assert_eq!(error["user_action_required"], true);
    tool_error(&t["steps"][1], "no_tracker_binding");
    assert!(t["elicitations"].as_array().unwrap().is_empty(), "nothing to confirm");

    let bound = Scratch::new(Some(LINEAR));
    let t = session(
        &bound,
        &saas,
        Some("accept"),
        json!([
            call("search_origin_candidates", json!({"query_text": "Clerk", "limit": 0})),
            call("start_mission_from_ticket", json!({"ticket_key": "WEB-999"})),
            call("bind_mission_origin", json!({"mission": "kitty-specs/nope", "ticket_key": "WEB-123"})),
        ]),
    );
    tool_error(&t["steps"][0], "invalid_query");
    tool_error(&t["steps"][1], "no_candidates");
    assert!(t["elicitations"].as_array().unwrap().len() <= 1, "{t}");
    assert_eq!(t["steps"][2]["isError"], true, "{t}");
    assert!(missions(&bound).is_empty());
}

#[test]
fn start_runs_the_git_preflight_before_searching() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let git = |args: &[&str]| {
        let out = Command::new("git").arg("-C").arg(s.repo.path()).args(args).stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "init"]);
    let t = session(&s, &saas, Some("accept"), json!([call("start_mission_from_ticket", json!({"ticket_key": "WEB-123"}))]));
    let error = tool_error(&t["steps"][0], "protected_branch");
    assert!(error["message"].as_str().unwrap().contains("start-branch"), "{error}");
    assert!(t["elicitations"].as_array().unwrap().is_empty());
    assert!(saas.requests().is_empty(), "nothing sent: {:?}", paths(&saas));
    assert!(missions(&s).is_empty());
}

#[test]
fn the_server_writes_only_mcp_on_stdout_and_exits_when_stdin_closes() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let serve = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kitty-origin"));
        cmd.arg("--repo").arg(s.repo.path()).arg("mcp").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        s.env(&mut cmd, Some(&saas.url));
        cmd.spawn().unwrap()
    };
    // Closed at once: a clean exit, nothing on stdout.
    let mut child = serve();
    drop(child.stdin.take());
    let run = wait_bounded(child, Duration::from_secs(30));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");

    // A session, then stdin closes.
    let mut child = serve();
    let mut stdin = child.stdin.take().unwrap();
    for message in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "search_origin_candidates", "arguments": {"query_key": "WEB-123"}}}),
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    // Read the answers as they come; close stdin once the search's is in.
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut text = String::new();
    while !text.contains("\"id\":3") {
        let line = lines_rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|e| panic!("no answer to the search ({e}): {text}"));
        text.push_str(&line);
        text.push('\n');
    }
    drop(stdin);
    let run = wait_bounded(child, Duration::from_secs(30));
    reader.join().unwrap();
    text.extend(lines_rx.try_iter().map(|line| line + "\n"));
    assert_eq!(run.code, 0, "a clean exit when stdin closes: {run:?}");
    let lines: Vec<Value> =
        text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect();
    assert!(lines.iter().all(|m| m["jsonrpc"] == "2.0"), "{text}");
    let answer = |id: u64| lines.iter().find(|m| m["id"] == id).unwrap_or_else(|| panic!("no answer to {id}: {text}"));
    assert_eq!(answer(1)["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(answer(2)["result"]["tools"].as_array().unwrap().len(), 3);
    assert_eq!(answer(3)["result"]["structuredContent"]["candidates"][0]["external_issue_key"], "WEB-123");
    assert!(run.stderr.contains("kitty-origin mcp:"), "logs go to stderr: {run:?}");
}
