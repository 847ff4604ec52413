//! `bind_mission_origin()` (FR-004, FR-008, FR-012, FR-016): the control
//! plane first, `meta.json` second, the event last and fire-and-forget.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::capabilities::Capabilities;
use crate::config::{self, TrackerBinding};
use crate::error::{ErrorKind, OriginError, Result};
use crate::meta;
use crate::model::{BindResult, OriginCandidate, OriginTicket, Routing};
use crate::tracker::{MissionRef, SaasTrackerClient};
use crate::{events, journal};

/// Checks a candidate and its routing context before anything is touched.
pub fn validate_routing(candidate: &OriginCandidate, provider: &str, resource_type: &str, resource_id: &str) -> Result<Routing> {
    let provider = config::check_provider(provider)?;
    let fields = [
        ("external_issue_id", candidate.external_issue_id.as_str()),
        ("external_issue_key", candidate.external_issue_key.as_str()),
        ("url", candidate.url.as_str()),
        ("title", candidate.title.as_str()),
        ("resource_type", resource_type),
        ("resource_id", resource_id),
    ];
    let missing: Vec<&str> = fields.iter().filter(|(_, v)| v.trim().is_empty()).map(|(name, _)| *name).collect();
    if !missing.is_empty() {
        return Err(OriginError::new(
            ErrorKind::InvalidCandidate,
            format!(
                "The candidate is incomplete: {} empty. Pass a candidate exactly as search_origin_candidates returned it.",
                missing.join(", ")
            ),
        ));
    }
    Ok(Routing { provider, resource_type: resource_type.trim().to_string(), resource_id: resource_id.trim().to_string() })
}

/// Checks that the candidate's provider is the one the repo is bound to.
pub fn check_same_provider(binding: &TrackerBinding, routing: &Routing) -> Result<()> {
    if binding.provider == routing.provider {
        return Ok(());
    }
    Err(OriginError::new(
        ErrorKind::InvalidCandidate,
        format!(
            "The candidate is a {} ticket but this repo is bound to {}. Search again in this repo and pass one of its candidates.",
            routing.provider, binding.provider
        ),
    ))
}

/// The `Idempotency-Key` of a bind: the same mission and issue always give
/// the same key, so a retried bind never duplicates.
pub fn idempotency_key(mission: &str, external_issue_id: &str) -> String {
    let digest = Sha256::digest(format!("{mission}\n{external_issue_id}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("mission-origin-{hex}")
}

/// Binds `candidate` as the origin of the mission in `feature_dir`.
///
/// `repo_root` is the repo the mission belongs to, as the host granted it;
/// its `.kittify/config.yaml` names the tracker binding.
pub fn bind_mission_origin(
    caps: Capabilities<'_>,
    repo_root: &Path,
    feature_dir: &Path,
    candidate: &OriginCandidate,
    routing: &Routing,
) -> Result<BindResult> {
    let mut meta = meta::read_meta(feature_dir)?;
    let ticket = OriginTicket::from_candidate(candidate, routing);
    if let Some(existing) = meta::origin_ticket(&meta, feature_dir)?
        && existing.external_issue_id != ticket.external_issue_id
    {
        return Err(OriginError::new(
            ErrorKind::OriginConflict,
            format!(
                "Mission {} is already bound to {} ({}). One origin per mission in v1: unbind it first, or start a new mission from {}.",
                feature_dir.display(),
                existing.external_issue_key,
                existing.external_issue_url,
                ticket.external_issue_key
            ),
        ));
    }
    let binding = config::load_binding(repo_root)?;
    check_same_provider(&binding, routing)?;

    let dir_name = feature_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mission_slug = ["mission_slug", "slug"]
        .iter()
        .find_map(|k| meta.get(*k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()))
        .unwrap_or(&dir_name)
        .to_string();
    let mission_id = meta.get("mission_id").and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_string);
    let key = idempotency_key(mission_id.as_deref().unwrap_or(&mission_slug), &ticket.external_issue_id);

    // 0. The decision, durably: whatever happens from here, a later call
    //    completes this bind (or a retried start reuses the mission).
    let journal_name = feature_dir.file_name().and_then(|n| n.to_str()).filter(|n| journal::is_plain_name(n)).map(str::to_string);
    if let Some(name) = &journal_name
        && !journal::pending(repo_root).iter().any(|(n, _)| n == name)
    {
        journal::record(caps, repo_root, name, &journal::PendingBind::new(caps, "bind", repo_root, feature_dir, candidate, routing))?;
    }

    // 1. The authoritative write. A failure stops here: nothing local changes.
    let mission = MissionRef { mission_id: mission_id.as_deref(), mission_slug: &mission_slug };
    if let Err(err) = SaasTrackerClient::new(caps).bind_mission_origin(&binding, &mission, candidate, &key) {
        if let Some(name) = &journal_name {
            settle_failed_bind(caps, repo_root, name, &err);
        }
        return Err(err);
    }

    // 2. The local record, through the canonical writer.
    meta::set_origin_ticket(&mut meta, &ticket);
    let written = meta::write_meta(caps.files, feature_dir, &meta, caps.entropy.random_u128()).map_err(|err| {
        err.prefixed(
            "The control plane recorded the origin, but meta.json was not updated; retrying the bind is safe (same-origin no-op). ",
        )
    })?;

    // 3. Observational telemetry: never fails the bind.
    let event = events::mission_origin_bound(
        caps,
        &events::Binding {
            mission_id: mission_id.as_deref(),
            mission_slug: &mission_slug,
            ticket: &ticket,
            project_slug: binding.project_slug.as_deref(),
            correlation_id: &key,
        },
    );
    let event_delivery = event.ok().and_then(|event| caps.events.emit(&event).ok());
    if let Some(name) = &journal_name {
        journal::forget(repo_root, name);
    }

    Ok(BindResult {
        metadata_json: String::from_utf8_lossy(&written).into_owned(),
        origin_ticket: ticket,
        event_emitted: event_delivery.is_some(),
        event_delivery,
    })
}

/// Whether the control plane may have recorded a bind that failed with `err`
/// (no answer, or a server failure): then a later call must complete it.
pub fn may_have_reached_the_control_plane(err: &OriginError) -> bool {
    matches!(err.kind(), ErrorKind::ControlPlaneUnreachable | ErrorKind::TimedOut | ErrorKind::RateLimited | ErrorKind::UnexpectedResponse)
}

/// After a failed bind of `mission`: a start's record stays (a retried start
/// reuses the mission), marked failed when no retry can help; a plain bind's
/// record stays only while the outcome is uncertain.
fn settle_failed_bind(caps: Capabilities<'_>, repo_root: &Path, mission: &str, err: &OriginError) {
    if may_have_reached_the_control_plane(err) {
        return;
    }
    let Some((_, mut record)) = journal::pending(repo_root).into_iter().find(|(n, _)| n == mission) else { return };
    if record.kind == "start" {
        record.failed = Some(err.code().to_string());
        let _ = journal::record(caps, repo_root, mission, &record);
    } else {
        journal::forget(repo_root, mission);
    }
}
