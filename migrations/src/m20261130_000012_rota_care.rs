//! Rota care: a helpline's reminder and cover settings, a volunteer's quiet hours, each
//! shift reminder sent (one per shift and round, whichever server sends it) with its
//! answer, and cover requests for lost shifts with each volunteer asked.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::{Helplines, Topics};
use crate::m20261122_000002_volunteers::Volunteers;
use crate::{cascade, drop_tables, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HelplineRota {
    /// The settings, as JSON.
    Rota,
}

#[derive(DeriveIden)]
enum VolunteerQuiet {
    QuietFrom,
    QuietUntil,
}

#[derive(DeriveIden)]
enum ShiftReminders {
    Table,
    Id,
    VolunteerId,
    HelplineId,
    Round,
    ShiftStartsAt,
    ShiftEndsAt,
    SentAt,
    AnswerBy,
    Answer,
    AnsweredAt,
    ReportedAt,
}

#[derive(DeriveIden)]
enum CoverRequests {
    Table,
    Id,
    HelplineId,
    LostBy,
    Reason,
    ShiftStartsAt,
    ShiftEndsAt,
    Channels,
    TopicId,
    CreatedAt,
    LastWaveAt,
    Waves,
    FilledBy,
    FilledAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum CoverAsks {
    Table,
    Id,
    CoverRequestId,
    VolunteerId,
    Wave,
    SentAt,
    Answer,
    AnsweredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Helplines::Table)
                    .add_column(text(HelplineRota::Rota).default("{}"))
                    .to_owned(),
            )
            .await?;
        for column in [VolunteerQuiet::QuietFrom, VolunteerQuiet::QuietUntil] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Volunteers::Table)
                        .add_column(string_len_null(column, 5))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ShiftReminders::Table)
                    .col(pk_auto(ShiftReminders::Id))
                    .col(integer(ShiftReminders::VolunteerId))
                    .col(integer(ShiftReminders::HelplineId))
                    .col(string_len(ShiftReminders::Round, 16))
                    .col(timestamp_with_time_zone(ShiftReminders::ShiftStartsAt))
                    .col(timestamp_with_time_zone(ShiftReminders::ShiftEndsAt))
                    .col(timestamp_with_time_zone(ShiftReminders::SentAt))
                    .col(timestamp_with_time_zone_null(ShiftReminders::AnswerBy))
                    .col(string_len_null(ShiftReminders::Answer, 16))
                    .col(timestamp_with_time_zone_null(ShiftReminders::AnsweredAt))
                    .col(timestamp_with_time_zone_null(ShiftReminders::ReportedAt))
                    .foreign_key(&mut cascade(
                        ShiftReminders::Table,
                        ShiftReminders::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .foreign_key(&mut cascade(
                        ShiftReminders::Table,
                        ShiftReminders::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // One reminder per shift and round, however many servers try to send it.
        manager
            .create_index(unique_index(
                "shift_reminders_once",
                ShiftReminders::Table,
                &["volunteer_id", "shift_starts_at", "round"],
            ))
            .await?;
        manager
            .create_index(index(
                "shift_reminders_unanswered",
                ShiftReminders::Table,
                &["answer", "answer_by"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CoverRequests::Table)
                    .col(pk_auto(CoverRequests::Id))
                    .col(integer(CoverRequests::HelplineId))
                    .col(integer(CoverRequests::LostBy))
                    .col(string_len(CoverRequests::Reason, 16))
                    .col(timestamp_with_time_zone(CoverRequests::ShiftStartsAt))
                    .col(timestamp_with_time_zone(CoverRequests::ShiftEndsAt))
                    .col(string_len(CoverRequests::Channels, 8))
                    .col(integer_null(CoverRequests::TopicId))
                    .col(timestamp_with_time_zone(CoverRequests::CreatedAt))
                    .col(timestamp_with_time_zone_null(CoverRequests::LastWaveAt))
                    .col(integer(CoverRequests::Waves).default(0))
                    .col(integer_null(CoverRequests::FilledBy))
                    .col(timestamp_with_time_zone_null(CoverRequests::FilledAt))
                    .col(timestamp_with_time_zone_null(CoverRequests::ClosedAt))
                    .foreign_key(&mut cascade(
                        CoverRequests::Table,
                        CoverRequests::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .foreign_key(&mut cascade(
                        CoverRequests::Table,
                        CoverRequests::LostBy,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CoverRequests::Table, CoverRequests::TopicId)
                            .to(Topics::Table, Topics::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CoverRequests::Table, CoverRequests::FilledBy)
                            .to(Volunteers::Table, Volunteers::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // One request per lost shift.
        manager
            .create_index(unique_index(
                "cover_requests_once",
                CoverRequests::Table,
                &["lost_by", "shift_starts_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "cover_requests_open",
                CoverRequests::Table,
                &["closed_at", "shift_starts_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CoverAsks::Table)
                    .col(pk_auto(CoverAsks::Id))
                    .col(integer(CoverAsks::CoverRequestId))
                    .col(integer(CoverAsks::VolunteerId))
                    .col(integer(CoverAsks::Wave))
                    .col(timestamp_with_time_zone(CoverAsks::SentAt))
                    .col(string_len_null(CoverAsks::Answer, 16))
                    .col(timestamp_with_time_zone_null(CoverAsks::AnsweredAt))
                    .foreign_key(&mut cascade(
                        CoverAsks::Table,
                        CoverAsks::CoverRequestId,
                        CoverRequests::Table,
                        CoverRequests::Id,
                    ))
                    .foreign_key(&mut cascade(
                        CoverAsks::Table,
                        CoverAsks::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "cover_asks_once",
                CoverAsks::Table,
                &["cover_request_id", "volunteer_id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                CoverAsks::Table.into_iden(),
                CoverRequests::Table.into_iden(),
                ShiftReminders::Table.into_iden(),
            ],
        )
        .await?;
        for column in [VolunteerQuiet::QuietUntil, VolunteerQuiet::QuietFrom] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Volunteers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Helplines::Table)
                    .drop_column(HelplineRota::Rota)
                    .to_owned(),
            )
            .await
    }
}
