//! Volunteers allowed to return missed calls on a helpline, and the missed calls they may
//! return: every read takes the helplines the volunteer was allowed on, so a volunteer
//! never sees a call of a helpline they were not allowed to return calls for.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};

use super::entities::{call_returner, contact};
use crate::domain::contact::Outcome;
use crate::domain::ids::{ContactId, HelplineId, UserId, VolunteerId};
use crate::domain::rota::Channel;

/// Allows the volunteer to return calls on the helpline (again, if they already were).
pub async fn grant(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    volunteer_id: VolunteerId,
    granted_by: UserId,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = call_returner::ActiveModel {
        helpline_id: Set(helpline_id),
        volunteer_id: Set(volunteer_id),
        granted_by: Set(granted_by),
        granted_at: Set(now),
    };
    call_returner::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                call_returner::Column::HelplineId,
                call_returner::Column::VolunteerId,
            ])
            .update_columns([
                call_returner::Column::GrantedBy,
                call_returner::Column::GrantedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Withdraws it; false if the volunteer was not allowed.
pub async fn revoke(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    volunteer_id: VolunteerId,
) -> Result<bool, DbErr> {
    let deleted = call_returner::Entity::delete_many()
        .filter(call_returner::Column::HelplineId.eq(helpline_id))
        .filter(call_returner::Column::VolunteerId.eq(volunteer_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Who may return calls on the helpline.
pub async fn of_helpline(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Vec<call_returner::Model>, DbErr> {
    call_returner::Entity::find()
        .filter(call_returner::Column::HelplineId.eq(helpline_id))
        .order_by_asc(call_returner::Column::VolunteerId)
        .all(db)
        .await
}

/// The helplines on which the volunteer may return calls.
pub async fn helplines_of(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
) -> Result<Vec<HelplineId>, DbErr> {
    call_returner::Entity::find()
        .select_only()
        .column(call_returner::Column::HelplineId)
        .filter(call_returner::Column::VolunteerId.eq(volunteer_id))
        .into_tuple()
        .all(db)
        .await
}

/// Calls nobody answered (voicemails, calls abandoned or whose callback failed) on these
/// helplines since `since`, newest first, at most `limit`.
pub async fn missed_calls(
    db: &impl ConnectionTrait,
    helplines: &[HelplineId],
    since: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::HelplineId.is_in(helplines.iter().copied()))
        .filter(contact::Column::Channel.eq(Channel::Voice))
        .filter(contact::Column::ReceivedAt.gte(since))
        .filter(contact::Column::AnsweredBy.is_null())
        .filter(contact::Column::EndedAt.is_not_null())
        .filter(contact::Column::Outcome.is_in([
            Outcome::Voicemail,
            Outcome::Abandoned,
            Outcome::CallbackFailed,
        ]))
        .order_by_desc(contact::Column::ReceivedAt)
        .limit(limit)
        .all(db)
        .await
}

/// One missed call on these helplines.
pub async fn missed_call(
    db: &impl ConnectionTrait,
    helplines: &[HelplineId],
    contact_id: ContactId,
) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find_by_id(contact_id)
        .filter(contact::Column::HelplineId.is_in(helplines.iter().copied()))
        .filter(contact::Column::Channel.eq(Channel::Voice))
        .one(db)
        .await
}
