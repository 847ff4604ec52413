//! Delivery of a batch to the control plane's events endpoint: gzip JSON
//! `{"events": [...]}`, answered per event.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use spec_kitty_origin::wire::{ACKNOWLEDGED_STATUSES, EVENTS_BATCH_PATH};

use super::Queued;
use crate::credentials::SaasAccess;
use crate::egress::client;

/// POSTs `batch` as `saas`; returns the event ids the control plane
/// acknowledged (`success` or `duplicate`).
pub fn send_batch(saas: &SaasAccess, batch: &[Queued], timeout: Duration) -> Result<Vec<String>, String> {
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
    let results: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    Ok(results["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"].as_str().is_some_and(|s| ACKNOWLEDGED_STATUSES.contains(&s)))
        .filter_map(|r| r["event_id"].as_str().map(str::to_string))
        .collect())
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}
