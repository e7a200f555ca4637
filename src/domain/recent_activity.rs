//! Volunteers' activity as the router reads it for each volunteer it checks: packed into
//! a few numbers, and kept side by side by volunteer id, so that a routing round over
//! thousands of volunteers reads one small record each instead of following pointers
//! into their contacts. Only a volunteer whose latest contact started in their current
//! shift needs their full record (when each recent contact started), which is kept
//! beside it.

use chrono::Duration;

use super::ids::{ById, VolunteerId};
use super::routing::Activity;

/// What the router reads of a volunteer's activity, as microseconds since 1970 (`NONE`
/// where there is nothing to tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivitySummary {
    /// When their latest recent contact started.
    pub latest_start: i64,
    /// When their latest finished contact ended.
    pub last_end: i64,
    /// When they last flagged a contact.
    pub last_flagged: i64,
    /// How long their latest finished contact lasted, in whole seconds (rounded down).
    pub last_length_secs: i32,
    /// Contacts on the routed channel they are on or being offered now.
    pub engaged: u32,
}

impl ActivitySummary {
    /// Nothing to tell: the instant before any other.
    pub const NONE: i64 = i64::MIN;

    /// A volunteer with no recent contact, engaged in nothing.
    pub const IDLE: Self = Self {
        latest_start: Self::NONE,
        last_end: Self::NONE,
        last_flagged: Self::NONE,
        last_length_secs: 0,
        engaged: 0,
    };

    pub fn of(activity: &Activity) -> Self {
        let last = activity.last_contact;
        Self {
            latest_start: activity
                .recent_contact_starts
                .iter()
                .max()
                .map_or(Self::NONE, |start| start.timestamp_micros()),
            last_end: last.map_or(Self::NONE, |c| c.ended_at.timestamp_micros()),
            last_flagged: activity
                .last_flagged_at
                .map_or(Self::NONE, |at| at.timestamp_micros()),
            last_length_secs: last.map_or(0, |c| whole_seconds(c.duration)),
            engaged: activity.engaged,
        }
    }
}

/// A length in whole seconds, rounded down (to the nearest of `i32`'s when beyond).
fn whole_seconds(length: Duration) -> i32 {
    let secs = length.num_seconds() - i64::from(length.subsec_nanos() < 0);
    i32::try_from(secs).unwrap_or(if secs < 0 { i32::MIN } else { i32::MAX })
}

/// Ids up to this one are kept side by side; larger ones (which a helpline's database
/// does not reach) are summarised from the full record when asked.
const MOST_PACKED: usize = 1 << 20;

/// Every volunteer's activity, in full and packed.
#[derive(Debug, Clone, Default)]
pub struct RecentActivity {
    full: ById<VolunteerId, Activity>,
    /// Summaries by volunteer id; an id past the end has no activity.
    packed: Vec<ActivitySummary>,
}

impl RecentActivity {
    /// Sets a volunteer's activity: none at all when it is the default.
    pub fn set(&mut self, volunteer_id: VolunteerId, activity: Activity) {
        if let Some(slot) = packed_slot(volunteer_id) {
            let summary = ActivitySummary::of(&activity);
            if slot >= self.packed.len() && summary != ActivitySummary::IDLE {
                self.packed.resize(slot + 1, ActivitySummary::IDLE);
            }
            if let Some(packed) = self.packed.get_mut(slot) {
                *packed = summary;
            }
        }
        if activity == Activity::default() {
            self.full.remove(&volunteer_id);
        } else {
            self.full.insert(volunteer_id, activity);
        }
    }

    /// Their full record, if they have any activity.
    pub fn of(&self, volunteer_id: VolunteerId) -> Option<&Activity> {
        self.full.get(&volunteer_id)
    }

    /// Their activity, packed.
    #[inline]
    pub fn summary(&self, volunteer_id: VolunteerId) -> ActivitySummary {
        match packed_slot(volunteer_id) {
            Some(slot) => self
                .packed
                .get(slot)
                .copied()
                .unwrap_or(ActivitySummary::IDLE),
            None => self
                .of(volunteer_id)
                .map_or(ActivitySummary::IDLE, ActivitySummary::of),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_empty()
    }
}

#[inline]
fn packed_slot(volunteer_id: VolunteerId) -> Option<usize> {
    usize::try_from(volunteer_id.0)
        .ok()
        .filter(|slot| *slot <= MOST_PACKED)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::routing::PastContact;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn busy_morning() -> Activity {
        Activity {
            engaged: 1,
            last_contact: Some(PastContact {
                ended_at: utc("2026-12-02T09:40:00Z"),
                duration: Duration::minutes(25),
            }),
            recent_contact_starts: vec![utc("2026-12-02T10:00:00Z"), utc("2026-12-02T09:15:00Z")],
            last_flagged_at: Some(utc("2026-12-02T09:41:00Z")),
        }
    }

    #[test]
    fn a_summary_holds_the_latest_start_the_last_contact_and_the_latest_flag() {
        let summary = ActivitySummary::of(&busy_morning());
        assert_eq!(
            summary,
            ActivitySummary {
                latest_start: utc("2026-12-02T10:00:00Z").timestamp_micros(),
                last_end: utc("2026-12-02T09:40:00Z").timestamp_micros(),
                last_flagged: utc("2026-12-02T09:41:00Z").timestamp_micros(),
                last_length_secs: 25 * 60,
                engaged: 1,
            }
        );
        assert_eq!(
            ActivitySummary::of(&Activity::default()),
            ActivitySummary::IDLE
        );
    }

    #[test]
    fn a_length_is_kept_in_whole_seconds_rounded_down() {
        assert_eq!(whole_seconds(Duration::milliseconds(299_999)), 299);
        assert_eq!(whole_seconds(Duration::milliseconds(-500)), -1);
        assert_eq!(whole_seconds(Duration::days(30_000)), i32::MAX);
    }

    #[test]
    fn every_id_reads_back_what_was_set_whether_packed_or_not() {
        let mut recent = RecentActivity::default();
        let (small, large, negative) = (VolunteerId(3), VolunteerId(i32::MAX), VolunteerId(-4));
        for id in [small, large, negative] {
            recent.set(id, busy_morning());
        }
        for id in [small, large, negative] {
            assert_eq!(recent.of(id), Some(&busy_morning()));
            assert_eq!(recent.summary(id), ActivitySummary::of(&busy_morning()));
        }
        assert_eq!(recent.summary(VolunteerId(2)), ActivitySummary::IDLE);
        assert_eq!(recent.summary(VolunteerId(900)), ActivitySummary::IDLE);
        // Cleared: nothing left to read, and nothing kept.
        for id in [small, large, negative] {
            recent.set(id, Activity::default());
            assert_eq!(recent.of(id), None);
            assert_eq!(recent.summary(id), ActivitySummary::IDLE);
        }
        assert!(recent.is_empty());
    }
}
