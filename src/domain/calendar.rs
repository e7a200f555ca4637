//! Calendar vocabulary for the rota: weekdays and wall-clock times of day, as they are
//! written in the API (`"monday"`, `"22:00"`).

use std::fmt;

use chrono::{NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a weekday (monday ... sunday)")]
pub struct UnknownWeekday(pub String);

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownWeekday> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == raw)
            .ok_or_else(|| UnknownWeekday(raw.to_owned()))
    }
}

impl From<chrono::Weekday> for Weekday {
    fn from(value: chrono::Weekday) -> Self {
        Self::ALL[value.num_days_from_monday() as usize]
    }
}

/// A wall-clock time of day with minute precision, written `HH:MM` (00:00 to 23:59).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime(NaiveTime);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a time of day in HH:MM form (00:00 to 23:59)")]
pub struct InvalidLocalTime(pub String);

impl LocalTime {
    pub const MIDNIGHT: Self = Self(NaiveTime::MIN);

    pub fn parse(raw: &str) -> Result<Self, InvalidLocalTime> {
        let invalid = || InvalidLocalTime(raw.to_owned());
        let (h, m) = raw.split_once(':').ok_or_else(invalid)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(invalid());
        }
        let hour: u32 = h.parse().map_err(|_| invalid())?;
        let minute: u32 = m.parse().map_err(|_| invalid())?;
        NaiveTime::from_hms_opt(hour, minute, 0)
            .map(Self)
            .ok_or_else(invalid)
    }

    pub fn hm(hour: u32, minute: u32) -> Option<Self> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(Self)
    }

    pub fn time(self) -> NaiveTime {
        self.0
    }
}

impl TryFrom<String> for LocalTime {
    type Error = InvalidLocalTime;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<LocalTime> for String {
    fn from(value: LocalTime) -> Self {
        value.to_string()
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl fmt::Debug for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalTime({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_round_trips_and_rejects_nonsense() {
        assert_eq!(LocalTime::parse("07:05").unwrap().to_string(), "07:05");
        for bad in ["7:05", "24:00", "12:60", "noon", "12:00:00", ""] {
            assert!(LocalTime::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weekday_parses_lowercase_names_only() {
        assert_eq!(Weekday::parse("sunday").unwrap(), Weekday::Sunday);
        assert!(Weekday::parse("Funday").is_err());
        assert_eq!(Weekday::from(chrono::Weekday::Mon), Weekday::Monday);
    }
}
