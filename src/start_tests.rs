//! Native tests of `start_mission_from_ticket`: Spec Kitty 3.2's layout, byte
//! for byte, the creation events before the binding, and failures.

use serde_json::{Value, json};

use crate::error::ErrorKind;
use crate::model::{MatchType, OriginCandidate, Routing};
use crate::start;
use crate::testing::{Doubles, LINEAR_CONFIG, bound_repo, write};

const BIND_OK: &str = r#"{"origin_link_id":"link-1","bound_at":"2026-04-01T12:00:00Z"}"#;
const PROJECT: &str = "project:\n  uuid: 54367844-3e52-44c8-8523-b078a4542c81\n  slug: acme-web-repo\nmission_type_activations:\n- software-dev\n- research\n";

fn candidate() -> OriginCandidate {
    OriginCandidate {
        external_issue_id: "uuid-123".into(),
        external_issue_key: "WEB-123".into(),
        title: "Add  Clerk auth".into(),
        status: "In Progress".into(),
        url: "https://linear.app/acme/issue/WEB-123/add-clerk-auth".into(),
        match_type: MatchType::Exact,
        body: Some("Short.\n\nReplace the session cookies\nwith Clerk — über fast.\n\nMore.".into()),
    }
}

fn routing() -> Routing {
    Routing { provider: "linear".into(), resource_type: "linear_team".into(), resource_id: "team-uuid".into() }
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn scenario_5_lays_the_mission_out_as_spec_kitty_3_2_does() {
    let repo = bound_repo(&format!("{PROJECT}{LINEAR_CONFIG}"));
    write(repo.path(), ".git/HEAD", "ref: refs/heads/feature/clerk\n");
    write(repo.path(), ".kittify/metadata.yaml", "spec_kitty:\n  schema_version: 3\n  version: 3.2.7\n");
    write(repo.path(), ".kittify/overrides/templates/spec-template.md", "# Feature Specification: [FEATURE NAME]\n");
    let d = Doubles::default();
    d.saas.push(200, BIND_OK);
    let outcome = start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), "software-dev").unwrap();

    let names: Vec<String> =
        std::fs::read_dir(repo.path().join("kitty-specs")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names.len(), 1);
    let slug = names[0].clone();
    let dir = repo.path().join("kitty-specs").join(&slug);
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let mission_id = meta["mission_id"].as_str().unwrap().to_string();
    assert_eq!(slug, format!("web-123-add-clerk-auth-{}", &mission_id[..8]));
    assert!(ulid::Ulid::from_string(&mission_id).is_ok() && mission_id == mission_id.to_ascii_uppercase());
    assert_eq!((outcome.feature_slug.as_str(), outcome.feature_dir.as_str()), (slug.as_str(), dir.to_str().unwrap()));

    let created_at = "2026-04-01T12:00:00+00:00";
    let expected_meta = format!(
        "{{\n  \"created_at\": \"{created_at}\",\n  \"flattened\": false,\n  \"friendly_name\": \"Add Clerk auth\",\n  \"mission_id\": \"{mission_id}\",\n  \"mission_number\": null,\n  \"mission_slug\": \"{slug}\",\n  \"mission_type\": \"software-dev\",\n  \"origin_ticket\": {{\n    \"external_issue_id\": \"uuid-123\",\n    \"external_issue_key\": \"WEB-123\",\n    \"external_issue_url\": \"https://linear.app/acme/issue/WEB-123/add-clerk-auth\",\n    \"provider\": \"linear\",\n    \"resource_id\": \"team-uuid\",\n    \"resource_type\": \"linear_team\",\n    \"title\": \"Add  Clerk auth\"\n  }},\n  \"purpose_context\": \"Replace the session cookies with Clerk — über fast.\",\n  \"purpose_tldr\": \"Add Clerk auth\",\n  \"slug\": \"{slug}\",\n  \"target_branch\": \"feature/clerk\",\n  \"topology\": \"single_branch\"\n}}\n"
    );
    assert_eq!(std::fs::read_to_string(dir.join("meta.json")).unwrap(), expected_meta);

    let log = std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    let events = lines(&log);
    assert_eq!(events.len(), 2);
    let (created_id, started_id) = (events[0]["event_id"].as_str().unwrap(), events[1]["event_id"].as_str().unwrap());
    assert_eq!(
        log,
        format!(
            "{{\"aggregate_id\": \"{mission_id}\", \"aggregate_type\": \"Mission\", \"event_id\": \"{created_id}\", \"event_type\": \"MissionCreated\", \"payload\": {{\"created_at\": \"{created_at}\", \"friendly_name\": \"Add Clerk auth\", \"mission_id\": \"{mission_id}\", \"mission_number\": null, \"mission_slug\": \"{slug}\", \"mission_type\": \"software-dev\", \"purpose_context\": \"Replace the session cookies with Clerk \\u2014 \\u00fcber fast.\", \"purpose_tldr\": \"Add Clerk auth\", \"target_branch\": \"feature/clerk\", \"wp_count\": 0}}, \"project_slug\": \"acme-web-repo\", \"project_uuid\": \"54367844-3e52-44c8-8523-b078a4542c81\", \"schema_version\": \"5.0.0\", \"timestamp\": \"{created_at}\"}}\n\
             {{\"aggregate_id\": \"{slug}\", \"aggregate_type\": \"Mission\", \"event_id\": \"{started_id}\", \"event_type\": \"SpecifyStarted\", \"payload\": {{\"actor\": \"kitty-origin start-mission-from-ticket\", \"artifact_path\": \"kitty-specs/{slug}/spec.md\", \"at\": \"2026-04-01T12:00:00Z\", \"mission_number\": null, \"mission_slug\": \"{slug}\"}}, \"project_slug\": null, \"project_uuid\": null, \"schema_version\": \"5.0.0\", \"timestamp\": \"{created_at}\"}}\n"
        )
    );

    assert_eq!(std::fs::read_to_string(dir.join("spec.md")).unwrap(), "# Feature Specification: [FEATURE NAME]\n");
    assert_eq!(std::fs::read_to_string(dir.join("tasks/README.md")).unwrap(), crate::templates::tasks_readme("feature/clerk"));
    assert_eq!(std::fs::read(dir.join("tasks/.gitkeep")).unwrap(), b"");
    for empty in ["checklists", "research"] {
        assert_eq!(std::fs::read_dir(dir.join(empty)).unwrap().count(), 0, "{empty}");
    }
    let mut files: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    assert_eq!(files, ["checklists", "meta.json", "research", "spec.md", "status.events.jsonl", "tasks"], "no temporary file left");

    // The control plane hears of the creation before the binding.
    let emitted = d.sink.events.borrow();
    let types: Vec<&str> = emitted.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["MissionCreated", "SpecifyStarted", "MissionOriginBound"]);
    let created = &emitted[0];
    assert_eq!((created.aggregate_id.as_str(), created.schema_version.as_str()), (mission_id.as_str(), "3.0.0"));
    assert_eq!(created.correlation_id.as_deref(), Some(created.event_id.as_str()));
    assert_ne!(created.event_id, created_id, "the control plane's copy has its own id");
    assert_eq!(serde_json::from_str::<Value>(&created.payload_json).unwrap(), events[0]["payload"]);
    let started: Value = serde_json::from_str(&emitted[1].payload_json).unwrap();
    assert_eq!(
        started,
        json!({"actor": "kitty-origin start-mission-from-ticket", "at": "2026-04-01T12:00:00Z", "mission_number": null, "mission_slug": slug})
    );
    assert_eq!(emitted[1].aggregate_id, slug);
    assert_eq!(d.saas.sent.borrow()[0].body["mission_id"], json!(mission_id));
}

