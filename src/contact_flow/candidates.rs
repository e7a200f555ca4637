//! Loads what the router needs about a helpline's volunteers right now, for a call or a
//! text conversation: their profiles and rotas, who is engaged on the channel, their
//! recent contacts, conflicts with this caller, who was already tried and whether
//! continuity applies. Decides nothing.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::activity::{ActivityCache, History};
use crate::domain::helpline::RoutingSettings;
use crate::domain::ids::{ById, ContactId, HelplineId, IdSet, VolunteerId};
use crate::domain::recent_activity::ActivitySummary;
use crate::domain::rota::Channel;
use crate::domain::routing::{
    self, Activity, Candidate, Continuity, Plan, RosterVolunteers, RoutingRequest,
};
use crate::state::AppState;
use crate::storage::entities::contact;
use crate::storage::roster::Roster;
use crate::storage::rota::RotaMember;
use crate::storage::round_reads::{self, LatestAnswerers, RoundQuery};
use crate::storage::{after_contact, contacts, reservations, text_slots};

/// Everything routing one round of a contact reads from the database.
pub struct RoutingInputs {
    pub roster: Arc<Roster>,
    pub activity: ActivityNow,
    pub conflicted: IdSet<VolunteerId>,
    pub already_tried: IdSet<VolunteerId>,
    pub continuity: Option<Continuity>,
    /// The activity of a volunteer with none recorded.
    idle: Activity,
}

/// The contact a round is for, as far as the router's reads need it: one already written,
/// or a new call's, read for before its row is written.
pub struct Routed {
    pub helpline_id: HelplineId,
    /// Every hash the caller may be stored under.
    pub caller_hashes: Vec<String>,
    /// `None` for a contact not written yet: it has no offers and is no past contact.
    pub contact_id: Option<ContactId>,
}

impl Routed {
    /// The contact `contact`, written already.
    pub fn contact(state: &AppState, contact: &contact::Model) -> Self {
        Self {
            helpline_id: contact.helpline_id,
            caller_hashes: state
                .vault
                .caller_hashes(contact.caller_encrypted.as_deref(), &contact.caller_hash),
            contact_id: Some(contact.id),
        }
    }
}

impl RoutingInputs {
    /// Its reads are one statement (see `round_reads`), made while this server's
    /// recent-contacts cache is held for the look they include.
    pub async fn load(
        db: &impl ConnectionTrait,
        state: &AppState,
        routed: &Routed,
        routing: &RoutingSettings,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> Result<Self, DbErr> {
        let max_repeats = u32::try_from(routing.continuity_max_repeats).unwrap_or(1);
        let look = state.activity.look().await;
        let query = RoundQuery {
            channel,
            now,
            flags_since: now - contacts::ACTIVITY_WINDOW,
            activity_changed_since_ms: look.changes_since_ms(),
            caller_hashes: &routed.caller_hashes,
            contact_id: routed.contact_id,
            latest_answerers: routing.continuity_enabled.then(|| LatestAnswerers {
                helpline_id: routed.helpline_id,
                since: now - Duration::days(routing.continuity_days.into()),
                limit: u64::from(max_repeats) + 1,
            }),
        };
        let rows = round_reads::read(db, &query).await?;
        let history = look
            .take_in(db, rows.database_now_ms, rows.activity_changed, now)
            .await?;
        let roster = state
            .roster
            .helpline_at(routed.helpline_id, rows.roster_version)
            .await?;
        let continuity = routing
            .continuity_enabled
            .then(|| continuity_of(&rows.latest_answerers, max_repeats))
            .flatten();
        Ok(Self {
            roster,
            activity: ActivityNow::new(history, rows.flags).engaged_in(rows.engaged),
            conflicted: rows.conflicted.into_iter().collect(),
            already_tried: rows.already_tried.into_iter().collect(),
            continuity,
            idle: Activity::default(),
        })
    }

    /// The member at the head of an offer.
    pub fn member(&self, volunteer_id: VolunteerId) -> Option<&RotaMember> {
        self.roster.member(volunteer_id)
    }

    /// The router's plan for `request` over the helpline's volunteers.
    pub fn plan(&self, request: &RoutingRequest<'_>) -> Plan {
        routing::plan_indexed(request, &self.roster.index, &self)
    }
}

impl<'a> RosterVolunteers<'a> for &'a RoutingInputs {
    fn candidate(&self, position: usize) -> Candidate<'a> {
        as_candidate(&self.roster.members[position], &self.activity, &self.idle)
    }

    fn activity(&self, _position: usize, volunteer_id: VolunteerId) -> ActivitySummary {
        self.activity.summary(volunteer_id)
    }
}

