//! Supervision: each helpline's supervision settings (with its retention period), the
//! review state of each contact and when its identifying details were erased,
//! volunteers' after-contact reports (every change a new version), the flags they raise,
//! supervisors' review actions, debriefs, and the append-only audit log.

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
    ReviewState,
    ErasedAt,
}

#[derive(DeriveIden)]
enum ContactReports {
    Table,
    Id,
    ContactId,
    VolunteerId,
    Version,
    Notes,
    OutcomeTags,
    Flags,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ContactFlags {
    Table,
    Id,
    ContactId,
    Flag,
    RaisedAt,
    RaisedBy,
    ResolvedAt,
    ResolvedBy,
    Action,
}

#[derive(DeriveIden)]
enum Reviews {
    Table,
    Id,
    ContactId,
    UserId,
    At,
    Action,
    Flag,
    Comment,
}

#[derive(DeriveIden)]
enum Debriefs {
    Table,
    Id,
    HelplineId,
    VolunteerId,
    ContactId,
    RequestedAt,
    DoneAt,
    DoneBy,
    Notes,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    UserId,
    TokenId,
    HelplineId,
    Action,
    ContactId,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Helplines::Table)
                    .add_column(text(Alias::new("supervision")).default("{}"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(string_len(Contacts::ReviewState, 12).default("unreviewed"))
                    .to_owned(),
            )
            .await?;
        // When the caller's identity, message bodies, notes and recording were erased.
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(timestamp_with_time_zone_null(Contacts::ErasedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "contacts_helpline_received",
                Contacts::Table,
                &["helpline_id", "received_at"],
            ))
            .await?;
        // The supervisors' list: a helpline's contacts, newest first, without a sort.
        manager
            .create_index(index(
                "contacts_helpline_id",
                Contacts::Table,
                &["helpline_id", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "contacts_answered_by",
                Contacts::Table,
                &["answered_by", "received_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContactReports::Table)
                    .col(pk_auto(ContactReports::Id))
                    .col(integer(ContactReports::ContactId))
                    .col(integer(ContactReports::VolunteerId))
                    .col(integer(ContactReports::Version))
                    .col(text_null(ContactReports::Notes))
                    .col(text(ContactReports::OutcomeTags))
                    .col(text(ContactReports::Flags))
                    .col(timestamp_with_time_zone(ContactReports::CreatedAt))
                    .foreign_key(&mut cascade(
                        ContactReports::Table,
                        ContactReports::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .foreign_key(&mut cascade(
                        ContactReports::Table,
                        ContactReports::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "contact_reports_version",
                ContactReports::Table,
                &["contact_id", "version"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContactFlags::Table)
                    .col(pk_auto(ContactFlags::Id))
                    .col(integer(ContactFlags::ContactId))
                    .col(string_len(ContactFlags::Flag, 20))
                    .col(timestamp_with_time_zone(ContactFlags::RaisedAt))
                    .col(integer_null(ContactFlags::RaisedBy))
                    .col(timestamp_with_time_zone_null(ContactFlags::ResolvedAt))
                    .col(integer_null(ContactFlags::ResolvedBy))
                    .col(text_null(ContactFlags::Action))
                    .foreign_key(&mut cascade(
                        ContactFlags::Table,
                        ContactFlags::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "contact_flags_contact_flag",
                ContactFlags::Table,
                &["contact_id", "flag"],
            ))
            .await?;
        manager
            .create_index(index(
                "contact_flags_raised_by",
                ContactFlags::Table,
                &["raised_by", "raised_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reviews::Table)
                    .col(pk_auto(Reviews::Id))
                    .col(integer(Reviews::ContactId))
                    .col(integer(Reviews::UserId))
                    .col(timestamp_with_time_zone(Reviews::At))
                    .col(string_len(Reviews::Action, 20))
                    .col(string_len_null(Reviews::Flag, 20))
                    .col(text_null(Reviews::Comment))
                    .foreign_key(&mut cascade(
                        Reviews::Table,
                        Reviews::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("reviews_contact", Reviews::Table, &["contact_id"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Debriefs::Table)
                    .col(pk_auto(Debriefs::Id))
                    .col(integer(Debriefs::HelplineId))
                    .col(integer(Debriefs::VolunteerId))
                    .col(integer(Debriefs::ContactId))
                    .col(timestamp_with_time_zone(Debriefs::RequestedAt))
                    .col(timestamp_with_time_zone_null(Debriefs::DoneAt))
                    .col(integer_null(Debriefs::DoneBy))
                    .col(text_null(Debriefs::Notes))
                    .foreign_key(&mut cascade(
                        Debriefs::Table,
                        Debriefs::VolunteerId,
                        Volunteers::Table,
                        Volunteers::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Debriefs::Table,
                        Debriefs::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "debriefs_contact_volunteer",
                Debriefs::Table,
                &["contact_id", "volunteer_id"],
            ))
            .await?;
        // Who did what is kept even after the user, token or helpline is gone: no foreign
        // keys, and triggers refuse any change or removal of a row once written.
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(integer(AuditLog::UserId))
                    .col(integer_null(AuditLog::TokenId))
                    .col(integer_null(AuditLog::HelplineId))
                    .col(string_len(AuditLog::Action, 40))
                    .col(integer_null(AuditLog::ContactId))
                    .col(text_null(AuditLog::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "audit_log_helpline",
                AuditLog::Table,
                &["helpline_id", "id"],
            ))
            .await?;
        let connection = manager.get_connection();
        for statement in append_only_triggers(manager.get_database_backend()) {
            connection.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_log_refuse_change() CASCADE")
                .await?;
        }
        drop_tables(
            manager,
            [
                AuditLog::Table.into_iden(),
                Debriefs::Table.into_iden(),
                Reviews::Table.into_iden(),
                ContactFlags::Table.into_iden(),
                ContactReports::Table.into_iden(),
            ],
        )
        .await?;
        for name in [
            "contacts_answered_by",
            "contacts_helpline_id",
            "contacts_helpline_received",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Contacts::Table).to_owned())
                .await?;
        }
        for column in [Contacts::ErasedAt, Contacts::ReviewState] {
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
                    .table(Helplines::Table)
                    .drop_column(Alias::new("supervision"))
                    .to_owned(),
            )
            .await
    }
}

/// Triggers that make `audit_log` append-only in the database itself.
pub(crate) fn append_only_triggers(
    backend: sea_orm_migration::sea_orm::DatabaseBackend,
) -> Vec<&'static str> {
    match backend {
        sea_orm_migration::sea_orm::DatabaseBackend::Postgres => vec![
            "CREATE FUNCTION audit_log_refuse_change() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()",
        ],
        _ => vec![
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        ],
    }
}
