//! Cover requests: whether a lost shift leaves a gap worth filling, who may be asked to
//! cover it, and in what order. Volunteers signed off for the uncovered topic come
//! first, then those with the fewest hours on the rota that week; each wave asks the next
//! few not yet asked.

use chrono::{DateTime, Duration, Utc};

use super::coverage::{CoverageMember, gaps};
use super::ids::{TopicId, VolunteerId};
use super::rota::{Channel, Interval, Rota, ShiftChannels};
use super::rota_grid::week_of;
use super::shift_calendar::shifts_within;
use super::shift_reminders::QuietHours;
use super::volunteer::Readiness;

/// A volunteer who might cover a shift, with what decides whether and when they are asked.
pub struct Candidate<'a> {
    pub volunteer_id: VolunteerId,
    pub readiness: Readiness,
    pub rota: &'a Rota,
    pub quiet_hours: Option<QuietHours>,
    /// Signed off for the topic the lost shift leaves uncovered.
    pub signed_off: bool,
}

/// Whether `candidate` may be asked, at `now`, to cover `span` on `channels`: trained for
/// them and taking contacts, neither on shift nor on leave at any time in it, and not in
/// their quiet hours.
pub fn may_ask(
    candidate: &Candidate<'_>,
    span: Interval,
    channels: ShiftChannels,
    now: DateTime<Utc>,
) -> bool {
    let r = &candidate.readiness;
    let takes_every_channel = [Channel::Voice, Channel::Sms]
        .into_iter()
        .filter(|c| channels.covers(Some(*c)))
        .all(|c| r.check(span.start, Some(c)).is_ok());
    let overlaps = |other: &Interval| other.start < span.end && span.start < other.end;
    takes_every_channel
        && !candidate.rota.leave.iter().any(overlaps)
        && shifts_within(candidate.rota, span).is_empty()
        && candidate
            .quiet_hours
            .is_none_or(|q| q.around(r.time_zone, now).is_none())
}

/// Minutes on shift (leave deducted) in the Monday-to-Sunday week, on the volunteer's
/// clock, that holds `at`.
pub fn minutes_in_week(rota: &Rota, at: DateTime<Utc>) -> i64 {
    let monday = week_of(at.with_timezone(&rota.time_zone.tz()).date_naive());
    let week = Interval {
        start: rota.time_zone.start_of_day(monday),
        end: rota.time_zone.start_of_day(monday + Duration::days(7)),
    };
    shifts_within(rota, week)
        .iter()
        .filter(|o| !o.on_leave)
        .map(|o| o.span.duration().num_minutes())
        .sum()
}

/// The next wave: up to `size` of `candidates` who may be asked and have not been,
/// signed-off first, then fewest minutes that week, then by id.
pub fn next_wave(
    candidates: &[Candidate<'_>],
    already_asked: &[VolunteerId],
    span: Interval,
    channels: ShiftChannels,
    now: DateTime<Utc>,
    size: usize,
) -> Vec<VolunteerId> {
    let mut chosen: Vec<(bool, i64, VolunteerId)> = candidates
        .iter()
        .filter(|c| !already_asked.contains(&c.volunteer_id))
        .filter(|c| may_ask(c, span, channels, now))
        .map(|c| {
            (
                !c.signed_off,
                minutes_in_week(c.rota, span.start),
                c.volunteer_id,
            )
        })
        .collect();
    chosen.sort();
    chosen.into_iter().take(size).map(|(_, _, id)| id).collect()
}

/// What losing a shift leaves uncovered: nothing, the whole helpline for a while, or
/// only a topic nobody else on shift is signed off for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncovered {
    Nothing,
    Everything,
    Topic(TopicId),
}

