//! Text slots: a volunteer holds one slot per text conversation offered to them or taken
//! by them, numbered below their capacity. The primary key (volunteer, slot) makes taking
//! a slot atomic across servers, so no volunteer is ever over capacity.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::OnConflict,
};

use super::entities::text_slot;
use crate::domain::ids::{ContactId, VolunteerId};

/// Takes a free slot below `capacity` for the volunteer and this conversation; true when
/// they hold one (including one they already held for it).
pub async fn take(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    contact_id: ContactId,
    capacity: u32,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let held = text_slot::Entity::find()
        .filter(text_slot::Column::VolunteerId.eq(volunteer_id))
        .filter(text_slot::Column::ContactId.eq(contact_id))
        .one(db)
        .await?;
    if held.is_some() {
        return Ok(true);
    }
    for slot in 0..i32::try_from(capacity).unwrap_or(1) {
        let row = text_slot::ActiveModel {
            volunteer_id: Set(volunteer_id),
            slot: Set(slot),
            contact_id: Set(contact_id),
            taken_at: Set(at),
        };
        let inserted = text_slot::Entity::insert(row)
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        if inserted == 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Frees the volunteer's slot for this conversation.
pub async fn release(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    contact_id: ContactId,
) -> Result<(), DbErr> {
    text_slot::Entity::delete_many()
        .filter(text_slot::Column::VolunteerId.eq(volunteer_id))
        .filter(text_slot::Column::ContactId.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Frees every slot held for this conversation.
pub async fn release_contact(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<(), DbErr> {
    text_slot::Entity::delete_many()
        .filter(text_slot::Column::ContactId.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
}

/// One entry per held slot: the volunteers engaged in text conversations.
pub async fn holders(db: &impl ConnectionTrait) -> Result<Vec<VolunteerId>, DbErr> {
    text_slot::Entity::find()
        .select_only()
        .column(text_slot::Column::VolunteerId)
        .into_tuple()
        .all(db)
        .await
}
