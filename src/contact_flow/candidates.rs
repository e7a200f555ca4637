//! Loads what the router needs about a helpline's volunteers right now, for a call or a
//! text conversation: their profiles and rotas, who is engaged on the channel, their
//! recent contacts, conflicts with this caller, who was already tried and whether
//! continuity applies. Decides nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::helpline::RoutingSettings;
use crate::domain::rota::Channel;
use crate::domain::routing::{Activity, Candidate, Continuity, PastContact};
use crate::storage::entities::contact;
use crate::storage::roster::RosterCache;
use crate::storage::rota::RotaMember;
use crate::storage::{after_contact, contacts, reservations, rota, text_slots};

/// Everything routing one round of a contact reads from the database.
pub struct RoutingInputs {
    pub members: Arc<Vec<RotaMember>>,
    pub activity: HashMap<i32, Activity>,
    pub conflicted: HashSet<i32>,
    pub already_tried: HashSet<i32>,
    pub continuity: Option<Continuity>,
    /// The activity of a volunteer with none recorded.
    idle: Activity,
}

impl RoutingInputs {
    pub async fn load(
        db: &impl ConnectionTrait,
        roster: &RosterCache,
        contact: &contact::Model,
        routing: &RoutingSettings,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> Result<Self, DbErr> {
        let members = roster.members(db, contact.helpline_id).await?;
        let activity = activity_now(db, channel, now).await?;
        let conflicted = rota::conflicted_volunteers(db, &contact.caller_hash)
            .await?
            .into_iter()
            .collect();
        let already_tried = contacts::offers(db, contact.id)
            .await?
            .into_iter()
            .map(|o| o.volunteer_id)
            .collect();
        let continuity = if routing.continuity_enabled {
            let since = now - Duration::days(routing.continuity_days.into());
            let max_repeats = u32::try_from(routing.continuity_max_repeats).unwrap_or(1);
            let latest = contacts::recent_answerers(
                db,
                contact.helpline_id,
                &contact.caller_hash,
                contact.id,
                since,
                u64::from(max_repeats) + 1,
            )
            .await?;
            continuity_of(&latest, max_repeats)
        } else {
            None
        };
        Ok(Self {
            members,
            activity,
            conflicted,
            already_tried,
            continuity,
            idle: Activity::default(),
        })
    }

    pub fn candidates(&self) -> Vec<Candidate<'_>> {
        as_candidates(&self.members, &self.activity, &self.idle)
    }
}

/// `members` as the router sees them, each with their activity (`idle` when none).
pub fn as_candidates<'a>(
    members: &'a [RotaMember],
    activity: &'a HashMap<i32, Activity>,
    idle: &'a Activity,
) -> Vec<Candidate<'a>> {
    members
        .iter()
        .map(|m| Candidate {
            volunteer_id: m.volunteer_id,
            profile: &m.profile,
            rota: &m.rota,
            ready_topics: &m.ready_topics,
            activity: activity.get(&m.volunteer_id).unwrap_or(idle),
        })
        .collect()
}

/// What every volunteer is doing on `channel` at `now` and has done lately: contacts
/// they are engaged in, their recent contacts and their latest flag.
pub async fn activity_now(
    db: &impl ConnectionTrait,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<HashMap<i32, Activity>, DbErr> {
    let mut activity = recent_activity(db, None, now).await?;
    add_engaged(db, channel, now, &mut activity).await?;
    Ok(activity)
}

/// Volunteers' recent contacts and latest flags, without what they are engaged in now:
/// everyone's, or `only` one volunteer's.
pub async fn recent_activity(
    db: &impl ConnectionTrait,
    only: Option<i32>,
    now: DateTime<Utc>,
) -> Result<HashMap<i32, Activity>, DbErr> {
    let mut activity: HashMap<i32, Activity> = HashMap::new();
    let since = now - contacts::ACTIVITY_WINDOW;
    let answered = match only {
        Some(volunteer) => contacts::answered_by_since(db, volunteer, since).await?,
        None => contacts::answered_since(db, since).await?,
    };
    for (volunteer, answered, ended, talk) in answered {
        let (Some(volunteer), Some(answered)) = (volunteer, answered) else {
            continue;
        };
        let entry = activity.entry(volunteer).or_default();
        entry.recent_contact_starts.push(answered);
        if let Some(ended) = ended {
            let duration = Duration::seconds(talk.unwrap_or(0).into());
            if entry.last_contact.is_none_or(|last| last.ended_at < ended) {
                entry.last_contact = Some(PastContact {
                    ended_at: ended,
                    duration,
                });
            }
        }
    }
    for (volunteer, flagged_at) in after_contact::latest_flags_by_volunteer(db, since, only).await?
    {
        activity.entry(volunteer).or_default().last_flagged_at = Some(flagged_at);
    }
    Ok(activity)
}

/// Adds to `activity` the contacts each volunteer is engaged in on `channel` now: ringing
/// or on a call, or holding text slots.
pub async fn add_engaged(
    db: &impl ConnectionTrait,
    channel: Channel,
    now: DateTime<Utc>,
    activity: &mut HashMap<i32, Activity>,
) -> Result<(), DbErr> {
    let engaged = match channel {
        Channel::Voice => reservations::engaged(db, now).await?,
        Channel::Sms => text_slots::holders(db).await?,
    };
    for volunteer_id in engaged {
        activity.entry(volunteer_id).or_default().engaged += 1;
    }
    Ok(())
}

/// The caller's last volunteer and how many of their latest contacts in a row were with them.
fn continuity_of(latest_first: &[i32], max_repeats: u32) -> Option<Continuity> {
    let last = *latest_first.first()?;
    let consecutive = latest_first.iter().take_while(|v| **v == last).count();
    Some(Continuity {
        volunteer_id: last,
        consecutive: u32::try_from(consecutive).unwrap_or(u32::MAX),
        max_repeats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuity_counts_the_latest_run_only() {
        let c = continuity_of(&[4, 4, 2, 4], 3).unwrap();
        assert_eq!((c.volunteer_id, c.consecutive), (4, 2));
        assert_eq!(continuity_of(&[], 3), None);
    }
}
