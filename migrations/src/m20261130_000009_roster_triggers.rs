//! The roster version moves in the same transaction as the change that moves it: a
//! trigger on every table a helpline's roster is built from bumps `roster_versions`, so a
//! change that commits is always seen by every server's roster cache, and one that rolls
//! back never is.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each table the roster is read from, with the changes to it that move the roster.
const WATCHED: &[(&str, &[&str])] = &[
    ("volunteers", &["INSERT", "UPDATE", "DELETE"]),
    ("volunteer_helplines", &["INSERT", "UPDATE", "DELETE"]),
    ("topic_signoffs", &["INSERT", "UPDATE", "DELETE"]),
    ("shifts", &["INSERT", "UPDATE", "DELETE"]),
    ("rota_exceptions", &["INSERT", "UPDATE", "DELETE"]),
    ("topics", &["DELETE"]),
    ("helplines", &["DELETE"]),
];

const BUMP: &str = "UPDATE roster_versions SET version = version + 1 WHERE id = 1";

fn trigger_name(table: &str, event: &str) -> String {
    format!("roster_moves_on_{}_{}", table, event.to_lowercase())
}

/// Makes changes (`events`) to `table` move the roster version.
pub(crate) async fn watch(
    manager: &SchemaManager<'_>,
    table: &str,
    events: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {name} AFTER {events} ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION roster_moves_on()",
                name = trigger_name(table, "change"),
                events = events.join(" OR "),
            ))
            .await?;
        }
        _ => {
            for event in events {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END",
                    name = trigger_name(table, event),
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Undoes [`watch`].
pub(crate) async fn unwatch(
    manager: &SchemaManager<'_>,
    table: &str,
    events: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {} ON {table}",
                trigger_name(table, "change")
            ))
            .await?;
        }
        _ => {
            for event in events {
                db.execute_unprepared(&format!(
                    "DROP TRIGGER IF EXISTS {}",
                    trigger_name(table, event)
                ))
                .await?;
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "CREATE OR REPLACE FUNCTION roster_moves_on() RETURNS trigger AS $$ \
                     BEGIN {BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql"
                ))
                .await?;
        }
        for (table, events) in WATCHED {
            watch(manager, table, events).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, events) in WATCHED {
            unwatch(manager, table, events).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS roster_moves_on()")
                .await?;
        }
        Ok(())
    }
}
