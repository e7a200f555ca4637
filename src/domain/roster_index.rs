//! A helpline's roster laid out for routing: who each volunteer is, whether they take
//! contacts at all, and who could be on shift at an instant, answered without walking
//! every rota.
//!
//! Built once per roster version from the volunteers, in roster order: their ids and
//! readiness side by side, who is ready on each channel as bits, and for each time zone
//! and each hour of the week on its wall clock, the volunteers with a weekly shift
//! touching that hour. Asked at an instant, it reads one hour's list per zone and answers
//! a superset of who is on shift, as bits: the router passes over everyone else 64 at a
//! time. A zone whose clocks changed lately (where a wall-clock hour is not one hour of
//! time) and anyone with extra shifts are always named.
//!
//! For those named, each volunteer's weekly shifts are also kept as minutes of the week,
//! so that when their shift began is a few comparisons; validity dates, leave, extra
//! shifts and clock changes are left to the rota itself. So are the rest of what the
//! router asks of them: their wellbeing limits, packed side by side, and who speaks each
//! language, who is signed off for each topic and who has step-backs, as bits.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use super::calendar::Weekday;
use super::ids::{ById, IdSet, TopicId, VolunteerId};
use super::rota::{Channel, Rota, WallClock, WeeklyShift};
use super::step_back::StepBack;
use super::timezone::TimeZone;
use super::volunteer::{Readiness, VolunteerProfile, WellbeingLimits};

const HOURS_A_WEEK: usize = 7 * 24;
const MINUTES_A_DAY: usize = 24 * 60;
const MINUTES_A_WEEK: u32 = 7 * 24 * 60;

/// A roster's volunteers, their readiness, and their weekly shifts by time zone: the
/// hours of the week they touch and the minutes they run.
#[derive(Debug, Clone, Default)]
pub struct RosterIndex {
    volunteer_ids: Arc<[VolunteerId]>,
    /// Each volunteer's position, by id.
    positions: ById<VolunteerId, u32>,
    readiness: Vec<Readiness>,
    /// Who takes contacts on voice and on texts unless their refresher is overdue
    /// (trained, trained for the channel, not paused), as bits by position.
    ready_but_for_refreshers: [Bits; 2],
    /// The refresher due dates, earliest first, with the volunteer's position.
    refreshers_due: Vec<(NaiveDate, u32)>,
    /// The time zones of the rotas, each once.
    zones: Vec<TimeZone>,
    /// Each volunteer's zone, as a position in `zones`.
    zone_of: Vec<u32>,
    /// The volunteers of each zone, as bits by position.
    zone_members: Vec<Bits>,
    /// Where each (zone, hour of the week) list starts in `hour_lists`: the list of bucket
    /// `b` is `hour_lists[starts[b]..starts[b + 1]]`.
    starts: Vec<u32>,
    /// The volunteers of every (zone, hour) list, by position in the roster, ascending.
    hour_lists: Vec<u32>,
    /// Volunteers with extra shifts, which no weekly hour describes.
    with_extra_shifts: Vec<u32>,
    /// Every volunteer's weekly shifts on voice and on texts as minutes of the week on
    /// their wall clock: those on a channel of the volunteer at `p` are
    /// `spans[c][span_starts[c][p]..span_starts[c][p + 1]]`.
    spans: [Vec<WeeklySpan>; 2],
    span_starts: [Vec<u32>; 2],
    /// Those whose weekly spans alone say when they are on shift: no leave, no extra
    /// shifts, no shift with validity dates.
    spans_say_all: Bits,
    limits: Vec<PackedLimits>,
    /// Who speaks each language.
    speakers: Vec<(String, Bits)>,
    /// Who is signed off as ready for each topic.
    signed_off: Vec<(TopicId, Bits)>,
    /// Who has step-backs, in force or not.
    with_step_backs: Bits,
}

/// A volunteer as the index is built from them.
#[derive(Debug, Clone, Copy)]
pub struct RosterEntry<'a> {
    pub volunteer_id: VolunteerId,
    pub profile: &'a VolunteerProfile,
    pub rota: &'a Rota,
    pub ready_topics: &'a [TopicId],
    pub stepped_back: &'a [StepBack],
}

