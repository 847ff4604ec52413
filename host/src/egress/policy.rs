//! What a guest request may reach, and as whom.

use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use spec_kitty_origin::wire::TEAM_HEADER;
use wasmtime_wasi_http::{DEFAULT_FORBIDDEN_HEADERS, Error, WasiBody};

use crate::credentials::{Credentials, SaasOrigin};
use crate::egress::EgressLimits;

/// The egress policy of a call: one allowed origin, the session the host
/// adds, and the bounds.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    /// The only allowed origin (none: every request is refused).
    pub origin: Option<SaasOrigin>,
    /// The session the host adds to allowed requests.
    pub credentials: Option<Credentials>,
    /// Time and size bounds.
    pub limits: EgressLimits,
}

impl EgressPolicy {
    /// Checks `request` against the policy and adds the host's headers.
    ///
    /// # Errors
    ///
    /// `HttpRequestDenied` when the request leaves the origin (scheme,
    /// authority or base path differ), carries its own `Authorization`, or
    /// when the host holds no session. [`crate::Runtime`] refuses calls
    /// without a session before the guest runs, so the last case only guards
    /// embedders that build their own hooks.
    pub fn authorize(&self, request: &mut http::Request<WasiBody>) -> Result<(), Error> {
        let Some(origin) = &self.origin else { return Err(Error::HttpRequestDenied) };
        let uri = request.uri();
        let same_origin = uri.scheme_str() == Some(origin.scheme.as_str())
            && uri.authority().is_some_and(|a| a.as_str().eq_ignore_ascii_case(&origin.authority))
            && uri.path().starts_with(&format!("{}/", origin.base_path));
        if !same_origin || request.headers().contains_key(AUTHORIZATION) {
            return Err(Error::HttpRequestDenied);
        }
        let Some(credentials) = &self.credentials else { return Err(Error::HttpRequestDenied) };
        add_credentials(request.headers_mut(), credentials)
    }
}

/// Adds `Authorization: Bearer <token>` and `X-Team-Slug` for `credentials`;
/// every request the host makes or lets through gets them here, and only here.
pub fn add_credentials(headers: &mut http::HeaderMap, credentials: &Credentials) -> Result<(), Error> {
    let bearer = HeaderValue::from_str(&format!("Bearer {}", credentials.token)).map_err(|_| Error::HttpRequestDenied)?;
    let team = HeaderValue::from_str(&credentials.team_slug).map_err(|_| Error::HttpRequestDenied)?;
    headers.insert(AUTHORIZATION, bearer);
    headers.insert(HeaderName::from_static(TEAM_HEADER), team);
    Ok(())
}

/// Headers the guest may never set: the host's own, and the usual hop-by-hop ones.
pub fn is_forbidden(name: &HeaderName) -> bool {
    *name == AUTHORIZATION || name.as_str() == TEAM_HEADER || DEFAULT_FORBIDDEN_HEADERS.contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::full_body;

    fn policy(credentials: bool) -> EgressPolicy {
        EgressPolicy {
            origin: Some(SaasOrigin::parse("http://127.0.0.1:9/base").unwrap()),
            credentials: credentials.then(|| Credentials { token: "tok".into(), team_slug: "acme".into() }),
            limits: EgressLimits::default(),
        }
    }

    fn request(uri: &str) -> http::Request<WasiBody> {
        http::Request::post(uri).body(full_body("{}")).unwrap()
    }

    #[test]
    fn only_the_saas_origin_passes_and_gets_the_hosts_headers() {
        let mut ok = request("http://127.0.0.1:9/base/api/v1/tracker/issue-search/");
        policy(true).authorize(&mut ok).unwrap();
        assert_eq!(ok.headers()[AUTHORIZATION], "Bearer tok");
        assert_eq!(ok.headers()[TEAM_HEADER], "acme");
        for uri in ["http://127.0.0.1:10/base/x", "https://127.0.0.1:9/base/x", "http://evil.example/base/x", "http://127.0.0.1:9/other"] {
            assert!(matches!(policy(true).authorize(&mut request(uri)), Err(Error::HttpRequestDenied)), "{uri}");
        }
        let mut with_auth = request("http://127.0.0.1:9/base/x");
        with_auth.headers_mut().insert(AUTHORIZATION, HeaderValue::from_static("Bearer guest"));
        assert!(matches!(policy(true).authorize(&mut with_auth), Err(Error::HttpRequestDenied)));
        let mut logged_out = request("http://127.0.0.1:9/base/x");
        assert!(matches!(policy(false).authorize(&mut logged_out), Err(Error::HttpRequestDenied)));
        assert!(!logged_out.headers().contains_key(AUTHORIZATION));
    }

    #[test]
    fn the_guest_may_not_set_the_hosts_headers() {
        assert!(is_forbidden(&AUTHORIZATION) && is_forbidden(&HeaderName::from_static(TEAM_HEADER)));
        assert!(!is_forbidden(&HeaderName::from_static("idempotency-key")));
    }
}
