//! SQLite only: moves the write-ahead log back into the database file in the background.
//! Left to SQLite, the commit that fills the log past its limit copies it back itself,
//! and the webhook that made that commit waits for the copy and its flush to disk.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

use super::supervisor::{After, Supervisor};
use crate::state::AppState;

/// Copies what it can of the log back without waiting for readers or writers.
pub async fn checkpoint(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_string(
        DatabaseBackend::Sqlite,
        "PRAGMA wal_checkpoint(PASSIVE)",
    ))
    .await?;
    Ok(())
}

/// Starts the checkpoints on a SQLite database; PostgreSQL needs none.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: Duration) {
    if state.db.get_database_backend() != DatabaseBackend::Sqlite {
        return;
    }
    jobs.every("checkpoint", every, move || {
        let state = state.clone();
        async move {
            checkpoint(&state.db).await?;
            Ok(After::Wait)
        }
    });
}
