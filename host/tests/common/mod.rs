//! Helpers of the host integration tests: the `kitty-origin` binary, a dev
//! control plane on loopback, scratch repos and state directories.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The token the dev control plane accepts in tests.
pub const TOKEN: &str = "test-token";

/// The built component.
pub fn wasm_path() -> PathBuf {
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/release/spec_kitty_origin.wasm");
    assert!(wasm.is_file(), "{} is missing: run `make build` first", wasm.display());
    wasm
}

/// A `kitty-origin dev-saas` process, stopped on drop.
pub struct DevSaasProcess {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl DevSaasProcess {
    /// Starts `kitty-origin dev-saas` on a free loopback port with `extra` flags.
    pub fn start(extra: &[&str]) -> Self {
        Self::start_on("127.0.0.1:0", extra)
    }

    /// Starts it on `addr`.
    pub fn start_on(addr: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kitty-origin"))
            .args(["dev-saas", "--addr", addr, "--token", TOKEN])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("dev-saas starts");
        let stdout = child.stdout.take().unwrap();
        let mut url = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(found) = line.strip_prefix("export SPEC_KITTY_SAAS_URL=") {
                url = Some(found.to_string());
                break;
            }
        }
        Self { child, url: url.expect("dev-saas printed its URL") }
    }

    /// The `host:port` it listens on.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }
}

impl Drop for DevSaasProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch repo bound to `config`, and a state directory.
pub struct Scratch {
    pub repo: tempfile::TempDir,
    pub home: tempfile::TempDir,
}

/// The linear / acme-web binding of the built-in fixtures.
pub const LINEAR: &str = "tracker:\n  provider: linear\n  project_slug: acme-web\n";
/// The jira / acme-iam binding.
pub const JIRA: &str = "tracker:\n  provider: jira\n  project_slug: acme-iam\n";

impl Scratch {
    pub fn new(config: Option<&str>) -> Self {
        let scratch = Self { repo: tempfile::tempdir().unwrap(), home: tempfile::tempdir().unwrap() };
        if let Some(config) = config {
            scratch.write(".kittify/config.yaml", config);
        }
        scratch
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.repo.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Runs `kitty-origin --repo <repo> args...` against `saas_url` (none: unset).
    pub fn run(&self, saas_url: Option<&str>, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kitty-origin"));
        if !args.contains(&"--repo") {
            cmd.arg("--repo").arg(self.repo.path());
        }
        cmd.args(args);
        cmd.env("KITTY_ORIGIN_HOME", self.home.path())
            .env("KITTY_ORIGIN_COMPONENT", wasm_path())
            .env("SPEC_KITTY_TOKEN", TOKEN)
            .env("SPEC_KITTY_TEAM_SLUG", "acme")
            .env_remove("SPEC_KITTY_SAAS_URL")
            .stdin(Stdio::null());
        if let Some(url) = saas_url {
            cmd.env("SPEC_KITTY_SAAS_URL", url);
        }
        Run::from(cmd.output().unwrap())
    }

    /// Runs `kitty-origin --repo <repo> args...` on a terminal (util-linux
    /// `script` gives it a pty) and types `input` into it.
    pub fn run_on_terminal(&self, saas_url: &str, args: &[&str], input: &str) -> Run {
        let mut line = format!("{} --repo {}", env!("CARGO_BIN_EXE_kitty-origin"), self.repo.path().display());
        for arg in args {
            line.push_str(&format!(" '{arg}'"));
        }
        let mut child = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("KITTY_ORIGIN_HOME", self.home.path())
            .env("KITTY_ORIGIN_COMPONENT", wasm_path())
            .env("SPEC_KITTY_TOKEN", TOKEN)
            .env("SPEC_KITTY_TEAM_SLUG", "acme")
            .env("SPEC_KITTY_SAAS_URL", saas_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("util-linux `script` runs (apt-get install bsdutils)");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// Like [`Scratch::run`] without a token.
    pub fn run_logged_out(&self, saas_url: &str, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_kitty-origin"))
            .arg("--repo")
            .arg(self.repo.path())
            .args(args)
            .env("KITTY_ORIGIN_HOME", self.home.path())
            .env("KITTY_ORIGIN_COMPONENT", wasm_path())
            .env("SPEC_KITTY_SAAS_URL", saas_url)
            .env_remove("SPEC_KITTY_TOKEN")
            .env_remove("SPEC_KITTY_TEAM_SLUG")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Run::from(output)
    }
}

/// What a run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// Asserts success and returns stdout JSON.
    pub fn ok_json(&self) -> serde_json::Value {
        assert_eq!(self.code, 0, "{self:?}");
        self.json()
    }

    /// Asserts the `--json` error shape with `code` and the exit status.
    pub fn assert_error(&self, exit: i32, code: &str) -> serde_json::Value {
        assert_eq!(self.code, exit, "{self:?}");
        let json = self.json();
        assert_eq!(json["error"]["code"], code, "{self:?}");
        assert!(json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(json["error"]["user_action_required"].is_boolean());
        assert!(self.stderr.contains(json["error"]["message"].as_str().unwrap()), "stderr lacks the message: {self:?}");
        json
    }
}
