//! Rota gaps: the stretches of a period during which nobody is on shift.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::TopicId;
use super::rota::{Channel, Interval, Rota, ShiftChannels};

/// The gaps of one topic: stretches with nobody signed off for it on shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopicCoverage {
    pub topic_id: TopicId,
    pub key: String,
    pub label: String,
    /// Stretches with nobody signed off for this topic on shift.
    pub gaps: Vec<Interval>,
}

/// Someone who counts towards coverage: their rota, and the instant from which they no
/// longer take contacts (an overdue refresher), if any.
#[derive(Debug, Clone)]
pub struct CoverageMember<'a> {
    pub rota: &'a Rota,
    /// When they do not count though on shift (stepped back).
    pub away: Vec<Interval>,
    pub takes_contacts_until: Option<DateTime<Utc>>,
    /// The channels they are trained for: asked about any channel, a shift counts only
    /// for those.
    pub trained: ShiftChannels,
}

impl<'a> CoverageMember<'a> {
    /// Someone who counts whenever their rota has them on shift (a supervisor on call).
    pub fn whenever_on_shift(rota: &'a Rota) -> Self {
        Self {
            rota,
            away: Vec::new(),
            takes_contacts_until: None,
            trained: ShiftChannels::Both,
        }
    }

    fn covers(&self, at: DateTime<Utc>, channel: Option<Channel>) -> bool {
        self.takes_contacts_until.is_none_or(|until| at < until)
            && !self.away.iter().any(|away| away.contains(at))
            && self.rota.serves(at, channel, self.trained)
    }
}

/// The maximal intervals within `span` when none of `members` is on shift for `channel`.
pub fn gaps(
    span: Interval,
    members: &[CoverageMember<'_>],
    channel: Option<Channel>,
) -> Vec<Interval> {
    let mut edges = vec![span.start, span.end];
    for member in members {
        edges.extend(member.rota.change_points(span));
        edges.extend(member.takes_contacts_until.filter(|u| span.contains(*u)));
        for away in &member.away {
            edges.extend(
                [away.start, away.end]
                    .into_iter()
                    .filter(|at| span.contains(*at)),
            );
        }
    }
    edges.sort();
    edges.dedup();

    let mut gaps: Vec<Interval> = Vec::new();
    for pair in edges.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        if members.iter().any(|m| m.covers(start, channel)) {
            continue;
        }
        match gaps.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => gaps.push(Interval { start, end }),
        }
    }
    gaps
}

/// The stretches within `span` when `member` is on shift for `channel` and counts.
pub fn covered(
    span: Interval,
    member: &CoverageMember<'_>,
    channel: Option<Channel>,
) -> Vec<Interval> {
    uncovered(span, gaps(span, std::slice::from_ref(member), channel))
}

