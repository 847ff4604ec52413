//! `search_origin_candidates()` (FR-001, FR-002, FR-009, FR-010).

use std::path::Path;

use crate::capabilities::Capabilities;
use crate::config::{self, TrackerBinding};
use crate::error::{ErrorKind, OriginError, Result};
use crate::model::SearchOriginResult;
use crate::tracker::{SaasTrackerClient, SearchQuery};
use crate::wire::MAX_SEARCH_LIMIT;

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;

/// Checks the query before anything is sent: the key wins over the text,
/// one of them must be non-blank, `limit` must be 1..=100.
pub fn validate_query<'q>(query_text: Option<&'q str>, query_key: Option<&'q str>, limit: u32) -> Result<SearchQuery<'q>> {
    let invalid = |message: String| OriginError::new(ErrorKind::InvalidQuery, message);
    if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
        return Err(invalid(format!("limit must be between 1 and {MAX_SEARCH_LIMIT}, got {limit}.")));
    }
    let key = query_key.map(str::trim).filter(|k| !k.is_empty());
    let text = query_text.map(str::trim).filter(|t| !t.is_empty());
    let query = match (key, text) {
        (Some(key), _) => SearchQuery { key: Some(key), text: None, limit },
        (None, Some(text)) => SearchQuery { key: None, text: Some(text), limit },
        (None, None) => {
            return Err(invalid("Give a ticket key (query_key, e.g. WEB-123) or search text (query_text); both are empty.".into()));
        }
    };
    let used = query.key.or(query.text).unwrap_or_default();
    if used.chars().count() > MAX_QUERY_CHARS {
        return Err(invalid(format!("The query is longer than {MAX_QUERY_CHARS} characters; shorten it.")));
    }
    if used.chars().any(char::is_control) {
        return Err(invalid("The query contains control characters; remove them.".into()));
    }
    Ok(query)
}

/// Searches the repo's bound Jira project or Linear team.
pub fn search_origin_candidates(
    caps: Capabilities<'_>,
    repo_root: &Path,
    query_text: Option<&str>,
    query_key: Option<&str>,
    limit: u32,
) -> Result<SearchOriginResult> {
    let binding = config::load_binding(repo_root)?;
    let query = validate_query(query_text, query_key, limit)?;
    search_with(caps, &binding, &query)
}

/// Searches under an already loaded `binding`.
pub fn search_with(caps: Capabilities<'_>, binding: &TrackerBinding, query: &SearchQuery<'_>) -> Result<SearchOriginResult> {
    let client = SaasTrackerClient::new(caps);
    let answer = client.search_issues(binding, query)?;
    Ok(SearchOriginResult {
        candidates: answer.candidates,
        provider: binding.provider.clone(),
        resource_type: answer.resource_type,
        resource_id: answer.resource_id,
        query_used: query.key.or(query.text).unwrap_or_default().to_string(),
    })
}
