//! `kitty-origin-dev-saas`: serve the dev control plane on loopback until stopped.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kitty_origin_dev_saas::{DevSaas, DevSaasConfig, Fault, Faults, Fixtures};

/// A local stand-in of the Spec Kitty control plane, for demos and tests.
/// Faults: user-link, expired-session, no-mapping, invalid-query, rate-limit, conflict, server-error.
#[derive(Debug, Parser)]
#[command(name = "kitty-origin-dev-saas", version)]
struct Args {
    /// Where to listen (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// Fixtures file (JSON, the shape of the built-in ones).
    #[arg(long, value_name = "FILE")]
    fixtures: Option<PathBuf>,
    /// The bearer token to accept (default: a new random one).
    #[arg(long)]
    token: Option<String>,
    /// The team slug to expect.
    #[arg(long, default_value = "acme")]
    team: String,
    /// Answer issue searches with this fault.
    #[arg(long, value_name = "FAULT")]
    fail_search: Option<Fault>,
    /// Answer binds with this fault.
    #[arg(long, value_name = "FAULT")]
    fail_bind: Option<Fault>,
    /// Answer event batches with this fault.
    #[arg(long, value_name = "FAULT")]
    fail_events: Option<Fault>,
    /// Fail only the first N faulty requests.
    #[arg(long, value_name = "N")]
    fail_times: Option<u32>,
    /// retry_after_seconds sent with rate-limit answers.
    #[arg(long, value_name = "SECONDS")]
    retry_after: Option<f64>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    delay_ms: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let fixtures = match &args.fixtures {
        Some(path) => match Fixtures::load(path) {
            Ok(fixtures) => fixtures,
            Err(message) => {
                eprintln!("kitty-origin-dev-saas: {message}");
                return ExitCode::from(2);
            }
        },
        None => Fixtures::built_in(),
    };
    let token = args.token.clone().unwrap_or_else(|| format!("dev-{}", ulid::Ulid::new().to_string().to_lowercase()));
    let faults = Faults {
        search: args.fail_search,
        bind: args.fail_bind,
        events: args.fail_events,
        times: args.fail_times,
        retry_after: args.retry_after,
        delay: Duration::from_millis(args.delay_ms),
    };
    let config = DevSaasConfig { token: token.clone(), team_slug: args.team.clone(), fixtures, faults };
    let server = match DevSaas::start(args.addr, config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("kitty-origin-dev-saas: cannot listen on {}: {e}. Pick another --addr.", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "dev-saas: the Spec Kitty control plane stand-in is listening on {}", server.url());
    let _ = writeln!(out, "export SPEC_KITTY_SAAS_URL={}", server.url());
    let _ = writeln!(out, "export SPEC_KITTY_TOKEN={token}");
    let _ = writeln!(out, "export SPEC_KITTY_TEAM_SLUG={}", args.team);
    let _ = out.flush();
    server.wait();
    ExitCode::SUCCESS
}
