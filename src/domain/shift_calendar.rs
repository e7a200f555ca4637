//! A person's rota read as a calendar: each shift under way within a span, in order,
//! with its times, whether it is an extra shift, and whether leave covers it.

use chrono::Duration;

use super::rota::{Interval, Rota, ShiftChannels};

/// One shift on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub span: Interval,
    pub channels: ShiftChannels,
    /// An extra shift, added for one occasion, rather than a weekly one.
    pub extra: bool,
    /// Leave overlaps this weekly shift: it is not worked (wholly or in part).
    pub on_leave: bool,
}

/// Every shift of `rota` under way at any time within `span` (one that began before it
/// and has not ended included), earliest first.
pub fn shifts_within(rota: &Rota, span: Interval) -> Vec<Occurrence> {
    let tz = rota.time_zone.tz();
    let first_day = span.start.with_timezone(&tz).date_naive() - Duration::days(1);
    let last_day = span.end.with_timezone(&tz).date_naive();
    let overlaps = |stretch: &Interval| stretch.start < span.end && span.start < stretch.end;
    let mut found: Vec<Occurrence> = first_day
        .iter_days()
        .take_while(|day| *day <= last_day)
        .flat_map(|day| {
            rota.shifts.iter().filter_map(move |shift| {
                let (start, end) = shift.occurrence_instants(tz, day)?;
                Some((Interval::new(start, end).ok()?, shift.channels()))
            })
        })
        .filter(|(stretch, _)| overlaps(stretch))
        .map(|(stretch, channels)| Occurrence {
            span: stretch,
            channels,
            extra: false,
            on_leave: rota
                .leave
                .iter()
                .any(|l| l.start < stretch.end && stretch.start < l.end),
        })
        .collect();
    found.extend(
        rota.extra_shifts
            .iter()
            .filter(|(stretch, _)| overlaps(stretch))
            .map(|(stretch, channels)| Occurrence {
                span: *stretch,
                channels: *channels,
                extra: true,
                on_leave: false,
            }),
    );
    found.sort_by_key(|o| (o.span.start, o.span.end));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{LocalTime, Weekday};
    use crate::domain::rota::WeeklyShift;
    use crate::domain::timezone::TimeZone;
    use chrono::{DateTime, Utc};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn weekly(day: Weekday, start: &str, end: &str) -> WeeklyShift {
        let t = |s| LocalTime::parse(s).unwrap();
        WeeklyShift::new(day, t(start), t(end), ShiftChannels::Both, None, None).unwrap()
    }

    #[test]
    fn weekly_leave_and_extra_shifts_appear_in_order_on_the_local_clock() {
        let mut rota = Rota::new(TimeZone::parse("Europe/London").unwrap());
        rota.shifts.push(weekly(Weekday::Tuesday, "19:00", "22:00"));
        rota.shifts
            .push(weekly(Weekday::Saturday, "23:00", "02:00"));
        // Leave on the second Tuesday; an extra shift on a Wednesday.
        rota.leave
            .push(Interval::new(utc("2026-12-08T00:00:00Z"), utc("2026-12-09T00:00:00Z")).unwrap());
        rota.extra_shifts.push((
            Interval::new(utc("2026-12-02T10:00:00Z"), utc("2026-12-02T12:00:00Z")).unwrap(),
            ShiftChannels::Sms,
        ));
        let span = Interval::new(utc("2026-11-30T00:00:00Z"), utc("2026-12-14T00:00:00Z")).unwrap();
        let found = shifts_within(&rota, span);
        let starts: Vec<_> = found
            .iter()
            .map(|o| (o.span.start, o.extra, o.on_leave))
            .collect();
        assert_eq!(
            starts,
            vec![
                (utc("2026-12-01T19:00:00Z"), false, false),
                (utc("2026-12-02T10:00:00Z"), true, false),
                (utc("2026-12-05T23:00:00Z"), false, false),
                (utc("2026-12-08T19:00:00Z"), false, true),
                (utc("2026-12-12T23:00:00Z"), false, false),
            ]
        );
        // A shift past midnight ends on the next day.
        assert_eq!(found[2].span.end, utc("2026-12-06T02:00:00Z"));
        // Seen from inside a shift, that shift is still listed.
        let during =
            Interval::new(utc("2026-12-01T20:00:00Z"), utc("2026-12-02T00:00:00Z")).unwrap();
        let now_on = shifts_within(&rota, during);
        assert_eq!(now_on.len(), 1);
        assert_eq!(now_on[0].span.start, utc("2026-12-01T19:00:00Z"));
    }

    #[test]
    fn a_shift_keeps_its_wall_clock_hours_across_a_clock_change() {
        let mut rota = Rota::new(TimeZone::parse("America/New_York").unwrap());
        rota.shifts
            .push(weekly(Weekday::Saturday, "19:00", "22:00"));
        rota.shifts.push(weekly(Weekday::Sunday, "19:00", "22:00"));
        let span = Interval::new(utc("2026-10-31T00:00:00Z"), utc("2026-11-03T00:00:00Z")).unwrap();
        let found = shifts_within(&rota, span);
        // 19:00 EDT on Saturday, 19:00 EST on Sunday after the clocks went back.
        assert_eq!(found[0].span.start, utc("2026-10-31T23:00:00Z"));
        assert_eq!(found[1].span.start, utc("2026-11-02T00:00:00Z"));
    }
}
