//! Volunteers (peer supporters) and the helplines each one serves.

use sea_orm_migration::{prelude::*, schema::*};

use crate::cascade;
use crate::m20261122_000001_helplines::Helplines;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Volunteers {
    Table,
    Id,
    Name,
    Phone,
    TimeZone,
    Languages,
    TrainingStatus,
    TrainingCompletedOn,
    RefresherDueOn,
    TrainedVoice,
    TrainedSms,
    Active,
    MaxContactsPerShift,
    LongContactMinutes,
    RestMinutesAfterLong,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum VolunteerHelplines {
    Table,
    VolunteerId,
    HelplineId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Volunteers::Table)
                    .col(pk_auto(Volunteers::Id))
                    .col(string(Volunteers::Name))
                    .col(string_uniq(Volunteers::Phone))
                    .col(string(Volunteers::TimeZone))
                    .col(text(Volunteers::Languages))
                    .col(string(Volunteers::TrainingStatus))
                    .col(date_null(Volunteers::TrainingCompletedOn))
                    .col(date_null(Volunteers::RefresherDueOn))
                    .col(boolean(Volunteers::TrainedVoice))
                    .col(boolean(Volunteers::TrainedSms))
                    .col(boolean(Volunteers::Active))
                    .col(integer(Volunteers::MaxContactsPerShift))
                    .col(integer(Volunteers::LongContactMinutes))
                    .col(integer(Volunteers::RestMinutesAfterLong))
                    .col(timestamp_with_time_zone(Volunteers::CreatedAt))
                    .col(timestamp_with_time_zone(Volunteers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VolunteerHelplines::Table)
                    .col(integer(VolunteerHelplines::VolunteerId))
                    .col(integer(VolunteerHelplines::HelplineId))
                    .primary_key(
                        Index::create()
                            .col(VolunteerHelplines::VolunteerId)
                            .col(VolunteerHelplines::HelplineId),
                    )
                    .foreign_key(&mut cascade(
                        VolunteerHelplines::Table,
                        VolunteerHelplines::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .foreign_key(&mut cascade(
                        VolunteerHelplines::Table,
                        VolunteerHelplines::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(VolunteerHelplines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Volunteers::Table).to_owned())
            .await
    }
}
