//! `start_mission_from_ticket()` (FR-006): create the mission from a
//! confirmed ticket with Spec Kitty 3.2's own layout, then bind it as the
//! mission's origin.

use std::path::Path;

use serde_json::Value;

use crate::capabilities::Capabilities;
use crate::error::{ErrorKind, OriginError, Result};
use crate::meta::{self, Meta};
use crate::model::{MissionFromTicketResult, OriginCandidate, Routing};
use crate::status_events::{self, Creation, Lines, STATUS_EVENTS_FILE};
use crate::timestamps::python_isoformat;
use crate::{bind, config, events, journal, layout, mission_dir, templates};

/// The branch recorded when `.git/HEAD` names none.
pub const DEFAULT_BRANCH: &str = "main";
/// The mission's human-readable document.
pub const SPEC_FILE: &str = "spec.md";
/// The topology of a mission kitty-origin starts: planned on the current
/// branch, without a coordination branch.
pub const TOPOLOGY: &str = "single_branch";
/// The most bytes of `.git/HEAD` read (a branch name is short).
const MAX_HEAD_BYTES: u64 = 4096;

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
    crate::files::read_bounded(&repo_root.join(".git/HEAD"), MAX_HEAD_BYTES)
        .ok()
        .flatten()
        .and_then(|head| head.trim().strip_prefix("ref: refs/heads/").map(str::to_string))
        .filter(|branch| !branch.is_empty())
        .unwrap_or_else(|| DEFAULT_BRANCH.to_string())
}

/// Whitespace collapsed to single spaces, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `purpose_context` of a ticket, as Spec Kitty's ticket-first start derives
/// it: the first paragraph of the body with at least 24 characters; else
/// Spec Kitty's own default sentence for a mission.
pub fn purpose_context(body: Option<&str>, friendly_name: &str, target_branch: &str) -> String {
    paragraphs(body.unwrap_or_default()).into_iter().find(|p| p.chars().count() >= 24).unwrap_or_else(|| {
        format!("This mission advances {friendly_name} on {target_branch} so stakeholders can track the work from mission creation onward.")
    })
}

/// The paragraphs of `text` (separated by blank lines), each collapsed to one line.
fn paragraphs(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    for line in text.lines().chain([""]) {
        if line.trim().is_empty() {
            if !current.trim().is_empty() {
                found.push(collapse(&current));
            }
            current.clear();
        } else {
            current.push_str(line);
            current.push(' ');
        }
    }
    found
}

/// The initial `meta.json` of a new mission: Spec Kitty 3.2's fields, in a
/// single branch (no coordination branch), not yet flattened.
pub fn initial_meta(creation: &Creation) -> Meta {
    let mut meta = Meta::new();
    let mut put = |key: &str, value: Value| {
        meta.insert(key.to_string(), value);
    };
    put("created_at", creation.created_at.clone().into());
    put("flattened", false.into());
    put("friendly_name", creation.friendly_name.clone().into());
    put("mission_id", creation.mission_id.clone().into());
    put("mission_number", Value::Null);
    put("mission_slug", creation.mission_slug.clone().into());
    put("mission_type", creation.mission_type.clone().into());
    put("purpose_context", creation.purpose_context.clone().into());
    put("purpose_tldr", creation.purpose_tldr.clone().into());
    put("slug", creation.mission_slug.clone().into());
    put("target_branch", creation.target_branch.clone().into());
    put("topology", TOPOLOGY.into());
    meta
}

/// Writes the scaffold into the new, empty `dir`, in Spec Kitty's order:
/// the folders, `tasks/.gitkeep`, an empty log, `tasks/README.md`, `spec.md`,
/// `meta.json`, then the two creation lines of the log.
fn write_scaffold(caps: Capabilities<'_>, dir: &Path, creation: &Creation, spec: &str, lines: &Lines) -> Result<()> {
    for sub in ["checklists", "research", "tasks"] {
        let path = dir.join(sub);
        std::fs::create_dir(&path).map_err(|err| OriginError::io("create", &path, &err))?;
    }
    let files = [
        ("tasks/.gitkeep", String::new()),
        (STATUS_EVENTS_FILE, String::new()),
        ("tasks/README.md", templates::tasks_readme(&creation.target_branch)),
        (SPEC_FILE, spec.to_string()),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        caps.files.create_new(&path, text.as_bytes()).map_err(|err| OriginError::io("write", &path, &err))?;
    }
    meta::write_meta(caps.files, dir, &initial_meta(creation), caps.entropy.random_u128())?;
    status_events::append(caps.files, dir, lines)
}

