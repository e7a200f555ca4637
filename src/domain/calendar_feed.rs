//! Rotas as iCalendar feeds, as exact instants (UTC) so every calendar places them right
//! across clock changes, with a time zone named for display: a volunteer's shifts, extra
//! shifts and leave, and a helpline's gaps for its coordinators, each for `FEED_WEEKS`.

use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike};

use super::gap_alert::GapAlert;
use super::ids::{HelplineId, VolunteerId};
use super::rota::{Interval, Rota, ShiftChannels};
use super::shift_calendar::shifts_within;

/// How far ahead a feed reaches.
pub const FEED_WEEKS: i64 = 8;

fn channels_in_words(channels: ShiftChannels) -> &'static str {
    match channels {
        ShiftChannels::Voice => "calls",
        ShiftChannels::Sms => "texts",
        ShiftChannels::Both => "calls and texts",
    }
}

/// The start of `now`'s day (UTC): every feed's stamp, so the same rota gives the same
/// feed all day (and the same ETag).
fn day_stamp(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |midnight| midnight.and_utc())
}

/// An event over `stretch`, identified by `uid` and its start.
fn event(uid: &str, summary: &str, stretch: Interval, stamp: DateTime<Utc>) -> Event {
    Event::new()
        .uid(&format!("{uid}-{}@peerline", stretch.start.timestamp()))
        .timestamp(stamp)
        .summary(summary)
        .starts(stretch.start)
        .ends(stretch.end)
        .done()
}

/// The feed of `rota` for `volunteer_id` as of `now`.
pub fn volunteer_feed(volunteer_id: VolunteerId, rota: &Rota, now: DateTime<Utc>) -> String {
    let span = Interval {
        start: now,
        end: now + Duration::weeks(FEED_WEEKS),
    };
    let stamp = day_stamp(now);
    let event = |uid: &str, summary: String, stretch: Interval| {
        event(&format!("{uid}-{volunteer_id}"), &summary, stretch, stamp)
    };
    let mut calendar = Calendar::new();
    calendar
        .name("Peerline shifts")
        .timezone(rota.time_zone.name());
    for shift in shifts_within(rota, span)
        .into_iter()
        .filter(|o| !o.on_leave)
    {
        let (kind, summary) = if shift.extra {
            ("extra", "Extra Peerline shift")
        } else {
            ("shift", "Peerline shift")
        };
        let words = channels_in_words(shift.channels);
        calendar.push(event(kind, format!("{summary} ({words})"), shift.span));
    }
    let leave = rota
        .leave
        .iter()
        .filter(|l| l.start < span.end && span.start < l.end);
    for stretch in leave {
        calendar.push(event("leave", "On leave from Peerline".into(), *stretch));
    }
    calendar.done().to_string()
}

/// The span a helpline's gap feed covers as of `now`: from the start of the day, so the
/// feed stays the same all day while the rota does.
pub fn gap_feed_span(now: DateTime<Utc>) -> Interval {
    let start = day_stamp(now);
    Interval {
        start,
        end: start + Duration::weeks(FEED_WEEKS),
    }
}

/// A helpline's gaps over `gap_feed_span(now)` as a feed for its coordinators: one event
/// per stretch with nobody on shift, and per stretch when a topic has nobody signed off
/// for it though someone is on shift.
pub fn gap_feed(
    helpline: (HelplineId, &str),
    zone: &str,
    gaps: &GapAlert,
    now: DateTime<Utc>,
) -> String {
    let (helpline_id, name) = helpline;
    let stamp = day_stamp(now);
    let mut calendar = Calendar::new();
    calendar.name(&format!("{name} rota gaps")).timezone(zone);
    for gap in &gaps.overall {
        let uid = format!("gap-{helpline_id}");
        calendar.push(event(&uid, "Nobody on shift", *gap, stamp));
    }
    for topic in &gaps.topics {
        let uid = format!("gap-{helpline_id}-topic-{}", topic.topic_id);
        let summary = format!("Nobody on shift for {}", topic.label);
        for gap in &topic.gaps {
            calendar.push(event(&uid, &summary, *gap, stamp));
        }
    }
    calendar.done().to_string()
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

    #[test]
    fn shifts_on_leave_give_way_to_the_leave_and_the_stamp_holds_all_day() {
        let mut rota = Rota::new(TimeZone::parse("Europe/London").unwrap());
        let t = |s| LocalTime::parse(s).unwrap();
        rota.shifts.push(
            WeeklyShift::new(
                Weekday::Tuesday,
                t("19:00"),
                t("22:00"),
                ShiftChannels::Voice,
                None,
                None,
            )
            .unwrap(),
        );
        rota.leave
            .push(Interval::new(utc("2026-12-08T00:00:00Z"), utc("2026-12-09T00:00:00Z")).unwrap());
        let feed = volunteer_feed(VolunteerId(3), &rota, utc("2026-11-30T09:00:00Z"));
        assert_eq!(feed.matches("SUMMARY:Peerline shift (calls)").count(), 7);
        assert_eq!(feed.matches("SUMMARY:On leave from Peerline").count(), 1);
        assert!(feed.contains("DTSTART:20261201T190000Z"), "{feed}");
        assert!(!feed.contains("DTSTART:20261208T190000Z"), "{feed}");
        assert!(feed.contains("X-WR-TIMEZONE:Europe/London"));
        assert_eq!(
            feed,
            volunteer_feed(VolunteerId(3), &rota, utc("2026-11-30T09:00:00Z"))
        );
    }
}
