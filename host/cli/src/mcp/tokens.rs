//! FR-011 for MCP clients without elicitation: one-time confirmation tokens.
//!
//! The first call returns a token instead of acting; the agent shows the
//! ticket to the developer and calls again with the token once they agree.
//! A token confirms one tool on one target (the repo for a start, the
//! mission directory for a bind) for one ticket, once, for [`TOKEN_TTL`].
//! Tokens live in the server process only.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::failure::Failure;

/// How long a token is valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(600);
/// How long a used or expired token is remembered, to say so rather than "unknown".
const REMEMBERED: Duration = Duration::from_secs(6 * 3600);
/// Most tokens remembered at once; the oldest go first.
const MAX_TOKENS: usize = 4096;
/// Random bytes in a token.
const TOKEN_BYTES: usize = 16;

/// What a token confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The tool's name.
    pub tool: &'static str,
    /// The repo (start) or mission directory (bind), canonical.
    pub target: PathBuf,
    /// The ticket key, as the control plane spells it.
    pub ticket_key: String,
}

impl Subject {
    fn describe(&self) -> String {
        format!("{} of ticket {} in {}", self.tool, self.ticket_key, self.target.display())
    }

    fn same_as(&self, other: &Subject) -> bool {
        self.tool == other.tool && self.target == other.target && self.ticket_key.eq_ignore_ascii_case(&other.ticket_key)
    }
}

/// One issued token.
struct Issued {
    subject: Subject,
    /// The control plane's id of the ticket the developer was shown.
    issue_id: String,
    issued_at: Instant,
    used: bool,
}

/// The tokens this server issued.
pub struct Tokens {
    ttl: Duration,
    issued: Mutex<HashMap<String, Issued>>,
}

/// A token was refused: what to do next is the same in every case.
fn refused(code: &str, why: String) -> Failure {
    Failure::new(
        code,
        format!(
            "{why} Call the tool again without confirmation_token to get a new one, show that ticket to the developer, \
             and call with the new token only once they agree."
        ),
        true,
    )
}

impl Tokens {
    /// Tokens valid for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, issued: Mutex::new(HashMap::new()) }
    }

    /// Issues a token for `subject`, whose ticket has the control plane id `issue_id`.
    pub fn issue(&self, subject: Subject, issue_id: &str, now: Instant) -> Result<String, Failure> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(|err| {
            Failure::new(
                "confirmation_unavailable",
                format!("Could not make a confirmation token ({err}): the system's random source failed. Retry; if it persists, use a client with elicitation."),
                false,
            )
        })?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut issued = self.issued.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        issued.retain(|_, t| now.saturating_duration_since(t.issued_at) < REMEMBERED);
        while issued.len() >= MAX_TOKENS {
            let Some(oldest) = issued.iter().min_by_key(|(_, t)| t.issued_at).map(|(k, _)| k.clone()) else { break };
            issued.remove(&oldest);
        }
        issued.insert(token.clone(), Issued { subject, issue_id: issue_id.to_string(), issued_at: now, used: false });
        Ok(token)
    }

    /// Uses `token` for `subject`: returns the id of the ticket the developer
    /// confirmed. A token is used once; one for another subject is refused and
    /// stays valid for its own.
    pub fn redeem(&self, token: &str, subject: &Subject, now: Instant) -> Result<String, Failure> {
        let mut issued = self.issued.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(entry) = issued.get_mut(token.trim()) else {
            return Err(refused(
                "confirmation_token_invalid",
                "This confirmation_token was not issued by this server (tokens live only in the server process that issued them).".into(),
            ));
        };
        if entry.used {
            return Err(refused(
                "confirmation_token_used",
                "This confirmation_token was already used: each token confirms one call.".into(),
            ));
        }
        if now.saturating_duration_since(entry.issued_at) >= self.ttl {
            return Err(refused(
                "confirmation_token_expired",
                format!("This confirmation_token expired: tokens are valid for {} minutes.", self.ttl.as_secs() / 60),
            ));
        }
        if !entry.subject.same_as(subject) {
            return Err(refused(
                "confirmation_token_mismatch",
                format!("This confirmation_token confirms {}, not {}.", entry.subject.describe(), subject.describe()),
            ));
        }
        entry.used = true;
        Ok(entry.issue_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(tool: &'static str, target: &str, key: &str) -> Subject {
        Subject { tool, target: target.into(), ticket_key: key.into() }
    }

    #[test]
    fn a_token_confirms_its_subject_once() {
        let tokens = Tokens::new(TOKEN_TTL);
        let now = Instant::now();
        let token = tokens.issue(subject("start", "/r", "WEB-1"), "id-1", now).unwrap();
        assert_eq!(token.len(), 2 * TOKEN_BYTES);
        assert_ne!(token, tokens.issue(subject("start", "/r", "WEB-1"), "id-1", now).unwrap(), "random");
        assert_eq!(tokens.redeem(&token, &subject("start", "/r", "web-1"), now).unwrap(), "id-1");
        assert_eq!(tokens.redeem(&token, &subject("start", "/r", "WEB-1"), now).unwrap_err().code, "confirmation_token_used");
    }

    #[test]
    fn another_ticket_target_or_tool_is_refused_and_the_token_stays_valid() {
        let tokens = Tokens::new(TOKEN_TTL);
        let now = Instant::now();
        let token = tokens.issue(subject("start", "/r", "WEB-1"), "id-1", now).unwrap();
        for other in [subject("start", "/r", "WEB-2"), subject("start", "/other", "WEB-1"), subject("bind", "/r", "WEB-1")] {
            let err = tokens.redeem(&token, &other, now).unwrap_err();
            assert_eq!(err.code, "confirmation_token_mismatch");
            assert!(err.message.contains("not ") && err.message.contains("without confirmation_token"), "{}", err.message);
        }
        assert!(tokens.redeem(&token, &subject("start", "/r", "WEB-1"), now).is_ok());
    }

    #[test]
    fn expired_and_unknown_tokens_are_refused() {
        let tokens = Tokens::new(Duration::from_secs(60));
        let now = Instant::now();
        let token = tokens.issue(subject("start", "/r", "WEB-1"), "id-1", now).unwrap();
        let later = now + Duration::from_secs(61);
        assert_eq!(tokens.redeem(&token, &subject("start", "/r", "WEB-1"), later).unwrap_err().code, "confirmation_token_expired");
        assert_eq!(tokens.redeem("nope", &subject("start", "/r", "WEB-1"), now).unwrap_err().code, "confirmation_token_invalid");
    }

    #[test]
    fn the_store_is_bounded() {
        let tokens = Tokens::new(TOKEN_TTL);
        let now = Instant::now();
        let first = tokens.issue(subject("start", "/r", "WEB-0"), "id", now).unwrap();
        for i in 1..=MAX_TOKENS {
            tokens.issue(subject("start", "/r", "WEB-1"), "id", now + Duration::from_millis(i as u64)).unwrap();
        }
        assert_eq!(tokens.issued.lock().unwrap().len(), MAX_TOKENS);
        assert_eq!(tokens.redeem(&first, &subject("start", "/r", "WEB-0"), now).unwrap_err().code, "confirmation_token_invalid");
    }
}
