//! Volunteers' step-backs: kept with when they start and end, never why.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};

use super::entities::step_back;
use crate::domain::ids::{TopicId, UserId, VolunteerId};
use crate::domain::rota::Interval;
use crate::domain::step_back::StepBack;

/// A step-back to record.
pub struct NewStepBack {
    pub volunteer_id: VolunteerId,
    pub topic_id: Option<TopicId>,
    pub starts_at: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub shifts: Option<i32>,
    pub created_by: Option<UserId>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewStepBack,
    now: DateTime<Utc>,
) -> Result<step_back::Model, DbErr> {
    let created = step_back::ActiveModel {
        volunteer_id: Set(new.volunteer_id),
        topic_id: Set(new.topic_id),
        starts_at: Set(new.starts_at),
        until: Set(new.until),
        shifts: Set(new.shifts),
        created_by: Set(new.created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    super::rota_history::record(db, &[created.volunteer_id], now).await?;
    Ok(created)
}

/// The volunteer's step-backs not yet over at `now`, soonest to end first.
pub async fn in_force_or_ahead(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    now: DateTime<Utc>,
) -> Result<Vec<step_back::Model>, DbErr> {
    step_back::Entity::find()
        .filter(step_back::Column::VolunteerId.eq(volunteer_id))
        .filter(step_back::Column::Until.gt(now))
        .filter(step_back::Column::EndedAt.is_null())
        .order_by_asc(step_back::Column::Until)
        .order_by_asc(step_back::Column::Id)
        .all(db)
        .await
}

/// When the volunteer's step-backs since `since` were asked for.
pub async fn asked_since(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, DbErr> {
    Ok(step_back::Entity::find()
        .filter(step_back::Column::VolunteerId.eq(volunteer_id))
        .filter(step_back::Column::CreatedAt.gt(since))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.created_at)
        .collect())
}

/// Ends a step-back of `volunteer_id` now; false if there is none such still to run.
pub async fn end(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    id: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let ended = step_back::Entity::update_many()
        .col_expr(step_back::Column::EndedAt, Expr::value(now))
        .col_expr(step_back::Column::Until, Expr::value(now))
        .filter(step_back::Column::Id.eq(id))
        .filter(step_back::Column::VolunteerId.eq(volunteer_id))
        .filter(step_back::Column::EndedAt.is_null())
        .filter(step_back::Column::Until.gt(now))
        .exec(db)
        .await?;
    if ended.rows_affected == 0 {
        return Ok(false);
    }
    super::rota_history::record(db, &[volunteer_id], now).await?;
    Ok(true)
}

/// Each of `volunteer_ids`'s step-backs not ended early, as the router reads them.
pub async fn of_volunteers(
    db: &impl ConnectionTrait,
    volunteer_ids: Vec<VolunteerId>,
) -> Result<HashMap<VolunteerId, Vec<StepBack>>, DbErr> {
    let rows = step_back::Entity::find()
        .filter(step_back::Column::VolunteerId.is_in(volunteer_ids))
        .filter(step_back::Column::EndedAt.is_null())
        .all(db)
        .await?;
    let mut by_volunteer: HashMap<VolunteerId, Vec<StepBack>> = HashMap::new();
    for row in rows {
        if let Ok(span) = Interval::new(row.starts_at, row.until) {
            by_volunteer
                .entry(row.volunteer_id)
                .or_default()
                .push(StepBack {
                    topic_id: row.topic_id,
                    span,
                });
        }
    }
    Ok(by_volunteer)
}
