//! The rota: when a person is on shift, evaluated on the wall clock of their own time zone.
//!
//! An instant is on shift when its local time falls in `[start, end)` of a weekly shift on
//! that weekday (a shift whose end is at or before its start crosses midnight and belongs
//! to the weekday it starts on), within the shift's validity dates, and no leave covers it;
//! or when an extra shift covers it. Because shifts live on the wall clock, a 22:00-02:00
//! shift is 22:00-02:00 on the clock on a DST night: three hours when clocks go forward,
//! five when they go back.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone as _,
    Timelike, Utc,
};
use serde::{Deserialize, Serialize};

use super::calendar::{LocalTime, Weekday};
use super::timezone::TimeZone;

/// A contact channel.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Channel {
    #[sea_orm(string_value = "voice")]
    Voice,
    #[sea_orm(string_value = "sms")]
    Sms,
}

impl Channel {
    /// As stored in `contacts.channel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Sms => "sms",
        }
    }
}

/// The channels a shift covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShiftChannels {
    Voice,
    Sms,
    Both,
}

impl ShiftChannels {
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftChannels::Voice => "voice",
            ShiftChannels::Sms => "sms",
            ShiftChannels::Both => "both",
        }
    }

    /// The channels someone trained as given may take; `None` when neither.
    pub fn trained(voice: bool, sms: bool) -> Option<Self> {
        match (voice, sms) {
            (true, true) => Some(Self::Both),
            (true, false) => Some(Self::Voice),
            (false, true) => Some(Self::Sms),
            (false, false) => None,
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Voice, Self::Sms, Self::Both]
            .into_iter()
            .find(|c| c.as_str() == raw)
    }

    /// `None` asks about any channel.
    pub fn covers(self, channel: Option<Channel>) -> bool {
        matches!(
            (self, channel),
            (ShiftChannels::Both, _)
                | (_, None)
                | (ShiftChannels::Voice, Some(Channel::Voice))
                | (ShiftChannels::Sms, Some(Channel::Sms))
        )
    }
}

/// A half-open span of time `[start, end)` with `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "UncheckedInterval")]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// An interval as written, checked into an `Interval` when read.
#[derive(Deserialize)]
struct UncheckedInterval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<UncheckedInterval> for Interval {
    type Error = InvalidInterval;