/// The stretches of `span` outside every one of `taken` (which may overlap, in any order).
pub fn uncovered(span: Interval, mut taken: Vec<Interval>) -> Vec<Interval> {
    taken.sort_by_key(|t| t.start);
    let mut left = Vec::new();
    let mut from = span.start;
    for t in taken {
        if t.end <= from || t.start >= span.end {
            continue;
        }
        if from < t.start {
            left.push(Interval {
                start: from,
                end: t.start,
            });
        }
        from = from.max(t.end);
    }
    if from < span.end {
        left.push(Interval {
            start: from,
            end: span.end,
        });
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{LocalTime, Weekday};
    use crate::domain::rota::WeeklyShift;
    use crate::domain::timezone::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn rota(zone: &str, day: Weekday, start: &str, end: &str, channels: ShiftChannels) -> Rota {
        let mut r = Rota::new(TimeZone::parse(zone).unwrap());
        let (s, e) = (
            LocalTime::parse(start).unwrap(),
            LocalTime::parse(end).unwrap(),
        );
        r.shifts
            .push(WeeklyShift::new(day, s, e, channels, None, None).unwrap());
        r
    }

    fn span(from: &str, to: &str) -> Interval {
        Interval::new(utc(from), utc(to)).unwrap()
    }

    #[test]
    fn three_time_zones_hand_over_and_leave_one_gap() {
        // Monday 2026-11-23 in UTC terms: Sydney (UTC+11) 08:00-16:00 = Sun 21:00Z-Mon 05:00Z,
        // London (UTC+0) 09:00-17:00, New York (UTC-5) 09:00-17:00 = 14:00Z-22:00Z.
        let sydney = rota(
            "Australia/Sydney",
            Weekday::Monday,
            "08:00",
            "16:00",
            ShiftChannels::Both,
        );
        let london = rota(
            "Europe/London",
            Weekday::Monday,
            "09:00",
            "17:00",
            ShiftChannels::Both,
        );
        let new_york = rota(
            "America/New_York",
            Weekday::Monday,
            "09:00",
            "17:00",
            ShiftChannels::Both,
        );
        let members: Vec<_> = [&sydney, &london, &new_york]
            .into_iter()
            .map(|rota| CoverageMember {
                away: Vec::new(),
                rota,
                takes_contacts_until: None,
                trained: ShiftChannels::Both,
            })
            .collect();
        let found = gaps(
            span("2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"),
            &members,
            None,
        );
        assert_eq!(
            found,
            vec![
                span("2026-11-23T05:00:00Z", "2026-11-23T09:00:00Z"),
                span("2026-11-23T22:00:00Z", "2026-11-24T00:00:00Z"),
            ]
        );
    }

    #[test]
    fn what_nobody_covers_is_what_is_left_of_everyones_cover() {
        let day = span("2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z");
        let taken = vec![
            span("2026-11-23T12:00:00Z", "2026-11-23T14:00:00Z"),
            span("2026-11-22T20:00:00Z", "2026-11-23T02:00:00Z"),
            span("2026-11-23T13:00:00Z", "2026-11-23T15:00:00Z"),
        ];
        assert_eq!(
            uncovered(day, taken),
            vec![
                span("2026-11-23T02:00:00Z", "2026-11-23T12:00:00Z"),
                span("2026-11-23T15:00:00Z", "2026-11-24T00:00:00Z"),
            ]
        );
        assert_eq!(uncovered(day, Vec::new()), vec![day]);
        let london = rota(
            "Europe/London",
            Weekday::Monday,
            "09:00",
            "17:00",
            ShiftChannels::Both,
        );
        let member = CoverageMember::whenever_on_shift(&london);
        assert_eq!(
            covered(day, &member, None),
            vec![span("2026-11-23T09:00:00Z", "2026-11-23T17:00:00Z")]
        );
    }

    #[test]
    fn nobody_means_the_whole_span_is_a_gap() {
        let whole = span("2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z");
        assert_eq!(gaps(whole, &[], Some(Channel::Voice)), vec![whole]);
    }

    #[test]
    fn channel_and_overdue_refresher_open_gaps() {
        let london = rota(
            "Europe/London",
            Weekday::Monday,
            "09:00",
            "17:00",
            ShiftChannels::Sms,
        );
        let day = span("2026-11-23T09:00:00Z", "2026-11-23T17:00:00Z");
        let member = CoverageMember {
            away: Vec::new(),
            rota: &london,
            takes_contacts_until: None,
            trained: ShiftChannels::Both,
        };
        assert!(gaps(day, std::slice::from_ref(&member), Some(Channel::Sms)).is_empty());
        assert_eq!(
            gaps(day, std::slice::from_ref(&member), Some(Channel::Voice)),
            vec![day]
        );
        let lapsing = CoverageMember {
            away: Vec::new(),
            rota: &london,
            takes_contacts_until: Some(utc("2026-11-23T12:00:00Z")),
            trained: ShiftChannels::Both,
        };
        assert_eq!(
            gaps(day, &[lapsing], Some(Channel::Sms)),
            vec![span("2026-11-23T12:00:00Z", "2026-11-23T17:00:00Z")]
        );
    }

    #[test]
    fn dst_night_gap_follows_the_wall_clock() {
        // London 22:00-02:00 on the spring-forward night ends at 01:00Z; the rest is a gap.
        let london = rota(
            "Europe/London",
            Weekday::Saturday,
            "22:00",
            "02:00",
            ShiftChannels::Both,
        );
        let member = CoverageMember {
            away: Vec::new(),
            rota: &london,
            takes_contacts_until: None,
            trained: ShiftChannels::Both,
        };
        let night = span("2026-03-28T22:00:00Z", "2026-03-29T03:00:00Z");
        assert_eq!(
            gaps(night, &[member], None),
            vec![span("2026-03-29T01:00:00Z", "2026-03-29T03:00:00Z")]
        );
    }

    #[test]
    fn asked_about_any_channel_a_shift_counts_only_for_what_they_are_trained_for() {
        // An SMS-only shift, held by someone trained for voice only: no cover at all.
        let london = rota(
            "Europe/London",
            Weekday::Monday,
            "09:00",
            "17:00",
            ShiftChannels::Sms,
        );
        let monday = span("2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z");
        let voice_only = CoverageMember {
            away: Vec::new(),
            rota: &london,
            takes_contacts_until: None,
            trained: ShiftChannels::Voice,
        };
        assert_eq!(
            gaps(monday, std::slice::from_ref(&voice_only), None),
            vec![monday]
        );
        let both = CoverageMember {
            trained: ShiftChannels::Both,
            ..voice_only.clone()
        };
        assert_eq!(
            gaps(monday, &[both], None).len(),
            2,
            "before and after the shift"
        );
    }
}