#[test]
fn without_a_template_spec_md_is_our_summary_and_says_so() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    d.saas.push(200, BIND_OK);
    let outcome = start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), "software-dev").unwrap();
    let spec = std::fs::read_to_string(std::path::Path::new(&outcome.feature_dir).join("spec.md")).unwrap();
    assert!(spec.starts_with(crate::templates::FALLBACK_SPEC_NOTE), "{spec}");
    assert!(spec.contains("# Add  Clerk auth\n\nOrigin ticket: [WEB-123](https://linear.app/acme/issue/WEB-123/add-clerk-auth)"), "{spec}");
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(std::path::Path::new(&outcome.feature_dir).join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["target_branch"], "main");
}

#[test]
fn a_body_without_a_long_paragraph_gets_spec_kittys_default_purpose() {
    assert_eq!(
        start::purpose_context(Some("Short.\n  \nAlso short."), "Add Clerk auth", "main"),
        "This mission advances Add Clerk auth on main so stakeholders can track the work from mission creation onward."
    );
    assert_eq!(start::purpose_context(Some("a\n \n  twenty-four characters here \n"), "x", "main"), "twenty-four characters here");
    assert!(start::purpose_context(None, "x", "dev").ends_with("on dev so stakeholders can track the work from mission creation onward."));
}

#[test]
fn a_failed_bind_keeps_the_mission_and_says_how_to_retry() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    d.saas.push(503, "{}");
    let err = start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), "software-dev").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ControlPlaneUnreachable);
    let dir = std::fs::read_dir(repo.path().join("kitty-specs")).unwrap().next().unwrap().unwrap().path();
    assert!(err.message().contains("has no origin ticket yet") && err.message().contains("--key WEB-123"), "{}", err.message());
    assert!(err.message().contains(&dir.display().to_string()), "{}", err.message());
    assert!(!std::fs::read_to_string(dir.join("meta.json")).unwrap().contains("origin_ticket"));
    let types: Vec<String> = d.sink.events.borrow().iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(types, ["MissionCreated", "SpecifyStarted"], "no MissionOriginBound without a binding");
}

