//! Helpers of the command-line tests: the `kitty-origin` binary, the dev
//! control plane on loopback, scratch repos and state directories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kitty_origin_dev_saas::{DevSaas, DevSaasConfig, Fixtures};

/// The token the dev control plane accepts in tests.
pub const TOKEN: &str = "test-token";

#[path = "../../../../tests/common/target_dir.rs"]
mod target_dir;
pub use target_dir::target_dir;

/// The component `make build` produces, in this build's target directory.
pub fn wasm_path() -> PathBuf {
    let wasm = target_dir().join("wasm32-wasip2/guest/spec_kitty_origin.wasm");
    assert!(wasm.is_file(), "{} is missing: run `make build` first", wasm.display());
    wasm
}

/// The dev control plane, in process on loopback, stopped on drop.
pub struct DevSaasServer {
    server: DevSaas,
    /// Its base URL.
    pub url: String,
}

impl DevSaasServer {
    /// Starts it on a free loopback port; `flags` are `kitty-origin-dev-saas`'s
    /// (`--fail-search FAULT`, `--fail-bind`, `--fail-events`, `--fail-times N`,
    /// `--retry-after S`, `--delay-ms MS`).
    pub fn start(flags: &[&str]) -> Self {
        Self::start_on("127.0.0.1:0", flags)
    }

    /// Starts it on `addr`.
    pub fn start_on(addr: &str, flags: &[&str]) -> Self {
        let mut config = DevSaasConfig::new(TOKEN);
        for pair in flags.chunks(2) {
            let [flag, value] = pair else { panic!("flag without value: {flags:?}") };
            let faults = &mut config.faults;
            match *flag {
                "--fail-search" => faults.search = Some(value.parse().unwrap()),
                "--fail-bind" => faults.bind = Some(value.parse().unwrap()),
                "--fail-events" => faults.events = Some(value.parse().unwrap()),
                "--fail-times" => faults.times = Some(value.parse().unwrap()),
                "--retry-after" => faults.retry_after = Some(value.parse().unwrap()),
                "--delay-ms" => faults.delay = std::time::Duration::from_millis(value.parse().unwrap()),
                "--fixtures" => config.fixtures = Fixtures::load(Path::new(value)).unwrap(),
                other => panic!("unknown dev-saas flag {other}"),
            }
        }
        let server = DevSaas::start(addr.parse().unwrap(), config).expect("dev-saas starts");
        let url = server.url();
        Self { server, url }
    }

    /// The `host:port` it listens on.
    pub fn addr(&self) -> String {
        self.server.addr().to_string()
    }

    /// Every request it received.
    pub fn requests(&self) -> Vec<kitty_origin_dev_saas::Recorded> {
        self.server.requests()
    }

    /// Every mission-origin link it recorded: (mission id, external issue id).
    pub fn links(&self) -> Vec<(String, String)> {
        self.server.links()
    }

    /// Every event it accepted.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.server.events()
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

/// Sets on `cmd` the environment of a test run: the state directory (also
/// the home, so no real Spec Kitty installation is found), the built
/// component, the session, and `saas_url` (none: unset).
pub fn test_env<'c>(cmd: &'c mut Command, home: &Path, saas_url: Option<&str>) -> &'c mut Command {
    cmd.env("KITTY_ORIGIN_HOME", home)
        .env("HOME", home)
        .env("SPEC_KITTY_PACKS_ROOT", home.join("no-spec-kitty"))
        .env("KITTY_ORIGIN_COMPONENT", wasm_path())
        .env("SPEC_KITTY_TOKEN", TOKEN)
        .env("SPEC_KITTY_TEAM_SLUG", "acme")
        .env_remove("SPEC_KITTY_SAAS_URL");
    if let Some(url) = saas_url {
        cmd.env("SPEC_KITTY_SAAS_URL", url);
    }
    cmd
}

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

    /// `binary --repo <repo> args...` (a `kitty-origin` binary) against
    /// `saas_url` (none: unset), in the environment of [`test_env`], stdin closed.
    pub fn command(&self, binary: &Path, saas_url: Option<&str>, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary);
        if !args.contains(&"--repo") {
            cmd.arg("--repo").arg(self.repo.path());
        }
        cmd.args(args).stdin(Stdio::null());
        test_env(&mut cmd, self.home.path(), saas_url);
        cmd
    }

    /// Runs `kitty-origin --repo <repo> args...` against `saas_url` (none: unset).
    pub fn run(&self, saas_url: Option<&str>, args: &[&str]) -> Run {
        Run::from(self.command(Path::new(env!("CARGO_BIN_EXE_kitty-origin")), saas_url, args).output().unwrap())
    }

    /// The environment `kitty-origin` runs with here (see [`test_env`]).
    pub fn env(&self, cmd: &mut Command, saas_url: Option<&str>) {
        test_env(cmd, self.home.path(), saas_url);
    }

    /// Runs `kitty-origin --repo <repo> args...` on a terminal (util-linux
    /// `script` gives it a pty) and types `input` into it.
    pub fn run_on_terminal(&self, saas_url: &str, args: &[&str], input: &str) -> Run {
        let mut line = format!("{} --repo {}", env!("CARGO_BIN_EXE_kitty-origin"), self.repo.path().display());
        for arg in args {
            line.push_str(&format!(" '{arg}'"));
        }
        let mut script = Command::new("script");
        script.args(["-qec", &line, "/dev/null"]);
        let mut child = test_env(&mut script, self.home.path(), Some(saas_url))
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
        let mut cmd = self.command(Path::new(env!("CARGO_BIN_EXE_kitty-origin")), Some(saas_url), args);
        Run::from(cmd.env_remove("SPEC_KITTY_TOKEN").env_remove("SPEC_KITTY_TEAM_SLUG").output().unwrap())
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

/// An object's keys, sorted.
pub fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}
