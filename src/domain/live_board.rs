//! What each volunteer can do right now, as the router itself sees it: the live board
//! asks the same question a new contact would ask, so "free" on the board means a call
//! or text arriving now could be offered to them.

use chrono::{DateTime, Utc};

use super::ids::{ById, IdSet, VolunteerId};
use super::rota::Channel;
use super::routing::{Candidate, Exclusion, RoutingRequest, plan, rest_ends_at};

/// A volunteer's state on one channel now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// A contact arriving now could be offered to them.
    Free,
    /// On (or being offered) as many contacts as they take at once.
    OnContact,
    /// Resting after a long or flagged contact.
    Resting {
        until: Option<DateTime<Utc>>,
    },
    /// Took the most contacts their shift allows.
    ShiftCapReached,
    Paused,
    OffShift,
    /// Not taking contacts on this channel at all (in training, lapsed, not trained for it).
    NotTaking(Exclusion),
}

impl Availability {
    /// Every state's name, as metrics label them.
    pub const NAMES: [&'static str; 7] = [
        "free",
        "on_contact",
        "resting",
        "shift_cap_reached",
        "paused",
        "off_shift",
        "not_taking",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Availability::Free => "free",
            Availability::OnContact => "on_contact",
            Availability::Resting { .. } => "resting",
            Availability::ShiftCapReached => "shift_cap_reached",
            Availability::Paused => "paused",
            Availability::OffShift => "off_shift",
            Availability::NotTaking(_) => "not_taking",
        }
    }
}

/// Each candidate's availability on `channel` at `at`, for a contact about no particular
/// topic, in the order of `candidates`.
pub fn availability(
    at: DateTime<Utc>,
    channel: Channel,
    candidates: &[Candidate<'_>],
) -> Vec<(VolunteerId, Availability)> {
    let nobody = IdSet::<VolunteerId>::default();
    let request = RoutingRequest {
        at,
        channel,
        topic: None,
        language: None,
        continuity: None,
        conflicted: &nobody,
        already_tried: &nobody,
    };
    let decided = plan(&request, candidates);
    let passed_over: ById<VolunteerId, Exclusion> = decided.passed_over().collect();
    candidates
        .iter()
        .map(|c| {
            let why = passed_over.get(&c.volunteer_id).copied();
            let state = match why {
                None => Availability::Free,
                Some(Exclusion::Busy) => Availability::OnContact,
                Some(Exclusion::Resting) => Availability::Resting {
                    until: rest_ends_at(c.profile, c.activity),
                },
                Some(Exclusion::ShiftCapReached) => Availability::ShiftCapReached,
                Some(Exclusion::Paused) => Availability::Paused,
                Some(Exclusion::OffShift) => Availability::OffShift,
                Some(other) => Availability::NotTaking(other),
            };
            (c.volunteer_id, state)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::rota::{Interval, Rota, ShiftChannels};
    use crate::domain::routing::{Activity, PastContact};
    use crate::domain::timezone::TimeZone;
    use crate::domain::volunteer::{VolunteerProfile, WellbeingLimits};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn profile(active: bool) -> VolunteerProfile {
        VolunteerProfile {
            active,
            ..VolunteerProfile::trained_in(TimeZone::parse("Europe/London").unwrap())
        }
    }

    #[test]
    fn the_board_says_what_the_router_would_do_with_a_call_now() {
        let now = at("2026-12-01T12:00:00Z");
        let mut on_shift = Rota::new(TimeZone::parse("Europe/London").unwrap());
        on_shift.extra_shifts.push((
            Interval::new(now - Duration::hours(1), now + Duration::hours(1)).unwrap(),
            ShiftChannels::Both,
        ));
        let off_shift = Rota::new(TimeZone::parse("Europe/London").unwrap());
        let (active, paused) = (profile(true), profile(false));
        let idle = Activity::default();
        let on_a_call = Activity {
            engaged: 1,
            ..Default::default()
        };
        let ended = now - Duration::minutes(5);
        let after_a_long_call = Activity {
            last_contact: Some(PastContact {
                ended_at: ended,
                duration: Duration::minutes(90),
            }),
            ..Default::default()
        };
        let candidate = |id, profile, rota, activity| Candidate {
            volunteer_id: id,
            profile,
            rota,
            ready_topics: &[],
            stepped_back: &[],
            activity,
        };
        let candidates = [
            candidate(VolunteerId(1), &active, &on_shift, &idle),
            candidate(VolunteerId(2), &active, &on_shift, &on_a_call),
            candidate(VolunteerId(3), &active, &on_shift, &after_a_long_call),
            candidate(VolunteerId(4), &paused, &on_shift, &idle),
            candidate(VolunteerId(5), &active, &off_shift, &idle),
        ];
        let rest = Duration::minutes(WellbeingLimits::default().rest_minutes_after_long.into());
        for (_, state) in availability(now, Channel::Voice, &candidates) {
            assert!(Availability::NAMES.contains(&state.name()));
        }
        let by_id: Vec<(i32, Availability)> = availability(now, Channel::Voice, &candidates)
            .into_iter()
            .map(|(id, state)| (id.0, state))
            .collect();
        assert_eq!(
            by_id,
            vec![
                (1, Availability::Free),
                (2, Availability::OnContact),
                (
                    3,
                    Availability::Resting {
                        until: Some(ended + rest)
                    }
                ),
                (4, Availability::Paused),
                (5, Availability::OffShift),
            ]
        );
    }
}
