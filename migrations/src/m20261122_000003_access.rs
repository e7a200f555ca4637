//! Users, their helpline scopes and API tokens (stored only as hashes), and the
//! server's generated secrets.

use sea_orm_migration::{prelude::*, schema::*};

use crate::cascade;
use crate::m20261122_000001_helplines::Helplines;
use crate::m20261122_000002_volunteers::Volunteers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Name,
    Role,
    VolunteerId,
    Phone,
    TimeZone,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserHelplines {
    Table,
    UserId,
    HelplineId,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_auto(Users::Id))
                    .col(string(Users::Name))
                    .col(string(Users::Role))
                    .col(integer_null(Users::VolunteerId))
                    .col(string_null(Users::Phone))
                    .col(string_null(Users::TimeZone))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .foreign_key(&mut cascade(
                        Users::Table,
                        Users::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserHelplines::Table)
                    .col(integer(UserHelplines::UserId))
                    .col(integer(UserHelplines::HelplineId))
                    .primary_key(
                        Index::create()
                            .col(UserHelplines::UserId)
                            .col(UserHelplines::HelplineId),
                    )
                    .foreign_key(&mut cascade(
                        UserHelplines::Table,
                        UserHelplines::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut cascade(
                        UserHelplines::Table,
                        UserHelplines::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_auto(ApiTokens::Id))
                    .col(integer(ApiTokens::UserId))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .foreign_key(&mut cascade(
                        ApiTokens::Table,
                        ApiTokens::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServerSecrets::Table)
                    .col(string(ServerSecrets::Name).primary_key())
                    .col(text(ServerSecrets::Value))
                    .col(timestamp_with_time_zone(ServerSecrets::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServerSecrets::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ApiTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(UserHelplines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
