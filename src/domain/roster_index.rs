//! A helpline's roster laid out for routing: who each volunteer is, whether they take
//! contacts at all, and who could be on shift at an instant, answered without walking
//! every rota.
//!
//! Built once per roster version from the volunteers, in roster order: their ids and
//! readiness side by side, and for each time zone and each hour of the week on its wall
//! clock, the volunteers with a weekly shift touching that hour. Asked at an instant, it
//! reads one hour's list per zone and answers a superset of who is on shift: validity
//! dates, leave, channels and the exact minute are left to the rota itself, which the
//! router then asks only about those the index names. A zone whose clocks changed lately
//! (where a wall-clock hour is not one hour of time) and anyone with extra shifts are
//! always named.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::calendar::Weekday;
use super::ids::VolunteerId;
use super::rota::{Rota, WallClock, WeeklyShift};
use super::timezone::TimeZone;
use super::volunteer::{Readiness, VolunteerProfile};

const HOURS_A_WEEK: usize = 7 * 24;
const MINUTES_A_DAY: usize = 24 * 60;

/// A roster's volunteers, their readiness and the hours of the week their weekly shifts
/// touch, by time zone.
#[derive(Debug, Clone, Default)]
pub struct RosterIndex {
    volunteer_ids: Vec<VolunteerId>,
    readiness: Vec<Readiness>,
    /// The time zones of the rotas, each once.
    zones: Vec<TimeZone>,
    /// Each volunteer's zone, as a position in `zones`.
    zone_of: Vec<u32>,
    /// Where each (zone, hour of the week) list starts in `positions`: the list of bucket
    /// `b` is `positions[starts[b]..starts[b + 1]]`.
    starts: Vec<u32>,
    /// The volunteers of every (zone, hour) list, by position in the roster, ascending.
    positions: Vec<u32>,
    /// Volunteers with extra shifts, which no weekly hour describes.
    with_extra_shifts: Vec<u32>,
}

impl RosterIndex {
    /// The index of the volunteers, each with their profile and rota, in the roster's
    /// order: positions in the answers are positions in this sequence.
    pub fn build<'a>(
        volunteers: impl IntoIterator<Item = (VolunteerId, &'a VolunteerProfile, &'a Rota)>,
    ) -> Self {
        let mut index = Self::default();
        let mut entries: Vec<(u32, u32)> = Vec::new();
        for (position, (volunteer_id, profile, rota)) in (0u32..).zip(volunteers) {
            index.volunteer_ids.push(volunteer_id);
            index.readiness.push(profile.readiness());
            let zone = index.zone_position(rota.time_zone);
            index.zone_of.push(zone);
            if !rota.extra_shifts.is_empty() {
                index.with_extra_shifts.push(position);
            }
            let first_of_volunteer = entries.len();
            for shift in &rota.shifts {
                for hour in hours_touched(shift) {
                    let bucket = zone * HOURS_A_WEEK as u32 + hour;
                    if !entries[first_of_volunteer..].contains(&(bucket, position)) {
                        entries.push((bucket, position));
                    }
                }
            }
        }
        // Stable: each bucket keeps its positions in roster order.
        entries.sort_by_key(|(bucket, _)| *bucket);
        let buckets = index.zones.len() * HOURS_A_WEEK;
        index.starts = Vec::with_capacity(buckets + 1);
        let mut next = 0;
        for bucket in 0..buckets as u32 {
            index.starts.push(next as u32);
            while entries.get(next).is_some_and(|(b, _)| *b == bucket) {
                next += 1;
            }
        }
        index.starts.push(next as u32);
        index.positions = entries.into_iter().map(|(_, position)| position).collect();
        index
    }

    /// How many volunteers the index was built from.
    pub fn len(&self) -> usize {
        self.zone_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.zone_of.is_empty()
    }

    /// Each zone's wall clock at `at`, in the order [`RosterIndex::possibly_on_shift`]
    /// and [`RosterIndex::zone_of`] use.
    pub fn wall_clocks(&self, at: DateTime<Utc>) -> Vec<WallClock> {
        self.zones
            .iter()
            .map(|zone| WallClock::of(at, *zone))
            .collect()
    }

    pub fn volunteer_id(&self, position: usize) -> VolunteerId {
        self.volunteer_ids[position]
    }

    /// Whether the volunteer at `position` takes contacts at all, and on which channels.
    pub fn readiness(&self, position: usize) -> &Readiness {
        &self.readiness[position]
    }

    /// The position in `zones` of the volunteer at `position`.
    pub fn zone_of(&self, position: usize) -> usize {
        self.zone_of[position] as usize
    }

    /// Who could be on shift when each zone's wall clock reads `clocks` (one per zone, in
    /// the order of `zones`).
    pub fn possibly_on_shift(&self, clocks: &[WallClock]) -> Possibly<'_> {
        let mut bits = vec![0u64; self.len().div_ceil(64)];
        let mut set = |position: u32| bits[position as usize / 64] |= 1 << (position % 64);
        let mut every_one_of = vec![false; self.zones.len()];
        for (zone, clock) in clocks.iter().enumerate() {
            if !clock.is_steady() {
                every_one_of[zone] = true;
                continue;
            }
            let local = clock.local;
            let day = Weekday::from(local.weekday()) as usize;
            let bucket = zone * HOURS_A_WEEK + day * 24 + local.hour() as usize;
            let (from, to) = (self.starts[bucket], self.starts[bucket + 1]);
            for position in &self.positions[from as usize..to as usize] {
                set(*position);
            }
        }
        for position in &self.with_extra_shifts {
            set(*position);
        }
        Possibly {
            bits,
            every_one_of,
            zone_of: &self.zone_of,
        }
    }

    fn zone_position(&mut self, zone: TimeZone) -> u32 {
        let found = self.zones.iter().position(|z| *z == zone);
        let position = found.unwrap_or_else(|| {
            self.zones.push(zone);
            self.zones.len() - 1
        });
        position as u32
    }
}

