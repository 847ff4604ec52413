//! Delivery of a batch to the control plane's events endpoint: gzip JSON
//! `{"events": [...]}`, answered per event.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use spec_kitty_origin::wire::{ACKNOWLEDGED_STATUSES, EVENTS_BATCH_PATH};

use super::Queued;
use crate::credentials::SaasAccess;
use crate::egress::client;

/// What the control plane said about a batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchAnswer {
    /// Event ids it has (`success` or `duplicate`).
    pub acknowledged: Vec<String>,
    /// Event ids it refused, with its reason.
    pub rejected: Vec<(String, String)>,
}

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
    parse_answer(&answer.body)
}

/// Reads `{"results": [{"event_id", "status", ...}]}`; anything else is an error.
pub fn parse_answer(body: &[u8]) -> Result<BatchAnswer, String> {
    let malformed = || "the control plane's answer to the events batch is not in its wire format".to_string();
    let value: Value = serde_json::from_slice(body).map_err(|_| malformed())?;
    let results = value.get("results").and_then(Value::as_array).ok_or_else(malformed)?;
    let mut answer = BatchAnswer::default();
    for result in results {
        let (Some(id), Some(status)) = (result["event_id"].as_str(), result["status"].as_str()) else { continue };
        if ACKNOWLEDGED_STATUSES.contains(&status) {
            answer.acknowledged.push(id.to_string());
        } else {
            let reason = ["error", "reason", "message"].iter().find_map(|k| result[*k].as_str()).unwrap_or(status);
            answer.rejected.push((id.to_string(), reason.to_string()));
        }
    }
    Ok(answer)
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_per_event_and_malformed_ones_refused() {
        let answer = parse_answer(
            br#"{"results":[{"event_id":"a","status":"success"},{"event_id":"b","status":"duplicate"},{"event_id":"c","status":"rejected","error":"schema"},{"status":"success"}]}"#,
        )
        .unwrap();
        assert_eq!(answer.acknowledged, ["a", "b"]);
        assert_eq!(answer.rejected, [("c".to_string(), "schema".to_string())]);
        for bad in [&b"{}"[..], b"[]", b"<html>", br#"{"results": 3}"#] {
            assert!(parse_answer(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
