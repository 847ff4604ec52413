//! `make bench`: speed and memory of the hot paths, against their targets.
//! Runs everything on loopback with the in-process dev control plane.
//! Usage: bench <component.wasm>

use std::sync::Arc;
use std::time::{Duration, Instant};

use kitty_origin_dev_saas::{DevSaas, DevSaasConfig};
use kitty_origin_host::egress::NetworkUpstream;
use kitty_origin_host::outbox::Outbox;
use kitty_origin_host::{Capabilities, Credentials, Runtime, SaasAccess, SaasOrigin, SpecTemplates};

#[path = "../tests/common/events.rs"]
mod events;
use events::event;

struct Row {
    what: &'static str,
    measured: Duration,
    target: Duration,
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wasm = std::env::args().nth(1).ok_or("usage: bench <component.wasm>")?;
    let work = tempfile::tempdir()?;
    let saas = DevSaas::start("127.0.0.1:0".parse()?, DevSaasConfig::new("bench-token"))?;
    let access = SaasAccess {
        origin: Some(SaasOrigin::parse(&saas.url())?),
        credentials: Some(Credentials { token: "bench-token".into(), team_slug: "acme".into() }),
    };
    let outbox = Arc::new(Outbox::open(&work.path().join("home"), access.clone())?);
    let capabilities = Capabilities {
        saas: access.clone(),
        upstream: Arc::new(NetworkUpstream),
        events: outbox.clone(),
        egress_limits: Default::default(),
        call_limits: Default::default(),
        git: false,
        spec_templates: SpecTemplates::None,
    };
    let cache = work.path().join("cache");
    let mut rows = Vec::new();

    let t = Instant::now();
    drop(Runtime::new(wasm.as_ref(), Some(&cache), capabilities.clone())?);
    rows.push(Row { what: "load: compile the component (cold)", measured: t.elapsed(), target: Duration::from_secs(5) });
    let t = Instant::now();
    let runtime = Runtime::new(wasm.as_ref(), Some(&cache), capabilities)?;
    rows.push(Row { what: "load: deserialize from the cache", measured: t.elapsed(), target: Duration::from_millis(100) });

    let repo = work.path().join("repo");
    std::fs::create_dir_all(repo.join(".kittify"))?;
    std::fs::write(repo.join(".kittify/config.yaml"), "tracker:\n  provider: linear\n  project_slug: acme-web\n")?;

    let mut samples: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            runtime.search_origin_candidates(&repo, Some("Clerk auth"), None, 10).map(|_| t.elapsed())
        })
        .collect::<Result<_, _>>()?;
    rows.push(Row { what: "search p50 (text, loopback)", measured: percentile(&mut samples, 0.5), target: Duration::from_millis(100) });
    rows.push(Row {
        what: "search p95 (NFR-001 bound: 10 s)",
        measured: percentile(&mut samples, 0.95),
        target: Duration::from_millis(500),
    });

    let found = runtime.search_origin_candidates(&repo, None, Some("WEB-123"), 10)?;
    let candidate = &found.candidates[0];
    let mut samples: Vec<Duration> = (0..100)
        .map(|_| {
            let t = Instant::now();
            runtime
                .start_mission_from_ticket(
                    &repo,
                    candidate,
                    &found.provider,
                    &found.resource_type,
                    &found.resource_id,
                    "software-dev",
                    None,
                )
                .map(|o| o.result)
                .map(|_| t.elapsed())
        })
        .collect::<Result<_, _>>()?;
    rows.push(Row {
        what: "start mission p50 (create + bind + event)",
        measured: percentile(&mut samples, 0.5),
        target: Duration::from_millis(300),
    });
    rows.push(Row { what: "start mission p95", measured: percentile(&mut samples, 0.95), target: Duration::from_secs(2) });

    let offline = Outbox::open(&work.path().join("offline"), SaasAccess { origin: None, credentials: None })?;
    let mut samples: Vec<Duration> = (0..200)
        .map(|n| {
            let t = Instant::now();
            offline.enqueue(&event(n)).map(|_| t.elapsed())
        })
        .collect::<Result<_, _>>()?;
    rows.push(Row {
        what: "outbox: durable enqueue p95 (fsync)",
        measured: percentile(&mut samples, 0.95),
        target: Duration::from_millis(100),
    });

    let drain = Outbox::open(&work.path().join("drain"), access)?;
    for n in 0..5000 {
        drain.enqueue(&event(n)).map_err(|e| format!("{e:?}"))?;
    }
    let t = Instant::now();
    let report = drain.flush(false, &mut |_, _| {})?;
    assert_eq!(report.delivered, 5000);
    rows.push(Row { what: "outbox: flush 5000 events", measured: t.elapsed(), target: Duration::from_secs(30) });

    let rss_mib = peak_rss_kib() / 1024;
    let mut failed = 0;
    println!("{:<45} {:>12} {:>12}", "measure", "measured", "target");
    for row in &rows {
        let ok = row.measured <= row.target;
        failed += usize::from(!ok);
        println!(
            "{:<45} {:>10.1}ms {:>10.1}ms {}",
            row.what,
            row.measured.as_secs_f64() * 1e3,
            row.target.as_secs_f64() * 1e3,
            if ok { "ok" } else { "MISSED" }
        );
    }
    let rss_ok = rss_mib <= 512;
    failed += usize::from(!rss_ok);
    println!("{:<45} {:>10}MiB {:>10}MiB {}", "peak resident memory", rss_mib, 512, if rss_ok { "ok" } else { "MISSED" });
    saas.stop();
    if failed > 0 {
        return Err(format!("{failed} target(s) missed").into());
    }
    Ok(())
}
