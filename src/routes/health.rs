//! Liveness and readiness probes.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::jobs::supervisor::JobHealth;
use crate::routes::deadline::on_database;
use crate::state::AppState;
use crate::storage::{self, outbox};

/// How long each readiness question may take.
const PROBE: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether a write could start within `PROBE`. The probe runs as a task of its own and is
/// never cut short (a `BEGIN` abandoned half-way could leave a connection holding the
/// lock); one still running from an earlier look means the answer is no.
async fn write_probe(state: &web::Data<AppState>) -> bool {
    let running = state.write_probe_running.clone();
    if running.swap(true, Ordering::SeqCst) {
        return false;
    }
    let db = state.db.clone();
    let probe = tokio::spawn(async move {
        let result = storage::can_write(&db).await;
        running.store(false, Ordering::SeqCst);
        result
    });
    matches!(tokio::time::timeout(PROBE, probe).await, Ok(Ok(Ok(()))))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency is down.
    pub status: &'static str,
    /// Whether the database answered within a second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<bool>,
    /// Whether a write could start within a second (false: SQLite's write lock is held).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writable: Option<bool>,
    /// Calls and texts this server holds in its spool until the database takes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spooled: Option<usize>,
    /// Spooled calls and texts the database answered but would not store, set aside in
    /// the spool's `dead-letter.jsonl` for a person to look at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letters: Option<usize>,
    /// Each background job of this server: its last good pass and its failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<BTreeMap<&'static str, JobHealth>>,
    /// Text messages due to be sent and not sent yet (all servers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxBacklog>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboxBacklog {
    /// Messages due and not yet sent.
    pub due: u64,
    /// When the oldest of them was queued.
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

/// The process is alive.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
        writable: None,
        spooled: None,
        dead_letters: None,
        jobs: None,
        outbox: None,
    })
}

/// The database is reachable, so the server can take traffic; with how much this server
/// holds in its spool (calls and texts waiting to be written to the database), its
/// background jobs' health and the outbox's backlog.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let spooled = Some(state.spool.pending());
    let dead_letters = Some(state.spool.dead_letters());
    let jobs = Some(state.jobs.snapshot());
    // Each question gets a second: a database that hangs is as unready as one that is down.
    let backlog = on_database(&state, PROBE, outbox::backlog(&state.db, state.clock.now())).await;
    let writable = write_probe(&state).await;
    match backlog {
        Ok((due, oldest_queued_at)) if writable => HttpResponse::Ok().json(Health {
            status: "ok",
            database: Some(true),
            writable: Some(true),
            spooled,
            dead_letters,
            jobs,
            outbox: Some(OutboxBacklog {
                due,
                oldest_queued_at,
            }),
        }),
        answered => {
            let database = answered.is_ok();
            tracing::warn!(
                database,
                writable,
                ?spooled,
                "readiness check: the database is not ready"
            );
            HttpResponse::ServiceUnavailable().json(Health {
                status: "unavailable",
                database: Some(database),
                writable: Some(writable),
                spooled,
                dead_letters,
                jobs,
                outbox: None,
            })
        }
    }
}
