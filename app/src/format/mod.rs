//! How the dashboard writes numbers, money, durations and moments, in one place: the same text
//! on the server (the first HTML) and in the browser (what changes live). Calendar arithmetic is
//! in [`dates`], so the browser needs no date library; changes of case are in [`case`], so the
//! browser needs no Unicode case tables; decimals are written by [`fixed`], so it needs no
//! float formatting of core's.

mod case;
pub mod dates;
mod fixed;

pub use case::{lowercase, uppercase};
pub use fixed::fixed;

/// `$1.23`, `$0.0042`, `$1.2k`.
pub fn usd(value: f64) -> String {
    let v = value.abs();
    if v >= 10_000.0 {
        format!("${}k", fixed(value / 1000.0, 1))
    } else if v >= 1.0 || v == 0.0 {
        format!("${}", fixed(value, 2))
    } else if v >= 0.01 {
        format!("${}", fixed(value, 3))
    } else {
        format!("${}", fixed(value, 4))
    }
}

/// `1.2M`, `35k`, `812`.
pub fn count(value: f64) -> String {
    if value >= 1_000_000.0 {
        format!("{}M", fixed(value / 1_000_000.0, 1))
    } else if value >= 10_000.0 {
        format!("{}k", fixed(value / 1000.0, 0))
    } else if value >= 1000.0 {
        format!("{}k", fixed(value / 1000.0, 1))
    } else {
        fixed(value, 0)
    }
}

/// `2.5`, `3`, `0.33`: at most `decimals` decimals, none written that would be a trailing zero
/// (a task's estimated hours).
pub fn decimal(value: f64, decimals: usize) -> String {
    let text = fixed(value, decimals);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// `42 %`, `0.5 %` of a ratio (0.42, 0.005) with `decimals` decimals.
pub fn percent(ratio: f64, decimals: usize) -> String {
    format!("{} %", fixed(ratio * 100.0, decimals))
}

/// `12.5 h`, `3.2 d`.
pub fn hours(value: f64) -> String {
    if value >= 48.0 {
        format!("{} d", fixed(value / 24.0, 1))
    } else {
        format!("{} h", fixed(value, 1))
    }
}

/// "3 min ago" for a moment `then_ms` seen at `now_ms`.
pub fn age_label(then_ms: i64, now_ms: i64) -> String {
    let seconds = (now_ms - then_ms).max(0) / 1000;
    match seconds {
        0..=44 => "just now".to_owned(),
        45..=89 => "1 min ago".to_owned(),
        90..=3_599 => format!("{} min ago", (seconds + 30) / 60),
        3_600..=86_399 => format!("{} h ago", seconds / 3_600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// Unix milliseconds of an ISO 8601 UTC timestamp as the server writes them
/// (`2026-02-09T20:00:00Z`, optionally with a fraction); `None` for anything else.
pub fn iso_ms(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let (time, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut time_parts = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (
        time_parts.next()??,
        time_parts.next()??,
        time_parts.next()??,
    );
    let month: i64 = date.get(5..7)?.parse().ok()?;
    let day: i64 = date.get(8..10)?.parse().ok()?;
    if date.len() != 10
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let millis = fraction
        .get(..fraction.len().min(3))
        .filter(|f| !f.is_empty())
        .and_then(|f| {
            f.parse::<i64>()
                .ok()
                .map(|n| n * 10_i64.pow(3 - f.len() as u32))
        })
        .unwrap_or(0);
    let days = dates::parse(date)?;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_counts() {
        assert_eq!(usd(1.234), "$1.23");
        assert_eq!(usd(0.0423), "$0.042");
        assert_eq!(usd(0.0042), "$0.0042");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(count(1_250_000.0), "1.2M");
        assert_eq!(count(812.0), "812");
        assert_eq!(count(35_400.0), "35k");
        assert_eq!(hours(12.54), "12.5 h");
        assert_eq!(hours(76.8), "3.2 d");
        assert_eq!(percent(0.425, 0), "42 %");
        assert_eq!(decimal(2.5, 2), "2.5");
        assert_eq!(decimal(3.0, 2), "3");
        assert_eq!(decimal(10.0, 0), "10");
        assert_eq!(decimal(1.0 / 3.0, 2), "0.33");
        assert_eq!(percent(0.005, 1), "0.5 %");
    }

    #[test]
    fn iso_timestamps_to_milliseconds() {
        assert_eq!(iso_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_ms("2026-02-09T20:00:00Z"), Some(1_770_667_200_000));
        assert_eq!(iso_ms("2026-02-09T20:00:00.25Z"), Some(1_770_667_200_250));
        assert_eq!(iso_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(iso_ms("soon"), None);
        assert_eq!(iso_ms("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn ages() {
        assert_eq!(age_label(0, 10_000), "just now");
        assert_eq!(age_label(0, 180_000), "3 min ago");
        assert_eq!(age_label(0, 7_200_000), "2 h ago");
        assert_eq!(age_label(0, 3 * 86_400_000), "3 d ago");
    }
}
