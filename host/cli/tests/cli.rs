//! `kitty-origin` end to end against the dev control plane on loopback:
//! the six scenarios, every error class with its message and exit status,
//! the outbox across an outage and a restart, and the compiled-component cache.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::json;

const CANDIDATE_FIELDS: [&str; 6] = ["external_issue_id", "external_issue_key", "match_type", "status", "title", "url"];

/// Whether `name` is `<slug>-<mid8>`, Spec Kitty 3.2's mission directory name.
fn is_mission_dir_name(name: &str, slug: &str) -> bool {
    name.strip_prefix(slug)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|mid8| mid8.len() == 8 && mid8.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()))
}

#[test]
fn scenario_1_text_search_prints_the_search_origin_result() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let out = s.run(Some(&saas.url), &["--json", "search", "--text", "Clerk auth"]).ok_json();
    assert_eq!(keys(&out), ["candidates", "provider", "query_used", "resource_id", "resource_type"]);
    let found: Vec<&str> = out["candidates"].as_array().unwrap().iter().map(|c| c["external_issue_key"].as_str().unwrap()).collect();
    assert_eq!(found, ["WEB-123", "WEB-127"]);
    assert_eq!(keys(&out["candidates"][0]), CANDIDATE_FIELDS);
    assert_eq!(out["candidates"][0]["match_type"], "text");
    assert_eq!(
        (out["provider"].as_str(), out["resource_type"].as_str(), out["query_used"].as_str()),
        (Some("linear"), Some("linear_team"), Some("Clerk auth"))
    );
    let written: Vec<_> = std::fs::read_dir(s.repo.path().join(".kittify")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(written, ["config.yaml"], "a search writes nothing in the repo");

    let text = s.run(Some(&saas.url), &["search", "--text", "Clerk auth"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("1. WEB-123  Add Clerk auth  [In Progress]  (text)"), "{}", text.stdout);
}

#[test]
fn scenario_2_key_search_is_exact_and_case_insensitive() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(JIRA));
    let out = s.run(Some(&saas.url), &["--json", "search", "--key", "iam-42", "--text", "ignored"]).ok_json();
    assert_eq!(out["query_used"], "iam-42");
    assert_eq!(out["candidates"].as_array().unwrap().len(), 1);
    assert_eq!(out["candidates"][0]["external_issue_key"], "IAM-42");
    assert_eq!(out["candidates"][0]["match_type"], "exact");
    assert_eq!(out["resource_type"], "jira_project");
}

#[test]
fn scenario_3_no_match_is_an_empty_list_and_a_hint() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let out = s.run(Some(&saas.url), &["--json", "search", "--text", "quantum teleporter"]).ok_json();
    assert_eq!(out["candidates"], json!([]));
    let text = s.run(Some(&saas.url), &["search", "--text", "quantum teleporter"]);
    assert!(text.stdout.starts_with("No tickets match \"quantum teleporter\""), "{text:?}");
}

#[test]
fn scenario_4_missing_user_link_sends_the_developer_to_the_dashboard() {
    let saas = DevSaasServer::start(&["--fail-search", "user-link"]);
    let s = Scratch::new(Some(LINEAR));
    let err = s.run(Some(&saas.url), &["--json", "search", "--text", "Clerk"]).assert_error(1, "user_link_required");
    assert_eq!(err["error"]["user_action_required"], true);
    assert!(err["error"]["message"].as_str().unwrap().contains("dashboard"));
}

