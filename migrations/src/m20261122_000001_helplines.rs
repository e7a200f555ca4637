//! Helplines, the numbers callers dial, and the topics (shared experiences) they offer.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{cascade, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Helplines {
    Table,
    Id,
    Name,
    TimeZone,
    Greeting,
    VoiceLanguage,
    Languages,
    FallbackNumber,
    RingTimeoutSecs,
    RingGroupSize,
    MaxWaitSecs,
    ContinuityEnabled,
    ContinuityDays,
    ContinuityMaxRepeats,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HelplineNumbers {
    Table,
    Id,
    HelplineId,
    Number,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Topics {
    Table,
    Id,
    HelplineId,
    Key,
    Label,
    Digit,
    Strict,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Helplines::Table)
                    .col(pk_auto(Helplines::Id))
                    .col(string(Helplines::Name))
                    .col(string(Helplines::TimeZone))
                    .col(text(Helplines::Greeting))
                    .col(string(Helplines::VoiceLanguage))
                    .col(text(Helplines::Languages))
                    .col(string_null(Helplines::FallbackNumber))
                    .col(integer(Helplines::RingTimeoutSecs))
                    .col(integer(Helplines::RingGroupSize))
                    .col(integer(Helplines::MaxWaitSecs))
                    .col(boolean(Helplines::ContinuityEnabled))
                    .col(integer(Helplines::ContinuityDays))
                    .col(integer(Helplines::ContinuityMaxRepeats))
                    .col(timestamp_with_time_zone(Helplines::CreatedAt))
                    .col(timestamp_with_time_zone(Helplines::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HelplineNumbers::Table)
                    .col(pk_auto(HelplineNumbers::Id))
                    .col(integer(HelplineNumbers::HelplineId))
                    .col(string_uniq(HelplineNumbers::Number))
                    .col(timestamp_with_time_zone(HelplineNumbers::CreatedAt))
                    .foreign_key(&mut cascade(
                        HelplineNumbers::Table,
                        HelplineNumbers::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Topics::Table)
                    .col(pk_auto(Topics::Id))
                    .col(integer(Topics::HelplineId))
                    .col(string(Topics::Key))
                    .col(string(Topics::Label))
                    .col(integer_null(Topics::Digit))
                    .col(boolean(Topics::Strict))
                    .col(timestamp_with_time_zone(Topics::CreatedAt))
                    .foreign_key(&mut cascade(
                        Topics::Table,
                        Topics::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "topics_helpline_key",
                Topics::Table,
                &["helpline_id", "key"],
            ))
            .await?;
        manager
            .create_index(unique_index(
                "topics_helpline_digit",
                Topics::Table,
                &["helpline_id", "digit"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Topics::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(HelplineNumbers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Helplines::Table).to_owned())
            .await
    }
}
