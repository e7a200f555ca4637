//! Volunteers' calendar feeds. A volunteer has at most one live feed: a new one revokes
//! the old address.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

use super::entities::calendar_feed;

/// Revokes the volunteer's live feed, if any; returns how many were revoked.
pub async fn revoke(
    db: &impl ConnectionTrait,
    volunteer_id: i32,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let revoked = calendar_feed::Entity::update_many()
        .col_expr(calendar_feed::Column::RevokedAt, now.into())
        .filter(calendar_feed::Column::VolunteerId.eq(volunteer_id))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(revoked.rows_affected)
}

/// Gives the volunteer a new feed whose token has `token_hash`, revoking the old one.
pub async fn replace(
    db: &impl ConnectionTrait,
    volunteer_id: i32,
    token_hash: String,
    now: DateTime<Utc>,
) -> Result<calendar_feed::Model, DbErr> {
    revoke(db, volunteer_id, now).await?;
    calendar_feed::ActiveModel {
        volunteer_id: Set(volunteer_id),
        token_hash: Set(token_hash),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The volunteer whose live feed has this token hash.
pub async fn volunteer_for(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<i32>, DbErr> {
    Ok(calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(token_hash))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .map(|feed| feed.volunteer_id))
}
