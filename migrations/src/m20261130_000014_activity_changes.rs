//! Each contact records, on the database's clock, when who answered it, when or how long
//! last changed, so that a server can bring its picture of volunteers' recent contacts up
//! to date by reading only the contacts changed since it last looked, instead of every
//! contact of the last week. Triggers stamp the change in the same statement, whoever
//! makes it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Contacts {
    Table,
    ActivityChangedMs,
}

const SQLITE_NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
const POSTGRES_NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
const ACTIVITY_COLUMNS: &str = "answered_by, answered_at, ended_at, talk_secs";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(
                        ColumnDef::new(Contacts::ActivityChangedMs)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "contacts_activity_changed",
                Contacts::Table,
                &["activity_changed_ms"],
            ))
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE OR REPLACE FUNCTION contact_activity_changed() RETURNS trigger AS $$ \
                     BEGIN IF NEW.answered_by IS NOT NULL THEN \
                     NEW.activity_changed_ms := {POSTGRES_NOW_MS}; END IF; RETURN NEW; END \
                     $$ LANGUAGE plpgsql"
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER contact_activity_changed BEFORE INSERT OR UPDATE OF \
                     {ACTIVITY_COLUMNS} ON contacts FOR EACH ROW \
                     EXECUTE FUNCTION contact_activity_changed()"
                ))
                .await?;
            }
            _ => {
                for (name, event) in [
                    ("contact_activity_inserted", "INSERT".to_owned()),
                    (
                        "contact_activity_updated",
                        format!("UPDATE OF {ACTIVITY_COLUMNS}"),
                    ),
                ] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} AFTER {event} ON contacts \
                         WHEN NEW.answered_by IS NOT NULL BEGIN \
                         UPDATE contacts SET activity_changed_ms = {SQLITE_NOW_MS} \
                         WHERE id = NEW.id; END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS contact_activity_changed ON contacts",
                )
                .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS contact_activity_changed()")
                    .await?;
            }
            _ => {
                for name in ["contact_activity_inserted", "contact_activity_updated"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                        .await?;
                }
            }
        }
        manager
            .drop_index(
                Index::drop()
                    .name("contacts_activity_changed")
                    .table(Contacts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .drop_column(Contacts::ActivityChangedMs)
                    .to_owned(),
            )
            .await
    }
}