    fn try_from(raw: UncheckedInterval) -> Result<Self, Self::Error> {
        Self::new(raw.start, raw.end)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidInterval {
    #[error("the end must be after the start")]
    EmptyOrReversed,
}

impl Interval {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, InvalidInterval> {
        if end <= start {
            return Err(InvalidInterval::EmptyOrReversed);
        }
        Ok(Self { start, end })
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// A weekly recurring shift on the wall clock of its owner's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyShift {
    weekday: Weekday,
    start: LocalTime,
    end: LocalTime,
    channels: ShiftChannels,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidShift {
    #[error("the shift has zero length: its start and end are both {0}")]
    ZeroLength(LocalTime),
    #[error("valid_until ({until}) is before valid_from ({from})")]
    ValidityReversed { from: NaiveDate, until: NaiveDate },
}

impl WeeklyShift {
    pub fn new(
        weekday: Weekday,
        start: LocalTime,
        end: LocalTime,
        channels: ShiftChannels,
        valid_from: Option<NaiveDate>,
        valid_until: Option<NaiveDate>,
    ) -> Result<Self, InvalidShift> {
        if start == end {
            return Err(InvalidShift::ZeroLength(start));
        }
        if let (Some(from), Some(until)) = (valid_from, valid_until)
            && until < from
        {
            return Err(InvalidShift::ValidityReversed { from, until });
        }
        Ok(Self {
            weekday,
            start,
            end,
            channels,
            valid_from,
            valid_until,
        })
    }

    pub fn weekday(&self) -> Weekday {
        self.weekday
    }
    pub fn start(&self) -> LocalTime {
        self.start
    }
    pub fn end(&self) -> LocalTime {
        self.end
    }
    pub fn channels(&self) -> ShiftChannels {
        self.channels
    }
    pub fn valid_from(&self) -> Option<NaiveDate> {
        self.valid_from
    }
    pub fn valid_until(&self) -> Option<NaiveDate> {
        self.valid_until
    }

    pub fn crosses_midnight(&self) -> bool {
        self.end <= self.start
    }

    /// Whether a shift starts on `date`: its weekday, within the validity dates.
    fn runs_on(&self, date: NaiveDate) -> bool {
        Weekday::from(date.weekday()) == self.weekday && self.valid_on(date)
    }

    /// Whether `date` is within the validity dates.
    fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| date >= from)
            && self.valid_until.is_none_or(|until| date <= until)
    }

    fn covers_wall_clock(&self, local: NaiveDateTime) -> bool {
        let (date, time) = (local.date(), local.time());
        if !self.crosses_midnight() {
            return self.runs_on(date) && self.start.time() <= time && time < self.end.time();
        }
        let started_today = self.runs_on(date) && time >= self.start.time();
        let started_yesterday = date
            .pred_opt()
            .is_some_and(|yesterday| self.runs_on(yesterday) && time < self.end.time());
        started_today || started_yesterday
    }

    /// The wall-clock start and end of this shift's occurrence starting on `date`.
    fn occurrence_on(&self, date: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        if !self.runs_on(date) {
            return None;
        }
        let end_date = if self.crosses_midnight() {
            date.succ_opt()?
        } else {
            date
        };
        Some((
            date.and_time(self.start.time()),
            end_date.and_time(self.end.time()),
        ))
    }
}

/// An instant on a zone's wall clock, and whether the zone kept one UTC offset over the
/// 26 hours before it. When it did, every weekly shift occurrence that can cover the
/// instant is read on the wall clock alone; when it did not (a clock change), each
/// occurrence is turned into its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    pub local: NaiveDateTime,
    steady: bool,
    /// The weekdays of `local` and of the day before, worked out once for every shift.
    weekday: Weekday,
    weekday_before: Weekday,
}

impl WallClock {
    /// Whether the zone kept one offset over the last 26 hours, so that shifts can be read
    /// on the wall clock alone.
    pub fn is_steady(&self) -> bool {
        self.steady
    }

    /// The minute of the week it reads, from Monday 00:00.
    pub fn minute_of_week(&self) -> u32 {
        self.weekday as u32 * 24 * 60 + self.local.hour() * 60 + self.local.minute()
    }

    /// When the minute this clock reads at `at` began, in microseconds since 1970.
    pub fn minute_started_micros(&self, at: DateTime<Utc>) -> i64 {
        let into_the_minute =
            i64::from(self.local.second()) * 1_000_000 + i64::from(self.local.nanosecond() / 1_000);
        at.timestamp_micros() - into_the_minute
    }

    pub fn of(at: DateTime<Utc>, zone: TimeZone) -> Self {
        let tz = zone.tz();
        let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        let local = at.with_timezone(&tz).naive_local();
        let weekday = Weekday::from(local.weekday());
        Self {
            local,
            steady: offset(at) == offset(at - Duration::hours(26)),
            weekday,
            weekday_before: Weekday::from(local.weekday().pred()),
        }
    }
}

impl WeeklyShift {
    /// The occurrence starting on `date` as one stretch of time: from the first instant of
    /// its local start (when the clocks jump, if the start falls in a skipped hour) to the
    /// first instant of its local end after that. A repeated hour is never on shift twice.
    pub(super) fn occurrence_instants(
        &self,
        tz: chrono_tz::Tz,
        date: NaiveDate,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (start_wall, end_wall) = self.occurrence_on(date)?;
        let start = earliest_instant_at_or_after(tz, start_wall);
        let end = match tz.from_local_datetime(&end_wall) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, late) => {
                let early = early.with_timezone(&Utc);
                if early > start {
                    early
                } else {
                    late.with_timezone(&Utc)
                }
            }
            LocalResult::None => earliest_instant_at_or_after(tz, end_wall),
        };
        Some((start, end))
    }
}

/// One person's rota: weekly shifts, leave and extra shifts, in their time zone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rota {
    pub time_zone: TimeZone,
    pub shifts: Vec<WeeklyShift>,
    pub leave: Vec<Interval>,
    pub extra_shifts: Vec<(Interval, ShiftChannels)>,
}

