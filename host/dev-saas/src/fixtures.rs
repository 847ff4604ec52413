//! The dev control plane's tickets: a Linear team and a Jira project, and
//! the search over them (keys exact and case-insensitive, text ranked).

use serde::{Deserialize, Serialize};

/// The built-in fixtures.
pub const BUILT_IN: &str = include_str!("fixtures.json");

/// All projects the dev control plane knows.
#[derive(Debug, Clone, Deserialize)]
pub struct Fixtures {
    /// The mapped projects.
    pub projects: Vec<Project>,
}

/// A Spec Kitty project mapped to one Jira project or Linear team.
#[derive(Debug, Clone, Deserialize)]
pub struct Project {
    /// The Spec Kitty project slug (`project_slug`, also accepted as `binding_ref`).
    pub project_slug: String,
    /// `linear` or `jira`.
    pub provider: String,
    /// `linear_team` or `jira_project`.
    pub resource_type: String,
    /// The team or project id.
    pub resource_id: String,
    /// Its tickets.
    pub tickets: Vec<Ticket>,
}

/// One ticket, in the wire's candidate shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ticket {
    /// Provider-native id.
    pub external_issue_id: String,
    /// Key, e.g. `WEB-123`.
    pub external_issue_key: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// Deep link.
    pub url: String,
    /// Description.
    pub body: String,
}

impl Fixtures {
    /// The built-in fixtures.
    pub fn built_in() -> Self {
        serde_json::from_str(BUILT_IN).unwrap_or(Fixtures { projects: Vec::new() })
    }

    /// Reads fixtures from `path` (same shape as the built-in ones).
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{} is not a fixtures file: {e}", path.display()))
    }

    /// The project with `slug` (as `project_slug` or `binding_ref`).
    pub fn project(&self, slug: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.project_slug == slug)
    }
}

impl Project {
    /// The ticket whose key is `key`, ignoring case.
    pub fn by_key(&self, key: &str) -> Option<&Ticket> {
        self.tickets.iter().find(|t| t.external_issue_key.eq_ignore_ascii_case(key.trim()))
    }

    /// Tickets matching every word of `text` (whole words, ignoring case),
    /// best first: a word in the title counts 3, in the body 1.
    pub fn search_text(&self, text: &str, limit: usize) -> Vec<&Ticket> {
        let words: Vec<String> = word_set(text).into_iter().collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(usize, &Ticket)> = self
            .tickets
            .iter()
            .filter_map(|t| {
                let (title, body) = (word_set(&t.title), word_set(&t.body));
                let mut score = 0;
                for word in &words {
                    let found = 3 * usize::from(title.contains(word)) + usize::from(body.contains(word));
                    if found == 0 {
                        return None;
                    }
                    score += found;
                }
                Some((score, t))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.external_issue_key.cmp(&b.1.external_issue_key)));
        scored.into_iter().take(limit).map(|(_, t)| t).collect()
    }
}

/// The lower-cased words of `text`.
fn word_set(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_fixtures_have_twenty_tickets_each_with_bodies() {
        let fixtures = Fixtures::built_in();
        assert_eq!(fixtures.projects.len(), 2);
        for project in &fixtures.projects {
            assert!(project.tickets.len() >= 20, "{}", project.project_slug);
            assert!(project.tickets.iter().all(|t| !t.body.is_empty()));
        }
    }

    #[test]
    fn scenario_1_clerk_auth_ranks_the_two_clerk_tickets_first() {
        let fixtures = Fixtures::built_in();
        let web = fixtures.project("acme-web").unwrap();
        let keys: Vec<&str> = web.search_text("Clerk auth", 10).iter().map(|t| t.external_issue_key.as_str()).collect();
        assert_eq!(keys, ["WEB-123", "WEB-127"]);
        assert_eq!(fixtures.project("acme-iam").unwrap().by_key("iam-42").unwrap().external_issue_key, "IAM-42");
        assert!(web.search_text("zzzz nothing", 10).is_empty());
    }
}