#[test]
fn scenario_5_start_writes_the_mission_and_its_origin() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let out = s.run(Some(&saas.url), &["--json", "start", "--key", "WEB-123", "--yes"]).ok_json();
    assert_eq!(keys(&out), ["event_delivery", "event_emitted", "feature_dir", "feature_slug", "git", "origin_ticket"]);
    assert_eq!(out["event_delivery"], "delivered");
    let slug = out["feature_slug"].as_str().unwrap().to_string();
    assert!(is_mission_dir_name(&slug, "web-123-add-clerk-auth"), "{slug}");
    assert_eq!(out["event_emitted"], true);
    assert_eq!(out["git"], json!({"branch": null, "commits": [], "problem": null}), "not a git work tree: no git steps");
    assert_eq!(
        keys(&out["origin_ticket"]),
        ["external_issue_id", "external_issue_key", "external_issue_url", "provider", "resource_id", "resource_type", "title"]
    );
    let dir = std::path::PathBuf::from(out["feature_dir"].as_str().unwrap());
    assert_eq!(dir, s.repo.path().canonicalize().unwrap().join("kitty-specs").join(&slug));
    let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["origin_ticket"], out["origin_ticket"]);
    assert_eq!(meta["origin_ticket"]["external_issue_url"], "https://linear.app/acme/issue/WEB-123/add-clerk-auth");
    assert!(std::fs::read_to_string(dir.join("spec.md")).unwrap().contains("Replace the home-grown session handling with Clerk."));
    // Delivered at once: nothing waits in the outbox.
    assert_eq!(s.run(Some(&saas.url), &["--json", "events", "list"]).ok_json(), json!({"events": []}));
    // A second mission from the same team (FR-014).
    let second = s.run(Some(&saas.url), &["--json", "start", "--key", "WEB-127", "--yes"]).ok_json();
    assert!(is_mission_dir_name(second["feature_slug"].as_str().unwrap(), "web-127-clerk-middleware-cleanup"), "{second}");
}

#[test]
fn scenario_6_no_tracker_binding() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(None);
    let err = s.run(Some(&saas.url), &["--json", "search", "--text", "x"]).assert_error(1, "no_tracker_binding");
    assert_eq!(err["error"]["message"], "No tracker bound. Run spec-kitty tracker bind first.");
    let text = s.run(Some(&saas.url), &["search", "--text", "x"]);
    assert_eq!(text.stderr.trim(), "kitty-origin: No tracker bound. Run spec-kitty tracker bind first.");
    assert_eq!(text.stdout, "");
}

#[test]
fn every_control_plane_error_reaches_the_user() {
    for (flags, code) in [
        (vec!["--fail-search", "expired-session"], "authentication_failed"),
        (vec!["--fail-search", "no-mapping"], "no_resource_mapping"),
        (vec!["--fail-search", "invalid-query"], "invalid_query"),
        (vec!["--fail-search", "rate-limit", "--retry-after", "30"], "rate_limited"),
        (vec!["--fail-search", "server-error"], "control_plane_unreachable"),
    ] {
        let saas = DevSaasServer::start(&flags);
        let s = Scratch::new(Some(LINEAR));
        s.run(Some(&saas.url), &["--json", "search", "--text", "Clerk"]).assert_error(1, code);
    }
}

#[test]
fn a_short_rate_limit_is_waited_out() {
    let saas = DevSaasServer::start(&["--fail-search", "rate-limit", "--retry-after", "1", "--fail-times", "1"]);
    let s = Scratch::new(Some(LINEAR));
    let out = s.run(Some(&saas.url), &["--json", "search", "--key", "WEB-123"]).ok_json();
    assert_eq!(out["candidates"][0]["external_issue_key"], "WEB-123");
}

#[test]
fn a_slow_control_plane_times_out_after_ten_seconds() {
    let saas = DevSaasServer::start(&["--delay-ms", "15000"]);
    let s = Scratch::new(Some(LINEAR));
    s.run(Some(&saas.url), &["--json", "search", "--key", "WEB-123"]).assert_error(1, "timed_out");
}

#[test]
fn local_and_configuration_errors() {
    let saas = DevSaasServer::start(&[]);
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let s = Scratch::new(Some(LINEAR));
    let err = s.run(Some(&dead), &["--json", "search", "--text", "x"]).assert_error(1, "control_plane_unreachable");
    assert!(err["error"]["message"].as_str().unwrap().contains("(the connection was refused)"), "{err}");
    s.run(None, &["--json", "search", "--text", "x"]).assert_error(1, "not_logged_in");
    let err = s.run_logged_out(&saas.url, &["--json", "search", "--text", "x"]).assert_error(1, "not_logged_in");
    assert!(err["error"]["message"].as_str().unwrap().contains("log in first"));
    for (flag, value) in [("--limit", "0"), ("--limit", "101"), ("--key", ""), ("--text", " ")] {
        let err = s.run(Some(&saas.url), &["--json", "search", flag, value]).assert_error(2, "usage");
        assert!(err["error"]["message"].as_str().unwrap().contains(flag), "{err}");
    }
    s.run(Some(&saas.url), &["--json", "start", "--key", "", "--yes"]).assert_error(2, "usage");
    assert!(saas.requests().is_empty(), "usage errors send nothing");
    s.run(Some(&saas.url), &["--json", "search"]).assert_error(1, "invalid_query");
    s.write(".kittify/config.yaml", "tracker:\n  provider: github\n  project_slug: x\n");
    s.run(Some(&saas.url), &["--json", "search", "--text", "x"]).assert_error(1, "unsupported_provider");
    s.write(".kittify/config.yaml", "tracker: [oops\n");
    s.run(Some(&saas.url), &["--json", "search", "--text", "x"]).assert_error(1, "invalid_tracker_config");
    let missing = s.run(Some(&saas.url), &["--json", "--repo", "/nonexistent/repo", "search", "--text", "x"]);
    missing.assert_error(1, "io");
    s.run(Some("ftp://saas.example"), &["--json", "search", "--text", "x"]).assert_error(1, "invalid_configuration");
}