impl Rota {
    /// Whether someone trained for `trained` serves `channel` at `at`: for one channel, on
    /// shift for it; for any channel (`None`), on shift for a channel they are trained for.
    pub fn serves(
        &self,
        at: DateTime<Utc>,
        channel: Option<Channel>,
        trained: ShiftChannels,
    ) -> bool {
        match channel {
            Some(one) => self.is_on_shift(at, Some(one)),
            None => [Channel::Voice, Channel::Sms]
                .into_iter()
                .any(|one| trained.covers(Some(one)) && self.is_on_shift(at, Some(one))),
        }
    }

    pub fn new(time_zone: TimeZone) -> Self {
        Self {
            time_zone,
            shifts: Vec::new(),
            leave: Vec::new(),
            extra_shifts: Vec::new(),
        }
    }

    /// Whether `at` is on shift for `channel` (`None`: for any channel).
    pub fn is_on_shift(&self, at: DateTime<Utc>, channel: Option<Channel>) -> bool {
        let clock = WallClock::of(at, self.time_zone);
        let weekly = if clock.steady {
            self.shifts
                .iter()
                .any(|s| s.channels.covers(channel) && s.covers_wall_clock(clock.local))
        } else {
            self.weekly_start_across_a_clock_change(at, clock.local, channel)
                .is_some()
        };
        let on_leave = self.leave.iter().any(|l| l.contains(at));
        let extra = self
            .extra_shifts
            .iter()
            .any(|(span, channels)| channels.covers(channel) && span.contains(at));
        (weekly && !on_leave) || extra
    }

    /// When the shift that covers `at` began: the earliest start among the weekly shift
    /// occurrences and extra shifts covering it. `None` when `at` is off shift.
    pub fn current_shift_start(
        &self,
        at: DateTime<Utc>,
        channel: Option<Channel>,
    ) -> Option<DateTime<Utc>> {
        self.current_shift_start_on(at, WallClock::of(at, self.time_zone), channel)
    }

    /// As [`Rota::current_shift_start`], given `clock`, `at` on this rota's wall clock (so
    /// that callers can convert once per zone).
    pub fn current_shift_start_on(
        &self,
        at: DateTime<Utc>,
        clock: WallClock,
        channel: Option<Channel>,
    ) -> Option<DateTime<Utc>> {
        let on_leave = self.leave.iter().any(|l| l.contains(at));
        let weekly = if on_leave {
            None
        } else if clock.steady {
            self.weekly_start_on_the_wall_clock(at, clock, channel)
        } else {
            self.weekly_start_across_a_clock_change(at, clock.local, channel)
        };
        let extra = self
            .extra_shifts
            .iter()
            .filter(|(span, channels)| channels.covers(channel) && span.contains(at))
            .map(|(span, _)| span.start);
        weekly.into_iter().chain(extra).min()
    }

    /// The earliest start of the weekly shift occurrences covering `at`, each taken as its
    /// stretch of instants (near a clock change).
    fn weekly_start_across_a_clock_change(
        &self,
        at: DateTime<Utc>,
        local: NaiveDateTime,
        channel: Option<Channel>,
    ) -> Option<DateTime<Utc>> {
        let tz = self.time_zone.tz();
        let today = local.date();
        let days = [today.pred_opt(), Some(today)];
        self.shifts
            .iter()
            .filter(|s| s.channels.covers(channel))
            .flat_map(|s| {
                days.iter()
                    .flatten()
                    .filter_map(move |d| s.occurrence_instants(tz, *d))
            })
            .filter(|(start, end)| *start <= at && at < *end)
            .map(|(start, _)| start)
            .min()
    }