/// A volunteer's wellbeing limits as the router compares them. Each is validated to at
/// most a few hundred, so 16 bits hold it exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedLimits {
    pub contacts_per_shift: u16,
    /// Text conversations at once.
    pub texts_at_once: u16,
    pub long_contact_minutes: u16,
    pub rest_minutes_after_long: u16,
}

impl PackedLimits {
    pub fn of(limits: &WellbeingLimits) -> Self {
        let pack = |n: i64| u16::try_from(n.max(0)).unwrap_or(u16::MAX);
        Self {
            contacts_per_shift: pack(limits.max_contacts_per_shift.into()),
            texts_at_once: pack(limits.capacity(Channel::Sms).into()),
            long_contact_minutes: pack(limits.long_contact_minutes.into()),
            rest_minutes_after_long: pack(limits.rest_minutes_after_long.into()),
        }
    }

    /// How many contacts on `channel` the volunteer takes at once.
    pub fn capacity(self, channel: Channel) -> u32 {
        match channel {
            Channel::Voice => 1,
            Channel::Sms => self.texts_at_once.into(),
        }
    }
}

/// A weekly shift as minutes of the week on its wall clock: when it starts, from Monday
/// 00:00, and how long it runs (past the week's end for a shift running from Sunday into
/// Monday).
#[derive(Debug, Clone, Copy)]
struct WeeklySpan {
    from: u16,
    minutes: u16,
}