#[test]
fn usage_errors_exit_2() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    s.run(Some(&saas.url), &["--json", "start"]).assert_error(2, "usage");
    s.run(Some(&saas.url), &["--json", "start", "--text", "Clerk", "--yes"]).assert_error(2, "usage");
    let plain = s.run(Some(&saas.url), &["start"]);
    assert_eq!(plain.code, 2);
    assert!(plain.stderr.contains("--key") && plain.stdout.is_empty(), "{plain:?}");
}

#[test]
fn confirmation_is_always_required() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let err = s.run(Some(&saas.url), &["--json", "start", "--key", "WEB-123"]).assert_error(2, "confirmation_required");
    assert!(err["error"]["message"].as_str().unwrap().contains("--yes"));
    s.run(Some(&saas.url), &["--json", "start", "--text", "Clerk auth"]).assert_error(2, "confirmation_required");
    s.run(Some(&saas.url), &["--json", "start", "--key", "WEB-999", "--yes"]).assert_error(1, "no_candidates");
    assert!(!s.repo.path().join("kitty-specs").exists(), "nothing is created without a confirmation");
}

#[test]
fn the_developer_confirms_on_the_terminal_even_a_single_exact_match() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let declined = s.run_on_terminal(&saas.url, &["start", "--key", "WEB-123"], "n\n");
    assert_eq!(declined.code, 1, "{declined:?}");
    assert!(declined.stdout.contains("Use WEB-123 \"Add Clerk auth\" as the origin ticket? [y/N]"), "{declined:?}");
    assert!(declined.stdout.contains("Cancelled: no mission was created"), "{declined:?}");
    assert!(!s.repo.path().join("kitty-specs").exists());

    let accepted = s.run_on_terminal(&saas.url, &["start", "--key", "WEB-123"], "y\n");
    assert_eq!(accepted.code, 0, "{accepted:?}");
    assert!(accepted.stdout.contains("Mission web-123-add-clerk-auth-"), "{accepted:?}");

    let picked = s.run_on_terminal(&saas.url, &["start", "--text", "Clerk auth"], "2\n");
    assert_eq!(picked.code, 0, "{picked:?}");
    assert!(picked.stdout.contains("Which ticket is the origin? [1-2, q to cancel]"), "{picked:?}");
    assert!(picked.stdout.contains("Mission web-127-clerk-middleware-cleanup-"), "{picked:?}");
}

#[test]
fn bind_an_existing_mission_rebind_and_conflict() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    s.write(
        "kitty-specs/007-login/meta.json",
        "{\"mission_id\": \"01JQ0000000000000000000007\", \"mission_slug\": \"007-login\", \"friendly_name\": \"Login\"}\n",
    );
    let out = s.run(Some(&saas.url), &["--json", "bind", "--mission", "kitty-specs/007-login", "--key", "WEB-121", "--yes"]).ok_json();
    assert_eq!(keys(&out), ["event_delivery", "event_emitted", "git", "metadata", "origin_ticket"]);
    assert_eq!(out["metadata"]["friendly_name"], "Login");
    assert_eq!(out["metadata"]["origin_ticket"]["external_issue_key"], "WEB-121");
    let before = std::fs::read_to_string(s.repo.path().join("kitty-specs/007-login/meta.json")).unwrap();
    s.run(Some(&saas.url), &["--json", "bind", "--mission", "kitty-specs/007-login", "--key", "web-121", "--yes"]).ok_json();
    assert_eq!(std::fs::read_to_string(s.repo.path().join("kitty-specs/007-login/meta.json")).unwrap(), before);
    let err = s
        .run(Some(&saas.url), &["--json", "bind", "--mission", "kitty-specs/007-login", "--key", "WEB-123", "--yes"])
        .assert_error(1, "origin_conflict");
    assert!(err["error"]["message"].as_str().unwrap().contains("WEB-121"));
    s.write("kitty-specs/008-broken/meta.json", "not json");
    s.run(Some(&saas.url), &["--json", "bind", "--mission", "kitty-specs/008-broken", "--key", "WEB-123", "--yes"])
        .assert_error(1, "invalid_metadata");
}