/// Whether `span` has a gap once the shift is lost, given everyone who still counts
/// (`everyone`) and, per topic the lost volunteer was signed off for, those signed off
/// for it (`by_topic`). An overall gap matters most; otherwise the first topic left bare.
pub fn uncovered(
    span: Interval,
    everyone: &[CoverageMember<'_>],
    by_topic: &[(TopicId, Vec<CoverageMember<'_>>)],
) -> Uncovered {
    if !gaps(span, everyone, None).is_empty() {
        return Uncovered::Everything;
    }
    by_topic
        .iter()
        .find(|(_, members)| !gaps(span, members, None).is_empty())
        .map_or(Uncovered::Nothing, |(topic, _)| Uncovered::Topic(*topic))
}

/// Whether a wave is due: none sent yet, or the last one long enough ago.
pub fn wave_due(
    last_wave_at: Option<DateTime<Utc>>,
    wave_minutes: i32,
    now: DateTime<Utc>,
) -> bool {
    last_wave_at.is_none_or(|last| now - last >= Duration::minutes(wave_minutes.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{LocalTime, Weekday};
    use crate::domain::rota::WeeklyShift;
    use crate::domain::timezone::TimeZone;
    use crate::domain::volunteer::TrainingStatus;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn london() -> TimeZone {
        TimeZone::parse("Europe/London").unwrap()
    }

    fn readiness() -> Readiness {
        Readiness {
            status: TrainingStatus::Trained,
            refresher_due_on: None,
            trained_voice: true,
            trained_sms: true,
            active: true,
            time_zone: london(),
        }
    }

    fn rota_with(days: &[(Weekday, &str, &str)]) -> Rota {
        let mut rota = Rota::new(london());
        for (day, start, end) in days {
            let t = |s| LocalTime::parse(s).unwrap();
            rota.shifts.push(
                WeeklyShift::new(*day, t(start), t(end), ShiftChannels::Both, None, None).unwrap(),
            );
        }
        rota
    }

    // Tuesday 1 December 2026, 19:00-22:00 in London.
    fn lost() -> Interval {
        Interval::new(utc("2026-12-01T19:00:00Z"), utc("2026-12-01T22:00:00Z")).unwrap()
    }

    #[test]
    fn signed_off_first_then_fewest_hours_and_never_twice() {
        let busy = rota_with(&[
            (Weekday::Monday, "09:00", "17:00"),
            (Weekday::Thursday, "09:00", "17:00"),
        ]);
        let light = rota_with(&[(Weekday::Friday, "09:00", "12:00")]);
        let on_shift_then = rota_with(&[(Weekday::Tuesday, "18:00", "20:00")]);
        let mut on_leave = rota_with(&[]);
        on_leave
            .leave
            .push(Interval::new(utc("2026-12-01T00:00:00Z"), utc("2026-12-02T00:00:00Z")).unwrap());
        let idle = rota_with(&[]);
        let candidate = |id, rota, signed_off| Candidate {
            volunteer_id: id,
            readiness: readiness(),
            rota,
            quiet_hours: None,
            signed_off,
        };
        let people = [
            candidate(VolunteerId(1), &busy, true),
            candidate(VolunteerId(2), &light, false),
            candidate(VolunteerId(3), &on_shift_then, true),
            candidate(VolunteerId(4), &on_leave, true),
            candidate(VolunteerId(5), &idle, false),
            candidate(VolunteerId(6), &light, true),
        ];
        let now = utc("2026-12-01T12:00:00Z");
        let first = next_wave(&people, &[], lost(), ShiftChannels::Both, now, 3);
        assert_eq!(first, [6, 1, 5].map(VolunteerId));
        let second = next_wave(&people, &first, lost(), ShiftChannels::Both, now, 3);
        assert_eq!(second, [VolunteerId(2)]);
    }

    #[test]
    fn nobody_is_asked_in_their_quiet_hours_or_for_a_channel_they_do_not_take() {
        let idle = rota_with(&[]);
        let mut sleeping = Candidate {
            volunteer_id: VolunteerId(1),
            readiness: readiness(),
            rota: &idle,
            quiet_hours: Some(QuietHours {
                from: LocalTime::parse("22:00").unwrap(),
                until: LocalTime::parse("08:00").unwrap(),
            }),
            signed_off: true,
        };
        assert!(!may_ask(
            &sleeping,
            lost(),
            ShiftChannels::Both,
            utc("2026-12-01T06:00:00Z")
        ));
        assert!(may_ask(
            &sleeping,
            lost(),
            ShiftChannels::Both,
            utc("2026-12-01T09:00:00Z")
        ));
        sleeping.readiness.trained_voice = false;
        assert!(!may_ask(
            &sleeping,
            lost(),
            ShiftChannels::Voice,
            utc("2026-12-01T09:00:00Z")
        ));
        assert!(may_ask(
            &sleeping,
            lost(),
            ShiftChannels::Sms,
            utc("2026-12-01T09:00:00Z")
        ));
    }

    #[test]
    fn a_lost_shift_matters_when_it_leaves_a_gap_overall_or_for_a_topic() {
        let evening = rota_with(&[(Weekday::Tuesday, "18:00", "23:00")]);
        let part = rota_with(&[(Weekday::Tuesday, "19:00", "21:00")]);
        let member = |rota| CoverageMember::whenever_on_shift(rota);
        assert_eq!(
            uncovered(lost(), &[member(&part)], &[]),
            Uncovered::Everything
        );
        assert_eq!(
            uncovered(
                lost(),
                &[member(&evening)],
                &[(TopicId(7), vec![member(&evening)]), (TopicId(8), vec![])]
            ),
            Uncovered::Topic(TopicId(8))
        );
        assert_eq!(
            uncovered(
                lost(),
                &[member(&evening)],
                &[(TopicId(7), vec![member(&evening)])]
            ),
            Uncovered::Nothing
        );
    }
}