/// The answer of [`RosterIndex::possibly_on_shift`].
pub struct Possibly<'a> {
    bits: Vec<u64>,
    /// Zones whose clocks changed lately: everyone in them could be on shift.
    every_one_of: Vec<bool>,
    zone_of: &'a [u32],
}

impl Possibly<'_> {
    /// Whether the volunteer at `position` could be on shift; when not, they are not.
    pub fn contains(&self, position: usize) -> bool {
        self.bits[position / 64] & (1 << (position % 64)) != 0
            || self.every_one_of[self.zone_of[position] as usize]
    }
}

/// The hours of the week (0 is Monday 00:00-01:00) a weekly shift touches on its wall
/// clock; a shift crossing midnight runs into the next day, Sunday's into Monday.
fn hours_touched(shift: &WeeklyShift) -> impl Iterator<Item = u32> {
    let minute_of_day = |t: chrono::NaiveTime| (t.hour() * 60 + t.minute()) as usize;
    let start = minute_of_day(shift.start().time());
    let mut end = minute_of_day(shift.end().time());
    if shift.crosses_midnight() {
        end += MINUTES_A_DAY;
    }
    let day = shift.weekday() as usize;
    let (first, last) = (day * MINUTES_A_DAY + start, day * MINUTES_A_DAY + end - 1);
    (first / 60..=last / 60).map(|hour| (hour % HOURS_A_WEEK) as u32)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::calendar::LocalTime;
    use crate::domain::rota::{Interval, ShiftChannels};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn shift(day: Weekday, start: (u32, u32), end: (u32, u32)) -> WeeklyShift {
        WeeklyShift::new(
            day,
            LocalTime::hm(start.0, start.1).unwrap(),
            LocalTime::hm(end.0, end.1).unwrap(),
            ShiftChannels::Both,
            None,
            None,
        )
        .unwrap()
    }

    fn rota(zone: &str, shifts: Vec<WeeklyShift>) -> Rota {
        let mut rota = Rota::new(TimeZone::parse(zone).unwrap());
        rota.shifts = shifts;
        rota
    }

    /// The index of volunteers 1, 2, ... with these rotas.
    fn index_of(rotas: &[Rota]) -> RosterIndex {
        let profiles: Vec<VolunteerProfile> = rotas
            .iter()
            .map(|r| VolunteerProfile::trained_in(r.time_zone))
            .collect();
        RosterIndex::build(
            (1..)
                .zip(&profiles)
                .zip(rotas)
                .map(|((id, p), r)| (VolunteerId(id), p, r)),
        )
    }

    fn named_at(index: &RosterIndex, at: DateTime<Utc>) -> Vec<usize> {
        let possibly = index.possibly_on_shift(&index.wall_clocks(at));
        (0..index.len()).filter(|p| possibly.contains(*p)).collect()
    }

    #[test]
    fn hours_run_past_midnight_and_past_the_end_of_the_week() {
        let evening = shift(Weekday::Monday, (22, 30), (1, 0));
        assert_eq!(
            hours_touched(&evening).collect::<Vec<_>>(),
            vec![22, 23, 24]
        );
        let sunday_night = shift(Weekday::Sunday, (23, 0), (2, 0));
        assert_eq!(
            hours_touched(&sunday_night).collect::<Vec<_>>(),
            vec![167, 0, 1]
        );
        let on_the_hour = shift(Weekday::Tuesday, (9, 0), (10, 0));
        assert_eq!(hours_touched(&on_the_hour).collect::<Vec<_>>(), vec![33]);
    }

    #[test]
    fn names_those_whose_shift_touches_the_hour_on_their_own_clock() {
        // Wednesday 2 December 2026, 12:10 UTC: 12:10 in London, 07:10 in New York.
        let index = index_of(&[
            rota(
                "Europe/London",
                vec![shift(Weekday::Wednesday, (12, 30), (14, 0))],
            ),
            rota(
                "America/New_York",
                vec![shift(Weekday::Wednesday, (12, 0), (14, 0))],
            ),
            rota(
                "America/New_York",
                vec![shift(Weekday::Tuesday, (22, 0), (8, 0))],
            ),
            rota(
                "Europe/London",
                vec![shift(Weekday::Thursday, (12, 0), (14, 0))],
            ),
        ]);
        assert_eq!(named_at(&index, utc("2026-12-02T12:10:00Z")), vec![0, 2]);
    }

    #[test]
    fn names_everyone_in_a_zone_whose_clocks_changed_lately_and_anyone_with_extra_shifts() {
        let mut extra = rota("Asia/Tokyo", vec![]);
        extra.extra_shifts.push((
            Interval::new(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T02:00:00Z")).unwrap(),
            ShiftChannels::Both,
        ));
        let index = index_of(&[
            rota(
                "Europe/London",
                vec![shift(Weekday::Friday, (9, 0), (10, 0))],
            ),
            rota("Asia/Tokyo", vec![shift(Weekday::Friday, (9, 0), (10, 0))]),
            extra,
        ]);
        // London went forward an hour early on Sunday 29 March 2026.
        let after_the_change = utc("2026-03-29T12:00:00Z");
        assert_eq!(named_at(&index, after_the_change), vec![0, 2]);
        assert_eq!(
            named_at(&index, after_the_change + Duration::days(2)),
            vec![2]
        );
    }

    #[test]
    fn every_volunteer_really_on_shift_is_named() {
        let zones = [
            "Europe/London",
            "Asia/Kathmandu",
            "America/St_Johns",
            "Australia/Lord_Howe",
        ];
        let rotas: Vec<Rota> = (0..200u32)
            .map(|i| {
                let shifts = (0..3).filter_map(|k| {
                    WeeklyShift::new(
                        Weekday::ALL[((i + k * 3) % 7) as usize],
                        LocalTime::hm((i * 7 + k * 5) % 24, (i * 13) % 60)?,
                        LocalTime::hm((i * 11 + k) % 24, (i * 17 + k) % 60)?,
                        ShiftChannels::Both,
                        None,
                        None,
                    )
                    .ok()
                });
                rota(zones[i as usize % zones.len()], shifts.collect())
            })
            .collect();
        let index = index_of(&rotas);
        // Three weeks of instants every 7 minutes, across London's and Lord Howe's changes.
        let mut at = utc("2026-10-15T00:00:00Z");
        while at < utc("2026-11-05T00:00:00Z") {
            let named = named_at(&index, at);
            for (position, r) in rotas.iter().enumerate() {
                if r.is_on_shift(at, None) {
                    assert!(named.contains(&position), "volunteer {position} at {at}");
                }
            }
            at += Duration::minutes(7);
        }
    }
}
