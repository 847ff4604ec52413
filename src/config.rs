//! The repo's tracker binding: the `tracker:` block of `.kittify/config.yaml`.
//! Read only: other keys belong to other tools and are never rewritten.

use std::path::Path;

use yaml_rust2::Yaml;

use crate::yaml::{self, YamlError};

use crate::error::{ErrorKind, OriginError, Result};

/// Where the binding lives, relative to the repo root.
pub const CONFIG_PATH: &str = ".kittify/config.yaml";

/// The hard error of Scenario 6, word for word.
pub const NO_TRACKER_BOUND: &str = "No tracker bound. Run spec-kitty tracker bind first.";

/// The providers of v1 (C-001).
pub const SUPPORTED_PROVIDERS: [&str; 2] = ["jira", "linear"];

/// A repo's tracker binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerBinding {
    /// `jira` or `linear` (lower-cased).
    pub provider: String,
    /// The bound Spec Kitty project.
    pub project_slug: Option<String>,
    /// Opaque binding reference; wins over `project_slug` on the wire.
    pub binding_ref: Option<String>,
}

impl TrackerBinding {
    /// The JSON fields that scope a request: `binding_ref` when there is one,
    /// else `project_slug`.
    pub fn scope_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut fields = serde_json::Map::new();
        match (&self.binding_ref, &self.project_slug) {
            (Some(binding_ref), _) => fields.insert("binding_ref".into(), binding_ref.clone().into()),
            (None, Some(slug)) => fields.insert("project_slug".into(), slug.clone().into()),
            (None, None) => None,
        };
        fields
    }

    /// A short label for messages: the project slug or binding reference.
    pub fn label(&self) -> &str {
        self.project_slug.as_deref().or(self.binding_ref.as_deref()).unwrap_or("?")
    }
}

/// Checks that `provider` is one of v1's providers and returns it lower-cased.
pub fn check_provider(provider: &str) -> Result<String> {
    let normalized = provider.trim().to_ascii_lowercase();
    if SUPPORTED_PROVIDERS.contains(&normalized.as_str()) {
        Ok(normalized)
    } else {
        Err(OriginError::new(
            ErrorKind::UnsupportedProvider,
            format!(
                "Tracker provider '{provider}' is not supported: only jira and linear can be an origin in v1. \
                 Bind the repo to a Jira project or Linear team with spec-kitty tracker bind."
            ),
        ))
    }
}

/// The most bytes of `.kittify/config.yaml` read: Spec Kitty's own is a
/// few hundred bytes; anything near this bound is not a config file.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// What a repo's `.kittify/config.yaml` says about the Spec Kitty project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectConfig {
    /// `project.uuid`, set by `spec-kitty init`.
    pub uuid: Option<String>,
    /// `project.slug`, set by `spec-kitty init`.
    pub slug: Option<String>,
    /// `mission_type_activations`: the mission types the repo allows (none: any).
    pub mission_types: Option<Vec<String>>,
    /// `protection.protected_branches` (none: Spec Kitty's default set).
    pub protected_branches: Option<Vec<String>>,
}

/// A repo's configuration: its tracker binding and its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoConfig {
    /// The `tracker:` binding.
    pub binding: TrackerBinding,
    /// The `project:` block and the activated mission types.
    pub project: ProjectConfig,
}

/// Reads the configuration of the repo at `repo_root`.
///
/// # Errors
///
/// `no-tracker-binding` without a `tracker:` block; `invalid-tracker-config`
/// when the file is not a bounded regular YAML file or the block is malformed.
pub fn load_repo_config(repo_root: &Path) -> Result<RepoConfig> {
    let path = repo_root.join(CONFIG_PATH);
    let text = match crate::files::read_bounded(&path, MAX_CONFIG_BYTES) {
        Ok(Some(text)) => text,
        Ok(None) => return Err(OriginError::new(ErrorKind::NoTrackerBinding, NO_TRACKER_BOUND)),
        Err(err) => {
            return Err(OriginError::new(
                ErrorKind::InvalidTrackerConfig,
                format!("{} cannot be read ({err}). Fix the file or run spec-kitty tracker bind again.", path.display()),
            ));
        }
    };
    let doc = parse_document(&text, &path)?;
    Ok(RepoConfig { binding: binding_of(&doc, &path)?, project: project_of(&doc) })
}

/// Reads the binding of the repo at `repo_root` (see [`load_repo_config`]).
pub fn load_binding(repo_root: &Path) -> Result<TrackerBinding> {
    load_repo_config(repo_root).map(|config| config.binding)
}

/// The project identity in the parsed `doc`.
fn project_of(doc: &Yaml) -> ProjectConfig {
    let project_field = |name: &str| doc["project"][name].as_str().map(str::to_string);
    let strings = |value: &Yaml| -> Option<Vec<String>> {
        value.as_vec().map(|items| items.iter().filter_map(Yaml::as_str).map(str::to_string).collect())
    };
    ProjectConfig {
        uuid: project_field("uuid"),
        slug: project_field("slug"),
        mission_types: strings(&doc["mission_type_activations"]),
        protected_branches: strings(&doc["protection"]["protected_branches"]),
    }
}

/// `invalid-tracker-config` for the file at `path`, saying `what` is wrong.
fn invalid(path: &Path, what: String) -> OriginError {
    OriginError::new(
        ErrorKind::InvalidTrackerConfig,
        format!("{}: {what}. Fix the file or run spec-kitty tracker bind again.", path.display()),
    )
}

/// Parses the YAML `text` read from `path` (see [`yaml::load`]).
fn parse_document(text: &str, path: &Path) -> Result<Yaml> {
    yaml::load(text).map_err(|err| match err {
        YamlError::Invalid(why) => invalid(path, format!("not valid YAML ({why})")),
        too_large => invalid(path, format!("{too_large}, which no Spec Kitty configuration does")),
    })
}