#[test]
fn a_control_plane_conflict_on_start_keeps_the_mission_and_says_how_to_retry() {
    let saas = DevSaasServer::start(&["--fail-bind", "conflict"]);
    let s = Scratch::new(Some(LINEAR));
    let err = s.run(Some(&saas.url), &["--json", "start", "--key", "WEB-123", "--yes"]).assert_error(1, "origin_conflict");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("no origin ticket yet") && message.contains("kitty-origin bind --mission"), "{message}");
    let dir = std::fs::read_dir(s.repo.path().join("kitty-specs")).unwrap().next().unwrap().unwrap().path();
    assert!(message.contains(&dir.file_name().unwrap().to_string_lossy().to_string()), "{message}");
    assert!(!std::fs::read_to_string(dir.join("meta.json")).unwrap().contains("origin_ticket"));
}

#[test]
fn the_outbox_survives_an_outage_and_a_restart_and_flush_is_idempotent() {
    let down = DevSaasServer::start(&["--fail-events", "server-error"]);
    let (url, addr) = (down.url.clone(), down.addr());
    let s = Scratch::new(Some(LINEAR));
    let out = s.run(Some(&url), &["start", "--key", "WEB-123", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("queued in the outbox (3 waiting)"), "{}", out.stdout);
    drop(down);

    // A new process sees the queued event; flushing while the control plane is gone keeps it.
    let listed = s.run(None, &["--json", "events", "list"]).ok_json();
    let events = listed["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["envelope"]["event_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["MissionCreated", "SpecifyStarted", "MissionOriginBound"], "the creation reaches the outbox first");
    let envelope = &events[2]["envelope"];
    assert_eq!(envelope["event_type"], "MissionOriginBound");
    assert_eq!(envelope["aggregate_type"], "Mission");
    assert_eq!(envelope["team_slug"], "acme");
    assert_eq!(envelope["project_slug"], "acme-web");
    assert_eq!(envelope["payload"]["external_issue_key"], "WEB-123");
    assert!(events[2]["attempts"].as_i64().unwrap() >= 1);
    // The events belong to that control plane: another one gets none of them.
    let other = DevSaasServer::start(&[]);
    assert_eq!(s.run(Some(&other.url), &["--json", "events", "flush"]).ok_json(), json!({"delivered": 0, "remaining": 0, "dead": 0}));
    assert!(other.events().is_empty());
    // Their own control plane, gone: the flush fails and keeps them.
    s.run(Some(&url), &["--json", "events", "flush"]).assert_error(1, "control_plane_unreachable");
    assert_eq!(s.run(None, &["--json", "events", "list"]).ok_json()["events"].as_array().unwrap().len(), 3);

    let up = DevSaasServer::start_on(&addr, &[]);
    let flushed = s.run(Some(&up.url), &["--json", "events", "flush"]).ok_json();
    assert_eq!(flushed, json!({"delivered": 3, "remaining": 0, "dead": 0}));
    assert_eq!(s.run(Some(&up.url), &["--json", "events", "flush"]).ok_json(), json!({"delivered": 0, "remaining": 0, "dead": 0}));
    assert_eq!(s.run(None, &["--json", "events", "list"]).ok_json(), json!({"events": []}));
}

#[test]
fn a_second_process_uses_the_compiled_component_cache() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    // A component without the build's precompiled copy beside it.
    let bare = tempfile::tempdir().unwrap();
    let component = bare.path().join("spec_kitty_origin.wasm");
    std::fs::copy(wasm_path(), &component).unwrap();
    let search = ["--component", component.to_str().unwrap(), "--json", "search", "--key", "WEB-123"];
    s.run(Some(&saas.url), &search).ok_json();
    let cache = s.home.path().join("cache");
    let files = cwasm_files(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    let written = std::fs::metadata(&files[0]).unwrap().modified().unwrap();
    s.run(Some(&saas.url), &search).ok_json();
    assert_eq!(std::fs::metadata(&files[0]).unwrap().modified().unwrap(), written, "the second start recompiled");
    assert_eq!(cwasm_files(&cache), files);
}

#[test]
fn the_builds_precompiled_component_spares_the_first_command_a_compile() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let beside: Vec<_> = std::fs::read_dir(wasm_path().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(beside.len(), 1, "make build precompiles the component beside it: {beside:?}");
    s.run(Some(&saas.url), &["--json", "search", "--key", "WEB-123"]).ok_json();
    let cached = cwasm_files(&s.home.path().join("cache"));
    assert_eq!(cached, Vec::<PathBuf>::new(), "the first command loaded the precompiled copy, it compiled nothing");
}

#[cfg(target_os = "linux")] // /dev/full
#[test]
fn a_reader_that_goes_away_or_a_full_disk_is_reported_not_a_panic() {
    use std::process::Stdio;
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let run = |stdout: Stdio, args: &[&str]| {
        let binary = Path::new(env!("CARGO_BIN_EXE_kitty-origin"));
        let output = s.command(binary, Some(&saas.url), args).stdout(stdout).stderr(Stdio::piped()).output().unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let closed_pipe = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Stdio::from(writer)
    };
    let full_disk = || Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap());
    let search = ["--json", "search", "--key", "WEB-123"];
    // `kitty-origin search | head -0`: the pipeline wanted no more.
    assert_eq!(run(closed_pipe(), &search), (Some(0), String::new()));
    assert_eq!(run(closed_pipe(), &search[1..]), (Some(0), String::new()));
    // stdout on a full disk: the command did its work and says its output is lost.
    let (code, stderr) = run(full_disk(), &search);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("the command succeeded, but its output could not be written to stdout"), "{stderr}");
    // A failure keeps its status and tells stderr, whatever stdout does.
    s.write(".kittify/config.yaml", "tracker: {}\n");
    for stdout in [closed_pipe(), full_disk()] {
        let (code, stderr) = run(stdout, &search);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.starts_with("kitty-origin: ") && !stderr.contains("panicked"), "{stderr}");
    }
    assert_eq!(saas.requests().len(), 3, "the three searches of a bound repo reached the control plane");
}

