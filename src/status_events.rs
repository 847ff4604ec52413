//! The mission's local event log, `status.events.jsonl`, as Spec Kitty 3.2's
//! create writes it: a `MissionCreated` line (aggregate: the mission id) and
//! a `SpecifyStarted` line (aggregate: the mission slug), each one Python
//! `json.dumps(sort_keys=True)` line, appended and synced.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::capabilities::{Capabilities, FileWriter};
use crate::config::ProjectConfig;
use crate::error::{OriginError, Result};
use crate::mission_dir::SPECS_DIR;
use crate::python_json;
use crate::timestamps::{pydantic_utc, python_isoformat};

/// The log's file name in the mission directory.
pub const STATUS_EVENTS_FILE: &str = "status.events.jsonl";
/// The envelope schema of the local log.
pub const LOCAL_SCHEMA_VERSION: &str = "5.0.0";
/// Who started the specify phase, as the log records it.
pub const ACTOR: &str = "kitty-origin start-mission-from-ticket";

/// What a new mission is: the fields `meta.json` and `MissionCreated` share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creation {
    /// The ULID.
    pub mission_id: String,
    /// The directory name.
    pub mission_slug: String,
    /// `software-dev`, ...
    pub mission_type: String,
    /// The ticket's title, whitespace collapsed.
    pub friendly_name: String,
    /// One line.
    pub purpose_tldr: String,
    /// One paragraph.
    pub purpose_context: String,
    /// The branch the mission is planned on.
    pub target_branch: String,
    /// Python `isoformat()` of the creation time.
    pub created_at: String,
}

/// The `MissionCreated` payload (Spec Kitty's `MissionCreatedPayload`).
pub fn mission_created_payload(c: &Creation) -> Value {
    json!({
        "created_at": c.created_at,
        "friendly_name": c.friendly_name,
        "mission_id": c.mission_id,
        "mission_number": null,
        "mission_slug": c.mission_slug,
        "mission_type": c.mission_type,
        "purpose_context": c.purpose_context,
        "purpose_tldr": c.purpose_tldr,
        "target_branch": c.target_branch,
        "wp_count": 0,
    })
}

/// The `SpecifyStarted` payload at `at_micros`, without the local
/// `artifact_path` (the control plane's form).
pub fn specify_started_payload(mission_slug: &str, at_micros: u64) -> Map<String, Value> {
    let mut payload = Map::new();
    payload.insert("actor".into(), ACTOR.into());
    payload.insert("at".into(), pydantic_utc(at_micros).into());
    payload.insert("mission_number".into(), Value::Null);
    payload.insert("mission_slug".into(), mission_slug.into());
    payload
}

/// The two lines of a new mission's log, and the creation time of `SpecifyStarted`.
pub struct Lines {
    /// The `MissionCreated` envelope.
    pub mission_created: Value,
    /// The `SpecifyStarted` envelope.
    pub specify_started: Value,
}

/// Builds both envelopes for `creation` in `project`, with new event ids.
pub fn creation_lines(caps: Capabilities<'_>, creation: &Creation, project: &ProjectConfig) -> Lines {
    let envelope = |event_type: &str, aggregate_id: &str, payload: Value, project: Option<&ProjectConfig>, at: u64| {
        json!({
            "aggregate_id": aggregate_id,
            "aggregate_type": "Mission",
            "event_id": caps.new_ulid(),
            "event_type": event_type,
            "payload": payload,
            "project_slug": project.and_then(|p| p.slug.clone()),
            "project_uuid": project.and_then(|p| p.uuid.clone()),
            "schema_version": LOCAL_SCHEMA_VERSION,
            "timestamp": python_isoformat(at),
        })
    };
    let mission_created =
        envelope("MissionCreated", &creation.mission_id, mission_created_payload(creation), Some(project), caps.clock.unix_micros());
    let at = caps.clock.unix_micros();
    let mut started = specify_started_payload(&creation.mission_slug, at);
    started.insert("artifact_path".into(), format!("{SPECS_DIR}/{}/spec.md", creation.mission_slug).into());
    let specify_started = envelope("SpecifyStarted", &creation.mission_slug, Value::Object(started), None, caps.clock.unix_micros());
    Lines { mission_created, specify_started }
}

/// Appends `lines` to the mission's log in `feature_dir`, each synced.
///
/// # Errors
///
/// `io` when the log cannot be written.
pub fn append(files: &dyn FileWriter, feature_dir: &Path, lines: &Lines) -> Result<()> {
    let path = feature_dir.join(STATUS_EVENTS_FILE);
    for line in [&lines.mission_created, &lines.specify_started] {
        crate::files::append_line(files, &path, &python_json::dumps(line)).map_err(|err| OriginError::io("append to", &path, &err))?;
    }
    Ok(())
}
