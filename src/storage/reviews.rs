//! Supervisors' review of contacts: the history of review actions and each contact's
//! review state.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};

use super::Scope;
use super::contact_log;
use super::entities::{Sealed, contact, contact_flag, review};
use crate::domain::ids::{ContactId, HelplineId, UserId, VolunteerId};
use crate::domain::supervision::{PoolContact, ReviewAction, ReviewState};
use crate::secrets::Vault;

/// Moves the contact from `from` to `to`; false if another review changed it first.
pub async fn set_state(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    from: ReviewState,
    to: ReviewState,
) -> Result<bool, DbErr> {
    let result = contact::Entity::update_many()
        .col_expr(contact::Column::ReviewState, Expr::value(to))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::ReviewState.eq(from))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Appends a review action to the contact's history.
pub async fn record(
    db: &impl ConnectionTrait,
    vault: &Vault,
    contact_id: ContactId,
    user_id: UserId,
    action: &ReviewAction,
    at: DateTime<Utc>,
) -> Result<review::Model, DbErr> {
    let flag = match action {
        ReviewAction::ResolveFlag { flag, .. } => Some(flag.as_str().to_owned()),
        _ => None,
    };
    let row = review::ActiveModel {
        contact_id: Set(contact_id),
        user_id: Set(user_id),
        at: Set(at),
        action: Set(action.name().to_owned()),
        flag: Set(flag),
        comment: Set(Sealed::seal_some(vault, action.comment())),
        ..Default::default()
    };
    review::Entity::insert(row).exec_with_returning(db).await
}

/// The contact's review history, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Vec<review::Model>, DbErr> {
    review::Entity::find()
        .filter(review::Column::ContactId.eq(contact_id))
        .order_by_asc(review::Column::Id)
        .all(db)
        .await
}

/// Contacts of the scope with an open flag and not yet reviewed, oldest flag first.
pub async fn flagged_unreviewed(
    db: &impl ConnectionTrait,
    scope: &Scope,
    helpline_id: Option<HelplineId>,
    limit: u64,
) -> Result<Vec<contact::Model>, DbErr> {
    let open_flags = sea_orm::sea_query::Query::select()
        .column(contact_flag::Column::ContactId)
        .from(contact_flag::Entity)
        .and_where(contact_flag::Column::ResolvedAt.is_null())
        .to_owned();
    let mut query = contact::Entity::find()
        .filter(contact_log::visible(scope))
        .filter(contact::Column::ReviewState.ne(ReviewState::Reviewed))
        .filter(contact::Column::Id.in_subquery(open_flags));
    if let Some(id) = helpline_id {
        query = query.filter(contact::Column::HelplineId.eq(id));
    }
    query
        .order_by_asc(contact::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Answered, unflagged, unreviewed contacts of the scope received since `since`: the pool
/// the weekly review sample is drawn from.
pub async fn sample_pool(
    db: &impl ConnectionTrait,
    scope: &Scope,
    helpline_id: Option<HelplineId>,
    since: DateTime<Utc>,
) -> Result<Vec<PoolContact>, DbErr> {
    let flagged = sea_orm::sea_query::Query::select()
        .column(contact_flag::Column::ContactId)
        .from(contact_flag::Entity)
        .to_owned();
    let mut query = contact::Entity::find()
        .select_only()
        .columns([
            contact::Column::Id,
            contact::Column::HelplineId,
            contact::Column::AnsweredBy,
            contact::Column::ReceivedAt,
        ])
        .filter(contact_log::visible(scope))
        .filter(contact::Column::ReviewState.eq(ReviewState::Unreviewed))
        .filter(contact::Column::AnsweredBy.is_not_null())
        .filter(contact::Column::ReceivedAt.gte(since))
        .filter(contact::Column::Id.not_in_subquery(flagged));
    if let Some(id) = helpline_id {
        query = query.filter(contact::Column::HelplineId.eq(id));
    }
    let rows: Vec<(ContactId, HelplineId, Option<VolunteerId>, DateTime<Utc>)> =
        query.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(
            |(contact_id, helpline_id, volunteer_id, received_at)| PoolContact {
                contact_id,
                helpline_id,
                volunteer_id,
                received_at,
            },
        )
        .collect())
}

/// The contacts with these ids, oldest first.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: Vec<ContactId>,
) -> Result<Vec<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::Id.is_in(ids))
        .order_by_asc(contact::Column::Id)
        .all(db)
        .await
}
