//! Volunteers a supervisor allows to return missed calls and voicemails on a helpline;
//! a call such a volunteer returns rings them, so a callback may name its volunteer.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::Helplines;
use crate::m20261122_000002_volunteers::Volunteers;
use crate::{cascade, drop_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Callbacks {
    Table,
    ForVolunteer,
}

#[derive(DeriveIden)]
enum CallReturners {
    Table,
    HelplineId,
    VolunteerId,
    GrantedBy,
    GrantedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CallReturners::Table)
                    .col(integer(CallReturners::HelplineId))
                    .col(integer(CallReturners::VolunteerId))
                    .col(integer(CallReturners::GrantedBy))
                    .col(timestamp_with_time_zone(CallReturners::GrantedAt))
                    .primary_key(
                        Index::create()
                            .col(CallReturners::HelplineId)
                            .col(CallReturners::VolunteerId),
                    )
                    .foreign_key(&mut cascade(
                        CallReturners::Table,
                        CallReturners::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .foreign_key(&mut cascade(
                        CallReturners::Table,
                        CallReturners::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Callbacks::Table)
                    .add_column(integer_null(Callbacks::ForVolunteer))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Callbacks::Table)
                    .drop_column(Callbacks::ForVolunteer)
                    .to_owned(),
            )
            .await?;
        drop_tables(manager, [CallReturners::Table.into_iden()]).await
    }
}
