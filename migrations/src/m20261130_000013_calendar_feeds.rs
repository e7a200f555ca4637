//! Calendar feeds: a volunteer's secret iCalendar address, stored only as the hash of its
//! token, revocable.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_volunteers::Volunteers;
use crate::{cascade, drop_tables, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum CalendarFeeds {
    Table,
    Id,
    VolunteerId,
    TokenHash,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarFeeds::Table)
                    .col(pk_auto(CalendarFeeds::Id))
                    .col(integer(CalendarFeeds::VolunteerId))
                    .col(string_len(CalendarFeeds::TokenHash, 64))
                    .col(timestamp_with_time_zone(CalendarFeeds::CreatedAt))
                    .col(timestamp_with_time_zone_null(CalendarFeeds::RevokedAt))
                    .foreign_key(&mut cascade(
                        CalendarFeeds::Table,
                        CalendarFeeds::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "calendar_feeds_token",
                CalendarFeeds::Table,
                &["token_hash"],
            ))
            .await?;
        manager
            .create_index(index(
                "calendar_feeds_volunteer",
                CalendarFeeds::Table,
                &["volunteer_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [CalendarFeeds::Table.into_iden()]).await
    }
}
