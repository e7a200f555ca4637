//! The SMS outbox: every outbound message is a row first, written with the change that
//! causes it, and sent by a background worker that claims each row once.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Id,
    ContactId,
    Purpose,
    ToEncrypted,
    ToHint,
    FromNumber,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    ProviderSid,
    DeliveryStatus,
    ErrorCode,
    Error,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxMessages::Table)
                    .col(pk_auto(OutboxMessages::Id))
                    .col(integer_null(OutboxMessages::ContactId))
                    .col(string(OutboxMessages::Purpose))
                    .col(text(OutboxMessages::ToEncrypted))
                    .col(string(OutboxMessages::ToHint))
                    .col(string(OutboxMessages::FromNumber))
                    .col(text(OutboxMessages::Body))
                    .col(string_len(OutboxMessages::Status, 12))
                    .col(integer(OutboxMessages::Attempts).default(0))
                    .col(timestamp_with_time_zone(OutboxMessages::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(OutboxMessages::ClaimedUntil))
                    .col(string_null(OutboxMessages::ProviderSid))
                    .col(string_null(OutboxMessages::DeliveryStatus))
                    .col(big_integer_null(OutboxMessages::ErrorCode))
                    .col(text_null(OutboxMessages::Error))
                    .col(timestamp_with_time_zone(OutboxMessages::CreatedAt))
                    .col(timestamp_with_time_zone(OutboxMessages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OutboxMessages::Table, OutboxMessages::ContactId)
                            .to(Alias::new("contacts"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "outbox_ready",
                OutboxMessages::Table,
                &["status", "next_attempt_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "outbox_provider_sid",
                OutboxMessages::Table,
                &["provider_sid"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboxMessages::Table).to_owned())
            .await
    }
}
