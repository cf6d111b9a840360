//! Calendar arithmetic on `YYYY-MM-DD` strings (days since 1970-01-01, proleptic Gregorian), so
//! the browser needs no date library.

pub fn parse(date: &str) -> Option<i64> {
    let mut parts = date.get(..10)?.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

pub fn format(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        for date in [
            "1970-01-01",
            "2026-02-28",
            "2024-02-29",
            "2026-12-31",
            "2000-03-01",
        ] {
            assert_eq!(super::format(super::parse(date).unwrap()), date);
        }
        assert_eq!(super::parse("1970-01-02"), Some(1));
        assert_eq!(
            super::parse("2026-11-23T10:00:00Z"),
            super::parse("2026-11-23")
        );
    }
}
