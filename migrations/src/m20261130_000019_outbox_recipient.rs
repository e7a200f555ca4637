//! Each outbox message carries the keyed hash of its recipient, so that messages to one
//! person are sent one after another, in the order they were queued, whichever of a
//! server's senders takes them. Messages queued before have none and keep no order.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    ToHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OutboxMessages::Table)
                    .add_column(string_len_null(OutboxMessages::ToHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "outbox_messages_recipient",
                OutboxMessages::Table,
                &["to_hash", "status"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("outbox_messages_recipient")
                    .table(OutboxMessages::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OutboxMessages::Table)
                    .drop_column(OutboxMessages::ToHash)
                    .to_owned(),
            )
            .await
    }
}
