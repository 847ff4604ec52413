//! The endpoints of `saas-wire.md`: authentication, injected faults, issue
//! search over the fixtures, mission-origin binds, and the events batch.

use std::collections::HashMap;
use std::io::Read;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use spec_kitty_origin::wire::{
    AUTHORIZATION_HEADER, BIND_PATH, EVENTS_BATCH_PATH, MAX_EVENTS_PER_BATCH, MAX_SEARCH_LIMIT, SEARCH_PATH, TEAM_HEADER,
};

use crate::{DevSaasConfig, Fault, Project, Recorded, ServerState, Shared, Ticket};

/// Answers one request, and records it.
pub(crate) async fn handle(req: Request<Incoming>, (config, state): Shared) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let headers: HashMap<String, String> =
        req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string())).collect();
    let raw = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let gzipped = headers.get("content-encoding").is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let body = decode(&raw, gzipped).unwrap_or(Value::Null);
    if !config.faults.delay.is_zero() {
        tokio::time::sleep(config.faults.delay).await;
    }
    let (status, answer) = {
        let mut state = match state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        state.requests.push(Recorded { method: method.clone(), path: path.clone(), headers: headers.clone(), body: body.clone() });
        route(&config, &mut state, &method, &path, &headers, &body)
    };
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(answer.to_string())))
        .unwrap_or_default();
    Ok(response)
}

fn decode(raw: &[u8], gzipped: bool) -> Option<Value> {
    if gzipped {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(raw).read_to_end(&mut text).ok()?;
        serde_json::from_slice(&text).ok()
    } else {
        serde_json::from_slice(raw).ok()
    }
}

fn error(status: u16, code: &str, message: &str, user_action: bool) -> (u16, Value) {
    (status, json!({"error_code": code, "message": message, "user_action_required": user_action, "retryable": false, "source": "dev-saas"}))
}

fn route(
    config: &DevSaasConfig,
    state: &mut ServerState,
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: &Value,
) -> (u16, Value) {
    if method != "POST" {
        return error(405, "method_not_allowed", "Only POST is served", false);
    }
    if headers.get(AUTHORIZATION_HEADER).map(String::as_str) != Some(format!("Bearer {}", config.token).as_str()) {
        return error(401, "unauthenticated", "Missing or invalid bearer token", false);
    }
    if headers.get(TEAM_HEADER) != Some(&config.team_slug) {
        return error(403, "team_mismatch", "X-Team-Slug does not name your team", false);
    }
    let fault = match path {
        SEARCH_PATH => config.faults.search,
        BIND_PATH => config.faults.bind,
        EVENTS_BATCH_PATH => config.faults.events,
        _ => return error(404, "not_found", "No such endpoint", false),
    };
    if let Some(fault) = fault
        && config.faults.times.is_none_or(|n| state.faults_served < n)
    {
        state.faults_served += 1;
        if fault == Fault::Reject {
            return reject_all(body);
        }
        return fault.answer(config.faults.retry_after);
    }
    match path {
        SEARCH_PATH => search(config, body),
        BIND_PATH => bind(config, state, body),
        _ => events(state, body),
    }
}

fn project<'a>(config: &'a DevSaasConfig, body: &Value) -> Result<&'a Project, (u16, Value)> {
    let provider = body["provider"].as_str().unwrap_or_default();
    if !matches!(provider, "linear" | "jira") {
        return Err(error(422, "invalid_provider", "provider: must be linear or jira", false));
    }
    let slug = body["binding_ref"].as_str().or(body["project_slug"].as_str()).unwrap_or_default();
    match config.fixtures.project(slug) {
        Some(project) if project.provider == provider => Ok(project),
        _ => Err(error(404, "resource_mapping_not_found", &format!("No resource mapping found for project {slug:?} ({provider})"), false)),
    }
}

