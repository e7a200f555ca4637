//! The rota and what shapes it: topic sign-offs, weekly shifts, leave and extra shifts,
//! declared conflicts (numbers kept only as keyed hashes), and supervisors' on-call shifts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::{Helplines, Topics};
use crate::m20261122_000002_volunteers::Volunteers;
use crate::m20261122_000003_access::Users;
use crate::{cascade, drop_tables, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TopicSignoffs {
    Table,
    Id,
    VolunteerId,
    TopicId,
    SignedOffBy,
    SignedOffAt,
}

#[derive(DeriveIden)]
enum Shifts {
    Table,
    Id,
    VolunteerId,
    Weekday,
    StartTime,
    EndTime,
    Channels,
    ValidFrom,
    ValidUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RotaExceptions {
    Table,
    Id,
    VolunteerId,
    Kind,
    StartsAt,
    EndsAt,
    Channels,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Conflicts {
    Table,
    Id,
    VolunteerId,
    NumberHash,
    NumberHint,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OnCallShifts {
    Table,
    Id,
    HelplineId,
    UserId,
    Weekday,
    StartTime,
    EndTime,
    ValidFrom,
    ValidUntil,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TopicSignoffs::Table)
                    .col(pk_auto(TopicSignoffs::Id))
                    .col(integer(TopicSignoffs::VolunteerId))
                    .col(integer(TopicSignoffs::TopicId))
                    .col(integer_null(TopicSignoffs::SignedOffBy))
                    .col(timestamp_with_time_zone(TopicSignoffs::SignedOffAt))
                    .foreign_key(&mut cascade(
                        TopicSignoffs::Table,
                        TopicSignoffs::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .foreign_key(&mut cascade(
                        TopicSignoffs::Table,
                        TopicSignoffs::TopicId,
                        Topics::Table,
                        Topics::Id,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicSignoffs::Table, TopicSignoffs::SignedOffBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "topic_signoffs_volunteer_topic",
                TopicSignoffs::Table,
                &["volunteer_id", "topic_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Shifts::Table)
                    .col(pk_auto(Shifts::Id))
                    .col(integer(Shifts::VolunteerId))
                    .col(string(Shifts::Weekday))
                    .col(string_len(Shifts::StartTime, 5))
                    .col(string_len(Shifts::EndTime, 5))
                    .col(string(Shifts::Channels))
                    .col(date_null(Shifts::ValidFrom))
                    .col(date_null(Shifts::ValidUntil))
                    .col(timestamp_with_time_zone(Shifts::CreatedAt))
                    .foreign_key(&mut cascade(
                        Shifts::Table,
                        Shifts::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RotaExceptions::Table)
                    .col(pk_auto(RotaExceptions::Id))
                    .col(integer(RotaExceptions::VolunteerId))
                    .col(string(RotaExceptions::Kind))
                    .col(timestamp_with_time_zone(RotaExceptions::StartsAt))
                    .col(timestamp_with_time_zone(RotaExceptions::EndsAt))
                    .col(string_null(RotaExceptions::Channels))
                    .col(text_null(RotaExceptions::Note))
                    .col(timestamp_with_time_zone(RotaExceptions::CreatedAt))
                    .foreign_key(&mut cascade(
                        RotaExceptions::Table,
                        RotaExceptions::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Conflicts::Table)
                    .col(pk_auto(Conflicts::Id))
                    .col(integer(Conflicts::VolunteerId))
                    .col(string(Conflicts::NumberHash))
                    .col(string(Conflicts::NumberHint))
                    .col(text_null(Conflicts::Note))
                    .col(timestamp_with_time_zone(Conflicts::CreatedAt))
                    .foreign_key(&mut cascade(
                        Conflicts::Table,
                        Conflicts::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "conflicts_volunteer_number",
                Conflicts::Table,
                &["volunteer_id", "number_hash"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OnCallShifts::Table)
                    .col(pk_auto(OnCallShifts::Id))
                    .col(integer(OnCallShifts::HelplineId))
                    .col(integer(OnCallShifts::UserId))
                    .col(string(OnCallShifts::Weekday))
                    .col(string_len(OnCallShifts::StartTime, 5))
                    .col(string_len(OnCallShifts::EndTime, 5))
                    .col(date_null(OnCallShifts::ValidFrom))
                    .col(date_null(OnCallShifts::ValidUntil))
                    .col(timestamp_with_time_zone(OnCallShifts::CreatedAt))
                    .foreign_key(&mut cascade(
                        OnCallShifts::Table,
                        OnCallShifts::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .foreign_key(&mut cascade(
                        OnCallShifts::Table,
                        OnCallShifts::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                OnCallShifts::Table.into_iden(),
                Conflicts::Table.into_iden(),
                RotaExceptions::Table.into_iden(),
                Shifts::Table.into_iden(),
                TopicSignoffs::Table.into_iden(),
            ],
        )
        .await
    }
}