#[test]
fn the_control_plane_is_reached_by_host_name() {
    // `localhost` comes from /etc/hosts, through getaddrinfo in whatever glibc
    // the binary links (static-pie: the built-in `files` service).
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let by_name = saas.url.replacen("127.0.0.1", "localhost", 1);
    assert!(by_name.starts_with("http://localhost:"), "{by_name}");
    let out = s.run(Some(&by_name), &["--json", "search", "--key", "WEB-123"]).ok_json();
    assert_eq!(out["candidates"][0]["external_issue_key"], "WEB-123");
    assert_eq!(saas.requests().len(), 1, "one search reached the control plane");
}

/// In a mount namespace of its own (`unshare`, as root or through a user
/// namespace), `/etc/nsswitch.conf` names a module this system lacks before
/// `files`: the static-pie binary must not try to load it (glibc's built-in
/// services only, see `name_services.rs`), and still reaches the control
/// plane by host name. strace shows the files it opens.
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
#[test]
fn the_static_binary_loads_no_name_service_module() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let nsswitch = s.home.path().join("nsswitch.conf");
    std::fs::write(&nsswitch, "passwd: kittytest files\ngroup: kittytest files\nhosts: kittytest files dns\n").unwrap();
    let trace = s.home.path().join("openat.trace");
    let script = r#"mount --bind "$1" /etc/nsswitch.conf && exec strace -f -qq -o "$2" -e trace=openat "$3" --repo "$4" --json search --key WEB-123"#;
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--map-root-user", "--mount", "sh", "-c", script, "sh"]);
    cmd.arg(&nsswitch).arg(&trace).arg(env!("CARGO_BIN_EXE_kitty-origin")).arg(s.repo.path());
    s.env(&mut cmd, Some(&saas.url.replacen("127.0.0.1", "localhost", 1)));
    let run = Run::from(cmd.stdin(std::process::Stdio::null()).output().expect("unshare runs (util-linux)"));
    assert_eq!(run.code, 0, "unshare, mount --bind and strace must work here (root, or user namespaces): {run:?}");
    assert_eq!(run.json()["candidates"][0]["external_issue_key"], "WEB-123");
    let opened = std::fs::read_to_string(&trace).unwrap();
    assert!(opened.contains("/etc/nsswitch.conf"), "the binary read the test's nsswitch.conf: {opened}");
    let modules: Vec<&str> = opened.lines().filter(|line| line.contains("libnss_")).collect();
    assert!(modules.is_empty(), "the binary tried to load NSS modules: {modules:#?}");
}

