//! Who opted out of texts from which helpline number, mirroring what the carrier enforces
//! after STOP, so that peerline queues nothing it would refuse.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};

use super::entities::text_opt_out;

pub async fn opt_out(
    db: &impl ConnectionTrait,
    number_hash: &str,
    helpline_number: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = text_opt_out::ActiveModel {
        number_hash: Set(number_hash.to_owned()),
        helpline_number: Set(helpline_number.to_owned()),
        opted_out_at: Set(at),
    };
    text_opt_out::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn opt_in(
    db: &impl ConnectionTrait,
    number_hash: &str,
    helpline_number: &str,
) -> Result<(), DbErr> {
    text_opt_out::Entity::delete_many()
        .filter(text_opt_out::Column::NumberHash.eq(number_hash))
        .filter(text_opt_out::Column::HelplineNumber.eq(helpline_number))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn is_opted_out(
    db: &impl ConnectionTrait,
    number_hash: &str,
    helpline_number: &str,
) -> Result<bool, DbErr> {
    Ok(text_opt_out::Entity::find()
        .filter(text_opt_out::Column::NumberHash.eq(number_hash))
        .filter(text_opt_out::Column::HelplineNumber.eq(helpline_number))
        .one(db)
        .await?
        .is_some())
}
