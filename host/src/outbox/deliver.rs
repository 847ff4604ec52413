//! Delivery of a batch to the control plane's events endpoint: gzip JSON
//! `{"events": [...]}`, answered per event.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use spec_kitty_origin::wire::{BatchAnswer, EVENTS_BATCH_PATH, parse_batch_answer};

use super::Queued;
use crate::credentials::SaasAccess;
use crate::egress::client;

/// POSTs `batch` as `saas` within `timeout` and reads the per-event answer.
///
/// # Errors
///
/// Why the batch got no usable answer: not logged in, unreachable, a
/// non-200 status, or a 200 that is not the wire format (then no event
/// counts as delivered).
pub fn send_batch(saas: &SaasAccess, batch: &[Queued], timeout: Duration) -> Result<BatchAnswer, String> {
    let (Some(origin), Some(credentials)) = (&saas.origin, &saas.credentials) else {
        return Err("not logged in to Spec Kitty (SPEC_KITTY_SAAS_URL, SPEC_KITTY_TOKEN, SPEC_KITTY_TEAM_SLUG)".into());
    };
    let envelopes: Vec<&Value> = batch.iter().map(|q| &q.envelope).collect();
    let body = gzip(json!({ "events": envelopes }).to_string().as_bytes()).map_err(|e| format!("gzip failed: {e}"))?;
    let headers = [("content-type", "application/json"), ("content-encoding", "gzip")];
    let answer = match client::post(origin, credentials, EVENTS_BATCH_PATH, &headers, body, timeout) {
        Ok(answer) if answer.status == 200 => answer,
        Ok(answer) => return Err(format!("the control plane answered HTTP {}", answer.status)),
        Err(why) => return Err(format!("the control plane is unreachable ({why})")),
    };
    parse_batch_answer(&answer.body)
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}
