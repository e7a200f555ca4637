//! Reading the contact log on behalf of a user: every query carries the caller's scope,
//! so a supervisor's list holds only their helplines' contacts and a volunteer's only the
//! contacts they took or were offered. Newest first, paged by id.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Query,
};

use super::Scope;
use super::entities::{contact, contact_event, contact_flag, offer};
use crate::domain::contact::Outcome;
use crate::domain::ids::{ContactId, HelplineId, TopicId, VolunteerId};
use crate::domain::rota::Channel;
use crate::domain::routing::Tier;
use crate::domain::supervision::{Flag, ReviewState};

/// The contacts a scope may see, as a condition on `contacts`.
pub fn visible(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Helplines(ids) => {
            Condition::all().add(contact::Column::HelplineId.is_in(ids.clone()))
        }
        Scope::Volunteer { volunteer_id, .. } => involving(*volunteer_id),
    }
}

/// Contacts the volunteer answered or was offered.
fn involving(volunteer_id: VolunteerId) -> Condition {
    Condition::any()
        .add(contact::Column::AnsweredBy.eq(volunteer_id))
        .add(
            contact::Column::Id.in_subquery(
                Query::select()
                    .column(offer::Column::ContactId)
                    .from(offer::Entity)
                    .and_where(offer::Column::VolunteerId.eq(volunteer_id))
                    .to_owned(),
            ),
        )
}

/// One helpline's part of a date range, already converted from its own time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelplineWindow {
    pub helpline_id: HelplineId,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// What a supervisor narrows the log to; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub helpline_id: Option<HelplineId>,
    pub channel: Option<Channel>,
    pub topic_id: Option<TopicId>,
    pub outcome: Option<Outcome>,
    pub volunteer_id: Option<VolunteerId>,
    pub flag: Option<Flag>,
    pub review_state: Option<ReviewState>,
    pub tier: Option<Tier>,
    /// Per-helpline UTC bounds of the requested local dates; empty: no date range.
    pub windows: Vec<HelplineWindow>,
}

impl ContactFilter {
    fn condition(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(id) = self.helpline_id {
            c = c.add(contact::Column::HelplineId.eq(id));
        }
        if let Some(channel) = self.channel {
            c = c.add(contact::Column::Channel.eq(channel));
        }
        if let Some(topic) = self.topic_id {
            c = c.add(contact::Column::TopicId.eq(topic));
        }
        if let Some(outcome) = self.outcome {
            c = c.add(contact::Column::Outcome.eq(outcome));
        }
        if let Some(volunteer) = self.volunteer_id {
            c = c.add(contact::Column::AnsweredBy.eq(volunteer));
        }
        if let Some(state) = self.review_state {
            c = c.add(contact::Column::ReviewState.eq(state));
        }
        if let Some(tier) = self.tier {
            c = c.add(contact::Column::PeerMatchTier.eq(tier));
        }
        if let Some(flag) = self.flag {
            c = c.add(
                contact::Column::Id.in_subquery(
                    Query::select()
                        .column(contact_flag::Column::ContactId)
                        .from(contact_flag::Entity)
                        .and_where(contact_flag::Column::Flag.eq(flag))
                        .to_owned(),
                ),
            );
        }
        if !self.windows.is_empty() {
            let mut any = Condition::any();
            for w in &self.windows {
                let mut one = Condition::all().add(contact::Column::HelplineId.eq(w.helpline_id));
                if let Some(from) = w.from {
                    one = one.add(contact::Column::ReceivedAt.gte(from));
                }
                if let Some(to) = w.to {
                    one = one.add(contact::Column::ReceivedAt.lt(to));
                }
                any = any.add(one);
            }
            c = c.add(any);
        }
        c
    }
}

/// A page of the log, newest first: at most `limit + 1` rows with an id below `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ContactFilter,
    before: Option<i32>,
    limit: u64,
) -> Result<Vec<contact::Model>, DbErr> {
    let mut query = contact::Entity::find()
        .filter(visible(scope))
        .filter(filter.condition());
    if let Some(before) = before {
        query = query.filter(contact::Column::Id.lt(before));
    }
    query
        .order_by_desc(contact::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await
}

/// One contact, if the scope may see it.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: ContactId,
) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find_by_id(id)
        .filter(visible(scope))
        .one(db)
        .await
}

/// The contact's timeline, oldest first.
pub async fn events(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Vec<contact_event::Model>, DbErr> {
    contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(contact_id))
        .order_by_asc(contact_event::Column::Id)
        .all(db)
        .await
}

/// The flags on each of `contact_ids`, oldest first.
pub async fn flags_of(
    db: &impl ConnectionTrait,
    contact_ids: Vec<ContactId>,
) -> Result<Vec<contact_flag::Model>, DbErr> {
    contact_flag::Entity::find()
        .filter(contact_flag::Column::ContactId.is_in(contact_ids))
        .order_by_asc(contact_flag::Column::Id)
        .all(db)
        .await
}

/// Which of `contact_ids` the volunteer was offered (whether or not they answered).
pub async fn offered_to(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    contact_ids: Vec<ContactId>,
) -> Result<Vec<offer::Model>, DbErr> {
    offer::Entity::find()
        .filter(offer::Column::VolunteerId.eq(volunteer_id))
        .filter(offer::Column::ContactId.is_in(contact_ids))
        .all(db)
        .await
}
