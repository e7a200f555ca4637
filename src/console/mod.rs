//! The web console at `/console`, for volunteers, supervisors and administrators:
//! server-rendered pages over the same storage functions and the same scopes as the API,
//! so what a person may see and do is the same in both. Plain forms throughout; the
//! stylesheet and htmx (which refreshes the live board) are embedded in the binary.

mod admin;
mod audit_log;
mod charts;
mod format;
mod helplines;
mod layout;
mod live;
mod reports;
mod review;
mod rota;
mod session;
mod settings;
pub mod sign_in;
mod volunteer;
mod volunteer_profile;

use actix_web::{HttpResponse, web};

use session::Viewer;

const CSS: &str = include_str!("assets/console.css");
/// htmx 2.0.11 (BSD Zero Clause License, https://htmx.org), vendored unchanged.
const HTMX: &str = include_str!("assets/htmx-2.0.11.min.js");

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=300"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(home))
        .route(
            "/console/assets/console.css",
            web::get().to(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            layout::HTMX_PATH,
            web::get().to(|| async { asset("text/javascript; charset=utf-8", HTMX) }),
        )
        .configure(sign_in::configure)
        .configure(volunteer::configure)
        .configure(admin::configure)
        .configure(audit_log::configure)
        .configure(helplines::configure)
        .configure(live::configure)
        .configure(reports::configure)
        .configure(review::configure)
        .configure(rota::configure)
        .configure(settings::configure)
        .configure(volunteer_profile::configure);
}

/// The console's answer to an address that names nothing.
pub fn not_found() -> session::ConsoleError {
    session::ConsoleError::Refused(crate::error::ApiError::NotFound("page"))
}

/// Each person's first page: a volunteer's own, a reviewer's queue.
async fn home(viewer: Viewer) -> HttpResponse {
    layout::see_other(volunteer::home_of(&viewer))
}
