//! What follows a contact: the volunteer's report (never rewritten: each change is a new
//! version), the flags raised on the contact (by the volunteer or by peerline itself),
//! and the debriefs volunteers asked for.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr, sea_query::OnConflict,
};

use super::Scope;
use super::entities::{Sealed, contact_flag, contact_report, debrief};
use crate::domain::ids::{ContactId, HelplineId, UserId, VolunteerId};
use crate::domain::supervision::{Flag, ReportInput};
use crate::secrets::Vault;

/// Stores `report` as the contact's next version.
pub async fn add_report_version(
    db: &impl ConnectionTrait,
    vault: &Vault,
    contact_id: ContactId,
    volunteer_id: VolunteerId,
    report: &ReportInput,
    at: DateTime<Utc>,
) -> Result<contact_report::Model, DbErr> {
    let latest: Option<i32> = contact_report::Entity::find()
        .select_only()
        .column_as(contact_report::Column::Version.max(), "latest")
        .filter(contact_report::Column::ContactId.eq(contact_id))
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    let row = contact_report::ActiveModel {
        contact_id: Set(contact_id),
        volunteer_id: Set(volunteer_id),
        version: Set(latest.unwrap_or(0) + 1),
        notes: Set(Sealed::seal_some(vault, report.notes.as_deref())),
        outcome_tags: Set(serde_json::Value::from(report.outcome_tags.clone()).to_string()),
        flags: Set(serde_json::Value::from(
            report.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        )
        .to_string()),
        created_at: Set(at),
        ..Default::default()
    };
    contact_report::Entity::insert(row)
        .exec_with_returning(db)
        .await
}