/// Parses the `tracker:` block out of the YAML `text` read from `path`.
pub fn parse_binding(text: &str, path: &Path) -> Result<TrackerBinding> {
    binding_of(&parse_document(text, path)?, path)
}

/// The `tracker:` block of the parsed `doc`, read from `path`.
fn binding_of(doc: &Yaml, path: &Path) -> Result<TrackerBinding> {
    let tracker = match doc {
        Yaml::Null => &Yaml::Null,
        Yaml::Hash(_) => &doc["tracker"],
        _ => return Err(invalid(path, "the top level is not a mapping".into())),
    };
    match tracker {
        Yaml::Null | Yaml::BadValue => return Err(OriginError::new(ErrorKind::NoTrackerBinding, NO_TRACKER_BOUND)),
        Yaml::Hash(_) => {}
        _ => return Err(invalid(path, "`tracker` is not a mapping".into())),
    }
    let field = |name: &str| -> Result<Option<String>> {
        match &tracker[name] {
            Yaml::Null | Yaml::BadValue => Ok(None),
            Yaml::String(s) if s.trim().is_empty() => Ok(None),
            Yaml::String(s) => Ok(Some(s.trim().to_string())),
            _ => Err(invalid(path, format!("`tracker.{name}` is not a string"))),
        }
    };
    let provider = field("provider")?.ok_or_else(|| invalid(path, "`tracker.provider` is missing".into()))?;
    let provider = check_provider(&provider)?;
    let project_slug = field("project_slug")?;
    let binding_ref = field("binding_ref")?;
    if project_slug.is_none() && binding_ref.is_none() {
        return Err(invalid(path, "`tracker.project_slug` is missing".into()));
    }
    Ok(TrackerBinding { provider, project_slug, binding_ref })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TrackerBinding> {
        parse_binding(text, Path::new("/r/.kittify/config.yaml"))
    }

    #[test]
    fn reads_the_tracker_block_and_ignores_other_keys() {
        let binding = parse(
            "agents:\n  available: [claude]\ntracker:\n  provider: linear\n  project_slug: acme-web\n  display_label: Acme\n  provider_context:\n    team: WEB\nvcs: git\n",
        )
        .unwrap();
        assert_eq!(binding, TrackerBinding { provider: "linear".into(), project_slug: Some("acme-web".into()), binding_ref: None });
        assert_eq!(serde_json::Value::Object(binding.scope_fields()), serde_json::json!({"project_slug": "acme-web"}));
    }

    #[test]
    fn binding_ref_wins_over_project_slug_on_the_wire() {
        let binding = parse("tracker:\n  provider: Jira\n  project_slug: iam\n  binding_ref: br-7\n").unwrap();
        assert_eq!(binding.provider, "jira");
        assert_eq!(serde_json::Value::Object(binding.scope_fields()), serde_json::json!({"binding_ref": "br-7"}));
    }

    #[test]
    fn no_binding_is_the_scenario_6_error() {
        for text in ["", "vcs: git\n", "tracker:\n", "tracker: null\n"] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NoTrackerBinding, "{text:?}");
            assert_eq!(err.message(), NO_TRACKER_BOUND);
        }
    }

    #[test]
    fn missing_config_file_is_no_binding() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_binding(dir.path()).unwrap_err();
        assert_eq!((err.kind(), err.message()), (ErrorKind::NoTrackerBinding, NO_TRACKER_BOUND));
    }

    #[test]
    fn other_providers_are_refused() {
        let err = parse("tracker:\n  provider: github\n  project_slug: x\n").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedProvider);
        assert!(err.message().contains("'github'"), "{}", err.message());
    }

    #[test]
    fn malformed_configs_are_invalid_tracker_config() {
        for text in [
            "tracker: [1, 2]\n",
            "- a\n- b\n",
            "tracker:\n  provider: linear\n",
            "tracker:\n  project_slug: x\n",
            "tracker:\n  provider: 7\n  project_slug: x\n",
            "tracker: {provider: linear, project_slug: [x]}\n",
            "tracker:\n  provider: linear\n project_slug: : :\n",
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidTrackerConfig, "{text:?}: {err}");
            assert!(err.message().contains("config.yaml"), "{}", err.message());
        }
    }

    #[test]
    fn deeply_nested_yaml_is_refused_before_parsing() {
        let flow = format!("tracker:\n  provider: linear\n  project_slug: x\nz: {}{}\n", "[".repeat(50_000), "]".repeat(50_000));
        let err = parse(&flow).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidTrackerConfig);
        assert!(err.message().contains("nests deeper"), "{}", err.message());
        let mut block = String::from("tracker:\n  provider: linear\n  project_slug: x\n");
        for i in 0..300 {
            block.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
        }
        assert_eq!(parse(&block).unwrap_err().kind(), ErrorKind::InvalidTrackerConfig);
        assert!(parse(&format!("tracker:\n  provider: linear\n  project_slug: x\nz: {}1{}\n", "[".repeat(10), "]".repeat(10))).is_ok());
    }

    #[test]
    fn a_config_whose_aliases_expand_too_far_is_refused_with_why() {
        let mut laughs = String::from("tracker:\n  provider: linear\n  project_slug: x\nl0: &l0 [a, a, a, a, a, a, a, a, a, a]\n");
        for level in 1..8 {
            laughs.push_str(&format!("l{level}: &l{level} [{}]\n", vec![format!("*l{}", level - 1); 10].join(", ")));
        }
        let err = parse(&laughs).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidTrackerConfig);
        assert!(err.message().contains("with its aliases expanded it holds more than 100000 values"), "{}", err.message());
    }
}
