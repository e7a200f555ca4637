//! How a SQLite connection waits for the write lock another connection holds. SQLite's
//! own busy handler sleeps in steps growing to 100 ms, so a webhook that meets a writer
//! waits for the step, not for the writer: under load its time follows how often writers
//! meet. This handler looks again every millisecond instead, for as long in all as the
//! five-second busy timeout it replaces.

use std::ffi::{c_int, c_void};
use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteConnection;

/// How often a connection looks again for the lock.
const STEP: Duration = Duration::from_millis(1);
/// How many times it looks before it gives up (SQLite then answers "database is
/// locked"), about five seconds in all.
const LOOKS: c_int = 5_000;

/// Installs the handler on `connection`.
pub async fn wait_in_short_steps(
    connection: &mut SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let database = handle.as_raw_handle().as_ptr();
    // SAFETY: `database` is the open connection `handle` keeps locked for this call; the
    // handler holds no state (its argument is null) and runs on the thread that steps a
    // statement on this connection, which it only puts to sleep.
    let code = unsafe {
        libsqlite3_sys::sqlite3_busy_handler(database, Some(look_again), std::ptr::null_mut())
    };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused the busy handler (code {code})").into(),
        ))
    }
}

/// SQLite's busy callback: 1 to look again after a step, 0 to give up.
extern "C" fn look_again(_: *mut c_void, looked: c_int) -> c_int {
    if looked >= LOOKS {
        return 0;
    }
    std::thread::sleep(STEP);
    1
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use sea_orm::ConnectionTrait;

    #[tokio::test]
    async fn a_writer_waits_for_another_connections_write_and_then_writes() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/busy.db?mode=rwc", folder.path().display());
        let db = crate::storage::connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE notes (body TEXT)")
            .await
            .unwrap();

        let first = crate::storage::write_transaction(&db).await.unwrap();
        first
            .execute_unprepared("INSERT INTO notes VALUES ('first')")
            .await
            .unwrap();
        let first_committed = Arc::new(AtomicBool::new(false));
        let second = tokio::spawn({
            let (db, first_committed) = (db.clone(), first_committed.clone());
            async move {
                let txn = crate::storage::write_transaction(&db).await?;
                // It got the lock only once the first writer let it go.
                let waited = first_committed.load(Ordering::SeqCst);
                txn.execute_unprepared("INSERT INTO notes VALUES ('second')")
                    .await?;
                txn.commit().await?;
                Ok::<bool, sea_orm::DbErr>(waited)
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        first_committed.store(true, Ordering::SeqCst);
        first.commit().await.unwrap();

        assert!(
            second.await.unwrap().unwrap(),
            "the second writer did not wait"
        );
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT body FROM notes ORDER BY rowid",
            ))
            .await
            .unwrap();
        let bodies: Vec<String> = rows
            .iter()
            .map(|r| r.try_get("", "body").unwrap())
            .collect();
        assert_eq!(bodies, ["first", "second"]);
    }
}
