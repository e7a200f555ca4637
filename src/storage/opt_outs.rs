//! Who opted out of texts from which helpline number, mirroring what the carrier enforces
//! after STOP, so that peerline queues nothing it would refuse.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};

use super::entities::{Sealed, text_opt_out};
use crate::domain::phone::E164;
use crate::secrets::Vault;

/// Records that `number` opted out of texts from `helpline_number`.
pub async fn opt_out(
    db: &impl ConnectionTrait,
    vault: &Vault,
    number: &E164,
    helpline_number: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = text_opt_out::ActiveModel {
        number_hash: Set(vault.hash(number)),
        helpline_number: Set(helpline_number.to_owned()),
        opted_out_at: Set(at),
        number_sealed: Set(Some(Sealed(vault.seal(number)))),
    };
    text_opt_out::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records that `number` opted in again (texted START) to `helpline_number`.
pub async fn opt_in(
    db: &impl ConnectionTrait,
    vault: &Vault,
    number: &E164,
    helpline_number: &str,
) -> Result<(), DbErr> {
    text_opt_out::Entity::delete_many()
        .filter(text_opt_out::Column::NumberHash.is_in(vault.hashes(number)))
        .filter(text_opt_out::Column::HelplineNumber.eq(helpline_number))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether the number stored under any of `number_hashes` (see `Vault::hashes`) opted
/// out of texts from `helpline_number`.
pub async fn is_opted_out(
    db: &impl ConnectionTrait,
    number_hashes: &[String],
    helpline_number: &str,
) -> Result<bool, DbErr> {
    Ok(text_opt_out::Entity::find()
        .filter(text_opt_out::Column::NumberHash.is_in(number_hashes.to_vec()))
        .filter(text_opt_out::Column::HelplineNumber.eq(helpline_number))
        .one(db)
        .await?
        .is_some())
}