impl RosterIndex {
    /// The index of the volunteers, each with their profile and rota, in the roster's
    /// order: positions in the answers are positions in this sequence.
    pub fn build<'a>(volunteers: impl IntoIterator<Item = RosterEntry<'a>>) -> Self {
        let mut index = Self::default();
        let mut ids = Vec::new();
        let mut entries: Vec<(u32, u32)> = Vec::new();
        let mut ready: [Vec<bool>; 2] = [Vec::new(), Vec::new()];
        let mut spans_say_all = Vec::new();
        let mut speakers: Vec<(String, Vec<usize>)> = Vec::new();
        let mut signed_off: Vec<(TopicId, Vec<usize>)> = Vec::new();
        let mut with_step_backs = Vec::new();
        for (position, entry) in (0u32..).zip(volunteers) {
            let RosterEntry {
                volunteer_id,
                profile,
                rota,
                ready_topics,
                stepped_back,
            } = entry;
            ids.push(volunteer_id);
            index.limits.push(PackedLimits::of(&profile.limits));
            for language in &profile.languages {
                members_of(&mut speakers, language.clone()).push(position as usize);
            }
            for topic in ready_topics {
                members_of(&mut signed_off, *topic).push(position as usize);
            }
            with_step_backs.push(!stepped_back.is_empty());
            index.positions.insert(volunteer_id, position);
            let readiness = profile.readiness();
            for (channel, ready) in CHANNELS.iter().zip(&mut ready) {
                // No refresher is overdue on the first day of the calendar.
                ready.push(readiness.check_on(NaiveDate::MIN, Some(*channel)).is_ok());
            }
            if let Some(due) = readiness.refresher_due_on {
                index.refreshers_due.push((due, position));
            }
            index.readiness.push(readiness);
            let zone = index.zone_position(rota.time_zone);
            index.zone_of.push(zone);
            if !rota.extra_shifts.is_empty() {
                index.with_extra_shifts.push(position);
            }
            for (channel, slot) in CHANNELS.iter().zip(0..) {
                let spans = &mut index.spans[slot];
                index.span_starts[slot].push(spans.len() as u32);
                let on_channel = rota
                    .shifts
                    .iter()
                    .filter(|s| s.channels().covers(Some(*channel)));
                spans.extend(on_channel.map(WeeklySpan::of));
            }
            let dated = rota
                .shifts
                .iter()
                .any(|s| s.valid_from().is_some() || s.valid_until().is_some());
            spans_say_all.push(!dated && rota.leave.is_empty() && rota.extra_shifts.is_empty());
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
        for slot in 0..CHANNELS.len() {
            index.span_starts[slot].push(index.spans[slot].len() as u32);
        }
        index.volunteer_ids = ids.into();
        index.ready_but_for_refreshers = ready.map(|ready| Bits::from_flags(&ready));
        index.refreshers_due.sort_unstable();
        index.spans_say_all = Bits::from_flags(&spans_say_all);
        index.with_step_backs = Bits::from_flags(&with_step_backs);
        let len = index.len();
        index.speakers = as_bits(len, speakers);
        index.signed_off = as_bits(len, signed_off);
        index.zone_members = (0..index.zones.len())
            .map(|zone| {
                let members = (0..len).filter(|p| index.zone_of[*p] as usize == zone);
                Bits::from_positions(len, members)
            })
            .collect();
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
        index.hour_lists = entries.into_iter().map(|(_, position)| position).collect();
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

    #[inline]
    pub fn volunteer_id(&self, position: usize) -> VolunteerId {
        self.volunteer_ids[position]
    }

    /// Every volunteer's id, by position.
    pub fn volunteer_ids(&self) -> &Arc<[VolunteerId]> {
        &self.volunteer_ids
    }

    /// The position of a volunteer of the roster.
    pub fn position_of(&self, volunteer_id: VolunteerId) -> Option<usize> {
        self.positions.get(&volunteer_id).map(|p| *p as usize)
    }

    /// The positions of those of `volunteer_ids` in the roster.
    pub fn positions_of(&self, volunteer_ids: &IdSet<VolunteerId>) -> Bits {
        let mut bits = Bits::none(self.len());
        for position in volunteer_ids.iter().filter_map(|id| self.position_of(*id)) {
            bits.insert(position);
        }
        bits
    }

    /// How many whole minutes the current weekly shift on `channel` of the volunteer at
    /// `position` has run at the start of the minute of the week their wall clock reads
    /// (`minute_of_week`, `None` when their zone's clocks changed lately), `None` inside
    /// when they are on none, as [`Rota::current_shift_start_on`] would say; `None` when
    /// only their rota can tell (their zone's clocks changed lately, or they have leave,
    /// extra shifts or shifts with validity dates).
    #[inline]
    pub fn minutes_on_shift(
        &self,
        position: usize,
        minute_of_week: Option<u32>,
        channel: Channel,
    ) -> Option<Option<u32>> {
        let now = minute_of_week.filter(|_| self.spans_say_all.contains(position))?;
        let slot = channel_slot(channel);
        let starts = &self.span_starts[slot];
        let spans = &self.spans[slot][starts[position] as usize..starts[position + 1] as usize];
        // The shift that has run longest, if any runs now.
        let longest = spans.iter().filter_map(|span| span.running_at(now)).max();
        Some(longest)
    }

    #[inline]
    pub fn limits(&self, position: usize) -> PackedLimits {
        self.limits[position]
    }

    /// Who speaks `language`.
    pub fn speakers_of(&self, language: &str) -> Option<&Bits> {
        let found = self.speakers.iter().find(|(l, _)| l == language);
        found.map(|(_, bits)| bits)
    }

    /// Who is signed off as ready for `topic`.
    pub fn signed_off_for(&self, topic: TopicId) -> Option<&Bits> {
        let found = self.signed_off.iter().find(|(t, _)| *t == topic);
        found.map(|(_, bits)| bits)
    }

    /// Whether the volunteer at `position` has step-backs, in force or not.
    #[inline]
    pub fn has_step_backs(&self, position: usize) -> bool {
        self.with_step_backs.contains(position)
    }

    /// Whether the volunteer at `position` takes contacts at all, and on which channels.
    #[inline]
    pub fn readiness(&self, position: usize) -> &Readiness {
        &self.readiness[position]
    }

    /// Who surely takes contacts on `channel` at `at`, whatever their time zone, as bits
    /// by position: the others may not, and only their readiness on their own local date
    /// can tell.
    pub fn surely_ready(&self, channel: Channel, at: DateTime<Utc>) -> Bits {
        let mut ready = self.ready_but_for_refreshers[channel_slot(channel)].clone();
        // A refresher is overdue from the day after it was due, and no wall clock's date
        // is more than a day ahead of UTC's: one due by today's date in UTC may be overdue
        // somewhere, one due later is overdue nowhere yet.
        let maybe_overdue = self
            .refreshers_due
            .partition_point(|(due, _)| *due <= at.date_naive());
        for (_, position) in &self.refreshers_due[..maybe_overdue] {
            ready.remove(*position as usize);
        }
        ready
    }

    /// The position in `zones` of the volunteer at `position`.
    #[inline]
    pub fn zone_of(&self, position: usize) -> usize {
        self.zone_of[position] as usize
    }

    /// Who could be on shift when each zone's wall clock reads `clocks` (one per zone, in
    /// the order of `zones`), as bits by position; those not named are not on shift.
    pub fn possibly_on_shift(&self, clocks: &[WallClock]) -> Bits {
        let mut possibly = Bits::none(self.len());
        for (zone, clock) in clocks.iter().enumerate() {
            if !clock.is_steady() {
                // The zone's clocks changed lately: everyone in it could be on shift.
                possibly.add_all(&self.zone_members[zone]);
                continue;
            }
            let local = clock.local;
            let day = Weekday::from(local.weekday()) as usize;
            let bucket = zone * HOURS_A_WEEK + day * 24 + local.hour() as usize;
            let (from, to) = (self.starts[bucket], self.starts[bucket + 1]);
            for position in &self.hour_lists[from as usize..to as usize] {
                possibly.insert(*position as usize);
            }
        }
        for position in &self.with_extra_shifts {
            possibly.insert(*position as usize);
        }
        possibly
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

const CHANNELS: [Channel; 2] = [Channel::Voice, Channel::Sms];

/// Where a channel's lists are among those kept per channel, in the order of `CHANNELS`.
fn channel_slot(channel: Channel) -> usize {
    usize::from(channel == Channel::Sms)
}

/// The positions listed under `key`, listed now if it was not.
fn members_of<K: PartialEq>(lists: &mut Vec<(K, Vec<usize>)>, key: K) -> &mut Vec<usize> {
    let found = lists.iter().position(|(k, _)| *k == key);
    let at = found.unwrap_or_else(|| {
        lists.push((key, Vec::new()));
        lists.len() - 1
    });
    &mut lists[at].1
}

/// Each key's positions as bits over a roster of `len`.
fn as_bits<K>(len: usize, lists: Vec<(K, Vec<usize>)>) -> Vec<(K, Bits)> {
    lists
        .into_iter()
        .map(|(key, positions)| (key, Bits::from_positions(len, positions)))
        .collect()
}

/// A set of roster positions, 64 to a word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bits {
    pub words: Vec<u64>,
}

impl Bits {
    /// No position of a roster of `len`.
    pub fn none(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
        }
    }

    fn from_positions(len: usize, positions: impl IntoIterator<Item = usize>) -> Self {
        let mut bits = Self::none(len);
        for position in positions {
            bits.insert(position);
        }
        bits
    }

    fn from_flags(flags: &[bool]) -> Self {
        let set = flags.iter().enumerate().filter(|(_, f)| **f);
        Self::from_positions(flags.len(), set.map(|(position, _)| position))
    }

    pub fn insert(&mut self, position: usize) {
        self.words[position / 64] |= 1 << (position % 64);
    }

    pub fn remove(&mut self, position: usize) {
        self.words[position / 64] &= !(1 << (position % 64));
    }

    #[inline]
    pub fn contains(&self, position: usize) -> bool {
        self.words[position / 64] & (1 << (position % 64)) != 0
    }

    fn add_all(&mut self, other: &Bits) {
        for (word, more) in self.words.iter_mut().zip(&other.words) {
            *word |= more;
        }
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The positions in the set, ascending.
    pub fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, word)| {
            let mut rest = *word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + bit
                })
            })
        })
    }
}

