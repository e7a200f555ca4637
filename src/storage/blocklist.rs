//! Callers a helpline refuses, kept only as keyed hashes of their numbers.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::{Sealed, blocked_caller};
use crate::domain::ids::HelplineId;

/// Whether the number with this hash is blocked at `helpline_id` at `at`.
pub async fn is_blocked(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    number_hashes: &[String],
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let found = blocked_caller::Entity::find()
        .filter(blocked_caller::Column::HelplineId.eq(helpline_id))
        .filter(blocked_caller::Column::NumberHash.is_in(number_hashes.to_vec()))
        .filter(
            Condition::any()
                .add(blocked_caller::Column::ExpiresAt.is_null())
                .add(blocked_caller::Column::ExpiresAt.gt(at)),
        )
        .one(db)
        .await?;
    Ok(found.is_some())
}

pub async fn list(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
) -> Result<Vec<blocked_caller::Model>, DbErr> {
    blocked_caller::Entity::find()
        .filter(blocked_caller::Column::HelplineId.eq(helpline_id))
        .order_by_asc(blocked_caller::Column::Id)
        .all(db)
        .await
}

pub struct NewBlock {
    pub helpline_id: HelplineId,
    pub number_hash: String,
    pub number_hint: String,
    /// The number, sealed, when it is known (a move to a new key hashes it again).
    pub number_sealed: Option<Sealed>,
    pub reason: Option<Sealed>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    block: NewBlock,
    now: DateTime<Utc>,
) -> Result<blocked_caller::Model, DbErr> {
    blocked_caller::ActiveModel {
        helpline_id: Set(block.helpline_id),
        number_hash: Set(block.number_hash),
        number_hint: Set(block.number_hint),
        reason: Set(block.reason),
        number_sealed: Set(block.number_sealed),
        expires_at: Set(block.expires_at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Lifts the block on the number with this hash; true if there was one.
pub async fn delete_number(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    number_hashes: &[String],
) -> Result<bool, DbErr> {
    let result = blocked_caller::Entity::delete_many()
        .filter(blocked_caller::Column::HelplineId.eq(helpline_id))
        .filter(blocked_caller::Column::NumberHash.is_in(number_hashes.to_vec()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn delete(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    id: i32,
) -> Result<bool, DbErr> {
    super::delete_owned::<blocked_caller::Entity>(
        db,
        (blocked_caller::Column::Id, id),
        (blocked_caller::Column::HelplineId, helpline_id),
    )
    .await
}