/// `members` as the router sees them, each with their activity (`idle` when none).
pub fn as_candidates<'a>(
    members: &'a [RotaMember],
    activity: &'a ActivityNow,
    idle: &'a Activity,
) -> Vec<Candidate<'a>> {
    members
        .iter()
        .map(|m| as_candidate(m, activity, idle))
        .collect()
}

/// A member as the router sees them, with their activity (`idle` when none).
fn as_candidate<'a>(
    member: &'a RotaMember,
    activity: &'a ActivityNow,
    idle: &'a Activity,
) -> Candidate<'a> {
    Candidate {
        volunteer_id: member.volunteer_id,
        profile: &member.profile,
        rota: &member.rota,
        ready_topics: &member.ready_topics,
        stepped_back: &member.stepped_back,
        activity: activity.of(member.volunteer_id).unwrap_or(idle),
    }
}

/// What every volunteer has done lately and, once `engaged_on` has been read, is doing
/// now on a channel: their recent contacts (kept in memory, see `activity`), with their
/// latest flags and the contacts they are engaged in added for the few concerned.
#[derive(Clone)]
pub struct ActivityNow {
    history: Arc<History>,
    current: ById<VolunteerId, Activity>,
}

impl ActivityNow {
    /// Recent contacts and flags, without what anyone is engaged in.
    pub async fn read(
        db: &impl ConnectionTrait,
        cache: &ActivityCache,
        now: DateTime<Utc>,
    ) -> Result<Self, DbErr> {
        let since = now - contacts::ACTIVITY_WINDOW;
        let (history, flags) = tokio::try_join!(
            cache.history(db, now),
            after_contact::latest_flags_by_volunteer(db, since, None),
        )?;
        Ok(Self::new(history, flags))
    }

    /// Recent contacts with each volunteer's latest flag.
    fn new(history: Arc<History>, flags: Vec<(VolunteerId, DateTime<Utc>)>) -> Self {
        let mut activity = Self {
            history,
            current: ById::default(),
        };
        for (volunteer, flagged_at) in flags {
            activity.current_of(volunteer).last_flagged_at = Some(flagged_at);
        }
        activity
    }

    /// Adds the contacts each volunteer is engaged in, one per mention in `engaged`.
    pub fn engaged_in(mut self, engaged: Vec<VolunteerId>) -> Self {
        for volunteer_id in engaged {
            self.current_of(volunteer_id).engaged += 1;
        }
        self
    }

    /// The same, packed.
    pub fn summary(&self, volunteer_id: VolunteerId) -> ActivitySummary {
        match self.current.get(&volunteer_id) {
            Some(activity) => ActivitySummary::of(activity),
            None => self.history.summary(volunteer_id),
        }
    }

    pub fn of(&self, volunteer_id: VolunteerId) -> Option<&Activity> {
        if self.current.is_empty() {
            return self.history.of(volunteer_id);
        }
        self.current
            .get(&volunteer_id)
            .or_else(|| self.history.of(volunteer_id))
    }

    fn current_of(&mut self, volunteer_id: VolunteerId) -> &mut Activity {
        let history = &self.history;
        self.current
            .entry(volunteer_id)
            .or_insert_with(|| history.of(volunteer_id).cloned().unwrap_or_default())
    }
}

/// Who is engaged in a contact on `channel` now, once per contact: ringing or on a call,
/// or holding text slots.
pub async fn engaged_on(
    db: &impl ConnectionTrait,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<Vec<VolunteerId>, DbErr> {
    match channel {
        Channel::Voice => reservations::engaged(db, now).await,
        Channel::Sms => text_slots::holders(db).await,
    }
}

/// One volunteer's recent contacts and latest flag, read from the database.
pub async fn recent_activity_of(
    db: &impl ConnectionTrait,
    volunteer: VolunteerId,
    now: DateTime<Utc>,
) -> Result<Activity, DbErr> {
    let since = now - contacts::ACTIVITY_WINDOW;
    let mut history = History::default();
    let rows = contacts::activity_since(db, since, Some(volunteer)).await?;
    history.apply(rows, since);
    let mut activity = history.of(volunteer).cloned().unwrap_or_default();
    activity.last_flagged_at = after_contact::latest_flags_by_volunteer(db, since, Some(volunteer))
        .await?
        .into_iter()
        .map(|(_, at)| at)
        .max();
    Ok(activity)
}

/// The caller's last volunteer and how many of their latest contacts in a row were with them.
fn continuity_of(latest_first: &[VolunteerId], max_repeats: u32) -> Option<Continuity> {
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
        let c = continuity_of(&[4, 4, 2, 4].map(VolunteerId), 3).unwrap();
        assert_eq!((c.volunteer_id, c.consecutive), (VolunteerId(4), 2));
        assert_eq!(continuity_of(&[], 3), None);
    }
}
