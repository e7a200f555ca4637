//! Database access on sea-orm: plain async functions over a connection, one module per
//! aggregate. Storage loads and saves; it never decides policy. Every function that reads
//! on behalf of a caller takes the caller's `Scope`, so permissions are enforced in the
//! query itself.

pub mod after_contact;
pub mod audit;
pub mod blocklist;
pub mod calendar_feeds;
pub mod call_returners;
pub mod callbacks;
pub mod contact_log;
pub mod contacts;
pub mod conversations;
pub mod cover_requests;
pub mod directory;
pub mod entities;
mod enum_names;
pub mod gap_alerts;
pub mod helplines;
pub mod live;
pub mod messages;
pub mod opt_outs;
pub mod outbox;
pub mod queue;
pub mod report_days;
pub mod report_queries;
pub mod reservations;
pub mod retention;
pub mod reviews;
pub mod roster;
pub mod rota;
pub mod rota_history;
pub mod round_reads;
pub mod sealing;
pub mod secrets;
pub mod shift_reminders;
pub mod sign_in;
mod sqlite_busy;
pub mod step_backs;
pub mod surveys;
pub mod text_slots;
pub mod users;
pub mod volunteers;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde::{Deserialize, Serialize};

pub use crate::domain::access::Scope;

/// Whether the database failed to answer (rather than refused what it was asked): no
/// connection, or a lock held past the wait (SQLite's busy timeout, PostgreSQL's
/// statement or lock timeout).
pub fn not_answering(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        other => {
            let message = other.to_string();
            message.contains("database is locked")
                || message.contains("canceling statement due to statement timeout")
                || message.contains("canceling statement due to lock timeout")
        }
    }
}

/// Connects to `url` (SQLite or PostgreSQL).
/// How much of a SQLite database each connection maps into memory (the pages are the
/// operating system's file cache, shared by every connection).
const SQLITE_MMAP_BYTES: u64 = 1 << 30;
/// Each SQLite connection's own page cache.
const SQLITE_CACHE_KIB: u32 = 16 * 1024;

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_pooled(url, None, false).await
}

/// A pool that connects when it is first used: for a server that starts while the
/// database is out of reach.
pub async fn connect_lazily(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_pooled(url, None, true).await
}

/// A SQLite pool of `size` connections, each waiting for the write lock by
/// [`sqlite_busy`]'s handler.
fn sqlite_pool(size: u32) -> sea_orm::sqlx::sqlite::SqlitePoolOptions {
    sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(size)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .after_connect(|connection, _| Box::pin(sqlite_busy::wait_in_short_steps(connection)))
}

fn sqlite_options(
    options: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    sea_orm::sqlx::ConnectOptions::disable_statement_logging(tuned_for_sqlite(options))
}

/// Connections a server keeps open to a SQLite database.
const SQLITE_POOL_SIZE: u32 = 4;

/// One writer at a time is SQLite's rule; a small pool avoids busy errors. The write-ahead
/// log lets readers run beside the writer, and with it `NORMAL` synchronisation is durable
/// against a crash of the process (a power cut may lose the last commits, never corrupt
/// the file).
fn tuned_for_sqlite(
    options: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    options
        .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
        .busy_timeout(std::time::Duration::from_secs(5))
        // A year of contacts is close to a gigabyte: read pages through a memory map
        // instead of a read call per page, and keep more of the indexes each connection
        // uses in its own cache.
        .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
        .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
        // No commit copies the log back itself: the checkpoint job does (jobs::checkpoint).
        .pragma("wal_autocheckpoint", "0")
}

/// A connection of its own for work that must never wait for the shared pool.
pub async fn connect_single(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_pooled(url, Some(1), false).await
}

