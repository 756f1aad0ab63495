//! A calendar date (`YYYY-MM-DD`, UTC), enough for exception expiry without a date crate.

use serde::{Serialize, Serializer};

/// A proleptic Gregorian calendar date. Exceptions expire at the end of their `expires` day
/// (UTC); [`decide`](crate::decide) takes "today" as a `Date` so that it stays pure.
///
/// ```
/// use hubfix_policy::Date;
/// let d = Date::parse("2026-02-28").unwrap();
/// assert_eq!(d.to_string(), "2026-02-28");
/// assert_eq!(Date::from_unix_seconds(0), Date::new(1970, 1, 1).unwrap());
/// assert!(Date::parse("2026-02-29").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// The date, if it exists in the calendar (year 1 to 9999).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = text.get(range)?;
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        let month = u8::try_from(digits(5..7)?).ok()?;
        let day = u8::try_from(digits(8..10)?).ok()?;
        Self::new(year, month, day)
    }

    /// The UTC date of a Unix timestamp in seconds (what a caller gets from
    /// `SystemTime::now().duration_since(UNIX_EPOCH)`). Saturates outside years 1 to 9999.
    pub fn from_unix_seconds(seconds: i64) -> Self {
        let days = seconds.div_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        if year < 1 {
            return Self {
                year: 1,
                month: 1,
                day: 1,
            };
        }
        if year > 9999 {
            return Self {
                year: 9999,
                month: 12,
                day: 31,
            };
        }
        // The arithmetic above keeps month in 1..=12 and day in 1..=31.
        Self {
            year: year as i32,
            month: month as u8,
            day: day as u8,
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(self) -> u8 {
        self.day
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for Date {
    type Err = InvalidDate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| InvalidDate(s.to_owned()))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A text that is not a `YYYY-MM-DD` calendar date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a YYYY-MM-DD calendar date")]
pub struct InvalidDate(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let a = Date::parse("2025-12-31").unwrap();
        let b = Date::parse("2026-01-01").unwrap();
        assert!(a < b);
        assert_eq!("2024-02-29".parse::<Date>().unwrap().day(), 29);
        for bad in [
            "2025-2-01",
            "2025-13-01",
            "2025-00-10",
            "2023-02-29",
            "2025-01-32",
            "20250101",
            "2025-01-0x",
            "0000-01-01",
        ] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(Date::from_unix_seconds(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_unix_seconds(951_782_400).to_string(),
            "2000-02-29"
        );
        assert_eq!(
            Date::from_unix_seconds(1_767_225_599).to_string(),
            "2025-12-31"
        );
        assert_eq!(
            Date::from_unix_seconds(1_767_225_600).to_string(),
            "2026-01-01"
        );
        assert_eq!(Date::from_unix_seconds(-1).to_string(), "1969-12-31");
        assert_eq!(Date::from_unix_seconds(i64::MIN).to_string(), "0001-01-01");
        assert_eq!(Date::from_unix_seconds(i64::MAX).to_string(), "9999-12-31");
    }
}
