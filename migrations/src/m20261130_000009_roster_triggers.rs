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

/// A version counter that triggers move: the row they bump and the names they go by.
pub(crate) struct Counter {
    /// The statement that moves the counter on.
    pub bump: &'static str,
    /// The PostgreSQL trigger function, and the prefix of every trigger's name.
    pub function: &'static str,
}

/// The roster's counter.
pub(crate) const ROSTER: Counter = Counter {
    bump: BUMP,
    function: "roster_moves_on",
};

fn trigger_name(counter: &Counter, table: &str, event: &str) -> String {
    format!("{}_{}_{}", counter.function, table, event.to_lowercase())
}

/// Creates the PostgreSQL trigger function of `counter` (SQLite triggers bump inline).
pub(crate) async fn create_function(
    manager: &SchemaManager<'_>,
    counter: &Counter,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE OR REPLACE FUNCTION {}() RETURNS trigger AS $$ \
                 BEGIN {}; RETURN NULL; END $$ LANGUAGE plpgsql",
                counter.function, counter.bump
            ))
            .await?;
    }
    Ok(())
}

/// Undoes [`create_function`].
pub(crate) async fn drop_function(
    manager: &SchemaManager<'_>,
    counter: &Counter,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP FUNCTION IF EXISTS {}()", counter.function))
            .await?;
    }
    Ok(())
}

/// Makes changes (`events`) to `table` move `counter`.
pub(crate) async fn watch_with(
    manager: &SchemaManager<'_>,
    counter: &Counter,
    table: &str,
    events: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {name} AFTER {events} ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
                name = trigger_name(counter, table, "change"),
                events = events.join(" OR "),
                function = counter.function,
            ))
            .await?;
        }
        _ => {
            for event in events {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {bump}; END",
                    name = trigger_name(counter, table, event),
                    bump = counter.bump,
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Undoes [`watch_with`].
pub(crate) async fn unwatch_with(
    manager: &SchemaManager<'_>,
    counter: &Counter,
    table: &str,
    events: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {} ON {table}",
                trigger_name(counter, table, "change")
            ))
            .await?;
        }
        _ => {
            for event in events {
                db.execute_unprepared(&format!(
                    "DROP TRIGGER IF EXISTS {}",
                    trigger_name(counter, table, event)
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Makes changes (`events`) to `table` move the roster version.
pub(crate) async fn watch(
    manager: &SchemaManager<'_>,
    table: &str,
    events: &[&str],
) -> Result<(), DbErr> {
    watch_with(manager, &ROSTER, table, events).await
}

/// Undoes [`watch`].
pub(crate) async fn unwatch(
    manager: &SchemaManager<'_>,
    table: &str,
    events: &[&str],
) -> Result<(), DbErr> {
    unwatch_with(manager, &ROSTER, table, events).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_function(manager, &ROSTER).await?;
        for (table, events) in WATCHED {
            watch(manager, table, events).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, events) in WATCHED {
            unwatch(manager, table, events).await?;
        }
        drop_function(manager, &ROSTER).await
    }
}
