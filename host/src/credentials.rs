//! Who the host acts as: the developer's Spec Kitty session (token, team),
//! from the environment or the state directory's `credentials.json`. Read by
//! the host only; never given to the guest.

use std::path::{Path, PathBuf};

pub use crate::origin::SaasOrigin;
use spec_kitty_origin::wire::SAAS_URL_VAR;

use serde::Deserialize;

/// The access token.
pub const TOKEN_VAR: &str = "SPEC_KITTY_TOKEN";
/// The team slug.
pub const TEAM_VAR: &str = "SPEC_KITTY_TEAM_SLUG";
/// The credentials file under the state directory.
pub const CREDENTIALS_FILE: &str = "credentials.json";

/// The developer's Spec Kitty session.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Credentials {
    /// Bearer token from `spec-kitty auth login`.
    pub token: String,
    /// The team the requests act for.
    pub team_slug: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("token", &"<redacted>").field("team_slug", &self.team_slug).finish()
    }
}

/// Where the host reaches the control plane and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaasAccess {
    /// The only origin the guest may reach.
    pub origin: Option<SaasOrigin>,
    /// The session, when the developer is logged in.
    pub credentials: Option<Credentials>,
}

impl SaasAccess {
    /// Reads the environment, then `state_dir/credentials.json` for what the environment lacks.
    pub fn from_env(state_dir: &Path) -> Result<Self, String> {
        let origin = match std::env::var(SAAS_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Some(SaasOrigin::parse(&url)?),
            _ => None,
        };
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let credentials = match (var(TOKEN_VAR), var(TEAM_VAR)) {
            (Some(token), Some(team_slug)) => Some(Credentials { token, team_slug }),
            _ => read_credentials_file(&state_dir.join(CREDENTIALS_FILE))?,
        };
        Ok(Self { origin, credentials })
    }

    /// Why requests cannot be made, if they cannot: the "log in first" message.
    pub fn login_problem(&self, state_dir: &Path) -> Option<String> {
        if self.origin.is_none() {
            return Some(format!(
                "{SAAS_URL_VAR} is not set: set it to your Spec Kitty control plane's URL, then retry. Nothing was sent."
            ));
        }
        if self.credentials.is_none() {
            return Some(format!(
                "You are not logged in to Spec Kitty: log in first (spec-kitty auth login), or set {TOKEN_VAR} and {TEAM_VAR}, \
                 or write {{\"token\": \"...\", \"team_slug\": \"...\"}} to {}. Nothing was sent.",
                state_dir.join(CREDENTIALS_FILE).display()
            ));
        }
        None
    }
}

fn read_credentials_file(path: &PathBuf) -> Result<Option<Credentials>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{} is not valid credentials JSON ({e}); fix or delete it", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_print_the_token() {
        let c = Credentials { token: "sk-secret".into(), team_slug: "acme".into() };
        assert!(!format!("{c:?}").contains("sk-secret"));
    }
}
