//! Timestamps exactly as Spec Kitty writes them (Python's formats), so that
//! its readers compare our values with theirs byte for byte.

/// Date and time of day (UTC) of `unix_micros`: `YYYY-MM-DDTHH:MM:SS`, and
/// the microseconds. Days to dates by Howard Hinnant's `civil_from_days`.
fn parts(unix_micros: u64) -> (String, u64) {
    let micros = unix_micros % 1_000_000;
    let secs = i64::try_from(unix_micros / 1_000_000).unwrap_or(i64::MAX);
    let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (of_day / 3_600, of_day % 3_600 / 60, of_day % 60);
    (format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}"), micros)
}

/// Python's `datetime.now(UTC).isoformat()`: microseconds, `+00:00`, and no
/// fraction at all when the microseconds are zero (`created_at`, event `timestamp`).
pub fn python_isoformat(unix_micros: u64) -> String {
    match parts(unix_micros) {
        (time, 0) => format!("{time}+00:00"),
        (time, micros) => format!("{time}.{micros:06}+00:00"),
    }
}

/// Pydantic's JSON form of an aware UTC datetime: microseconds when non-zero,
/// then `Z` (the `at` of `SpecifyStarted`).
pub fn pydantic_utc(unix_micros: u64) -> String {
    match parts(unix_micros) {
        (time, 0) => format!("{time}Z"),
        (time, micros) => format!("{time}.{micros:06}Z"),
    }
}

/// ISO-8601 UTC with second precision (`2026-04-01T12:00:00Z`), for the
/// control plane's envelopes.
pub fn iso_utc_seconds(unix_micros: u64) -> String {
    format!("{}Z", parts(unix_micros).0)
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
        assert_eq!(iso_utc_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(python_isoformat(951_782_400_000_001), "2000-02-29T00:00:00.000001+00:00", "a leap day");
        assert_eq!(iso_utc_seconds(7_258_118_399_000_000), "2199-12-31T23:59:59Z");
    }
}
