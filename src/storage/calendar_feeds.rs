//! Calendar feeds: volunteers' feeds of their own rota (at most one live feed each: a new
//! one revokes the old address) and coordinators' feeds of a helpline's gaps (one live
//! feed per person and helpline). Each feed remembers when what it serves last changed.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};

use super::entities::{calendar_feed, gap_feed, user, user_helpline};
use crate::domain::access::Role;
use crate::domain::ids::{HelplineId, UserId, VolunteerId};

/// Revokes the volunteer's live feed, if any; returns how many were revoked.
pub async fn revoke(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
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
    volunteer_id: VolunteerId,
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

/// The live volunteer feed with this token hash.
pub async fn volunteer_feed_for(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<calendar_feed::Model>, DbErr> {
    calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(token_hash))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .one(db)
        .await
}

/// Revokes `user_id`'s live gap feed of the helpline, if any; returns how many were revoked.
pub async fn revoke_gap_feed(
    db: &impl ConnectionTrait,
    user_id: UserId,
    helpline_id: HelplineId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let revoked = gap_feed::Entity::update_many()
        .col_expr(gap_feed::Column::RevokedAt, now.into())
        .filter(gap_feed::Column::UserId.eq(user_id))
        .filter(gap_feed::Column::HelplineId.eq(helpline_id))
        .filter(gap_feed::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(revoked.rows_affected)
}

/// Gives `user_id` a new feed of the helpline's gaps whose token has `token_hash`,
/// revoking their old one.
pub async fn replace_gap_feed(
    db: &impl ConnectionTrait,
    (user_id, helpline_id): (UserId, HelplineId),
    token_hash: String,
    now: DateTime<Utc>,
) -> Result<gap_feed::Model, DbErr> {
    revoke_gap_feed(db, user_id, helpline_id, now).await?;
    gap_feed::ActiveModel {
        user_id: Set(user_id),
        helpline_id: Set(helpline_id),
        token_hash: Set(token_hash),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The live gap feed with this token hash, while the person it was issued to still
/// manages the helpline (an admin, or one of its supervisors).
pub async fn gap_feed_for(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<gap_feed::Model>, DbErr> {
    let Some(feed) = gap_feed::Entity::find()
        .filter(gap_feed::Column::TokenHash.eq(token_hash))
        .filter(gap_feed::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let supervisors = user_helpline::Entity::find()
        .select_only()
        .column(user_helpline::Column::UserId)
        .filter(user_helpline::Column::HelplineId.eq(feed.helpline_id))
        .into_query();
    let still_manages = user::Entity::find_by_id(feed.user_id)
        .filter(
            Condition::any()
                .add(user::Column::Role.eq(Role::Admin))
                .add(
                    Condition::all()
                        .add(user::Column::Role.eq(Role::Supervisor))
                        .add(user::Column::Id.in_subquery(supervisors)),
                ),
        )
        .one(db)
        .await?
        .is_some();
    Ok(still_manages.then_some(feed))
}

/// A feed, by kind and id.
#[derive(Debug, Clone, Copy)]
pub enum Feed {
    Volunteer(i32),
    Gaps(i32),
}

/// Notes that `feed` now serves content with `content_hash`; returns when that content
/// was first served (the feed's `Last-Modified`).
pub async fn content_served(
    db: &impl ConnectionTrait,
    feed: Feed,
    content_hash: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, DbErr> {
    let held = match feed {
        Feed::Volunteer(id) => calendar_feed::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|f| (f.content_hash, f.content_changed_at)),
        Feed::Gaps(id) => gap_feed::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|f| (f.content_hash, f.content_changed_at)),
    };
    let (held_hash, held_since) = held.unwrap_or_default();
    if let (Some(hash), Some(since)) = (held_hash, held_since)
        && hash == content_hash
    {
        return Ok(since);
    }
    // `Last-Modified` counts whole seconds: a change within the second of the last one
    // is dated a second later, so a calendar asking "since" that date still gets it.
    let changed_at = match held_since {
        Some(since) if since.timestamp() >= now.timestamp() => since + Duration::seconds(1),
        _ => now,
    };
    match feed {
        Feed::Volunteer(id) => {
            calendar_feed::Entity::update_many()
                .col_expr(calendar_feed::Column::ContentHash, content_hash.into())
                .col_expr(calendar_feed::Column::ContentChangedAt, changed_at.into())
                .filter(calendar_feed::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        Feed::Gaps(id) => {
            gap_feed::Entity::update_many()
                .col_expr(gap_feed::Column::ContentHash, content_hash.into())
                .col_expr(gap_feed::Column::ContentChangedAt, changed_at.into())
                .filter(gap_feed::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
    }
    Ok(changed_at)
}
