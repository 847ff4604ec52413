//! `start_mission_from_ticket()` (FR-006): create the mission from a
//! confirmed ticket, then bind it as the mission's origin.

use std::path::Path;

use serde_json::Value;

use crate::bind;
use crate::capabilities::Capabilities;
use crate::config;
use crate::error::{ErrorKind, OriginError, Result};
use crate::meta::{self, Meta};
use crate::mission_dir::{self, NewMission};
use crate::model::{MissionFromTicketResult, OriginCandidate, Routing};

/// The branch recorded when `.git/HEAD` names none.
pub const DEFAULT_BRANCH: &str = "main";
/// The mission's human-readable document.
pub const SPEC_FILE: &str = "spec.md";

/// Checks a mission type (`software-dev`): lower-case ASCII words and hyphens.
pub fn validate_mission_key(mission_key: &str) -> Result<&str> {
    let key = mission_key.trim();
    let valid =
        !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(key)
    } else {
        Err(OriginError::new(
            ErrorKind::InvalidCandidate,
            format!("Mission type '{mission_key}' is not valid: use lower-case letters, digits and hyphens, e.g. software-dev."),
        ))
    }
}

/// The branch named by the repo's `.git/HEAD`, else `main`.
pub fn target_branch(repo_root: &Path) -> String {
    std::fs::read_to_string(repo_root.join(".git/HEAD"))
        .ok()
        .and_then(|head| head.trim().strip_prefix("ref: refs/heads/").map(str::to_string))
        .filter(|branch| !branch.is_empty())
        .unwrap_or_else(|| DEFAULT_BRANCH.to_string())
}

/// The initial `meta.json` of a mission started from `candidate`.
pub fn initial_meta(caps: Capabilities<'_>, mission: &NewMission, candidate: &OriginCandidate, mission_key: &str, branch: String) -> Meta {
    let mut meta = Meta::new();
    let mut put = |key: &str, value: Value| {
        meta.insert(key.to_string(), value);
    };
    put("mission_id", caps.new_ulid().into());
    put("mission_number", format!("{:03}", mission.number).into());
    put("mission_slug", mission.slug.clone().into());
    put("slug", mission.slug.clone().into());
    put("friendly_name", candidate.title.clone().into());
    put("mission_type", mission_key.into());
    put("target_branch", branch.into());
    put("created_at", caps.now_iso().into());
    put("purpose_tldr", format!("{}: {}", candidate.external_issue_key, candidate.title).into());
    if let Some(body) = &candidate.body {
        put("purpose_context", body.clone().into());
    }
    meta
}

/// The mission's `spec.md`: the ticket, its link and its body, readable offline.
pub fn render_spec(candidate: &OriginCandidate, routing: &Routing) -> String {
    let body = candidate.body.as_deref().map(str::trim).filter(|b| !b.is_empty()).unwrap_or("_The ticket has no description._");
    format!(
        "# {title}\n\n\
         Origin ticket: [{key}]({url}) — {provider} {resource_type} `{resource_id}`, status: {status}.\n\n\
         ## Ticket description\n\n{body}\n",
        title = candidate.title,
        key = candidate.external_issue_key,
        url = candidate.url,
        provider = routing.provider,
        resource_type = routing.resource_type,
        resource_id = routing.resource_id,
        status = if candidate.status.is_empty() { "unknown" } else { &candidate.status },
    )
}

/// Creates the mission for `candidate` under `repo_root` and binds it.
pub fn start_mission_from_ticket(
    caps: Capabilities<'_>,
    repo_root: &Path,
    candidate: &OriginCandidate,
    routing: &Routing,
    mission_key: &str,
) -> Result<MissionFromTicketResult> {
    let mission_key = validate_mission_key(mission_key)?;
    let binding = config::load_binding(repo_root)?;
    bind::check_same_provider(&binding, routing)?;

    let mission = mission_dir::create_mission_dir(caps, repo_root, &candidate.external_issue_key, &candidate.title)?;
    let meta = initial_meta(caps, &mission, candidate, mission_key, target_branch(repo_root));
    let spec_path = mission.dir.join(SPEC_FILE);
    let written = meta::write_meta(&mission.dir, &meta, caps.entropy.random_u128()).and_then(|_| {
        std::fs::write(&spec_path, render_spec(candidate, routing)).map_err(|err| OriginError::io("write", &spec_path, &err))
    });
    if let Err(err) = written {
        // Nothing half-made stays behind: the directory was ours alone.
        let _ = std::fs::remove_dir_all(&mission.dir);
        return Err(err);
    }

    let dir = mission.dir.display().to_string();
    let bound = bind::bind_mission_origin(caps, repo_root, &mission.dir, candidate, routing).map_err(|err| {
        OriginError::new(
            err.kind(),
            format!(
                "Mission {} was created at {dir} but has no origin ticket yet: {} Once that is fixed, retry the bind of {dir} \
                 with {} (bind-mission-origin, or kitty-origin bind --mission {dir} --key {}).",
                mission.slug,
                err.message(),
                candidate.external_issue_key,
                candidate.external_issue_key
            ),
        )
    })?;
    Ok(MissionFromTicketResult {
        feature_dir: dir,
        feature_slug: mission.slug,
        origin_ticket: bound.origin_ticket,
        event_emitted: bound.event_emitted,
    })
}
