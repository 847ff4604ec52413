//! The files a new mission starts with, from the templates Spec Kitty uses.
//!
//! `spec.md` is copied from the mission type's spec template, found the way
//! Spec Kitty 3.2 finds it, first hit wins: the repo's overrides
//! (`.kittify/overrides/missions/<type>/templates/`, then
//! `.kittify/overrides/templates/`), its legacy `.kittify/templates/`, then
//! the directories the host granted in [`TEMPLATE_DIRS_VAR`] (the reference
//! host grants `~/.kittify/missions/<type>/templates`, `~/.kittify/templates`
//! and the installed Spec Kitty's package templates, read-only). Where none
//! holds the template, `spec.md` is kitty-origin's own summary of the ticket,
//! and says so in its first lines ([`FALLBACK_SPEC_NOTE`]).

use std::path::{Path, PathBuf};

use crate::error::{ErrorKind, OriginError, Result};
use crate::model::{OriginCandidate, Routing};

/// The environment variable listing the template directories the host
/// granted, `:`-separated, in Spec Kitty's tier order.
pub const TEMPLATE_DIRS_VAR: &str = "KITTY_ORIGIN_TEMPLATE_DIRS";

/// The mission types of Spec Kitty 3.2 and their spec templates.
pub const SPEC_TEMPLATES: [(&str, &str); 4] = [
    ("documentation", "documentation-spec-template.md"),
    ("plan", "plan-spec-skeleton.md"),
    ("research", "research-spec-template.md"),
    ("software-dev", "spec-template.md"),
];

/// `tasks/README.md` as Spec Kitty 3.2.7 writes it (MIT-licensed text from
/// `specify_cli/core/mission_creation.py`), with `{planning_branch}` to fill.
const TASKS_README: &str = include_str!("templates/tasks-README.md");

/// The line that opens a `spec.md` kitty-origin wrote without Spec Kitty's template.
pub const FALLBACK_SPEC_NOTE: &str = "<!-- kitty-origin: Spec Kitty's spec template was not found, so this spec.md is kitty-origin's summary of the origin ticket. Install spec-kitty-cli (or run `spec-kitty init`) to start from the template. -->";

/// The most bytes of a template read: Spec Kitty's are under 8 KiB.
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

/// The spec template file of `mission_type`.
///
/// # Errors
///
/// `invalid-candidate` for a type Spec Kitty 3.2 does not know, or one the
/// repo's `mission_type_activations` does not activate.
pub fn spec_template_name(mission_type: &str, activated: Option<&[String]>) -> Result<&'static str> {
    let known: Vec<&str> = SPEC_TEMPLATES.iter().map(|(t, _)| *t).collect();
    let Some((_, file)) = SPEC_TEMPLATES.iter().find(|(t, _)| *t == mission_type) else {
        return Err(OriginError::new(
            ErrorKind::InvalidCandidate,
            format!("Unknown mission type '{mission_type}'. Registered types: {}.", known.join(", ")),
        ));
    };
    if let Some(activated) = activated
        && !activated.iter().any(|t| t == mission_type)
    {
        return Err(OriginError::new(
            ErrorKind::InvalidCandidate,
            format!(
                "Mission type '{mission_type}' is not activated in .kittify/config.yaml (mission_type_activations: {}). \
                 Pick one of those, or activate it with Spec Kitty.",
                activated.join(", ")
            ),
        ));
    }
    Ok(file)
}

/// Where a template may be, in tier order: the repo's own tiers, then the granted ones.
fn candidate_paths(repo_root: &Path, mission_type: &str, file: &str) -> Vec<PathBuf> {
    let kittify = repo_root.join(".kittify");
    let mut paths = vec![
        kittify.join("overrides/missions").join(mission_type).join("templates").join(file),
        kittify.join("overrides/templates").join(file),
        kittify.join("templates").join(file),
    ];
    if let Ok(granted) = std::env::var(TEMPLATE_DIRS_VAR) {
        paths.extend(granted.split(':').filter(|d| !d.is_empty()).map(|dir| Path::new(dir).join(file)));
    }
    paths
}

/// The contents of the spec template `file` of `mission_type`, if any tier has it.
///
/// # Errors
///
/// `io` when a template exists but cannot be read within bounds.
pub fn find_spec_template(repo_root: &Path, mission_type: &str, file: &str) -> Result<Option<String>> {
    for path in candidate_paths(repo_root, mission_type, file) {
        match crate::files::read_bounded(&path, MAX_TEMPLATE_BYTES) {
            Ok(Some(text)) => return Ok(Some(text)),
            Ok(None) => {}
            Err(err) => return Err(OriginError::io("read the spec template", &path, &err)),
        }
    }
    Ok(None)
}

/// `tasks/README.md` for missions planned on `planning_branch`.
pub fn tasks_readme(planning_branch: &str) -> String {
    TASKS_README.replace("{planning_branch}", planning_branch)
}

/// kitty-origin's own `spec.md` where no template was found: the ticket,
/// its link and its body, readable offline.
pub fn fallback_spec(candidate: &OriginCandidate, routing: &Routing) -> String {
    let body = candidate.body.as_deref().map(str::trim).filter(|b| !b.is_empty()).unwrap_or("_The ticket has no description._");
    format!(
        "{FALLBACK_SPEC_NOTE}\n\n# {title}\n\n\
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::write;

    #[test]
    fn types_map_to_their_templates_and_activation_is_honoured() {
        assert_eq!(spec_template_name("software-dev", None).unwrap(), "spec-template.md");
        assert_eq!(spec_template_name("research", None).unwrap(), "research-spec-template.md");
        let err = spec_template_name("bogus", None).unwrap_err();
        assert!(err.message().contains("Registered types: documentation, plan, research, software-dev."), "{}", err.message());
        let only = ["software-dev".to_string()];
        assert!(spec_template_name("plan", Some(&only)).unwrap_err().message().contains("not activated"));
    }

    #[test]
    fn the_repo_override_wins_over_the_legacy_tier() {
        let repo = tempfile::tempdir().unwrap();
        assert_eq!(find_spec_template(repo.path(), "software-dev", "spec-template.md").unwrap(), None);
        write(repo.path(), ".kittify/templates/spec-template.md", "legacy");
        assert_eq!(find_spec_template(repo.path(), "software-dev", "spec-template.md").unwrap().as_deref(), Some("legacy"));
        write(repo.path(), ".kittify/overrides/missions/software-dev/templates/spec-template.md", "override");
        assert_eq!(find_spec_template(repo.path(), "software-dev", "spec-template.md").unwrap().as_deref(), Some("override"));
    }

    #[test]
    fn the_tasks_readme_names_the_planning_branch() {
        let readme = tasks_readme("feature/demo");
        assert_eq!(readme.len(), 1440, "Spec Kitty's own for feature/demo is 1440 bytes");
        assert_eq!(readme.matches("feature/demo").count(), 4);
        assert!(readme.starts_with("# Tasks Directory\n") && readme.ends_with("`WP02-user-auth.md`\n"));
    }
}
