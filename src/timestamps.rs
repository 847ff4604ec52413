//! Timestamps exactly as Spec Kitty writes them (Python's formats), so that
//! its readers compare our values with theirs byte for byte.

use chrono::{DateTime, SecondsFormat, Utc};

fn at(unix_micros: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(i64::try_from(unix_micros).unwrap_or(i64::MAX)).unwrap_or_default()
}

/// Python's `datetime.now(UTC).isoformat()`: microseconds, `+00:00`, and no
/// fraction at all when the microseconds are zero (`created_at`, event `timestamp`).
pub fn python_isoformat(unix_micros: u64) -> String {
    let t = at(unix_micros);
    if unix_micros.is_multiple_of(1_000_000) {
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

/// Pydantic's JSON form of an aware UTC datetime: microseconds when non-zero,
/// then `Z` (the `at` of `SpecifyStarted`).
pub fn pydantic_utc(unix_micros: u64) -> String {
    let t = at(unix_micros);
    if unix_micros.is_multiple_of(1_000_000) {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// ISO-8601 UTC with second precision (`2026-04-01T12:00:00Z`), for the
/// control plane's envelopes.
pub fn iso_utc_seconds(unix_micros: u64) -> String {
    at(unix_micros).to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formats_match_python() {
        let t = 1_775_044_800_886_171; // 2026-04-01T12:00:00.886171Z
        assert_eq!(python_isoformat(t), "2026-04-01T12:00:00.886171+00:00");
        assert_eq!(python_isoformat(1_775_044_800_000_000), "2026-04-01T12:00:00+00:00");
        assert_eq!(python_isoformat(1_775_044_800_000_010), "2026-04-01T12:00:00.000010+00:00");
        assert_eq!(pydantic_utc(t), "2026-04-01T12:00:00.886171Z");
        assert_eq!(pydantic_utc(1_775_044_800_000_000), "2026-04-01T12:00:00Z");
        assert_eq!(iso_utc_seconds(t), "2026-04-01T12:00:00Z");
    }
}
