//! Phone numbers and words kept sealed at rest. Volunteers' and staff's phones are stored
//! sealed, so each gets a keyed hash to be found by (and, for volunteers, to stay unique
//! by). Blocks, conflicts and opt-outs keep their number sealed beside its hash, so that a
//! move to a new secret key can hash them again. The sealing itself needs the key, so the
//! server does it when it starts (see `storage::sealing`), not this migration.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sealing {
    PhoneHash,
    NumberSealed,
}

fn table(name: &'static str) -> Alias {
    Alias::new(name)
}

/// The tables that keep a number only as its hash until now.
const HASHED_NUMBERS: [&str; 3] = ["conflicts", "blocked_callers", "text_opt_outs"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for phones in ["volunteers", "users"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table(phones))
                        .add_column(string_len_null(Sealing::PhoneHash, 64))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(unique_index(
                "volunteers_phone_hash",
                table("volunteers"),
                &["phone_hash"],
            ))
            .await?;
        manager
            .create_index(index("users_phone_hash", table("users"), &["phone_hash"]))
            .await?;
        for numbers in HASHED_NUMBERS {
            manager
                .alter_table(
                    Table::alter()
                        .table(table(numbers))
                        .add_column(text_null(Sealing::NumberSealed))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for numbers in HASHED_NUMBERS {
            manager
                .alter_table(
                    Table::alter()
                        .table(table(numbers))
                        .drop_column(Sealing::NumberSealed)
                        .to_owned(),
                )
                .await?;
        }
        for (phones, index) in [
            ("volunteers", "volunteers_phone_hash"),
            ("users", "users_phone_hash"),
        ] {
            manager
                .drop_index(Index::drop().name(index).table(table(phones)).to_owned())
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(table(phones))
                        .drop_column(Sealing::PhoneHash)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