#[test]
fn start_checks_its_input_before_creating_anything() {
    let repo = bound_repo(&format!("{PROJECT}{LINEAR_CONFIG}"));
    let d = Doubles::default();
    for (mission_type, kind) in
        [("Bad Type", ErrorKind::InvalidCandidate), ("bogus", ErrorKind::InvalidCandidate), ("plan", ErrorKind::InvalidCandidate)]
    {
        let err = start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), mission_type).unwrap_err();
        assert_eq!(err.kind(), kind, "{mission_type}: {err:?}");
    }
    let unbound = tempfile::tempdir().unwrap();
    assert_eq!(
        start::start_mission_from_ticket(d.caps(), unbound.path(), &candidate(), &routing(), "software-dev").unwrap_err().kind(),
        ErrorKind::NoTrackerBinding
    );
    write(repo.path(), ".kittify/metadata.yaml", "spec_kitty:\n  version: 2.1.0\n");
    let err = start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), "software-dev").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedProjectLayout);
    assert!(err.message().contains("spec-kitty upgrade"), "{}", err.message());
    assert!(!repo.path().join("kitty-specs").exists() && !unbound.path().join("kitty-specs").exists());
    assert!(d.saas.sent.borrow().is_empty() && d.sink.events.borrow().is_empty());
}

#[test]
fn two_starts_of_one_ticket_in_one_instant_get_two_directories() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    d.saas.push(200, BIND_OK);
    d.saas.push(200, BIND_OK);
    let first = start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), "software-dev").unwrap();
    let at = d.clock.now_ms.get();
    d.clock.now_ms.set(at - at % 1024 + 1); // back into the first mission's mid8 window
    let second = start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), "software-dev").unwrap();
    assert_ne!(first.feature_dir, second.feature_dir);
    assert!(d.clock.sleeps.borrow().iter().any(|ms| *ms <= 1024), "waited for the next mid8 window");
}

#[test]
fn the_target_branch_defaults_to_main() {
    let repo = tempfile::tempdir().unwrap();
    assert_eq!(start::target_branch(repo.path()), "main");
    write(repo.path(), ".git/HEAD", "0123456789abcdef\n");
    assert_eq!(start::target_branch(repo.path()), "main");
    write(repo.path(), ".git/HEAD", &"x".repeat(10_000));
    assert_eq!(start::target_branch(repo.path()), "main");
}

#[test]
fn a_retried_start_after_a_failed_bind_reuses_its_mission() {
    let repo = bound_repo(LINEAR_CONFIG);
    let d = Doubles::default();
    d.saas.push(503, "{}");
    start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), "software-dev").unwrap_err();
    assert_eq!(crate::journal::pending(repo.path()).len(), 1, "the undone bind is journaled");
    d.saas.push(200, BIND_OK);
    let retried = start::start_mission_from_ticket(d.caps(), repo.path(), &candidate(), &routing(), "software-dev").unwrap();
    let missions: Vec<_> = std::fs::read_dir(repo.path().join("kitty-specs")).unwrap().collect();
    assert_eq!(missions.len(), 1, "no second mission");
    assert!(retried.feature_dir.ends_with(&retried.feature_slug));
    assert!(crate::journal::pending(repo.path()).is_empty(), "done: nothing pending");
    let events = d.sink.events.borrow();
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!((ids[0], ids[1]), (ids[2], ids[3]), "the creation events are re-emitted with the same ids");
    assert_eq!(
        events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>()[2..],
        ["MissionCreated", "SpecifyStarted", "MissionOriginBound"]
    );
    assert_eq!(retried.event_delivery, Some(crate::model::Delivery::Queued));
    let staging = repo.path().join(".kittify/origin/staging");
    assert!(std::fs::read_dir(&staging).map_or(true, |mut d| d.next().is_none()), "no staging left");
    assert_eq!(std::fs::read_to_string(repo.path().join(".kittify/origin/.gitignore")).unwrap(), "*\n");
}

#[test]
fn a_bind_that_may_have_reached_the_control_plane_stays_journaled() {
    let repo = bound_repo(LINEAR_CONFIG);
    write(repo.path(), "kitty-specs/m/meta.json", "{\"mission_id\": \"01JQ0000000000000000000000\", \"mission_slug\": \"m\"}");
    let dir = repo.path().join("kitty-specs/m");
    let d = Doubles::default();
    d.saas.push(503, "{}");
    crate::bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap_err();
    let pending = crate::journal::pending(repo.path());
    assert_eq!((pending.len(), pending[0].1.kind.as_str(), pending[0].1.feature_dir.as_str()), (1, "bind", "kitty-specs/m"));
    d.saas.push(404, "{}");
    crate::bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap_err();
    assert!(crate::journal::pending(repo.path()).is_empty(), "a definitive refusal: nothing to complete");
    d.saas.push(200, BIND_OK);
    let bound = crate::bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap();
    assert!(crate::journal::pending(repo.path()).is_empty());
    let event = d.sink.events.borrow().last().unwrap().clone();
    d.saas.push(200, BIND_OK);
    crate::bind::bind_mission_origin(d.caps(), repo.path(), &dir, &candidate(), &routing()).unwrap();
    assert_eq!(d.sink.events.borrow().last().unwrap().event_id, event.event_id, "a re-bind re-emits the same event id");
    assert_eq!(bound.event_delivery, Some(crate::model::Delivery::Queued));
}