impl WeeklySpan {
    fn of(shift: &WeeklyShift) -> Self {
        let minute_of_day = |t: chrono::NaiveTime| t.hour() * 60 + t.minute();
        let (start, end) = (
            minute_of_day(shift.start().time()),
            minute_of_day(shift.end().time()),
        );
        let minutes = if shift.crosses_midnight() {
            end + MINUTES_A_DAY as u32 - start
        } else {
            end - start
        };
        Self {
            from: (shift.weekday() as u32 * MINUTES_A_DAY as u32 + start) as u16,
            minutes: minutes as u16,
        }
    }

    /// How many whole minutes the span has run at minute `now` of the week, if it runs.
    #[inline]
    fn running_at(self, now: u32) -> Option<u32> {
        let from = u32::from(self.from);
        // A span that started before the week began (last Sunday) ran into this week.
        let since = if now >= from {
            now - from
        } else {
            now + MINUTES_A_WEEK - from
        };
        (since < u32::from(self.minutes)).then_some(since)
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
                .map(|((id, profile), rota)| RosterEntry {
                    volunteer_id: VolunteerId(id),
                    profile,
                    rota,
                    ready_topics: &[],
                    stepped_back: &[],
                }),
        )
    }

    fn named_at(index: &RosterIndex, at: DateTime<Utc>) -> Vec<usize> {
        index
            .possibly_on_shift(&index.wall_clocks(at))
            .positions()
            .collect()
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

    /// `n` rotas of three weekly shifts at all sorts of times, in London, Kathmandu, St
    /// John's and `fourth_zone`, on both channels or, `by_channel`, on one or the other.
    fn varied_rotas(n: u32, fourth_zone: &str, by_channel: bool) -> Vec<Rota> {
        let zones = [
            "Europe/London",
            "Asia/Kathmandu",
            "America/St_Johns",
            fourth_zone,
        ];
        let channels = [
            ShiftChannels::Both,
            ShiftChannels::Voice,
            ShiftChannels::Sms,
        ];
        (0..n)
            .map(|i| {
                let shifts = (0..3).filter_map(|k| {
                    WeeklyShift::new(
                        Weekday::ALL[((i + k * 3) % 7) as usize],
                        LocalTime::hm((i * 7 + k * 5) % 24, (i * 13) % 60)?,
                        LocalTime::hm((i * 11 + k) % 24, (i * 17 + k) % 60)?,
                        if by_channel {
                            channels[((i + k) % 3) as usize]
                        } else {
                            ShiftChannels::Both
                        },
                        None,
                        None,
                    )
                    .ok()
                });
                rota(zones[i as usize % zones.len()], shifts.collect())
            })
            .collect()
    }

    #[test]
    fn every_volunteer_really_on_shift_is_named() {
        let rotas = varied_rotas(200, "Australia/Lord_Howe", false);
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

    #[test]
    fn a_shift_start_read_from_the_weekly_spans_is_the_one_the_rota_gives() {
        let rotas = varied_rotas(120, "Pacific/Auckland", true);
        let index = index_of(&rotas);
        // Three weeks of instants every 7 minutes and 19 seconds, over London's clock change.
        let (mut at, mut read_from_spans) = (utc("2026-10-15T00:00:00.250Z"), 0);
        while at < utc("2026-11-05T00:00:00Z") {
            let clocks = index.wall_clocks(at);
            for (position, r) in rotas.iter().enumerate() {
                let clock = clocks[index.zone_of(position)];
                for channel in [Channel::Voice, Channel::Sms] {
                    let steady = clock.is_steady().then(|| clock.minute_of_week());
                    let Some(minutes) = index.minutes_on_shift(position, steady, channel) else {
                        continue;
                    };
                    let minute_start = at
                        - Duration::seconds(clock.local.second().into())
                        - Duration::nanoseconds(clock.local.nanosecond().into());
                    let start = minutes.map(|m| minute_start - Duration::minutes(m.into()));
                    let by_the_rota = r.current_shift_start_on(at, clock, Some(channel));
                    assert_eq!(
                        start, by_the_rota,
                        "volunteer {position} at {at} on {channel:?}"
                    );
                    read_from_spans += usize::from(start.is_some());
                }
            }
            at += Duration::seconds(7 * 60 + 19);
        }
        assert!(
            read_from_spans > 10_000,
            "{read_from_spans} shift starts read"
        );
    }
}
