//! IANA time zones as a parsed type: a volunteer's or helpline's zone is always one the
//! time-zone database knows.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a known IANA time zone (e.g. Europe/London)")]
pub struct UnknownTimeZone(pub String);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, UnknownTimeZone> {
        chrono_tz::Tz::from_str(raw.trim())
            .map(Self)
            .map_err(|_| UnknownTimeZone(raw.to_owned()))
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The instant the local `date` begins. Where a clock change skips midnight, the day
    /// begins at the first local time that exists.
    pub fn start_of_day(self, date: NaiveDate) -> DateTime<Utc> {
        let mut local = date.and_time(NaiveTime::MIN);
        // A gap lasts at most a few hours; step through it a quarter-hour at a time.
        for _ in 0..=96 {
            if let Some(at) = self.0.from_local_datetime(&local).earliest() {
                return at.with_timezone(&Utc);
            }
            local += Duration::minutes(15);
        }
        local.and_utc()
    }
}

impl TryFrom<String> for TimeZone {
    type Error = UnknownTimeZone;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeZone> for String {
    fn from(value: TimeZone) -> Self {
        value.name().to_owned()
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZone({})", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iana_names_and_rejects_others() {
        assert_eq!(
            TimeZone::parse("Australia/Sydney").unwrap().name(),
            "Australia/Sydney"
        );
        assert!(TimeZone::parse("Mars/Olympus_Mons").is_err());
        assert!(TimeZone::parse("").is_err());
    }

    #[test]
    fn days_begin_at_local_midnight_or_after_a_skipped_one() {
        let london = TimeZone::parse("Europe/London").unwrap();
        let summer = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(
            london.start_of_day(summer).to_rfc3339(),
            "2026-06-30T23:00:00+00:00"
        );
        // Santiago skips from 00:00 to 01:00 when summer time starts (2026-09-06).
        let santiago = TimeZone::parse("America/Santiago").unwrap();
        let skipped = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        assert_eq!(
            santiago.start_of_day(skipped).to_rfc3339(),
            "2026-09-06T04:00:00+00:00"
        );
    }
}