fn search(config: &DevSaasConfig, body: &Value) -> (u16, Value) {
    let project = match project(config, body) {
        Ok(project) => project,
        Err(answer) => return answer,
    };
    let limit = match body["limit"].as_u64() {
        Some(limit) if (1..=u64::from(MAX_SEARCH_LIMIT)).contains(&limit) => usize::try_from(limit).unwrap_or(usize::MAX),
        _ => return error(422, "invalid_limit", &format!("limit: must be an integer between 1 and {MAX_SEARCH_LIMIT}"), false),
    };
    let candidate = |t: &Ticket, match_type: &str| {
        json!({"external_issue_id": t.external_issue_id, "external_issue_key": t.external_issue_key, "title": t.title,
               "status": t.status, "url": t.url, "match_type": match_type, "body": t.body})
    };
    let candidates: Vec<Value> = match (body["query_key"].as_str(), body["query_text"].as_str()) {
        (Some(key), _) => project.by_key(key).map(|t| candidate(t, "exact")).into_iter().collect(),
        (None, Some(text)) if !text.trim().is_empty() => {
            project.search_text(text, limit).into_iter().map(|t| candidate(t, "text")).collect()
        }
        _ => return error(422, "invalid_query", "query_key or query_text is required", false),
    };
    (200, json!({"candidates": candidates, "resource_type": project.resource_type, "resource_id": project.resource_id}))
}

fn bind(config: &DevSaasConfig, state: &mut ServerState, body: &Value) -> (u16, Value) {
    if let Err(answer) = project(config, body) {
        return answer;
    }
    let field = |name: &str| body[name].as_str().filter(|v| !v.is_empty());
    let (Some(mission), Some(issue)) = (field("mission_id").or(field("mission_slug")), field("external_issue_id")) else {
        return error(422, "invalid_bind", "mission_id or mission_slug, and external_issue_id are required", false);
    };
    for required in ["external_issue_key", "external_issue_url", "external_title"] {
        if field(required).is_none() {
            return error(422, "invalid_bind", &format!("{required}: required"), false);
        }
    }
    match state.links.get(mission) {
        Some((bound, link, at)) if bound == issue => (200, json!({"origin_link_id": link, "bound_at": at})),
        Some(_) => error(409, "origin_conflict", "A different origin is already bound to this mission", false),
        None => {
            let link = format!("oml_{}", ulid::Ulid::new());
            let at = chrono_now();
            state.links.insert(mission.to_string(), (issue.to_string(), link.clone(), at.clone()));
            (200, json!({"origin_link_id": link, "bound_at": at}))
        }
    }
}

fn events(state: &mut ServerState, body: &Value) -> (u16, Value) {
    let Some(batch) = body["events"].as_array() else {
        return error(400, "invalid_batch", "Body must be gzip JSON {\"events\": [...]}", false);
    };
    if batch.len() > MAX_EVENTS_PER_BATCH {
        return error(413, "batch_too_large", "At most 1000 events per batch", false);
    }
    let mut results = Vec::new();
    for event in batch {
        let id = event["event_id"].as_str().unwrap_or_default().to_string();
        if id.is_empty() || event["event_type"].as_str().is_none() {
            results.push(json!({"event_id": id, "status": "rejected", "error": "event_id and event_type are required"}));
            continue;
        }
        let status = if state.events.iter().any(|e| e["event_id"] == id.as_str()) {
            "duplicate"
        } else {
            state.events.push(event.clone());
            "success"
        };
        results.push(json!({"event_id": id, "status": status}));
    }
    (200, json!({"results": results}))
}

/// The `reject` fault: a 200 that rejects every event of the batch, with a reason.
fn reject_all(body: &Value) -> (u16, Value) {
    let results: Vec<Value> = body["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| json!({"event_id": e["event_id"], "status": "rejected", "error": "payload failed schema validation (dev-saas reject fault)"}))
        .collect();
    (200, json!({"results": results}))
}

fn chrono_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    spec_kitty_origin::timestamps::iso_utc_seconds(secs * 1_000_000)
}
