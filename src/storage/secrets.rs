//! The server's generated secrets, shared by every instance through the database.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, sea_query::OnConflict};
use secrecy::SecretString;

use super::entities::server_secret;

pub const SECRET_KEY: &str = "secret_key";

/// Returns the stored secret named `name`, storing `generate()` first if there is none.
/// Safe when several instances start at once: the first insert wins and all read it.
/// The boolean is true when this call created it.
pub async fn get_or_create(
    db: &DatabaseConnection,
    name: &str,
    generate: impl FnOnce() -> String,
    now: DateTime<Utc>,
) -> Result<(SecretString, bool), DbErr> {
    if let Some(found) = server_secret::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
    {
        return Ok((found.value.into(), false));
    }
    let row = server_secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(generate()),
        created_at: Set(now),
    };
    let inserted = server_secret::Entity::insert(row)
        .on_conflict(
            OnConflict::column(server_secret::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let stored = server_secret::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("server secret {name}")))?;
    Ok((stored.value.into(), inserted == 1))
}
