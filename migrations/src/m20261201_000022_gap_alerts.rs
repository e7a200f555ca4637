//! Gap alerts and the coordinators' gap feeds: each daily alert a helpline sent (one per
//! day on its clock, whichever server sends it) with the gaps it told; each supervisor's
//! secret calendar address for a helpline's gaps; and, on every feed, when its content
//! last changed (for `Last-Modified`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::Helplines;
use crate::m20261122_000003_access::Users;
use crate::m20261130_000013_calendar_feeds::CalendarFeeds;
use crate::{cascade, drop_tables, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GapAlerts {
    Table,
    Id,
    HelplineId,
    /// The helpline's day it was sent for, `YYYY-MM-DD` on its clock.
    LocalDay,
    SentAt,
    CoversFrom,
    CoversUntil,
    /// The gaps told, as JSON.
    Gaps,
    /// How many supervisors were texted.
    Told,
}

#[derive(DeriveIden)]
enum GapFeeds {
    Table,
    Id,
    UserId,
    HelplineId,
    TokenHash,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum FeedContent {
    ContentHash,
    ContentChangedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GapAlerts::Table)
                    .col(pk_auto(GapAlerts::Id))
                    .col(integer(GapAlerts::HelplineId))
                    .col(string_len(GapAlerts::LocalDay, 10))
                    .col(timestamp_with_time_zone(GapAlerts::SentAt))
                    .col(timestamp_with_time_zone(GapAlerts::CoversFrom))
                    .col(timestamp_with_time_zone(GapAlerts::CoversUntil))
                    .col(text(GapAlerts::Gaps))
                    .col(integer(GapAlerts::Told))
                    .foreign_key(&mut cascade(
                        GapAlerts::Table,
                        GapAlerts::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // One alert per helpline and day, however many servers try to send it.
        manager
            .create_index(unique_index(
                "gap_alerts_once",
                GapAlerts::Table,
                &["helpline_id", "local_day"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GapFeeds::Table)
                    .col(pk_auto(GapFeeds::Id))
                    .col(integer(GapFeeds::UserId))
                    .col(integer(GapFeeds::HelplineId))
                    .col(string_len(GapFeeds::TokenHash, 64))
                    .col(string_len_null(FeedContent::ContentHash, 64))
                    .col(timestamp_with_time_zone_null(FeedContent::ContentChangedAt))
                    .col(timestamp_with_time_zone(GapFeeds::CreatedAt))
                    .col(timestamp_with_time_zone_null(GapFeeds::RevokedAt))
                    .foreign_key(&mut cascade(
                        GapFeeds::Table,
                        GapFeeds::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut cascade(
                        GapFeeds::Table,
                        GapFeeds::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "gap_feeds_token",
                GapFeeds::Table,
                &["token_hash"],
            ))
            .await?;
        manager
            .create_index(index(
                "gap_feeds_owner",
                GapFeeds::Table,
                &["user_id", "helpline_id"],
            ))
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarFeeds::Table)
                    .add_column(string_len_null(FeedContent::ContentHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarFeeds::Table)
                    .add_column(timestamp_with_time_zone_null(FeedContent::ContentChangedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [FeedContent::ContentChangedAt, FeedContent::ContentHash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CalendarFeeds::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        drop_tables(
            manager,
            [GapFeeds::Table.into_iden(), GapAlerts::Table.into_iden()],
        )
        .await
    }
}