#[test]
fn the_component_is_found_in_the_build_tree_and_where_make_install_puts_it() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let search = |binary: &Path| {
        let mut cmd = s.command(binary, Some(&saas.url), &["--json", "search", "--key", "WEB-123"]);
        cmd.env_remove("KITTY_ORIGIN_COMPONENT");
        // A test forking meanwhile may hold the fresh copy's write descriptor
        // for an instant (ETXTBSY): try again, a bounded number of times.
        for _ in 0..50 {
            match cmd.output() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => std::thread::sleep(std::time::Duration::from_millis(20)),
                output => return Run::from(output.unwrap()),
            }
        }
        panic!("{} stayed busy for a second", binary.display());
    };
    let found = |run: Run| run.ok_json()["candidates"][0]["external_issue_key"].clone();
    // <target>/<host triple>/release/kitty-origin: <target>/wasm32-wasip2/guest.
    assert_eq!(found(search(Path::new(env!("CARGO_BIN_EXE_kitty-origin")))), "WEB-123");
    // <prefix>/bin/kitty-origin: <prefix>/lib/kitty-origin, once `make install` put it there.
    // Under the target directory: /tmp may be mounted noexec.
    let prefix = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (bin, lib) = (prefix.path().join("bin/kitty-origin"), prefix.path().join("lib/kitty-origin"));
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_kitty-origin"), &bin).unwrap();
    let err = search(&bin).assert_error(1, "component_failed");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("wasm32-wasip2/guest/spec_kitty_origin.wasm") && message.contains("make build"), "{message}");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::copy(wasm_path(), lib.join("spec_kitty_origin.wasm")).unwrap();
    assert_eq!(found(search(&bin)), "WEB-123");
}

/// The compiled components in the cache directory `dir` (none when it is missing).
fn cwasm_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    files.sort();
    files
}

#[test]
fn a_fixtures_file_serves_other_projects() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures.json");
    std::fs::write(
        &fixtures,
        r#"{"projects": [{"project_slug": "ops", "provider": "jira", "resource_type": "jira_project", "resource_id": "99",
            "tickets": [{"external_issue_id": "9001", "external_issue_key": "OPS-1", "title": "Rotate the TLS certificates",
                         "status": "To Do", "url": "https://acme.atlassian.net/browse/OPS-1", "body": "They expire in May."}]}]}"#,
    )
    .unwrap();
    let saas = DevSaasServer::start(&["--fixtures", fixtures.to_str().unwrap()]);
    let s = Scratch::new(Some("tracker:\n  provider: jira\n  project_slug: ops\n"));
    let out = s.run(Some(&saas.url), &["--json", "search", "--text", "TLS certificates"]).ok_json();
    assert_eq!(out["candidates"][0]["external_issue_key"], "OPS-1");
    assert_eq!(out["resource_id"], "99");
}

#[test]
fn a_start_branch_outside_a_git_work_tree_is_refused_before_anything_is_sent() {
    let saas = DevSaasServer::start(&[]);
    let s = Scratch::new(Some(LINEAR));
    let err = s
        .run(Some(&saas.url), &["--json", "start", "--key", "WEB-123", "--yes", "--start-branch", "feature/x"])
        .assert_error(1, "invalid_start_branch");
    assert!(err["error"]["message"].as_str().unwrap().contains("is not a git work tree"), "{err}");
    assert!(saas.requests().is_empty() && !s.repo.path().join("kitty-specs").exists());
}
