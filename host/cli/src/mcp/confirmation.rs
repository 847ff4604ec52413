//! FR-011 in MCP: the developer confirms the ticket, always, before a start
//! or bind writes anything: through MCP elicitation when the client declared
//! it, else through a one-time confirmation token the agent gets on its
//! first call and passes back once the developer agreed.

use std::time::Instant;

use rmcp::model::{BooleanSchema, ElicitRequestParams, ElicitationAction, ElicitationSchema, PrimitiveSchemaDefinition};
use rmcp::service::{ElicitationMode, ServiceError};
use rmcp::{Peer, RoleServer};
use serde_json::{Value, json};

use kitty_origin_host::types::OriginCandidate;

use super::tokens::{Subject, TOKEN_TTL, Tokens};
use crate::failure::Failure;

/// The property of the elicitation's requested schema.
pub const CONFIRM_FIELD: &str = "confirm";

/// What the developer's confirmation decided.
pub enum Decision {
    /// Go ahead.
    Confirmed,
    /// Nothing done yet: the tool returns this (a confirmation token and the
    /// ticket) for the agent to show the developer.
    Pending(Value),
}

/// One confirmation: what is asked about, of which ticket.
pub struct Request<'a> {
    /// The tool, target and ticket key (what a token is bound to).
    pub subject: Subject,
    /// The ticket the key search found.
    pub candidate: &'a OriginCandidate,
    /// The question, e.g. "Start a Spec Kitty mission in /repo from this ticket?".
    pub question: String,
}

/// Nothing was written: said by every refusal.
const NOTHING_DONE: &str = "no mission was created and nothing was bound";

impl Request<'_> {
    /// The ticket as the developer sees it: key, title, status and URL.
    fn ticket_text(&self) -> String {
        let c = self.candidate;
        format!("  {}  {}\n  Status: {}\n  {}", c.external_issue_key, c.title, if c.status.is_empty() { "-" } else { &c.status }, c.url)
    }

    fn key(&self) -> &str {
        &self.candidate.external_issue_key
    }

    /// The developer said no (or did not say yes).
    fn cancelled(&self, how: &str) -> Failure {
        Failure::new(
            "cancelled",
            format!(
                "The developer {how} ticket {}: {NOTHING_DONE}. Ask the developer which ticket they mean, \
                 or search again with search_origin_candidates.",
                self.key()
            ),
            true,
        )
    }
}

/// Has the developer confirm `request`. `redeemed` is the ticket id a
/// confirmation token the agent passed was issued for (already checked
/// against the subject by [`Tokens::redeem`]).
pub async fn confirm(
    peer: &Peer<RoleServer>,
    tokens: &Tokens,
    request: Request<'_>,
    redeemed: Option<String>,
) -> Result<Decision, Failure> {
    if let Some(issue_id) = redeemed {
        return if issue_id == request.candidate.external_issue_id {
            Ok(Decision::Confirmed)
        } else {
            Err(Failure::new(
                "confirmation_token_mismatch",
                format!(
                    "Ticket {} now names another issue than the one the developer confirmed: {NOTHING_DONE}. \
                     Call again without confirmation_token and show the ticket to the developer again.",
                    request.key()
                ),
                true,
            ))
        };
    }
    if peer.supported_elicitation_modes().contains(&ElicitationMode::Form) {
        elicit(peer, &request).await
    } else {
        pending(tokens, &request)
    }
}

/// Asks through MCP elicitation: the ticket in the message, a boolean `confirm`.
async fn elicit(peer: &Peer<RoleServer>, request: &Request<'_>) -> Result<Decision, Failure> {
    let message = format!("{}\n\n{}\n\nConfirm only if this is the ticket you mean.", request.question, request.ticket_text());
    let schema = ElicitationSchema::builder()
        .required_property(
            CONFIRM_FIELD,
            PrimitiveSchemaDefinition::Boolean(
                BooleanSchema::new()
                    .title(format!("Use {} as the origin ticket", request.key()))
                    .description("true to go ahead with this ticket; false to stop with nothing written")
                    .with_default(false),
            ),
        )
        .build()
        .map_err(|err| {
            Failure::new("confirmation_failed", format!("Could not build the confirmation request ({err}). Report this."), false)
        })?;
    let asked = peer
        .create_elicitation_with_timeout(
            ElicitRequestParams::FormElicitationParams { meta: None, message, requested_schema: schema },
            Some(TOKEN_TTL),
        )
        .await;
    match asked {
        Ok(answer) => match answer.action {
            ElicitationAction::Accept if answer.content.as_ref().and_then(|c| c.get(CONFIRM_FIELD)) == Some(&Value::Bool(true)) => {
                Ok(Decision::Confirmed)
            }
            ElicitationAction::Accept => Err(request.cancelled("did not confirm")),
            ElicitationAction::Decline => Err(request.cancelled("declined")),
            ElicitationAction::Cancel => Err(request.cancelled("dismissed the confirmation of")),
            // An answer of a later revision: not a yes.
            _ => Err(request.cancelled("did not confirm")),
        },
        Err(ServiceError::Timeout { .. }) => Err(Failure::new(
            "confirmation_timed_out",
            format!(
                "The developer did not answer the confirmation of ticket {} within {} minutes: {NOTHING_DONE}. Call again when they are ready.",
                request.key(),
                TOKEN_TTL.as_secs() / 60
            ),
            true,
        )),
        Err(err) => Err(Failure::new(
            "confirmation_failed",
            format!("Could not ask the developer to confirm ticket {} ({err}): {NOTHING_DONE}. Retry the call.", request.key()),
            false,
        )),
    }
}

/// A client without elicitation: a token, the ticket and what to do, nothing written.
fn pending(tokens: &Tokens, request: &Request<'_>) -> Result<Decision, Failure> {
    let token = tokens.issue(request.subject.clone(), &request.candidate.external_issue_id, Instant::now())?;
    let message = format!(
        "Nothing was done yet: the developer must confirm the ticket first. Show them this, and ask: {}\n\n{}\n\n\
         Only once they agree, call {} again with the same arguments and confirmation_token \"{token}\" \
         (valid once, for {} minutes, for this ticket only). If they do not agree, do not call again.",
        request.question,
        request.ticket_text(),
        request.subject.tool,
        TOKEN_TTL.as_secs() / 60,
    );
    Ok(Decision::Pending(json!({
        "confirmation_required": true,
        "confirmation_token": token,
        "expires_in_seconds": TOKEN_TTL.as_secs(),
        "ticket": request.candidate,
        "message": message,
    })))
}
