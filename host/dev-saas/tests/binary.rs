//! The `kitty-origin-dev-saas` binary: it prints what to export, serves the
//! wire format, and refuses bad input with exit status 2.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn it_prints_its_url_and_the_session_to_export() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kitty-origin-dev-saas"))
        .args(["--addr", "127.0.0.1:0", "--token", "t0k", "--team", "acme"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap()).lines().take(4).map(Result::unwrap).collect();
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines[0].starts_with("dev-saas: the Spec Kitty control plane stand-in is listening on http://127.0.0.1:"), "{lines:?}");
    assert!(lines[1].starts_with("export SPEC_KITTY_SAAS_URL=http://127.0.0.1:"), "{lines:?}");
    assert_eq!(lines[2..], ["export SPEC_KITTY_TOKEN=t0k", "export SPEC_KITTY_TEAM_SLUG=acme"]);
}

#[test]
fn a_bad_fixtures_file_or_fault_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures.json");
    std::fs::write(&fixtures, "{not json").unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_kitty-origin-dev-saas"))
        .args(["--addr", "127.0.0.1:0", "--fixtures", fixtures.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a fixtures file"), "{bad:?}");

    let fault = Command::new(env!("CARGO_BIN_EXE_kitty-origin-dev-saas")).args(["--fail-search", "flaky"]).output().unwrap();
    assert_eq!(fault.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&fault.stderr).contains("one of: user-link, expired-session"), "{fault:?}");
}
