//! The control plane's origin: the one place the guest's requests may go,
//! parsed from `SPEC_KITTY_SAAS_URL`.

use spec_kitty_origin::wire::SAAS_URL_VAR;

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
}
