//! Who the host acts as: the control plane's origin and the developer's
//! Spec Kitty session (token, team). Read by the host only; never given to the guest.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Names the control plane.
pub const SAAS_URL_VAR: &str = "SPEC_KITTY_SAAS_URL";
/// The access token.
pub const TOKEN_VAR: &str = "SPEC_KITTY_TOKEN";
/// The team slug.
pub const TEAM_VAR: &str = "SPEC_KITTY_TEAM_SLUG";
/// The credentials file under the state directory.
pub const CREDENTIALS_FILE: &str = "credentials.json";

/// The control plane's origin: scheme, authority and base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaasOrigin {
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// The base path, without a trailing slash (often empty).
    pub base_path: String,
}

impl SaasOrigin {
    /// Parses `url` (`https://host[:port][/base]`); a trailing slash is not significant.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url.trim().parse().map_err(|e| format!("{SAAS_URL_VAR}={url:?} is not a URL ({e})"))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_string(),
            _ => return Err(format!("{SAAS_URL_VAR}={url:?} must start with https:// or http://")),
        };
        let authority = uri.authority().ok_or_else(|| format!("{SAAS_URL_VAR}={url:?} names no host"))?.to_string();
        if uri.query().is_some() {
            return Err(format!("{SAAS_URL_VAR}={url:?} must not carry a query"));
        }
        Ok(Self { scheme, authority, base_path: uri.path().trim_end_matches('/').to_string() })
    }

    /// The normalised base URL, as given to the guest.
    pub fn base_url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.base_path)
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }
}

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
    fn origins_normalise_and_refuse_nonsense() {
        let o = SaasOrigin::parse("https://saas.example.com/").unwrap();
        assert_eq!((o.scheme.as_str(), o.authority.as_str(), o.base_path.as_str()), ("https", "saas.example.com", ""));
        assert_eq!(o.url("/api/v1/events/batch/"), "https://saas.example.com/api/v1/events/batch/");
        assert_eq!(SaasOrigin::parse("http://127.0.0.1:8080/base/").unwrap().base_url(), "http://127.0.0.1:8080/base");
        for bad in ["ftp://x", "saas.example.com", "https://x/?a=1", ""] {
            assert!(SaasOrigin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_never_print_the_token() {
        let c = Credentials { token: "sk-secret".into(), team_slug: "acme".into() };
        assert!(!format!("{c:?}").contains("sk-secret"));
    }
}
