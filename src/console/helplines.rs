//! The helplines a supervisor or administrator looks after, with the way to each one's
//! live board, rota, reports and settings.

use actix_web::{HttpResponse, web};
use maud::html;

use super::layout;
use super::session::{ConsoleError, Viewer};
use crate::routes::api::require;
use crate::state::AppState;
use crate::storage::{PageRequest, helplines};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/helplines", web::get().to(list));
}

async fn list(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, ConsoleError> {
    require(
        viewer.who.reviews_contacts(),
        "only supervisors and admins look after helplines",
    )?;
    let page = PageRequest {
        limit: Some(200),
        after: None,
    };
    let rows = helplines::list(&state.db, &viewer.who.scope(), page).await?;
    let body = html! {
        @if rows.is_empty() { p { "No helplines yet." } }
        ul class="helplines" {
            @for row in &rows {
                li {
                    strong { (row.name) }
                    " · "
                    a href={ "/console/helplines/" (row.id) "/live" } { "Live board" }
                    " · "
                    a href={ "/console/helplines/" (row.id) "/rota" } { "Rota and gaps" }
                    " · "
                    a href={ "/console/helplines/" (row.id) "/reports" } { "Reports" }
                    " · "
                    a href={ "/console/helplines/" (row.id) "/settings" } { "Settings" }
                }
            }
        }
    };
    Ok(layout::page("Helplines", Some(&viewer), body))
}
