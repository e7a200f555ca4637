//! Stepping back: a volunteer, without losing their sign-off, is not offered contacts
//! about one topic (or any contact) for a while, until a date or for their next few
//! shifts. Nothing about why is asked or kept. Pure rules; the storage and the router
//! apply them.

use chrono::{DateTime, Duration, Utc};

use super::ids::TopicId;
use super::rota::{Interval, Rota};
use super::shift_calendar::shifts_within;

/// How far ahead "my next N shifts" looks, and the longest step-back by date.
pub const HORIZON: Duration = Duration::weeks(8);
/// Step-backs within `CHECK_IN_WINDOW` that suggest a supervisor's check-in.
pub const CHECK_IN_AFTER: usize = 3;
pub const CHECK_IN_WINDOW: Duration = Duration::days(30);

/// A step-back as the router and coverage see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepBack {
    /// The topic; none: every contact.
    pub topic_id: Option<TopicId>,
    pub span: Interval,
}

impl StepBack {
    /// Whether it keeps its volunteer from a contact about `topic` (none: no topic chosen)
    /// at `at`.
    pub fn keeps_from(&self, topic: Option<TopicId>, at: DateTime<Utc>) -> bool {
        self.span.contains(at) && (self.topic_id.is_none() || self.topic_id == topic)
    }

    /// Whether it counts against coverage of `topic` (none: coverage overall).
    pub fn counts_against(&self, topic: Option<TopicId>) -> bool {
        self.topic_id.is_none() || (topic.is_some() && self.topic_id == topic)
    }
}

/// How long a step-back lasts, as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Until(DateTime<Utc>),
    /// The volunteer's next shifts, counting one under way.
    Shifts(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLength {
    #[error("must be in the future")]
    InThePast,
    #[error("may be at most 8 weeks ahead")]
    TooFar,
    #[error("must be between 1 and 20 shifts")]
    ShiftCount,
    #[error("only {found} shift(s) in the next 8 weeks; step back until a date instead")]
    TooFewShifts { found: usize },
}

/// When a step-back of `length` asked for at `now` ends, for a volunteer on `rota`.
pub fn ends_at(
    length: Length,
    rota: &Rota,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, InvalidLength> {
    match length {
        Length::Until(until) if until <= now => Err(InvalidLength::InThePast),
        Length::Until(until) if until > now + HORIZON => Err(InvalidLength::TooFar),
        Length::Until(until) => Ok(until),
        Length::Shifts(n) if !(1..=20).contains(&n) => Err(InvalidLength::ShiftCount),
        Length::Shifts(n) => {
            let ahead = Interval {
                start: now,
                end: now + HORIZON,
            };
            let worked: Vec<_> = shifts_within(rota, ahead)
                .into_iter()
                .filter(|shift| !shift.on_leave)
                .collect();
            let index = usize::try_from(n).unwrap_or(usize::MAX) - 1;
            worked
                .get(index)
                .map(|shift| shift.span.end)
                .ok_or(InvalidLength::TooFewShifts {
                    found: worked.len(),
                })
        }
    }
}

/// Whether a volunteer who stepped back at `recent` (their step-backs' start times) is
/// suggested for a supervisor's check-in at `now`: never a penalty, a conversation.
pub fn suggests_check_in(recent: &[DateTime<Utc>], now: DateTime<Utc>) -> bool {
    recent
        .iter()
        .filter(|at| **at > now - CHECK_IN_WINDOW && **at <= now)
        .count()
        >= CHECK_IN_AFTER
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{LocalTime, Weekday};
    use crate::domain::rota::{ShiftChannels, WeeklyShift};
    use crate::domain::timezone::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Tuesdays and Thursdays 19:00-22:00, London.
    fn evenings() -> Rota {
        let mut rota = Rota::new(TimeZone::parse("Europe/London").unwrap());
        for day in [Weekday::Tuesday, Weekday::Thursday] {
            let (from, to) = (LocalTime::hm(19, 0).unwrap(), LocalTime::hm(22, 0).unwrap());
            rota.shifts
                .push(WeeklyShift::new(day, from, to, ShiftChannels::Both, None, None).unwrap());
        }
        rota
    }

    #[test]
    fn the_next_shifts_count_one_under_way_and_end_with_the_last() {
        // Tuesday 1 December 2026, 20:00 GMT: a shift is under way.
        let now = utc("2026-12-01T20:00:00Z");
        let one = ends_at(Length::Shifts(1), &evenings(), now).unwrap();
        assert_eq!(one, utc("2026-12-01T22:00:00Z"));
        let two = ends_at(Length::Shifts(2), &evenings(), now).unwrap();
        assert_eq!(two, utc("2026-12-03T22:00:00Z"));
    }

    #[test]
    fn a_length_that_cannot_be_kept_says_why() {
        let now = utc("2026-12-01T20:00:00Z");
        let rota = evenings();
        assert_eq!(
            ends_at(Length::Until(now), &rota, now),
            Err(InvalidLength::InThePast)
        );
        assert_eq!(
            ends_at(Length::Until(now + Duration::weeks(9)), &rota, now),
            Err(InvalidLength::TooFar)
        );
        assert_eq!(
            ends_at(Length::Shifts(0), &rota, now),
            Err(InvalidLength::ShiftCount)
        );
        assert_eq!(
            ends_at(Length::Shifts(18), &rota, now),
            Err(InvalidLength::TooFewShifts { found: 17 })
        );
        let empty = Rota::new(TimeZone::parse("Europe/London").unwrap());
        assert_eq!(
            ends_at(Length::Shifts(1), &empty, now),
            Err(InvalidLength::TooFewShifts { found: 0 })
        );
    }

    #[test]
    fn a_step_back_keeps_from_its_topic_or_from_everything_while_it_lasts() {
        let span = Interval::new(utc("2026-12-01T00:00:00Z"), utc("2026-12-08T00:00:00Z")).unwrap();
        let bereavement = StepBack {
            topic_id: Some(TopicId(7)),
            span,
        };
        let all = StepBack {
            topic_id: None,
            span,
        };
        let during = utc("2026-12-03T12:00:00Z");
        assert!(bereavement.keeps_from(Some(TopicId(7)), during));
        assert!(!bereavement.keeps_from(Some(TopicId(8)), during));
        assert!(!bereavement.keeps_from(None, during));
        assert!(all.keeps_from(None, during));
        assert!(!all.keeps_from(Some(TopicId(7)), utc("2026-12-08T00:00:00Z")));
        assert!(bereavement.counts_against(Some(TopicId(7))) && !bereavement.counts_against(None));
        assert!(all.counts_against(None) && all.counts_against(Some(TopicId(8))));
    }

    #[test]
    fn three_step_backs_in_a_month_suggest_a_check_in() {
        let now = utc("2026-12-31T12:00:00Z");
        let days_ago = |d: i64| now - Duration::days(d);
        assert!(!suggests_check_in(&[days_ago(1), days_ago(10)], now));
        assert!(suggests_check_in(
            &[days_ago(1), days_ago(10), days_ago(29)],
            now
        ));
        assert!(!suggests_check_in(
            &[days_ago(1), days_ago(10), days_ago(31)],
            now
        ));
    }
}
