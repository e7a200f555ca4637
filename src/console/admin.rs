//! For administrators: everyone who can sign in, with their role, scope and live console
//! sessions; adding a person; a one-time sign-in link for someone without a phone; and
//! ending someone's sessions at once (a lost phone, a volunteer who has left).

use actix_web::{HttpResponse, web};
use maud::html;

use super::format::words;
use super::layout::{self, form_token};
use super::session::{ConsoleError, Viewer};
use super::sign_in::issue_link;
use crate::domain::access::Role;
use crate::domain::ids::{HelplineId, VolunteerId};
use crate::domain::phone::E164;
use crate::domain::timezone::TimeZone;
use crate::error::ApiError;
use crate::routes::api::require;
use crate::routes::api::users::{self as users_api, UserInput};
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::{PageRequest, helplines, sign_in, users, volunteers};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/admin/users", web::get().to(people))
        .route("/console/admin/users", web::post().to(add_person))
        .route(
            "/console/admin/users/end-sessions",
            web::post().to(end_sessions),
        )
        .route("/console/admin/users/link", web::post().to(sign_in_link));
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
    let lines = helplines::list(&state.db, &viewer.who.scope(), page).await?;
    let everyone = volunteers::list(&state.db, &viewer.who.scope(), None, page).await?;
    let body = html! {
        p { "Whoever has a phone on their record (or on their volunteer record) signs in with a texted code; anyone else with a one-time link." }
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
                                form method="post" action="/console/admin/users/link" {
                                    (form_token(&viewer))
                                    input type="hidden" name="user_id" value=(row.id);
                                    button type="submit" class="link" { "Sign-in link" }
                                }
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
        form method="post" action="/console/admin/users" class="panel" id="add-person" {
            h2 { "Add a person" }
            (form_token(&viewer))
            label for="person-name" { "Name" }
            input id="person-name" name="name" type="text" required maxlength="200";
            label for="person-role" { "Role" }
            select id="person-role" name="role" {
                option value="volunteer" { "volunteer" }
                option value="supervisor" { "supervisor" }
                option value="admin" { "administrator" }
            }
            label for="person-volunteer" { "Volunteer record (volunteers only)" }
            select id="person-volunteer" name="volunteer_id" {
                option value="" { "none" }
                @for v in &everyone { option value=(v.id) { (v.name) } }
            }
            fieldset {
                legend { "Supervises (supervisors only)" }
                @for line in &lines {
                    @let field = format!("person-helpline-{}", line.id);
                    div class="choice" {
                        input type="checkbox" id=(field) name="helplines" value=(line.id);
                        label for=(field) { (line.name) }
                    }
                }
            }
            label for="person-phone" { "Mobile, with country code (to sign in by text and to be alerted on call)" }
            input id="person-phone" name="phone" type="tel";
            label for="person-zone" { "Time zone, e.g. Europe/London (needed to be on call)" }
            input id="person-zone" name="time_zone" type="text";
            button type="submit" { "Add person" }
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
    let user_id = form.number("user_id")?;
    let ended = sign_in::end_sessions_of(&state.db, user_id).await?;
    let entry = Audited::new("console_sessions_ended")
        .detail(serde_json::json!({ "user_id": user_id, "sessions": ended }));
    audit::record(&state.db, &viewer.who, entry, state.clock.now()).await?;
    Ok(layout::see_other("/console/admin/users"))
}

async fn add_person(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    admins_only(&viewer)?;
    let role = form
        .get("role")
        .and_then(Role::parse)
        .ok_or_else(|| ApiError::field("role", "volunteer, supervisor or admin"))?;
    let phone = form.optional("phone", E164::parse)?;
    let time_zone = form.optional("time_zone", TimeZone::parse)?;
    let volunteer_id = form
        .get("volunteer_id")
        .map(|v| {
            v.parse::<VolunteerId>()
                .map_err(|_| ApiError::field("volunteer_id", "a volunteer"))
        })
        .transpose()?;
    let helplines = form
        .all("helplines")
        .into_iter()
        .map(|h| {
            h.parse::<HelplineId>()
                .map_err(|_| ApiError::field("helplines", "a helpline"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let input = UserInput {
        name: form.get("name").unwrap_or_default().to_owned(),
        role,
        volunteer_id,
        phone,
        time_zone,
        helplines,
    };
    users_api::add(&state, &viewer.who, input).await?;
    Ok(layout::see_other("/console/admin/users"))
}

/// Shows a one-time sign-in link for someone once, as `peerline login-link` prints it.
async fn sign_in_link(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    admins_only(&viewer)?;
    let user_id = form.number("user_id")?;
    let person = users::get(&state.db, user_id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let link = issue_link(
        &state.db,
        &state.vault,
        &state.settings.public_url,
        person.id,
        state.clock.now(),
    )
    .await?;
    let body = html! {
        p { "Give this link to " (person.name) " in person or by a channel you trust. It signs them in once, within 10 minutes, and is not shown again." }
        p class="revealed" { code { (link) } }
        p { a href="/console/admin/users" { "Back to people" } }
    };
    Ok(layout::page("Sign-in link", Some(&viewer), body))
}
