//! Signing in to the console: a console session is an API token of kind `console` (so
//! the audit log names it as it names a token) that lapses when unused; one-time sign-in
//! codes and links, stored only as keyed hashes; and each sign-in attempt, for the rate
//! limits per person and per address.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000003_access::Users;
use crate::{cascade, drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Kind,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum SignInCodes {
    Table,
    Id,
    UserId,
    Kind,
    SecretHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    FailedTries,
}

#[derive(DeriveIden)]
enum SignInAttempts {
    Table,
    Id,
    At,
    Address,
    UserId,
    Action,
    Succeeded,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(ApiTokens::Table)
                    .add_column(string_len(ApiTokens::Kind, 16).default("api"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiTokens::Table)
                    .add_column(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignInCodes::Table)
                    .col(pk_auto(SignInCodes::Id))
                    .col(integer(SignInCodes::UserId))
                    .col(string_len(SignInCodes::Kind, 16))
                    .col(string(SignInCodes::SecretHash))
                    .col(timestamp_with_time_zone(SignInCodes::CreatedAt))
                    .col(timestamp_with_time_zone(SignInCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SignInCodes::UsedAt))
                    .col(integer(SignInCodes::FailedTries).default(0))
                    .foreign_key(&mut cascade(
                        SignInCodes::Table,
                        SignInCodes::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "sign_in_codes_user",
                SignInCodes::Table,
                &["user_id", "created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignInAttempts::Table)
                    .col(pk_auto(SignInAttempts::Id))
                    .col(timestamp_with_time_zone(SignInAttempts::At))
                    .col(string_len(SignInAttempts::Address, 64))
                    .col(integer_null(SignInAttempts::UserId))
                    .col(string_len(SignInAttempts::Action, 16))
                    .col(boolean(SignInAttempts::Succeeded))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "sign_in_attempts_address",
                SignInAttempts::Table,
                &["address", "at"],
            ))
            .await?;
        manager
            .create_index(index(
                "sign_in_attempts_user",
                SignInAttempts::Table,
                &["user_id", "at"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                SignInAttempts::Table.into_iden(),
                SignInCodes::Table.into_iden(),
            ],
        )
        .await?;
        for column in [ApiTokens::LastUsedAt, ApiTokens::Kind] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
