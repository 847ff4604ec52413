//! A valid `MissionOriginBound` event numbered `n`, for outbox tests and the bench.

use kitty_origin_host::events::Event;

/// Event `n` of mission `NNN-x`, ticket `WEB-n`, with a fresh ULID.
pub fn event(n: usize) -> Event {
    Event {
        event_id: ulid::Ulid::new().to_string(),
        event_type: "MissionOriginBound".into(),
        aggregate_id: "01JQ0000000000000000000000".into(),
        aggregate_type: "Mission".into(),
        schema_version: "1.0.0".into(),
        payload_json: serde_json::json!({
            "mission_slug": format!("{n:03}-x"), "mission_id": "01JQ0000000000000000000000", "provider": "linear",
            "external_issue_id": format!("id-{n}"), "external_issue_key": format!("WEB-{n}"),
            "external_issue_url": format!("https://linear.app/acme/issue/WEB-{n}"), "title": "T",
        })
        .to_string(),
        timestamp: "2026-04-01T12:00:00Z".into(),
        project_slug: Some("acme-web".into()),
        correlation_id: None,
    }
}
