//! `SaaSTrackerClient` (FR-007, FR-008): the two control-plane calls, with
//! the 429 retry inside an overall time bound.

use serde_json::{Value, json};

use crate::capabilities::{Capabilities, Clock, Entropy, HttpResponse, Transport, TransportError};
use crate::config::TrackerBinding;
use crate::error::{ErrorKind, OriginError, Result};
use crate::model::OriginCandidate;
use crate::wire::{self, BindAnswer, Endpoint, ErrorEnvelope, SearchAnswer};

/// How long a call may take in all, and how long to wait on a 429 that names no delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The overall bound of one call, retries included.
    pub overall_ms: u64,
    /// The wait after a 429 without `retry_after_seconds`.
    pub default_retry_after_ms: u64,
}

/// A search completes within 10 s (NFR-001).
pub const SEARCH_POLICY: RetryPolicy = RetryPolicy { overall_ms: 10_000, default_retry_after_ms: wire::DEFAULT_RETRY_AFTER_MS };
/// A bind gets the deployed client's 30 s.
pub const BIND_POLICY: RetryPolicy = RetryPolicy { overall_ms: 30_000, default_retry_after_ms: wire::DEFAULT_RETRY_AFTER_MS };

/// The shortest wait after a 429, whatever `retry_after_seconds` says: a
/// server that answers 0 must not turn the retry loop into a request storm.
pub const MIN_RETRY_WAIT_MS: u64 = 250;
/// The most a wait is stretched at random (in percent), so clients that
/// were refused together do not come back together.
pub const RETRY_JITTER_PERCENT: u64 = 20;

/// The client-level dependency boundary for the control plane.
pub struct SaasTrackerClient<'a> {
    transport: &'a dyn Transport,
    clock: &'a dyn Clock,
    entropy: &'a dyn Entropy,
}

/// What a search asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery<'q> {
    /// The ticket key, when given (wins over text).
    pub key: Option<&'q str>,
    /// Free text, when given.
    pub text: Option<&'q str>,
    /// Max candidates.
    pub limit: u32,
}

/// What a bind tells the control plane about the mission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissionRef<'m> {
    /// The mission's ULID, when its metadata has one.
    pub mission_id: Option<&'m str>,
    /// `NNN-slug`.
    pub mission_slug: &'m str,
}

impl<'a> SaasTrackerClient<'a> {
    /// A client over the capabilities' transport, timed by their clock, with
    /// their entropy for retry jitter.
    pub fn new(caps: Capabilities<'a>) -> Self {
        Self { transport: caps.transport, clock: caps.clock, entropy: caps.entropy }
    }

    /// The wait after a 429 that asked for `asked_ms`: at least
    /// [`MIN_RETRY_WAIT_MS`], stretched by up to [`RETRY_JITTER_PERCENT`].
    fn retry_wait_ms(&self, asked_ms: u64) -> u64 {
        let floor = asked_ms.max(MIN_RETRY_WAIT_MS);
        let jitter = u64::try_from(self.entropy.random_u128() % u128::from(RETRY_JITTER_PERCENT + 1)).unwrap_or(0);
        floor + floor * jitter / 100
    }

    /// `search_issues()`: candidates in the bound project's scope.
    pub fn search_issues(&self, binding: &TrackerBinding, query: &SearchQuery<'_>) -> Result<SearchAnswer> {
        let mut body = binding.scope_fields();
        body.insert("provider".into(), binding.provider.clone().into());
        if let Some(key) = query.key {
            body.insert("query_key".into(), key.into());
        }
        if let Some(text) = query.text {
            body.insert("query_text".into(), text.into());
        }
        body.insert("limit".into(), query.limit.into());
        let response = self.post(Endpoint::Search, wire::SEARCH_PATH, &Value::Object(body), &[], binding, SEARCH_POLICY)?;
        wire::parse_search(&response.body)
    }

