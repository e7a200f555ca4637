//! For administrators: everyone who can sign in, with their role, scope and live console
//! sessions, and the way to end someone's sessions at once (a lost phone, a volunteer who
//! has left).

use actix_web::{HttpResponse, http::header, web};
use maud::html;

use super::format::words;
use super::layout::{self, form_token};
use super::session::{ConsoleError, Viewer};
use crate::error::ApiError;
use crate::routes::api::require;
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::{PageRequest, sign_in, users};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/admin/users", web::get().to(people))
        .route(
            "/console/admin/users/end-sessions",
            web::post().to(end_sessions),
        );
}

fn admins_only(viewer: &Viewer) -> Result<(), ConsoleError> {
    Ok(require(
        viewer.who.is_admin(),
        "only administrators manage who can sign in",
    )?)
}

async fn people(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, ConsoleError> {
    admins_only(&viewer)?;
    let page = PageRequest {
        limit: Some(200),
        after: None,
    };
    let rows = users::list(&state.db, page).await?;
    let sessions = sign_in::live_sessions(&state.db, state.clock.now()).await?;
    let mut scopes = Vec::with_capacity(rows.len());
    for row in &rows {
        scopes.push(users::user_helplines(&state.db, row.id).await?);
    }
    let body = html! {
        p { "Add people and give them roles through the API (" code { "POST /api/v1/users" } "); whoever has a phone on their record signs in with a texted code." }
        div class="scroll" {
            table class="people" id="users" {
                thead { tr {
                    th scope="col" { "Person" } th scope="col" { "Role" } th scope="col" { "Helplines" }
                    th scope="col" { "Phone on record" } th scope="col" { "Console sessions" } th scope="col" { "" }
                } }
                tbody {
                    @for (row, helplines) in rows.iter().zip(&scopes) {
                        @let live = sessions.get(&row.id).copied().unwrap_or(0);
                        tr {
                            th scope="row" { (row.name) " (user " (row.id) ")" }
                            td { (words(row.role.as_str())) }
                            td { (helplines.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                            td { @if row.phone.is_some() || row.volunteer_id.is_some() { "yes" } @else { "no: sign in with a link" } }
                            td { (live) }
                            td {
                                @if live > 0 {
                                    form method="post" action="/console/admin/users/end-sessions" {
                                        (form_token(&viewer))
                                        input type="hidden" name="user_id" value=(row.id);
                                        button type="submit" class="link" { "End their sessions" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page("People", Some(&viewer), body))
}

async fn end_sessions(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    admins_only(&viewer)?;
    let user_id: i32 = form
        .get("user_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::field("user_id", "whose sessions to end"))?;
    let ended = sign_in::end_sessions_of(&state.db, user_id).await?;
    let entry = Audited::new("console_sessions_ended")
        .detail(serde_json::json!({ "user_id": user_id, "sessions": ended }));
    audit::record(&state.db, &viewer.who, entry, state.clock.now()).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/admin/users"))
        .finish())
}
