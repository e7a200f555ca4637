//! The rota's memory: a record of each volunteer's whole place on the rota (shifts,
//! leave, extra shifts, pause, training, sign-offs, step-backs, limits and helplines, as
//! JSON) each time any of it changes, so questions about the past are answered with the
//! rota of the time.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_volunteers::Volunteers;
use crate::{cascade, drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RotaRecords {
    Table,
    Id,
    VolunteerId,
    /// From when the record stood.
    RecordedAt,
    Record,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RotaRecords::Table)
                    .col(pk_auto(RotaRecords::Id))
                    .col(integer(RotaRecords::VolunteerId))
                    .col(timestamp_with_time_zone(RotaRecords::RecordedAt))
                    .col(text(RotaRecords::Record))
                    .foreign_key(&mut cascade(
                        RotaRecords::Table,
                        RotaRecords::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "rota_records_by_volunteer",
                RotaRecords::Table,
                &["volunteer_id", "recorded_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "rota_records_by_time",
                RotaRecords::Table,
                &["recorded_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [RotaRecords::Table.into_iden()]).await
    }
}