async fn connect_pooled(
    url: &str,
    pool_size: Option<u32>,
    lazy: bool,
) -> Result<DatabaseConnection, DbErr> {
    if let Some(file) = crate::config::sqlite_file(url)
        && url.contains("mode=rwc")
    {
        create_private(&file).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create the database file {}: {e}",
                file.display()
            ))
        })?;
    }
    if url.starts_with("sqlite:") {
        let options: sea_orm::sqlx::sqlite::SqliteConnectOptions = url
            .parse()
            .map_err(|e| DbErr::Custom(format!("DATABASE_URL: {e}")))?;
        let (pool, options) = (
            sqlite_pool(pool_size.unwrap_or(SQLITE_POOL_SIZE)),
            sqlite_options(options),
        );
        let pool = if lazy {
            pool.connect_lazy_with(options)
        } else {
            pool.connect_with(options)
                .await
                .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?
        };
        return Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool));
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_lazy(lazy)
        .connect_timeout(std::time::Duration::from_secs(5))
        .acquire_timeout(std::time::Duration::from_secs(5));
    if let Some(size) = pool_size {
        options.max_connections(size);
    }
    // No statement waits for ever (a lock held by a stuck session, a cut network): a
    // webhook gives up on the database long before this and answers from memory, and its
    // abandoned statement must not hold a connection beyond it. A lock held elsewhere is
    // waited for 5 s, as on SQLite: then the API answers 503 and a job tries again at its
    // next pass.
    options.map_sqlx_postgres_opts(|o| {
        o.options([("statement_timeout", "30s"), ("lock_timeout", "5s")])
    });
    Database::connect(options).await
}

/// Whether a write could start now: on SQLite, takes and releases the write lock (held
/// by a stuck writer, it waits); PostgreSQL locks rows, not the database, so it can.
pub async fn can_write(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        write_transaction(db).await?.rollback().await?;
    }
    Ok(())
}

/// Begins a transaction that will write: on SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so that a transaction which reads first cannot fail to upgrade.
pub async fn write_transaction(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Creates a new SQLite file readable by this server's user alone (SQLite gives its
/// write-ahead log and shared-memory files the same permissions); an existing file is left
/// as it is.
fn create_private(file: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    let recorded = rota_history::record_unrecorded(db).await?;
    if recorded > 0 {
        tracing::info!(volunteers = recorded, "first rota records written");
    }
    Ok(())
}

/// Keyset pagination: at most `limit` items with an id greater than `after`.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageRequest {
    /// How many items to return (1 to 200, default 50).
    pub limit: Option<u64>,
    /// Return items after this id (the `next_after` of the previous page).
    pub after: Option<i32>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u64 = 50;
    pub const MAX_LIMIT: u64 = 200;

    pub fn limit(&self) -> u64 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }
}

/// Restricts a query to one page in ascending `id` order, fetching one row more than
/// the limit so that `Page::from_rows` can tell whether another page follows.
pub fn keyset<E: EntityTrait>(
    query: Select<E>,
    id: impl ColumnTrait,
    page: PageRequest,
) -> Select<E> {
    query
        .filter(id.gt(page.after.unwrap_or(0)))
        .order_by_asc(id)
        .limit(page.limit() + 1)
}

/// The value of a one-row version counter that triggers move (`roster_versions`,
/// `directory_versions`).
pub(crate) async fn counter(db: &impl ConnectionTrait, table: &str) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT version FROM {table} WHERE id = 1"),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("{table} row")))?;
    row.try_get("", "version")
}

/// Deletes the row `id` only if it belongs to `owner` (its parent); true if one went.
pub async fn delete_owned<E: EntityTrait>(
    db: &impl ConnectionTrait,
    (id_column, id): (E::Column, impl Into<sea_orm::Value>),
    (owner_column, owner): (E::Column, impl Into<sea_orm::Value>),
) -> Result<bool, DbErr> {
    let result = E::delete_many()
        .filter(id_column.eq(id))
        .filter(owner_column.eq(owner))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// One page of a list, in ascending id order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<i32>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        request: PageRequest,
        id: impl Fn(&R) -> i32,
        view: impl Fn(R) -> T,
    ) -> Self {
        let limit = request.limit() as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_after = if more { rows.last().map(&id) } else { None };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_after,
        }
    }
}