    /// The earliest start of the weekly shift occurrences covering `clock` (`at` on the
    /// wall clock) when the zone kept one offset all along: the last 26 hours, which hold
    /// any start of a shift still running, so the start is as long before `at` as it is
    /// before the wall-clock time.
    fn weekly_start_on_the_wall_clock(
        &self,
        at: DateTime<Utc>,
        clock: WallClock,
        channel: Option<Channel>,
    ) -> Option<DateTime<Utc>> {
        // The router asks this of every volunteer on shift: compare weekdays and times of
        // day first, and build an instant only for the shift that started earliest.
        let (today, time) = (clock.local.date(), clock.local.time());
        let mut longest_running: Option<Duration> = None;
        for shift in &self.shifts {
            if !shift.channels.covers(channel) {
                continue;
            }
            let (start, end) = (shift.start.time(), shift.end.time());
            let (started_on, running) = if shift.weekday == clock.weekday
                && time >= start
                && (shift.crosses_midnight() || time < end)
            {
                (Some(today), time - start)
            } else if shift.crosses_midnight()
                && shift.weekday == clock.weekday_before
                && time < end
            {
                (today.pred_opt(), time - start + Duration::days(1))
            } else {
                continue;
            };
            if started_on.is_some_and(|day| shift.valid_on(day))
                && longest_running.is_none_or(|longest| running > longest)
            {
                longest_running = Some(running);
            }
        }
        longest_running.map(|running| at - running)
    }

    /// Every instant strictly inside `(from, to)` at which `is_on_shift` may change value.
    /// Between two consecutive change points the answer is constant.
    pub fn change_points(&self, span: Interval) -> Vec<DateTime<Utc>> {
        let tz = self.time_zone.tz();
        let mut points = offset_transitions(self.time_zone, span);
        let first_day = span.start.with_timezone(&tz).date_naive() - Duration::days(1);
        let last_day = span.end.with_timezone(&tz).date_naive() + Duration::days(1);
        for day in first_day.iter_days().take_while(|d| *d <= last_day) {
            for (start, end) in self.shifts.iter().filter_map(|s| s.occurrence_on(day)) {
                // A wall-clock time inside a spring-forward gap maps to no instant; the
                // change then happens at the transition, which is already a point.
                for wall in [start, end] {
                    match tz.from_local_datetime(&wall) {
                        LocalResult::Single(a) => points.push(a.with_timezone(&Utc)),
                        LocalResult::Ambiguous(a, b) => {
                            points.push(a.with_timezone(&Utc));
                            points.push(b.with_timezone(&Utc));
                        }
                        LocalResult::None => {}
                    }
                }
            }
        }
        let spans = self
            .leave
            .iter()
            .chain(self.extra_shifts.iter().map(|(s, _)| s));
        points.extend(spans.flat_map(|s| [s.start, s.end]));
        points.retain(|p| span.start < *p && *p < span.end);
        points.sort();
        points.dedup();
        points
    }
}

/// The first instant whose wall-clock time is `wall` or, inside a spring-forward gap,
/// the instant the gap ends.
pub(crate) fn earliest_instant_at_or_after(
    tz: chrono_tz::Tz,
    wall: NaiveDateTime,
) -> DateTime<Utc> {
    let mut probe = wall;
    loop {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, _) => return early.with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
}