/// Creates the mission for `candidate` under `repo_root`, as Spec Kitty 3.2's
/// create lays it out, then binds the ticket as its origin.
///
/// The scaffold is written in a staging directory and published whole; the
/// pending bind is journaled before it is published, so a crash at any
/// instant leaves either nothing in `kitty-specs/` or a mission whose bind a
/// later call completes. The creation events go to the host's sink after
/// the mission is published and before the bind, so the control plane hears
/// of the mission before its origin (the reference host also commits the
/// scaffold at that moment). A start of a ticket whose earlier start did not
/// complete its bind reuses that mission instead of creating another.
///
/// # Errors
///
/// Everything [`bind::bind_mission_origin`] returns; before the mission
/// exists: `unsupported-project-layout`, `no-tracker-binding`,
/// `invalid-candidate` (mission type, provider), `io` (then nothing is left
/// behind). A failed bind keeps the mission and says how to retry.
pub fn start_mission_from_ticket(
    caps: Capabilities<'_>,
    repo_root: &Path,
    candidate: &OriginCandidate,
    routing: &Routing,
    mission_key: &str,
) -> Result<MissionFromTicketResult> {
    let mission_type = validate_mission_key(mission_key)?;
    layout::check(repo_root)?;
    let config = config::load_repo_config(repo_root)?;
    bind::check_same_provider(&config.binding, routing)?;
    let template_file = templates::spec_template_name(mission_type, config.project.mission_types.as_deref())?;
    let project_slug = config.binding.project_slug.as_deref();

    let (slug, dir) = match journal::unfinished_start(repo_root, &candidate.external_issue_id) {
        Some((slug, earlier)) => (slug, repo_root.join(earlier.feature_dir)),
        None => {
            let spec = templates::find_spec_template(repo_root, mission_type, template_file)?
                .unwrap_or_else(|| templates::fallback_spec(candidate, routing));
            let mission = create(caps, repo_root, candidate, routing, mission_type, &spec, &config.project)?;
            (mission.slug, mission.dir)
        }
    };
    for event in events::creation_events(&dir, project_slug) {
        // Telemetry, like Spec Kitty's fan-out: a refused event never fails the start.
        let _ = caps.events.emit(&event);
    }

    let shown = dir.display().to_string();
    let bound = bind::bind_mission_origin(caps, repo_root, &dir, candidate, routing).map_err(|err| {
        OriginError::new(
            err.kind(),
            format!(
                "Mission {slug} was created at {shown} but has no origin ticket yet: {} Once that is fixed, retry the start \
                 (it reuses this mission) or the bind of {shown} with {} (bind-mission-origin, or kitty-origin bind --mission {shown} --key {}).",
                err.message(),
                candidate.external_issue_key,
                candidate.external_issue_key
            ),
        )
    })?;
    Ok(MissionFromTicketResult {
        feature_dir: shown,
        feature_slug: slug,
        origin_ticket: bound.origin_ticket,
        event_emitted: bound.event_emitted,
        event_delivery: bound.event_delivery,
    })
}

/// Writes a new mission's scaffold in staging, journals its bind, and
/// publishes it into `kitty-specs/`; a name taken meanwhile gets a new id.
fn create(
    caps: Capabilities<'_>,
    repo_root: &Path,
    candidate: &OriginCandidate,
    routing: &Routing,
    mission_type: &str,
    spec: &str,
    project: &config::ProjectConfig,
) -> Result<mission_dir::StagedMission> {
    let target_branch = target_branch(repo_root);
    let friendly_name = collapse(&candidate.title);
    for _ in 0..mission_dir::CREATE_ATTEMPTS {
        let mission = mission_dir::stage(caps, repo_root, &candidate.external_issue_key, &candidate.title)?;
        let creation = Creation {
            mission_id: mission.mission_id.clone(),
            mission_slug: mission.slug.clone(),
            mission_type: mission_type.to_string(),
            purpose_tldr: friendly_name.clone(),
            purpose_context: purpose_context(candidate.body.as_deref(), &friendly_name, &target_branch),
            friendly_name: friendly_name.clone(),
            target_branch: target_branch.clone(),
            created_at: python_isoformat(caps.clock.unix_micros()),
        };
        let lines = status_events::creation_lines(caps, &creation, project);
        let pending = journal::PendingBind::new(caps, "start", repo_root, &mission.dir, candidate, routing);
        let prepared = write_scaffold(caps, &mission.staging, &creation, spec, &lines)
            .and_then(|()| journal::record(caps, repo_root, &mission.slug, &pending));
        let published = prepared.map_err(mission_dir::PublishError::Io).and_then(|()| mission_dir::publish(&mission));
        match published {
            Ok(()) => {
                journal::clear_staging(caps, repo_root);
                return Ok(mission);
            }
            Err(failure) => {
                // Nothing half-made stays behind: the staging directory was ours alone.
                let _ = std::fs::remove_dir_all(&mission.staging);
                journal::forget(repo_root, &mission.slug);
                match failure {
                    mission_dir::PublishError::NameTaken => mission_dir::wait_for_next_name(caps),
                    mission_dir::PublishError::Io(err) => {
                        journal::clear_staging(caps, repo_root);
                        return Err(err);
                    }
                }
            }
        }
    }
    journal::clear_staging(caps, repo_root);
    Err(mission_dir::no_free_name(&repo_root.join(mission_dir::SPECS_DIR), &candidate.external_issue_key))
}