    /// `bind_mission_origin()`: the authoritative control-plane write.
    pub fn bind_mission_origin(
        &self,
        binding: &TrackerBinding,
        mission: &MissionRef<'_>,
        candidate: &OriginCandidate,
        idempotency_key: &str,
    ) -> Result<BindAnswer> {
        let mut body = binding.scope_fields();
        let fields = json!({
            "provider": binding.provider,
            "mission_id": mission.mission_id,
            "mission_slug": mission.mission_slug,
            "external_issue_id": candidate.external_issue_id,
            "external_issue_key": candidate.external_issue_key,
            "external_issue_url": candidate.url,
            "external_title": candidate.title,
            "external_status": candidate.status,
        });
        if let Value::Object(fields) = fields {
            body.extend(fields);
        }
        let headers = [(wire::IDEMPOTENCY_HEADER.to_string(), idempotency_key.to_string())];
        let response = self.post(Endpoint::Bind, wire::BIND_PATH, &Value::Object(body), &headers, binding, BIND_POLICY)?;
        wire::parse_bind(&response.body)
    }

    /// POSTs `body`, retrying 429s while the policy's bound allows.
    fn post(
        &self,
        endpoint: Endpoint,
        path: &str,
        body: &Value,
        headers: &[(String, String)],
        binding: &TrackerBinding,
        policy: RetryPolicy,
    ) -> Result<HttpResponse> {
        let bytes = wire::to_body(body);
        let deadline = self.clock.monotonic_ms().saturating_add(policy.overall_ms);
        let bound_s = policy.overall_ms / 1000;
        loop {
            let remaining = deadline.saturating_sub(self.clock.monotonic_ms());
            if remaining == 0 {
                return Err(timed_out(bound_s, "the control plane did not answer in time"));
            }
            let response = self.transport.post_json(path, headers, &bytes, remaining).map_err(transport_error)?;
            match response.status {
                200..=299 => return Ok(response),
                429 => {
                    let asked_ms = ErrorEnvelope::parse(&response.body)
                        .retry_after_seconds
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map_or(policy.default_retry_after_ms, |s| (s * 1000.0).ceil().min(u64::MAX as f64) as u64);
                    let wait_ms = self.retry_wait_ms(asked_ms);
                    if asked_ms >= policy.overall_ms {
                        return Err(OriginError::new(
                            ErrorKind::RateLimited,
                            format!(
                                "The control plane is rate limiting requests for {} s, longer than this call may wait ({bound_s} s). Retry after that.",
                                asked_ms.div_ceil(1000)
                            ),
                        ));
                    }
                    if self.clock.monotonic_ms().saturating_add(wait_ms) >= deadline {
                        return Err(timed_out(bound_s, "the control plane kept rate limiting the request (HTTP 429)"));
                    }
                    self.clock.sleep_ms(wait_ms);
                }
                status => return Err(wire::map_error(endpoint, status, &response.body, &binding.provider, binding.label())),
            }
        }
    }
}

fn timed_out(bound_s: u64, why: &str) -> OriginError {
    OriginError::new(ErrorKind::TimedOut, format!("Gave up after {bound_s} s: {why}. Retry in a moment; nothing was changed locally."))
}

fn transport_error(err: TransportError) -> OriginError {
    match err {
        TransportError::Denied(why) => OriginError::new(
            ErrorKind::RequestDenied,
            format!("The host refused the request: {why}. Check SPEC_KITTY_SAAS_URL names the Spec Kitty control plane."),
        ),
        TransportError::NotLoggedIn(why) => OriginError::new(ErrorKind::NotLoggedIn, why),
        TransportError::Unreachable(why) => OriginError::new(
            ErrorKind::ControlPlaneUnreachable,
            format!(
                "The Spec Kitty control plane is unreachable ({why}). Check your network and SPEC_KITTY_SAAS_URL, then retry; nothing was changed locally."
            ),
        ),
        TransportError::TooLarge(why) => OriginError::new(
            ErrorKind::UnexpectedResponse,
            format!("The control plane's answer is too large ({why}). Check SPEC_KITTY_SAAS_URL points at the Spec Kitty control plane."),
        ),
        TransportError::TimedOut(why) => OriginError::new(
            ErrorKind::TimedOut,
            format!("The control plane did not answer in time ({why}). Retry in a moment; nothing was changed locally."),
        ),
    }
}
