//! A point in time as people write it in a query: a day (`2026-11-23`, that day on the
//! helpline's clock) or an exact instant (RFC 3339). A `+` in a query string that was not
//! written as `%2B` arrives as a space; an instant with a space before its offset is read
//! as the `+` it was.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Deserialize;

use super::timezone::TimeZone;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Moment {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is neither a day (YYYY-MM-DD) nor an instant (RFC 3339, e.g. 2026-11-23T19:00:00Z)")]
pub struct InvalidMoment(pub String);

impl TryFrom<String> for Moment {
    type Error = InvalidMoment;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        let text = raw.trim();
        if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(Moment::Day(day));
        }
        let instant = |t: &str| DateTime::parse_from_rfc3339(t).ok();
        // "…T19:00:00 01:00": the `+` of the offset, decoded as a space.
        let mended = match text.rfind(' ') {
            Some(i) if i > 10 => format!("{}+{}", &text[..i], &text[i + 1..]),
            _ => text.to_owned(),
        };
        instant(text)
            .or_else(|| instant(&mended))
            .map(|at| Moment::Instant(at.with_timezone(&Utc)))
            .ok_or(InvalidMoment(raw))
    }
}

impl Moment {
    /// When it begins: a day's first instant on `zone`'s clock.
    pub fn start(self, zone: TimeZone) -> DateTime<Utc> {
        match self {
            Moment::Day(day) => zone.start_of_day(day),
            Moment::Instant(at) => at,
        }
    }

    /// When it ends, as the end of a period: after the whole day (the next day's first
    /// instant), or the instant itself.
    pub fn end(self, zone: TimeZone) -> DateTime<Utc> {
        match self {
            Moment::Day(day) => day
                .checked_add_days(Days::new(1))
                .map_or_else(|| zone.start_of_day(day), |next| zone.start_of_day(next)),
            Moment::Instant(at) => at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn moment(s: &str) -> Result<Moment, InvalidMoment> {
        Moment::try_from(s.to_owned())
    }

    #[test]
    fn a_day_means_that_day_on_the_helplines_clock_across_a_clock_change() {
        let london = TimeZone::parse("Europe/London").unwrap();
        let day = moment("2026-03-29").unwrap();
        assert_eq!(day.start(london), utc("2026-03-29T00:00:00Z"));
        // The day the clocks go forward ends at midnight BST: 23 hours later.
        assert_eq!(day.end(london), utc("2026-03-29T23:00:00Z"));
    }

    #[test]
    fn an_instant_is_rfc_3339_even_when_its_plus_arrived_as_a_space() {
        let london = TimeZone::parse("Europe/London").unwrap();
        let at = utc("2026-03-29T00:30:00Z");
        for written in [
            "2026-03-29T00:30:00Z",
            "2026-03-29T01:30:00+01:00",
            "2026-03-29T01:30:00 01:00",
        ] {
            let read = moment(written).unwrap();
            assert_eq!(
                (read.start(london), read.end(london)),
                (at, at),
                "{written}"
            );
        }
        assert_eq!(
            moment("next tuesday").unwrap_err().to_string(),
            "'next tuesday' is neither a day (YYYY-MM-DD) nor an instant (RFC 3339, e.g. 2026-11-23T19:00:00Z)"
        );
        assert!(moment("2026-02-30").is_err());
    }
}
