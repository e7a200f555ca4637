//! Text conversations in the contact log: opening one per texter (at most one open per
//! texter and helpline, enforced by a partial unique index), keeping it alive, flagging
//! it, and finding the ones whose next step is due.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    UpdateMany,
    sea_query::{Expr, OnConflict, Query},
};

use super::contacts::{self, NewCall, Outcome, Stage};
use super::entities::{contact, offer, text_slot};
use crate::domain::ids::{ContactId, HelplineId, TopicId, VolunteerId};
use crate::domain::rota::Channel;

pub const CHANNEL: Channel = Channel::Sms;

/// A texter's first message, as first seen.
pub struct NewConversation {
    pub helpline_id: HelplineId,
    pub message_sid: String,
    pub dialed_number: String,
    pub texter_hash: String,
    pub texter_sealed: String,
    pub texter_hint: String,
    pub stage: Stage,
    pub at: DateTime<Utc>,
    /// When its first step (the topic reply or the first offer) is due.
    pub due: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

/// The texter's open conversation with the helpline, opening one if there is none; true
/// when this call opened it.
pub async fn open(
    db: &impl ConnectionTrait,
    new: NewConversation,
) -> Result<(contact::Model, bool), DbErr> {
    let row = contact::ActiveModel {
        helpline_id: Set(new.helpline_id),
        channel: Set(CHANNEL),
        provider_sid: Set(new.message_sid),
        dialed_number: Set(new.dialed_number),
        caller_hash: Set(new.texter_hash.clone()),
        caller_encrypted: Set(Some(new.texter_sealed)),
        caller_hint: Set(new.texter_hint),
        stage: Set(new.stage),
        round: Set(0),
        received_at: Set(new.at),
        route_deadline: Set(new.due),
        closes_at: Set(Some(new.closes_at)),
        updated_at: Set(new.at),
        ..Default::default()
    };
    // Another server may open it first: either unique index turns this into nothing.
    let inserted = contact::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let stored = open_for(db, new.helpline_id, std::slice::from_ref(&new.texter_hash))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the texter's open conversation".into()))?;
    Ok((stored, inserted == 1))
}

/// The texter's open conversation with the helpline, if any.
pub async fn open_for(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    texter_hashes: &[String],
) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::HelplineId.eq(helpline_id))
        .filter(contact::Column::CallerHash.is_in(texter_hashes.to_vec()))
        .filter(contact::Column::Channel.eq(CHANNEL))
        .filter(contact::Column::EndedAt.is_null())
        .one(db)
        .await
}

/// The texter's conversation on the helpline that ended last, if it ended after `since`.
pub async fn closed_since(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    texter_hashes: &[String],
    since: DateTime<Utc>,
) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::HelplineId.eq(helpline_id))
        .filter(contact::Column::CallerHash.is_in(texter_hashes.to_vec()))
        .filter(contact::Column::Channel.eq(CHANNEL))
        .filter(contact::Column::EndedAt.gte(since))
        .order_by_desc(contact::Column::EndedAt)
        .one(db)
        .await
}

/// An update of the conversation while it is still open.
fn update_open(contact_id: ContactId, now: DateTime<Utc>) -> UpdateMany<contact::Entity> {
    contact::Entity::update_many()
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::EndedAt.is_null())
}

