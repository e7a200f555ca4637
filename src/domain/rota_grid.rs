//! The rota as a coordinator reads it: a week with days across and hours down, on the
//! helpline's clock, and in each hour who is on shift at some moment of it.

use chrono::{Duration, NaiveDate, NaiveTime};

use super::rota::{Interval, Rota, earliest_instant_at_or_after};
use super::timezone::TimeZone;

/// One hour of one day on the helpline's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourCell {
    /// The stretch of real time it covers (two hours when the clocks go back).
    pub span: Interval,
    /// The rotas (by position) on shift at some moment of it.
    pub on_shift: Vec<usize>,
}

/// `hours[h][d]`: hour `h` of day `first_day + d`; `None` for an hour the clocks skip.
pub type WeekGrid = Vec<Vec<Option<HourCell>>>;

/// The seven days from `first_day`, hour by hour on `zone`'s clock.
pub fn week_grid(zone: TimeZone, first_day: NaiveDate, rotas: &[&Rota]) -> WeekGrid {
    let tz = zone.tz();
    let instant = |day: NaiveDate, hour: u32| {
        let local = day.and_time(NaiveTime::MIN) + Duration::hours(i64::from(hour));
        earliest_instant_at_or_after(tz, local)
    };
    (0..24)
        .map(|hour| {
            (0..7)
                .map(|offset| {
                    let day = first_day + Duration::days(offset);
                    let span = Interval::new(instant(day, hour), instant(day, hour + 1)).ok()?;
                    let on_shift = rotas
                        .iter()
                        .enumerate()
                        .filter(|(_, rota)| on_shift_during(rota, span))
                        .map(|(i, _)| i)
                        .collect();
                    Some(HourCell { span, on_shift })
                })
                .collect()
        })
        .collect()
}

/// Whether `rota` is on shift at some moment of `span`: at its start or at any instant
/// inside it where the answer may change.
fn on_shift_during(rota: &Rota, span: Interval) -> bool {
    std::iter::once(span.start)
        .chain(rota.change_points(span))
        .any(|at| rota.is_on_shift(at, None))
}

/// The Monday on or before `day`: the first day of its week.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{LocalTime, Weekday};
    use crate::domain::rota::{ShiftChannels, WeeklyShift};

    fn rota(zone: &str, day: Weekday, start: &str, end: &str) -> Rota {
        let mut r = Rota::new(TimeZone::parse(zone).unwrap());
        let t = |s| LocalTime::parse(s).unwrap();
        r.shifts.push(
            WeeklyShift::new(day, t(start), t(end), ShiftChannels::Both, None, None).unwrap(),
        );
        r
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn each_hour_lists_who_is_on_shift_on_the_helplines_clock() {
        let london = TimeZone::parse("Europe/London").unwrap();
        let ann = rota("Europe/London", Weekday::Tuesday, "19:00", "22:30");
        // 09:00-11:00 in New York is 14:00-16:00 in London in December.
        let bob = rota("America/New_York", Weekday::Tuesday, "09:00", "11:00");
        let grid = week_grid(london, date("2026-11-30"), &[&ann, &bob]);
        let tuesday = 1;
        let who = |hour: usize| grid[hour][tuesday].as_ref().unwrap().on_shift.clone();
        assert_eq!(who(19), vec![0]);
        assert_eq!(who(22), vec![0], "on shift for part of the hour");
        assert!(who(23).is_empty());
        assert_eq!(who(14), vec![1]);
        assert_eq!(who(15), vec![1]);
        assert!(who(16).is_empty());
        assert!(grid[19][0].as_ref().unwrap().on_shift.is_empty(), "Monday");
    }

    #[test]
    fn the_hour_the_clocks_skip_is_absent_and_the_repeated_hour_is_two_hours_long() {
        let london = TimeZone::parse("Europe/London").unwrap();
        let spring = week_grid(london, date("2026-03-23"), &[]);
        assert!(spring[1][6].is_none(), "01:00 on 29 March does not happen");
        let autumn = week_grid(london, date("2026-10-19"), &[]);
        let repeated = autumn[1][6].as_ref().unwrap();
        assert_eq!(repeated.span.duration(), Duration::hours(2));
        assert_eq!(week_of(date("2026-12-03")), date("2026-11-30"));
    }
}
