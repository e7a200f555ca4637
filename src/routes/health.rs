//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency is down.
    pub status: &'static str,
    /// Whether the database answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<bool>,
    /// Calls and texts this server holds in its spool until the database takes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spooled: Option<usize>,
}

/// The process is alive.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
        spooled: None,
    })
}

/// The database is reachable, so the server can take traffic; with how much this server
/// holds in its spool (calls and texts waiting to be written to the database).
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let spooled = Some(state.spool.pending());
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ok",
            database: Some(true),
            spooled,
        }),
        Err(err) => {
            tracing::warn!(error = %err, ?spooled, "readiness check: database unreachable");
            HttpResponse::ServiceUnavailable().json(Health {
                status: "unavailable",
                database: Some(false),
                spooled,
            })
        }
    }
}
