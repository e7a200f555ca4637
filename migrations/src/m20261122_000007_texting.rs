//! Text conversations: each helpline's texting settings and each volunteer's capacity for
//! concurrent conversations; every message of a conversation; who opted out of texts;
//! and the slots that cap how many conversations a volunteer holds at once.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::Helplines;
use crate::m20261122_000002_volunteers::Volunteers;
use crate::{cascade, drop_tables, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
    ClosesAt,
    SafeguardingAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ContactId,
    At,
    Direction,
    SenderRole,
    RecipientRole,
    VolunteerId,
    ProviderSid,
    Body,
    MediaCount,
    Relayed,
    OutboxId,
}

#[derive(DeriveIden)]
enum TextOptOuts {
    Table,
    NumberHash,
    HelplineNumber,
    OptedOutAt,
}

#[derive(DeriveIden)]
enum TextSlots {
    Table,
    VolunteerId,
    Slot,
    ContactId,
    TakenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Helplines::Table)
                    .add_column(text(Alias::new("texting")).default("{}"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Volunteers::Table)
                    .add_column(integer(Alias::new("max_text_conversations")).default(2))
                    .to_owned(),
            )
            .await?;
        for column in [Contacts::ClosesAt, Contacts::SafeguardingAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Contacts::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(index(
                "contacts_due",
                Contacts::Table,
                &["channel", "stage", "route_deadline"],
            ))
            .await?;
        manager
            .create_index(index("contacts_closes_at", Contacts::Table, &["closes_at"]))
            .await?;
        // At most one open conversation per texter and helpline, whichever server sees
        // their messages: a partial unique index, which SQLite and PostgreSQL both have.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX contacts_open_conversation \
                 ON contacts (helpline_id, caller_hash) \
                 WHERE channel = 'sms' AND ended_at IS NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(pk_auto(Messages::Id))
                    .col(integer(Messages::ContactId))
                    .col(timestamp_with_time_zone(Messages::At))
                    .col(string_len(Messages::Direction, 10))
                    .col(string_len(Messages::SenderRole, 12))
                    .col(string_len(Messages::RecipientRole, 12))
                    .col(integer_null(Messages::VolunteerId))
                    .col(string_null(Messages::ProviderSid))
                    .col(text_null(Messages::Body))
                    .col(integer(Messages::MediaCount).default(0))
                    .col(boolean(Messages::Relayed))
                    .col(integer_null(Messages::OutboxId))
                    .foreign_key(&mut cascade(
                        Messages::Table,
                        Messages::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::OutboxId)
                            .to(Alias::new("outbox_messages"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "messages_provider_sid",
                Messages::Table,
                &["provider_sid"],
            ))
            .await?;
        manager
            .create_index(index(
                "messages_contact_at",
                Messages::Table,
                &["contact_id", "at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TextOptOuts::Table)
                    .col(string(TextOptOuts::NumberHash))
                    .col(string(TextOptOuts::HelplineNumber))
                    .col(timestamp_with_time_zone(TextOptOuts::OptedOutAt))
                    .primary_key(
                        Index::create()
                            .col(TextOptOuts::NumberHash)
                            .col(TextOptOuts::HelplineNumber),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TextSlots::Table)
                    .col(integer(TextSlots::VolunteerId))
                    .col(integer(TextSlots::Slot))
                    .col(integer(TextSlots::ContactId))
                    .col(timestamp_with_time_zone(TextSlots::TakenAt))
                    .primary_key(
                        Index::create()
                            .col(TextSlots::VolunteerId)
                            .col(TextSlots::Slot),
                    )
                    .foreign_key(&mut cascade(
                        TextSlots::Table,
                        TextSlots::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .foreign_key(&mut cascade(
                        TextSlots::Table,
                        TextSlots::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "text_slots_volunteer_contact",
                TextSlots::Table,
                &["volunteer_id", "contact_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                TextSlots::Table.into_iden(),
                TextOptOuts::Table.into_iden(),
                Messages::Table.into_iden(),
            ],
        )
        .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX contacts_open_conversation")
            .await?;
        for name in ["contacts_closes_at", "contacts_due"] {
            manager
                .drop_index(Index::drop().name(name).table(Contacts::Table).to_owned())
                .await?;
        }
        for column in [Contacts::SafeguardingAt, Contacts::ClosesAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Contacts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Volunteers::Table)
                    .drop_column(Alias::new("max_text_conversations"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Helplines::Table)
                    .drop_column(Alias::new("texting"))
                    .to_owned(),
            )
            .await
    }
}
