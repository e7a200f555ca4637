//! The server's generated secrets, shared by every instance through the database.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, sea_query::OnConflict};
use secrecy::SecretString;

use super::entities::server_secret;

pub const SECRET_KEY: &str = "secret_key";
/// The check value of the key the data is sealed under (never the key itself).
pub const KEY_CHECK: &str = "secret_key_check";
/// Set once what earlier versions kept in the clear has been sealed.
pub const SEALED_AT_REST: &str = "sealed_at_rest";

/// The stored secret named `name`, if any.
pub async fn get(db: &DatabaseConnection, name: &str) -> Result<Option<SecretString>, DbErr> {
    Ok(server_secret::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|found| found.value.into()))
}

/// Stores `value` as the secret named `name`, replacing any.
pub async fn set(
    db: &DatabaseConnection,
    name: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = server_secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(value.to_owned()),
        created_at: Set(now),
    };
    server_secret::Entity::insert(row)
        .on_conflict(
            OnConflict::column(server_secret::Column::Name)
                .update_columns([
                    server_secret::Column::Value,
                    server_secret::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Removes the stored secret named `name`.
pub async fn delete(db: &DatabaseConnection, name: &str) -> Result<(), DbErr> {
    server_secret::Entity::delete_by_id(name.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// One sealed phone number, to test a key against: the latest contact's, else the latest
/// outbox message's.
pub async fn sealed_sample(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

    use super::entities::{contact, outbox_message};
    let from_contact = contact::Entity::find()
        .filter(contact::Column::CallerEncrypted.is_not_null())
        .order_by_desc(contact::Column::Id)
        .one(db)
        .await?
        .and_then(|c| c.caller_encrypted);
    if from_contact.is_some() {
        return Ok(from_contact);
    }
    Ok(outbox_message::Entity::find()
        .filter(outbox_message::Column::ToEncrypted.ne(""))
        .order_by_desc(outbox_message::Column::Id)
        .one(db)
        .await?
        .map(|m| m.to_encrypted))
}

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