/// Moves the time the conversation closes by itself to `closes_at`.
pub async fn keep_open_until(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    update_open(contact_id, now)
        .col_expr(contact::Column::ClosesAt, Expr::value(closes_at))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets the conversation's stage and when its next step is due.
pub async fn set_step(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    stage: Stage,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    update_open(contact_id, now)
        .col_expr(contact::Column::Stage, Expr::value(stage))
        .col_expr(contact::Column::RouteDeadline, Expr::value(due))
        .exec(db)
        .await?;
    Ok(())
}

/// Records the texter's topic while the conversation is still at the topic menu; true if
/// it was.
pub async fn choose_topic(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    topic_id: TopicId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = update_open(contact_id, now)
        .col_expr(contact::Column::TopicId, Expr::value(topic_id))
        .filter(contact::Column::Stage.eq(Stage::Menu))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Flags the conversation for safeguarding; true the first time.
pub async fn flag_safeguarding(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = contact::Entity::update_many()
        .col_expr(contact::Column::SafeguardingAt, Expr::value(at))
        .col_expr(contact::Column::UpdatedAt, Expr::value(at))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::SafeguardingAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The offer still waiting for the volunteer's reply, if any.
pub async fn pending_offer(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Option<offer::Model>, DbErr> {
    offer::Entity::find()
        .filter(offer::Column::ContactId.eq(contact_id))
        .filter(offer::Column::Outcome.is_null())
        .order_by_desc(offer::Column::Id)
        .one(db)
        .await
}

/// Makes the pending offer of conversation `contact_id` due now, if it was made at or
/// before `offered_by` (so a refusal of an earlier offer never cuts a later one short):
/// the next pass of the conversations job moves it on. True if it did.
pub async fn offer_due_now(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    offered_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(pending) = pending_offer(db, contact_id).await? else {
        return Ok(false);
    };
    if pending.offered_at > offered_by {
        return Ok(false);
    }
    let moved = contact::Entity::update_many()
        .col_expr(contact::Column::RouteDeadline, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::Stage.eq(Stage::Offered))
        .filter(contact::Column::RouteDeadline.gt(now))
        .exec(db)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Puts a conversation `volunteer_id` had taken back in the queue, due to be offered now,
/// as if nobody had answered it yet; true if it did.
pub async fn return_to_queue(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    volunteer_id: VolunteerId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = contact::Entity::update_many()
        .col_expr(
            contact::Column::AnsweredBy,
            Expr::value(Option::<i32>::None),
        )
        .col_expr(
            contact::Column::AnsweredAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            contact::Column::Outcome,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            contact::Column::PeerMatchTier,
            Expr::value(Option::<String>::None),
        )
        .col_expr(contact::Column::WaitSecs, Expr::value(Option::<i32>::None))
        .col_expr(contact::Column::Stage, Expr::value(Stage::Holding))
        .col_expr(contact::Column::RouteDeadline, Expr::value(now))
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::AnsweredBy.eq(volunteer_id))
        .filter(contact::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The open conversations the volunteer holds a text slot for (offered or taken), oldest
/// first: one query.
pub async fn held_by(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
) -> Result<Vec<contact::Model>, DbErr> {
    let slots = Query::select()
        .column(text_slot::Column::ContactId)
        .from(text_slot::Entity)
        .and_where(text_slot::Column::VolunteerId.eq(volunteer_id))
        .to_owned();
    contact::Entity::find()
        .filter(contact::Column::Id.in_subquery(slots))
        .filter(contact::Column::EndedAt.is_null())
        .order_by_asc(contact::Column::Id)
        .all(db)
        .await
}

/// Conversations whose current step (topic reply, offer, wait for a volunteer) ran out.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<contact::Model>, DbErr> {
    let waiting = [Stage::Menu, Stage::Offered, Stage::Holding];
    contact::Entity::find()
        .filter(contact::Column::Channel.eq(CHANNEL))
        .filter(contact::Column::Stage.is_in(waiting))
        .filter(contact::Column::RouteDeadline.lte(now))
        .filter(contact::Column::EndedAt.is_null())
        .order_by_asc(contact::Column::RouteDeadline)
        .limit(limit)
        .all(db)
        .await
}

/// Open conversations with no message for their helpline's inactivity timeout.
pub async fn inactive(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::Channel.eq(CHANNEL))
        .filter(contact::Column::ClosesAt.lte(now))
        .filter(contact::Column::EndedAt.is_null())
        .limit(limit)
        .all(db)
        .await
}

/// Logs a message that opens no conversation (from a blocked texter, or HELP alone) as a
/// contact closed at once with `outcome`; the stored contact, or `None` if this
/// MessageSid was already logged.
pub async fn record_closed(
    db: &impl ConnectionTrait,
    new: NewConversation,
    outcome: Outcome,
) -> Result<Option<contact::Model>, DbErr> {
    let closed = NewCall {
        channel: CHANNEL,
        helpline_id: new.helpline_id,
        call_sid: new.message_sid,
        dialed_number: new.dialed_number,
        caller_hash: new.texter_hash,
        caller_encrypted: Some(new.texter_sealed),
        caller_hint: new.texter_hint,
        stage: Stage::Ended,
        outcome: Some(outcome),
        received_at: new.at,
        route_deadline: new.at,
    };
    let (stored, created) = contacts::open_call(db, closed).await?;
    Ok(created.then_some(stored))
}
