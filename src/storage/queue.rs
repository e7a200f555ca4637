//! What a holding caller is told about the queue: who is ahead of them, how long recent
//! callers waited, and what they were last told.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::contacts::{self, Stage};
use super::entities::contact;
use crate::domain::callback::QueueSaid;
use crate::domain::contact::EventKind;
use crate::domain::ids::{ContactId, HelplineId};
use crate::domain::rota::Channel;

/// How far back the recent waits go, and how many of them count.
const RECENT: Duration = Duration::days(7);
const RECENT_SAMPLES: u64 = 200;
/// A wait shorter than this was answered at once, not after holding.
const HELD_SECS: i32 = 30;

/// Callers of the helpline who are holding or waiting for a callback and arrived before
/// `received_at`.
pub async fn callers_ahead(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    received_at: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let ahead = contact::Entity::find()
        .filter(contact::Column::HelplineId.eq(helpline_id))
        .filter(contact::Column::Channel.eq(Channel::Voice))
        .filter(contact::Column::EndedAt.is_null())
        .filter(contact::Column::AnsweredAt.is_null())
        .filter(contact::Column::Stage.is_in([Stage::Holding, Stage::Callback]))
        .filter(contact::Column::ReceivedAt.lt(received_at))
        .count(db)
        .await?;
    Ok(usize::try_from(ahead).unwrap_or(usize::MAX))
}

/// Seconds the helpline's recent callers who held waited before a volunteer answered,
/// newest first (by arrival, along the helpline's arrival index).
pub async fn recent_held_waits(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    now: DateTime<Utc>,
) -> Result<Vec<i32>, DbErr> {
    let waits: Vec<Option<i32>> = contact::Entity::find()
        .select_only()
        .column(contact::Column::WaitSecs)
        .filter(contact::Column::HelplineId.eq(helpline_id))
        .filter(contact::Column::Channel.eq(Channel::Voice))
        .filter(contact::Column::ReceivedAt.gte(now - RECENT))
        .filter(contact::Column::AnsweredBy.is_not_null())
        .filter(contact::Column::WaitSecs.gte(HELD_SECS))
        .order_by_desc(contact::Column::ReceivedAt)
        .limit(RECENT_SAMPLES)
        .into_tuple()
        .all(db)
        .await?;
    Ok(waits.into_iter().flatten().collect())
}

/// What the caller was last told about the queue, from their last hold.
pub async fn last_said(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<QueueSaid, DbErr> {
    let last = contacts::latest_event(db, contact_id, EventKind::Holding).await?;
    Ok(last
        .and_then(|event| event.detail)
        .and_then(|detail| serde_json::from_str(&detail).ok())
        .unwrap_or_default())
}
