//! Reservations: the row that says a volunteer is being rung for, or is on, a call. The
//! volunteer id is the primary key, so two calls can never hold the same volunteer, even
//! from two servers sharing the database. A reservation whose callback was lost expires
//! by itself: taking a volunteer succeeds over an expired row.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use super::entities::reservation;
use crate::domain::ids::{ContactId, VolunteerId};

pub const RINGING: &str = "ringing";
pub const CONNECTED: &str = "connected";

/// On a volunteer's existing row: replace it with the new reservation.
fn take_over() -> OnConflict {
    OnConflict::column(reservation::Column::VolunteerId)
        .update_columns([
            reservation::Column::ContactId,
            reservation::Column::State,
            reservation::Column::ExpiresAt,
        ])
        .to_owned()
}

/// Reserves `volunteer_id` for `contact_id` until `expires_at`, unless someone else holds
/// an unexpired reservation. One statement, so it is atomic on SQLite and PostgreSQL.
pub async fn reserve(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    contact_id: ContactId,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = reservation::ActiveModel {
        volunteer_id: Set(volunteer_id),
        contact_id: Set(contact_id),
        state: Set(RINGING.to_owned()),
        expires_at: Set(expires_at),
    };
    let taken = reservation::Entity::insert(row)
        .on_conflict(
            take_over()
                .action_and_where(
                    Expr::col((reservation::Entity, reservation::Column::ExpiresAt))
                        .lte(now)
                        .or(
                            Expr::col((reservation::Entity, reservation::Column::ContactId))
                                .eq(contact_id),
                        ),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(taken == 1)
}

/// Turns the volunteer's reservation for this contact into a connected call.
pub async fn connect(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    contact_id: ContactId,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = reservation::ActiveModel {
        volunteer_id: Set(volunteer_id),
        contact_id: Set(contact_id),
        state: Set(CONNECTED.to_owned()),
        expires_at: Set(expires_at),
    };
    // The volunteer is on this call whatever happened to the ring reservation.
    reservation::Entity::insert(row)
        .on_conflict(take_over().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Frees the volunteer if their reservation is for this contact.
pub async fn release(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    contact_id: ContactId,
) -> Result<(), DbErr> {
    reservation::Entity::delete_many()
        .filter(reservation::Column::VolunteerId.eq(volunteer_id))
        .filter(reservation::Column::ContactId.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Frees every volunteer held for this contact.
pub async fn release_contact(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<(), DbErr> {
    reservation::Entity::delete_many()
        .filter(reservation::Column::ContactId.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Volunteers held by an unexpired reservation.
pub async fn engaged(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<VolunteerId>, DbErr> {
    reservation::Entity::find()
        .select_only()
        .column(reservation::Column::VolunteerId)
        .filter(reservation::Column::ExpiresAt.gt(now))
        .into_tuple()
        .all(db)
        .await
}
