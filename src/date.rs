//! Calendar dates for waiver expiry and the report's timestamp. Civil-date arithmetic is a few
//! lines (Howard Hinnant's days-from-civil), not worth a date-time dependency.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// `YYYY-MM-DD`, validated (month range, days in month, leap years).
    pub fn parse(text: &str) -> Result<Date, String> {
        let expected = || format!("expected a date as YYYY-MM-DD, found `{text}`");
        let parts: Vec<&str> = text.trim().split('-').collect();
        let [year, month, day] = parts.as_slice() else {
            return Err(expected());
        };
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return Err(expected());
        }
        let year: i32 = year.parse().map_err(|_| expected())?;
        let month: u32 = month.parse().map_err(|_| expected())?;
        let day: u32 = day.parse().map_err(|_| expected())?;
        if !(1..=12).contains(&month) {
            return Err(format!("`{text}` has month {month}; expected 01 to 12"));
        }
        let days = days_in_month(year, month);
        if day == 0 || day > days {
            return Err(format!(
                "`{text}` has day {day}; that month has {days} days"
            ));
        }
        Ok(Date { year, month, day })
    }

    /// Today in UTC; `GONOGO_TODAY=YYYY-MM-DD` pins it for reproducible reports and tests.
    pub fn today() -> Date {
        if let Some(date) = std::env::var("GONOGO_TODAY")
            .ok()
            .and_then(|text| Date::parse(&text).ok())
        {
            return date;
        }
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days((secs / 86_400) as i64)
    }

    fn from_days(days_since_epoch: i64) -> Date {
        let z = days_since_epoch + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// RFC 3339 UTC timestamp, second precision: `2026-11-23T14:27:38Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let date = Date::from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        assert_eq!(
            Date::parse("2026-12-31"),
            Ok(Date {
                year: 2026,
                month: 12,
                day: 31
            })
        );
        assert!(Date::parse("2024-02-29").is_ok());
        assert!(Date::parse("2026-02-29").unwrap_err().contains("28 days"));
        assert!(Date::parse("2026-13-01").unwrap_err().contains("month"));
        assert!(Date::parse("31/12/2026").is_err());
        assert!(Date::parse("2026-1-1").is_err());
    }

    #[test]
    fn epoch_days_round_trip() {
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(20_415).to_string(), "2025-11-23");
        assert_eq!(
            rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(1_795_962_458)),
            "2026-11-29T14:27:38Z"
        );
    }
}
