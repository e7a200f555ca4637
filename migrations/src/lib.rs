//! peerline's database schema, one migration per step, written with backend-neutral
//! helpers so the same files build the SQLite default and the PostgreSQL production schema.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_helplines;
mod m20261122_000002_volunteers;
mod m20261122_000003_access;
mod m20261122_000004_rota;
mod m20261122_000005_contacts;
mod m20261122_000006_outbox;
mod m20261122_000007_texting;
mod m20261122_000008_supervision;
mod m20261130_000009_roster_triggers;
mod m20261130_000010_console_sign_in;
mod m20261130_000011_token_names;
mod m20261130_000012_rota_care;
mod m20261130_000013_calendar_feeds;
mod m20261130_000014_activity_changes;
mod m20261130_000015_callbacks;
mod m20261130_000016_survey_answers;
mod m20261130_000017_call_returners;
mod m20261130_000018_peer_match_free;
mod m20261130_000019_outbox_recipient;
mod m20261201_000020_step_backs;
mod m20261201_000021_check_ins;
mod m20261201_000022_gap_alerts;
mod m20261201_000023_rota_history;
mod m20261201_000024_audit_by_peerline;
mod m20261201_000025_sealed_at_rest;
mod m20261201_000026_directory_version;
mod m20261201_000027_report_days;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_helplines::Migration),
            Box::new(m20261122_000002_volunteers::Migration),
            Box::new(m20261122_000003_access::Migration),
            Box::new(m20261122_000004_rota::Migration),
            Box::new(m20261122_000005_contacts::Migration),
            Box::new(m20261122_000006_outbox::Migration),
            Box::new(m20261122_000007_texting::Migration),
            Box::new(m20261122_000008_supervision::Migration),
            Box::new(m20261130_000009_roster_triggers::Migration),
            Box::new(m20261130_000010_console_sign_in::Migration),
            Box::new(m20261130_000011_token_names::Migration),
            Box::new(m20261130_000012_rota_care::Migration),
            Box::new(m20261130_000013_calendar_feeds::Migration),
            Box::new(m20261130_000014_activity_changes::Migration),
            Box::new(m20261130_000015_callbacks::Migration),
            Box::new(m20261130_000016_survey_answers::Migration),
            Box::new(m20261130_000017_call_returners::Migration),
            Box::new(m20261130_000018_peer_match_free::Migration),
            Box::new(m20261130_000019_outbox_recipient::Migration),
            Box::new(m20261201_000020_step_backs::Migration),
            Box::new(m20261201_000021_check_ins::Migration),
            Box::new(m20261201_000022_gap_alerts::Migration),
            Box::new(m20261201_000023_rota_history::Migration),
            Box::new(m20261201_000024_audit_by_peerline::Migration),
            Box::new(m20261201_000025_sealed_at_rest::Migration),
            Box::new(m20261201_000026_directory_version::Migration),
            Box::new(m20261201_000027_report_days::Migration),
        ]
    }
}

/// Creates a one-row version counter (`id` 1, `version` 0) that triggers move on.
pub(crate) async fn create_counter<T: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    (table, id, version): (T, T, T),
) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(table)
                .col(ColumnDef::new(id).integer().not_null().primary_key())
                .col(ColumnDef::new(version).big_integer().not_null())
                .to_owned(),
        )
        .await?;
    manager
        .exec_stmt(
            Query::insert()
                .into_table(table)
                .columns([id, version])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await
}

/// Drops `tables` in the order given (children before their parents).
pub(crate) async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: impl IntoIterator<Item = DynIden>,
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}

/// A foreign key that removes the child rows with their parent.
pub(crate) fn cascade(
    from: impl IntoIden,
    column: impl IntoIden,
    to: impl IntoIden,
    to_column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    foreign_key(from, column, to, to_column, ForeignKeyAction::Cascade)
}

/// A foreign key that keeps a parent from being deleted while child rows refer to it
/// (history such as the contact log must outlive no one it names).
pub(crate) fn restrict(
    from: impl IntoIden,
    column: impl IntoIden,
    to: impl IntoIden,
    to_column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    foreign_key(from, column, to, to_column, ForeignKeyAction::Restrict)
}

fn foreign_key(
    from: impl IntoIden,
    column: impl IntoIden,
    to: impl IntoIden,
    to_column: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(to, to_column)
        .on_delete(on_delete)
        .take()
}

/// An index over `columns`, for lookups.
pub(crate) fn index(
    name: &str,
    table: impl IntoIden,
    columns: &[&'static str],
) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(table).take();
    for column in columns {
        index.col(Alias::new(*column));
    }
    index
}

/// A unique index over `columns`.
pub(crate) fn unique_index(
    name: &str,
    table: impl IntoIden,
    columns: &[&'static str],
) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(table).unique().take();
    for column in columns {
        index.col(Alias::new(*column));
    }
    index
}
