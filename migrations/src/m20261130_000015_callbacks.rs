//! Callbacks, and each helpline's settings for its callers' side (callbacks, the hold
//! message). A callback is a caller who would rather be called back than hold, or a missed call a
//! supervisor returns. One row per contact; its state moves by conditional updates, so
//! that each step (a volunteer rung, the caller dialled) is taken by one server only.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::Helplines;
use crate::m20261122_000005_contacts::Contacts;
use crate::{cascade, drop_tables, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Offers {
    Table,
}

#[derive(DeriveIden)]
enum HelplineCallers {
    Callers,
}

#[derive(DeriveIden)]
enum Callbacks {
    Table,
    Id,
    ContactId,
    HelplineId,
    TopicId,
    Kind,
    State,
    TextsOk,
    CallerAttempts,
    OfferId,
    DueAt,
    ExpiresAt,
    ClaimedUntil,
    RequestedBy,
    Reason,
    RequestedAt,
    FirstRingAt,
    UpdatedAt,
    EndedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Helplines::Table)
                    .add_column(text(HelplineCallers::Callers).default("{}"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Callbacks::Table)
                    .col(pk_auto(Callbacks::Id))
                    .col(integer(Callbacks::ContactId))
                    .col(integer(Callbacks::HelplineId))
                    .col(integer_null(Callbacks::TopicId))
                    .col(string_len(Callbacks::Kind, 16))
                    .col(string_len(Callbacks::State, 24))
                    .col(boolean(Callbacks::TextsOk))
                    .col(integer(Callbacks::CallerAttempts))
                    .col(integer_null(Callbacks::OfferId))
                    .col(timestamp_with_time_zone(Callbacks::DueAt))
                    .col(timestamp_with_time_zone(Callbacks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Callbacks::ClaimedUntil))
                    .col(integer_null(Callbacks::RequestedBy))
                    .col(text_null(Callbacks::Reason))
                    .col(timestamp_with_time_zone(Callbacks::RequestedAt))
                    .col(timestamp_with_time_zone_null(Callbacks::FirstRingAt))
                    .col(timestamp_with_time_zone(Callbacks::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Callbacks::EndedAt))
                    .foreign_key(&mut cascade(
                        Callbacks::Table,
                        Callbacks::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "callbacks_contact",
                Callbacks::Table,
                &["contact_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "callbacks_state_due",
                Callbacks::Table,
                &["state", "due_at"],
            ))
            .await?;
        // A volunteer may be offered the same contact again in a later round: a callback
        // the caller did not answer is tried again, perhaps by the volunteer who tried first.
        manager
            .drop_index(
                Index::drop()
                    .name("offers_contact_volunteer")
                    .table(Offers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "offers_contact_volunteer_round",
                Offers::Table,
                &["contact_id", "volunteer_id", "round"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("offers_contact_volunteer_round")
                    .table(Offers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "offers_contact_volunteer",
                Offers::Table,
                &["contact_id", "volunteer_id"],
            ))
            .await?;
        drop_tables(manager, [Callbacks::Table.into_iden()]).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Helplines::Table)
                    .drop_column(HelplineCallers::Callers)
                    .to_owned(),
            )
            .await
    }
}