/// Every version of the contact's report, oldest first.
pub async fn report_versions(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Vec<contact_report::Model>, DbErr> {
    contact_report::Entity::find()
        .filter(contact_report::Column::ContactId.eq(contact_id))
        .order_by_asc(contact_report::Column::Version)
        .all(db)
        .await
}

/// Raises `flag` on the contact unless it is already raised; true if this raised it.
pub async fn raise_flag(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    flag: Flag,
    raised_by: Option<VolunteerId>,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = contact_flag::ActiveModel {
        contact_id: Set(contact_id),
        flag: Set(flag),
        raised_at: Set(at),
        raised_by: Set(raised_by),
        ..Default::default()
    };
    let inserted = contact_flag::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([contact_flag::Column::ContactId, contact_flag::Column::Flag])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The flags on the contact not yet resolved.
pub async fn open_flags(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Vec<Flag>, DbErr> {
    contact_flag::Entity::find()
        .select_only()
        .column(contact_flag::Column::Flag)
        .filter(contact_flag::Column::ContactId.eq(contact_id))
        .filter(contact_flag::Column::ResolvedAt.is_null())
        .into_tuple()
        .all(db)
        .await
}

/// Resolves an open flag with the action taken; false if it was not open.
pub async fn resolve_flag(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    flag: Flag,
    user_id: UserId,
    action: &Sealed,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = contact_flag::Entity::update_many()
        .col_expr(contact_flag::Column::ResolvedAt, Expr::value(at))
        .col_expr(contact_flag::Column::ResolvedBy, Expr::value(user_id))
        .col_expr(contact_flag::Column::Action, Expr::value(action.clone()))
        .filter(contact_flag::Column::ContactId.eq(contact_id))
        .filter(contact_flag::Column::Flag.eq(flag))
        .filter(contact_flag::Column::ResolvedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// When each volunteer last flagged one of their contacts, since `since`: a flagged
/// contact starts a rest period like a long one.
pub async fn latest_flags_by_volunteer(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
    only: Option<VolunteerId>,
) -> Result<Vec<(VolunteerId, DateTime<Utc>)>, DbErr> {
    let mut flags = contact_flag::Entity::find()
        .select_only()
        .column(contact_flag::Column::RaisedBy)
        .column_as(contact_flag::Column::RaisedAt.max(), "latest")
        .filter(contact_flag::Column::RaisedBy.is_not_null());
    if let Some(volunteer) = only {
        flags = flags.filter(contact_flag::Column::RaisedBy.eq(volunteer));
    }
    flags
        .filter(contact_flag::Column::RaisedAt.gte(since))
        .group_by(contact_flag::Column::RaisedBy)
        .into_tuple::<(Option<VolunteerId>, DateTime<Utc>)>()
        .all(db)
        .await
        .map(|rows| {
            rows.into_iter()
                .filter_map(|(v, at)| v.map(|v| (v, at)))
                .collect()
        })
}

/// Queues a debrief for the volunteer about the contact, once.
pub async fn request_debrief(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    volunteer_id: VolunteerId,
    contact_id: ContactId,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = debrief::ActiveModel {
        helpline_id: Set(helpline_id),
        volunteer_id: Set(volunteer_id),
        contact_id: Set(Some(contact_id)),
        requested_at: Set(at),
        ..Default::default()
    };
    debrief::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([debrief::Column::ContactId, debrief::Column::VolunteerId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Suggests a supervisor's check-in with the volunteer, about no one contact (they stepped
/// back often), unless one is already waiting on that helpline; true if it did.
pub async fn suggest_check_in(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    volunteer_id: VolunteerId,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let waiting = debrief::Entity::find()
        .filter(debrief::Column::HelplineId.eq(helpline_id))
        .filter(debrief::Column::VolunteerId.eq(volunteer_id))
        .filter(debrief::Column::ContactId.is_null())
        .filter(debrief::Column::DoneAt.is_null())
        .one(db)
        .await?;
    if waiting.is_some() {
        return Ok(false);
    }
    let row = debrief::ActiveModel {
        helpline_id: Set(helpline_id),
        volunteer_id: Set(volunteer_id),
        contact_id: Set(None),
        requested_at: Set(at),
        ..Default::default()
    };
    debrief::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(true)
}

/// The debriefs of the scope's helplines, open ones only unless `include_done`; oldest
/// request first.
pub async fn debriefs(
    db: &impl ConnectionTrait,
    scope: &Scope,
    include_done: bool,
) -> Result<Vec<debrief::Model>, DbErr> {
    let mut query = debrief::Entity::find();
    match scope {
        Scope::All => {}
        Scope::Helplines(ids) => {
            query = query.filter(debrief::Column::HelplineId.is_in(ids.clone()));
        }
        Scope::Volunteer { volunteer_id, .. } => {
            query = query.filter(debrief::Column::VolunteerId.eq(*volunteer_id));
        }
    }
    if !include_done {
        query = query.filter(debrief::Column::DoneAt.is_null());
    }
    query
        .order_by_asc(debrief::Column::RequestedAt)
        .order_by_asc(debrief::Column::Id)
        .limit(500)
        .all(db)
        .await
}

/// Marks a debrief of the scope's helplines done; `None` if it is not visible or was done.
/// Volunteers hold no debriefs.
pub async fn finish_debrief(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: i32,
    user_id: UserId,
    notes: Option<Sealed>,
    at: DateTime<Utc>,
) -> Result<Option<debrief::Model>, DbErr> {
    let mut update = debrief::Entity::update_many()
        .col_expr(debrief::Column::DoneAt, Expr::value(at))
        .col_expr(debrief::Column::DoneBy, Expr::value(user_id))
        .col_expr(debrief::Column::Notes, Expr::value(notes))
        .filter(debrief::Column::Id.eq(id))
        .filter(debrief::Column::DoneAt.is_null());
    match scope {
        Scope::All => {}
        Scope::Helplines(ids) => {
            update = update.filter(debrief::Column::HelplineId.is_in(ids.clone()));
        }
        Scope::Volunteer { .. } => return Ok(None),
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Ok(None);
    }
    debrief::Entity::find_by_id(id).one(db).await
}
