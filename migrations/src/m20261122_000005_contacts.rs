//! The contact log (one row per call or conversation, with its timeline and offers), the
//! reservations that stop a volunteer being rung twice at once, and blocked callers.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::{Helplines, Topics};
use crate::m20261122_000002_volunteers::Volunteers;
use crate::{cascade, create_counter, drop_tables, index, restrict, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Contacts {
    Table,
    Id,
    HelplineId,
    Channel,
    ProviderSid,
    DialedNumber,
    CallerHash,
    CallerEncrypted,
    CallerHint,
    TopicId,
    Language,
    Stage,
    Round,
    Outcome,
    PeerMatchTier,
    AnsweredBy,
    ReceivedAt,
    RouteDeadline,
    AnsweredAt,
    EndedAt,
    WaitSecs,
    TalkSecs,
    RecordingSid,
    RecordingUrl,
    RecordingSecs,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ContactEvents {
    Table,
    Id,
    ContactId,
    At,
    Kind,
    VolunteerId,
    Detail,
    DedupeKey,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
    ContactId,
    VolunteerId,
    Round,
    Tier,
    OfferedAt,
    LegSid,
    Outcome,
    AcceptedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum Reservations {
    Table,
    VolunteerId,
    ContactId,
    State,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RosterVersions {
    Table,
    Id,
    Version,
}

#[derive(DeriveIden)]
enum BlockedCallers {
    Table,
    Id,
    HelplineId,
    NumberHash,
    NumberHint,
    Reason,
    ExpiresAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .col(pk_auto(Contacts::Id))
                    .col(integer(Contacts::HelplineId))
                    .col(string_len(Contacts::Channel, 10))
                    .col(string(Contacts::ProviderSid))
                    .col(string(Contacts::DialedNumber))
                    .col(string(Contacts::CallerHash))
                    .col(text_null(Contacts::CallerEncrypted))
                    .col(string(Contacts::CallerHint))
                    .col(integer_null(Contacts::TopicId))
                    .col(string_null(Contacts::Language))
                    .col(string_len(Contacts::Stage, 20))
                    .col(integer(Contacts::Round).default(0))
                    .col(string_null(Contacts::Outcome))
                    .col(string_null(Contacts::PeerMatchTier))
                    .col(integer_null(Contacts::AnsweredBy))
                    .col(timestamp_with_time_zone(Contacts::ReceivedAt))
                    .col(timestamp_with_time_zone(Contacts::RouteDeadline))
                    .col(timestamp_with_time_zone_null(Contacts::AnsweredAt))
                    .col(timestamp_with_time_zone_null(Contacts::EndedAt))
                    .col(integer_null(Contacts::WaitSecs))
                    .col(integer_null(Contacts::TalkSecs))
                    .col(string_null(Contacts::RecordingSid))
                    .col(text_null(Contacts::RecordingUrl))
                    .col(integer_null(Contacts::RecordingSecs))
                    .col(timestamp_with_time_zone(Contacts::UpdatedAt))
                    .foreign_key(&mut restrict(
                        Contacts::Table,
                        Contacts::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Contacts::Table, Contacts::TopicId)
                            .to(Topics::Table, Topics::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(&mut restrict(
                        Contacts::Table,
                        Contacts::AnsweredBy,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "contacts_provider_sid",
                Contacts::Table,
                &["provider_sid"],
            ))
            .await?;
        manager
            .create_index(index(
                "contacts_helpline_caller",
                Contacts::Table,
                &["helpline_id", "caller_hash", "received_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "contacts_answered_at",
                Contacts::Table,
                &["answered_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContactEvents::Table)
                    .col(pk_auto(ContactEvents::Id))
                    .col(integer(ContactEvents::ContactId))
                    .col(timestamp_with_time_zone(ContactEvents::At))
                    .col(string(ContactEvents::Kind))
                    .col(integer_null(ContactEvents::VolunteerId))
                    .col(text_null(ContactEvents::Detail))
                    .col(string(ContactEvents::DedupeKey))
                    .foreign_key(&mut cascade(
                        ContactEvents::Table,
                        ContactEvents::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "contact_events_dedupe",
                ContactEvents::Table,
                &["contact_id", "dedupe_key"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .col(pk_auto(Offers::Id))
                    .col(integer(Offers::ContactId))
                    .col(integer(Offers::VolunteerId))
                    .col(integer(Offers::Round))
                    .col(string(Offers::Tier))
                    .col(timestamp_with_time_zone(Offers::OfferedAt))
                    .col(string_null(Offers::LegSid))
                    .col(string_null(Offers::Outcome))
                    .col(timestamp_with_time_zone_null(Offers::AcceptedAt))
                    .col(timestamp_with_time_zone_null(Offers::EndedAt))
                    .foreign_key(&mut cascade(
                        Offers::Table,
                        Offers::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .foreign_key(&mut restrict(
                        Offers::Table,
                        Offers::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
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
        manager
            .create_table(
                Table::create()
                    .table(Reservations::Table)
                    .col(integer(Reservations::VolunteerId).primary_key())
                    .col(integer(Reservations::ContactId))
                    .col(string_len(Reservations::State, 12))
                    .col(timestamp_with_time_zone(Reservations::ExpiresAt))
                    .foreign_key(&mut cascade(
                        Reservations::Table,
                        Reservations::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Reservations::Table,
                        Reservations::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlockedCallers::Table)
                    .col(pk_auto(BlockedCallers::Id))
                    .col(integer(BlockedCallers::HelplineId))
                    .col(string(BlockedCallers::NumberHash))
                    .col(string(BlockedCallers::NumberHint))
                    .col(text_null(BlockedCallers::Reason))
                    .col(timestamp_with_time_zone_null(BlockedCallers::ExpiresAt))
                    .col(timestamp_with_time_zone(BlockedCallers::CreatedAt))
                    .foreign_key(&mut cascade(
                        BlockedCallers::Table,
                        BlockedCallers::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "blocked_callers_helpline_number",
                BlockedCallers::Table,
                &["helpline_id", "number_hash"],
            ))
            .await?;
        manager
            .create_index(index(
                "conflicts_number",
                Alias::new("conflicts"),
                &["number_hash"],
            ))
            .await?;
        create_counter(
            manager,
            (
                RosterVersions::Table,
                RosterVersions::Id,
                RosterVersions::Version,
            ),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("conflicts_number")
                    .table(Alias::new("conflicts"))
                    .to_owned(),
            )
            .await?;
        drop_tables(
            manager,
            [
                RosterVersions::Table.into_iden(),
                BlockedCallers::Table.into_iden(),
                Reservations::Table.into_iden(),
                Offers::Table.into_iden(),
                ContactEvents::Table.into_iden(),
                Contacts::Table.into_iden(),
            ],
        )
        .await
    }
}
