//! Volunteers stepping back, for a while, from one topic or from every contact, without
//! losing their sign-off. No reason is kept. A step-back is part of the roster, so a
//! change to one moves the roster version.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::Topics;
use crate::m20261122_000002_volunteers::Volunteers;
use crate::m20261130_000009_roster_triggers::{unwatch, watch};
use crate::{cascade, drop_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StepBacks {
    Table,
    Id,
    VolunteerId,
    TopicId,
    StartsAt,
    Until,
    Shifts,
    CreatedBy,
    CreatedAt,
    EndedAt,
}

const EVENTS: &[&str] = &["INSERT", "UPDATE", "DELETE"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StepBacks::Table)
                    .col(pk_auto(StepBacks::Id))
                    .col(integer(StepBacks::VolunteerId))
                    .col(integer_null(StepBacks::TopicId))
                    .col(timestamp_with_time_zone(StepBacks::StartsAt))
                    .col(timestamp_with_time_zone(StepBacks::Until))
                    .col(integer_null(StepBacks::Shifts))
                    .col(integer_null(StepBacks::CreatedBy))
                    .col(timestamp_with_time_zone(StepBacks::CreatedAt))
                    .col(timestamp_with_time_zone_null(StepBacks::EndedAt))
                    .foreign_key(&mut cascade(
                        StepBacks::Table,
                        StepBacks::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .foreign_key(&mut cascade(
                        StepBacks::Table,
                        StepBacks::TopicId,
                        Topics::Table,
                        Topics::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("step_backs_by_volunteer")
                    .table(StepBacks::Table)
                    .col(StepBacks::VolunteerId)
                    .to_owned(),
            )
            .await?;
        watch(manager, "step_backs", EVENTS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        unwatch(manager, "step_backs", EVENTS).await?;
        drop_tables(manager, [StepBacks::Table.into_iden()]).await
    }
}
