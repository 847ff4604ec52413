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
    /// Parses `url` (`https://host[:port][/base]`); a trailing slash is not
    /// significant. `http://` is accepted on loopback only (`127.0.0.0/8`,
    /// `[::1]`, `localhost`), so the token never travels in clear text over
    /// a network; credentials in the URL (`user:pass@`) are refused, so none
    /// can reach the guest.
    ///
    /// # Errors
    ///
    /// A message naming what is wrong with the URL and how to fix it.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url.trim().parse().map_err(|e| format!("{SAAS_URL_VAR}={url:?} is not a URL ({e})"))?;
        let authority = uri.authority().ok_or_else(|| format!("{SAAS_URL_VAR}={url:?} names no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!("{SAAS_URL_VAR} must not carry credentials (user:password@); give the token in SPEC_KITTY_TOKEN"));
        }
        let scheme = match uri.scheme_str() {
            Some("https") => "https".to_string(),
            Some("http") if is_loopback(authority.host()) => "http".to_string(),
            Some("http") => {
                return Err(format!(
                    "{SAAS_URL_VAR}={url:?} uses http:// for a host that is not on this machine; the token would travel in clear text. Use https://"
                ));
            }
            _ => return Err(format!("{SAAS_URL_VAR}={url:?} must start with https:// (or http:// on loopback)")),
        };
        let authority = authority.to_string();
        if uri.query().is_some() {
            return Err(format!("{SAAS_URL_VAR}={url:?} must not carry a query"));
        }
        Ok(Self { scheme, authority, base_path: uri.path().trim_end_matches('/').to_string() })
    }

    /// Whether this origin is on this machine (plain `http` is allowed only then).
    pub fn is_loopback(&self) -> bool {
        self.authority.parse::<http::uri::Authority>().is_ok_and(|a| is_loopback(a.host()))
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

/// Whether `host` (a URI host: a name, an IPv4 address or a bracketed IPv6
/// one) is this machine.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
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
        assert!(SaasOrigin::parse("http://localhost:8787").is_ok() && SaasOrigin::parse("http://[::1]:9/").is_ok());
        assert!(SaasOrigin::parse("http://127.5.0.1").unwrap().is_loopback());
        for bad in [
            "ftp://x",
            "saas.example.com",
            "https://x/?a=1",
            "",
            "http://saas.example.com",
            "http://10.0.0.1",
            "https://u:p@x",
            "http://me@127.0.0.1",
        ] {
            assert!(SaasOrigin::parse(bad).is_err(), "{bad}");
        }
    }
}
