//! Who is on call for a helpline at an instant, and who hears about a safeguarding
//! concern: the supervisors on call, or, when none of them can be reached, every
//! supervisor and administrator who can. A concern must never reach nobody in silence.

use chrono::{DateTime, Utc};

use super::ids::UserId;
use super::rota::{Rota, WeeklyShift};
use super::timezone::TimeZone;

/// One weekly on-call shift of one person, on their own clock.
#[derive(Debug, Clone)]
pub struct OnCallShift {
    pub user_id: UserId,
    pub time_zone: TimeZone,
    pub shift: WeeklyShift,
}

/// The people on call at `at`, each once, in the order of their shifts.
pub fn on_call_at(shifts: &[OnCallShift], at: DateTime<Utc>) -> Vec<UserId> {
    let mut found = Vec::new();
    for slot in shifts {
        if found.contains(&slot.user_id) {
            continue;
        }
        let mut rota = Rota::new(slot.time_zone);
        rota.shifts.push(slot.shift.clone());
        if rota.is_on_shift(at, None) {
            found.push(slot.user_id);
        }
    }
    found
}

/// Each person's on-call rota, built from their shifts (in the order people first appear).
pub fn rotas(shifts: &[OnCallShift]) -> Vec<Rota> {
    let mut people: Vec<(UserId, Rota)> = Vec::new();
    for slot in shifts {
        match people.iter_mut().find(|(id, _)| *id == slot.user_id) {
            Some((_, rota)) => rota.shifts.push(slot.shift.clone()),
            None => {
                let mut rota = Rota::new(slot.time_zone);
                rota.shifts.push(slot.shift.clone());
                people.push((slot.user_id, rota));
            }
        }
    }
    people.into_iter().map(|(_, rota)| rota).collect()
}

/// Who a safeguarding alert goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SafeguardingRecipients {
    /// The supervisors on call who have a phone.
    OnCall(Vec<UserId>),
    /// Nobody on call could be reached: every supervisor of the helpline and every
    /// administrator who has a phone.
    Escalated(Vec<UserId>),
    /// Nobody at all can be reached by text; the concern waits in the review queue and
    /// the log must say so.
    Nobody,
}

impl SafeguardingRecipients {
    pub fn users(&self) -> &[UserId] {
        match self {
            Self::OnCall(users) | Self::Escalated(users) => users,
            Self::Nobody => &[],
        }
    }
}

/// Chooses who hears about a safeguarding concern, from the people on call who have a
/// phone and the helpline's other reachable supervisors and administrators.
pub fn safeguarding_recipients(
    on_call_reachable: &[UserId],
    everyone_reachable: &[UserId],
) -> SafeguardingRecipients {
    if !on_call_reachable.is_empty() {
        SafeguardingRecipients::OnCall(on_call_reachable.to_vec())
    } else if !everyone_reachable.is_empty() {
        SafeguardingRecipients::Escalated(everyone_reachable.to_vec())
    } else {
        SafeguardingRecipients::Nobody
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{LocalTime, Weekday};
    use crate::domain::rota::ShiftChannels;

    fn slot(user_id: i32, zone: &str, weekday: Weekday, from: &str, to: &str) -> OnCallShift {
        OnCallShift {
            user_id: UserId(user_id),
            time_zone: TimeZone::parse(zone).unwrap(),
            shift: WeeklyShift::new(
                weekday,
                LocalTime::parse(from).unwrap(),
                LocalTime::parse(to).unwrap(),
                ShiftChannels::Both,
                None,
                None,
            )
            .unwrap(),
        }
    }

    fn at(instant: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(instant).unwrap().to_utc()
    }

    #[test]
    fn each_person_on_call_is_named_once_on_their_own_clock() {
        let shifts = [
            slot(1, "Europe/London", Weekday::Monday, "09:00", "17:00"),
            slot(1, "Europe/London", Weekday::Monday, "12:00", "20:00"),
            // 09:00-17:00 in New York is 14:00-22:00 in London (EST, UTC-5).
            slot(2, "America/New_York", Weekday::Monday, "09:00", "17:00"),
            slot(3, "Europe/London", Weekday::Tuesday, "09:00", "17:00"),
        ];
        // Monday 2026-11-30 13:00 London (UTC): 1 twice over, 2 not yet started.
        assert_eq!(
            on_call_at(&shifts, at("2026-11-30T13:00:00Z")),
            vec![UserId(1)]
        );
        assert_eq!(
            on_call_at(&shifts, at("2026-11-30T15:00:00Z")),
            vec![UserId(1), UserId(2)]
        );
        assert_eq!(
            on_call_at(&shifts, at("2026-11-29T13:00:00Z")),
            Vec::<UserId>::new()
        );
    }

    #[test]
    fn on_call_gaps_are_the_hours_nobody_covers() {
        use crate::domain::coverage::{CoverageMember, gaps};
        use crate::domain::rota::Interval;
        let shifts = [
            slot(1, "Europe/London", Weekday::Monday, "09:00", "17:00"),
            slot(1, "Europe/London", Weekday::Monday, "17:00", "20:00"),
            slot(2, "Europe/London", Weekday::Monday, "12:00", "13:00"),
        ];
        let rotas = rotas(&shifts);
        assert_eq!(rotas.len(), 2, "one rota per person");
        let members: Vec<CoverageMember<'_>> = rotas
            .iter()
            .map(CoverageMember::whenever_on_shift)
            .collect();
        let monday = Interval::new(at("2026-11-30T00:00:00Z"), at("2026-12-01T00:00:00Z")).unwrap();
        let found = gaps(monday, &members, None);
        assert_eq!(
            found,
            vec![
                Interval::new(at("2026-11-30T00:00:00Z"), at("2026-11-30T09:00:00Z")).unwrap(),
                Interval::new(at("2026-11-30T20:00:00Z"), at("2026-12-01T00:00:00Z")).unwrap(),
            ]
        );
    }

    #[test]
    fn a_concern_goes_to_the_people_on_call_then_to_everyone_then_is_reported_unreached() {
        assert_eq!(
            safeguarding_recipients(&[UserId(4)], &[UserId(4), UserId(5)]),
            SafeguardingRecipients::OnCall(vec![UserId(4)])
        );
        assert_eq!(
            safeguarding_recipients(&[], &[UserId(4), UserId(5)]),
            SafeguardingRecipients::Escalated(vec![UserId(4), UserId(5)])
        );
        assert_eq!(
            safeguarding_recipients(&[], &[]),
            SafeguardingRecipients::Nobody
        );
    }
}
