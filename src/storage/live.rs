//! What is happening now across every server, for `/metrics`: callers holding, volunteers
//! held by a call, text slots taken.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::contacts::Stage;
use super::entities::{contact, reservation, text_slot};
use crate::domain::ids::HelplineId;

/// A snapshot of the live figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    pub callers_holding: u64,
    /// When the caller holding longest arrived.
    pub longest_holding_since: Option<DateTime<Utc>>,
    pub reservations: u64,
    pub text_slots: u64,
}

pub async fn snapshot(db: &DatabaseConnection) -> Result<Live, DbErr> {
    let (callers_holding, longest_holding_since): (i64, Option<DateTime<Utc>>) =
        contact::Entity::find()
            .select_only()
            .column_as(contact::Column::Id.count(), "count")
            .column_as(contact::Column::ReceivedAt.min(), "oldest")
            .filter(contact::Column::Stage.eq(Stage::Holding))
            .filter(contact::Column::EndedAt.is_null())
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or((0, None));
    Ok(Live {
        callers_holding: u64::try_from(callers_holding).unwrap_or(0),
        longest_holding_since,
        reservations: reservation::Entity::find().count(db).await?,
        text_slots: text_slot::Entity::find().count(db).await?,
    })
}

/// The contacts of a helpline under way now (not ended), oldest first.
pub async fn open_contacts(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
) -> Result<Vec<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::HelplineId.eq(helpline_id))
        .filter(contact::Column::EndedAt.is_null())
        .filter(contact::Column::Stage.ne(Stage::Ended))
        .order_by_asc(contact::Column::ReceivedAt)
        .limit(500)
        .all(db)
        .await
}