/// The instants inside `span` at which the zone's UTC offset changes.
pub fn offset_transitions(time_zone: TimeZone, span: Interval) -> Vec<DateTime<Utc>> {
    let tz = time_zone.tz();
    let offset_at = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    let step = Duration::hours(1);
    let mut transitions = Vec::new();
    let mut probe = span.start;
    while probe < span.end {
        let next = (probe + step).min(span.end);
        if offset_at(probe) != offset_at(next) {
            // Offsets are constant between transitions, at most one per hour: bisect to
            // the first second with the new offset.
            let (mut lo, mut hi) = (probe, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid) == offset_at(lo) {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            transitions.push(hi);
        }
        probe = next;
    }
    transitions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn t(s: &str) -> LocalTime {
        LocalTime::parse(s).unwrap()
    }

    fn rota(zone: &str, day: Weekday, start: &str, end: &str) -> Rota {
        let mut r = Rota::new(TimeZone::parse(zone).unwrap());
        r.shifts.push(
            WeeklyShift::new(day, t(start), t(end), ShiftChannels::Both, None, None).unwrap(),
        );
        r
    }

    /// The on-shift stretches of a rota within a span, by sampling between change points.
    fn stretches(r: &Rota, from: &str, to: &str) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let span = Interval::new(utc(from), utc(to)).unwrap();
        let mut edges = vec![span.start];
        edges.extend(r.change_points(span));
        edges.push(span.end);
        let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
        for w in edges.windows(2) {
            if r.is_on_shift(w[0], None) {
                match out.last_mut() {
                    Some(last) if last.1 == w[0] => last.1 = w[1],
                    _ => out.push((w[0], w[1])),
                }
            }
        }
        out
    }

    fn hours(stretches: &[(DateTime<Utc>, DateTime<Utc>)]) -> f64 {
        stretches
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes() as f64 / 60.0)
            .sum()
    }

    #[test]
    fn plain_daytime_shift_is_start_inclusive_end_exclusive() {
        let r = rota("Asia/Tokyo", Weekday::Monday, "09:00", "17:00");
        // 2026-11-23 is a Monday; Tokyo is UTC+9 all year.
        assert!(!r.is_on_shift(utc("2026-11-22T23:59:59Z"), None));
        assert!(r.is_on_shift(utc("2026-11-23T00:00:00Z"), None));
        assert!(r.is_on_shift(utc("2026-11-23T07:59:59Z"), None));
        assert!(!r.is_on_shift(utc("2026-11-23T08:00:00Z"), None));
        assert_eq!(
            stretches(&r, "2026-11-16T00:00:00Z", "2026-11-30T00:00:00Z").len(),
            2
        );
    }

    #[test]
    fn midnight_crossing_shift_belongs_to_the_day_it_starts() {
        let r = rota("Asia/Tokyo", Weekday::Sunday, "22:00", "02:00");
        // Sunday 2026-11-22 22:00 JST = 13:00Z; Monday 01:59 JST = 16:59Z.
        assert!(r.is_on_shift(utc("2026-11-22T13:00:00Z"), None));
        assert!(r.is_on_shift(utc("2026-11-22T16:59:00Z"), None));
        assert!(!r.is_on_shift(utc("2026-11-22T17:00:00Z"), None));
        // Monday night is not a shift night.
        assert!(!r.is_on_shift(utc("2026-11-23T13:30:00Z"), None));
    }

    #[test]
    fn london_spring_forward_night_shortens_the_shift_on_the_clock() {
        // Clocks go from 01:00 GMT to 02:00 BST on Sunday 2026-03-29.
        let r = rota("Europe/London", Weekday::Saturday, "22:00", "02:00");
        assert!(r.is_on_shift(utc("2026-03-28T22:00:00Z"), None));
        assert!(r.is_on_shift(utc("2026-03-29T00:59:59Z"), None));
        assert!(
            !r.is_on_shift(utc("2026-03-29T01:00:00Z"), None),
            "02:00 BST ends it"
        );
        let s = stretches(&r, "2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z");
        assert_eq!(
            s,
            vec![(utc("2026-03-28T22:00:00Z"), utc("2026-03-29T01:00:00Z"))]
        );
    }

    #[test]
    fn london_fall_back_night_lengthens_the_shift_on_the_clock() {
        // Clocks go from 02:00 BST back to 01:00 GMT on Sunday 2026-10-25.
        let r = rota("Europe/London", Weekday::Saturday, "22:00", "02:00");
        assert!(
            r.is_on_shift(utc("2026-10-24T21:00:00Z"), None),
            "22:00 BST"
        );
        assert!(
            r.is_on_shift(utc("2026-10-25T01:30:00Z"), None),
            "the second 01:30"
        );
        assert!(
            !r.is_on_shift(utc("2026-10-25T02:00:00Z"), None),
            "02:00 GMT"
        );
        assert_eq!(
            hours(&stretches(
                &r,
                "2026-10-24T12:00:00Z",
                "2026-10-25T12:00:00Z"
            )),
            5.0
        );
    }

    #[test]
    fn a_shift_is_one_stretch_even_across_a_repeated_hour() {
        // 00:00-01:30 on the fall-back night: from midnight to the first 01:30 (BST); the
        // repeated 01:00-01:30 (GMT) is not on shift again.
        let r = rota("Europe/London", Weekday::Sunday, "00:00", "01:30");
        let s = stretches(&r, "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z");
        assert_eq!(
            s,
            vec![(utc("2026-10-24T23:00:00Z"), utc("2026-10-25T00:30:00Z"))]
        );
        assert!(
            !r.is_on_shift(utc("2026-10-25T01:15:00Z"), None),
            "01:15 GMT"
        );
    }

    #[test]
    fn a_shift_inside_the_repeated_hour_is_not_on_again_an_hour_after_it_ended() {
        // 2026-11-01 02:00 EDT becomes 01:00 EST: 01:15-01:45 happens twice on the clock.
        let r = rota("America/New_York", Weekday::Sunday, "01:15", "01:45");
        assert!(
            r.is_on_shift(utc("2026-11-01T05:20:00Z"), None),
            "01:20 EDT"
        );
        assert!(
            !r.is_on_shift(utc("2026-11-01T06:20:00Z"), None),
            "01:20 EST"
        );
        assert_eq!(
            r.current_shift_start(utc("2026-11-01T06:20:00Z"), None),
            None
        );
        let s = stretches(&r, "2026-10-31T12:00:00Z", "2026-11-02T00:00:00Z");
        assert_eq!(
            s,
            vec![(utc("2026-11-01T05:15:00Z"), utc("2026-11-01T05:45:00Z"))]
        );
    }

    #[test]
    fn new_york_shift_starting_in_the_skipped_hour_starts_when_the_clock_jumps() {
        // 2026-03-08 02:00 EST becomes 03:00 EDT; 02:30 never happens.
        let r = rota("America/New_York", Weekday::Sunday, "02:30", "04:00");
        assert!(
            !r.is_on_shift(utc("2026-03-08T06:59:59Z"), None),
            "01:59:59 EST"
        );
        assert!(
            r.is_on_shift(utc("2026-03-08T07:00:00Z"), None),
            "03:00 EDT"
        );
        let s = stretches(&r, "2026-03-07T12:00:00Z", "2026-03-09T00:00:00Z");
        assert_eq!(
            s,
            vec![(utc("2026-03-08T07:00:00Z"), utc("2026-03-08T08:00:00Z"))]
        );
    }

    #[test]
    fn new_york_fall_back_overnight_shift_is_one_hour_longer() {
        // 2026-11-01 02:00 EDT becomes 01:00 EST.
        let r = rota("America/New_York", Weekday::Saturday, "23:00", "07:00");
        let s = stretches(&r, "2026-10-31T12:00:00Z", "2026-11-01T18:00:00Z");
        assert_eq!(
            s,
            vec![(utc("2026-11-01T03:00:00Z"), utc("2026-11-01T12:00:00Z"))]
        );
        assert_eq!(hours(&s), 9.0);
    }

    #[test]
    fn sydney_southern_hemisphere_transitions() {
        // DST ends 2026-04-05 03:00 AEDT -> 02:00 AEST; starts 2026-10-04 02:00 AEST -> 03:00 AEDT.
        let r = rota("Australia/Sydney", Weekday::Saturday, "21:00", "05:00");
        assert_eq!(
            hours(&stretches(
                &r,
                "2026-04-03T00:00:00Z",
                "2026-04-06T00:00:00Z"
            )),
            9.0
        );
        assert_eq!(
            hours(&stretches(
                &r,
                "2026-10-02T00:00:00Z",
                "2026-10-05T00:00:00Z"
            )),
            7.0
        );
        // 2026-10-04 03:30 AEDT = 2026-10-03T16:30Z: on shift.
        assert!(r.is_on_shift(utc("2026-10-03T16:30:00Z"), None));
    }

    #[test]
    fn zone_without_dst_and_odd_offsets() {
        // Kathmandu is UTC+05:45 all year: a 09:00 shift starts at 03:15Z.
        let r = rota("Asia/Kathmandu", Weekday::Monday, "09:00", "10:00");
        let s = stretches(&r, "2026-11-22T00:00:00Z", "2026-11-24T00:00:00Z");
        assert_eq!(
            s,
            vec![(utc("2026-11-23T03:15:00Z"), utc("2026-11-23T04:15:00Z"))]
        );
        // Chatham moves from +12:45 to +13:45 at 02:45 local on 2026-09-27.
        let r = rota("Pacific/Chatham", Weekday::Saturday, "23:00", "05:00");
        assert_eq!(
            hours(&stretches(
                &r,
                "2026-09-25T00:00:00Z",
                "2026-09-28T00:00:00Z"
            )),
            5.0
        );
        // And back from +13:45 to +12:45 at 03:45 local on 2026-04-05.
        assert_eq!(
            hours(&stretches(
                &r,
                "2026-04-03T00:00:00Z",
                "2026-04-06T00:00:00Z"
            )),
            7.0
        );
    }

    #[test]
    fn transitions_are_found_to_the_second() {
        let span = Interval::new(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")).unwrap();
        let london = offset_transitions(TimeZone::parse("Europe/London").unwrap(), span);
        assert_eq!(
            london,
            vec![utc("2026-03-29T01:00:00Z"), utc("2026-10-25T01:00:00Z")]
        );
        assert!(offset_transitions(TimeZone::parse("Asia/Kolkata").unwrap(), span).is_empty());
    }

    #[test]
    fn leave_overrides_weekly_shifts_but_extra_shifts_override_leave() {
        let mut r = rota("Europe/London", Weekday::Monday, "09:00", "17:00");
        r.leave
            .push(Interval::new(utc("2026-11-23T00:00:00Z"), utc("2026-11-24T00:00:00Z")).unwrap());
        assert!(!r.is_on_shift(utc("2026-11-23T10:00:00Z"), None));
        assert!(
            r.is_on_shift(utc("2026-11-30T10:00:00Z"), None),
            "leave ended"
        );
        r.extra_shifts.push((
            Interval::new(utc("2026-11-23T12:00:00Z"), utc("2026-11-23T13:00:00Z")).unwrap(),
            ShiftChannels::Sms,
        ));
        assert!(r.is_on_shift(utc("2026-11-23T12:30:00Z"), Some(Channel::Sms)));
        assert!(!r.is_on_shift(utc("2026-11-23T12:30:00Z"), Some(Channel::Voice)));
    }

    #[test]
    fn validity_dates_bound_the_start_date_and_channels_filter() {
        let mut r = Rota::new(TimeZone::parse("Europe/London").unwrap());
        let until = NaiveDate::from_ymd_opt(2026, 11, 30);
        r.shifts.push(
            WeeklyShift::new(
                Weekday::Sunday,
                t("23:00"),
                t("01:00"),
                ShiftChannels::Voice,
                None,
                until,
            )
            .unwrap(),
        );
        assert!(
            r.is_on_shift(utc("2026-11-23T00:30:00Z"), Some(Channel::Voice)),
            "Sunday 22nd's shift"
        );
        assert!(!r.is_on_shift(utc("2026-11-23T00:30:00Z"), Some(Channel::Sms)));
        assert!(
            r.is_on_shift(utc("2026-11-29T23:30:00Z"), None),
            "starts on 29th, within validity"
        );
        assert!(
            !r.is_on_shift(utc("2026-12-06T23:30:00Z"), None),
            "after valid_until"
        );
    }

    #[test]
    fn invalid_shifts_are_rejected() {
        assert_eq!(
            WeeklyShift::new(
                Weekday::Monday,
                t("09:00"),
                t("09:00"),
                ShiftChannels::Both,
                None,
                None
            ),
            Err(InvalidShift::ZeroLength(t("09:00")))
        );
        let (a, b) = (
            NaiveDate::from_ymd_opt(2026, 5, 2),
            NaiveDate::from_ymd_opt(2026, 5, 1),
        );
        assert!(
            WeeklyShift::new(
                Weekday::Monday,
                t("09:00"),
                t("10:00"),
                ShiftChannels::Both,
                a,
                b
            )
            .is_err()
        );
    }

    #[test]
    fn current_shift_start_finds_the_occurrence_covering_the_instant() {
        // Saturday 22:00-02:00 in London, asked at 00:30 on the Sunday.
        let r = rota("Europe/London", Weekday::Saturday, "22:00", "02:00");
        assert_eq!(
            r.current_shift_start(utc("2026-11-22T00:30:00Z"), None),
            Some(utc("2026-11-21T22:00:00Z"))
        );
        assert_eq!(
            r.current_shift_start(utc("2026-11-22T02:00:00Z"), None),
            None
        );
        // A shift starting inside the skipped hour (01:30 on 29 March 2026) began when
        // the clocks jumped to 02:00 BST.
        let gap = rota("Europe/London", Weekday::Sunday, "01:30", "04:00");
        assert_eq!(
            gap.current_shift_start(utc("2026-03-29T01:30:00Z"), None),
            Some(utc("2026-03-29T01:00:00Z"))
        );
    }
}
