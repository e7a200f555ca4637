//! The audit log for supervisors (their helplines) and administrators (everything),
//! filtered by helpline, person, contact or action, newest first.

use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;

use super::format::{day_and_time, own_clock, words};
use super::layout;
use super::session::{ConsoleError, Viewer};
use crate::domain::ids::{ContactId, HelplineId, UserId};
use crate::routes::api::{page_limit, require, split_page};
use crate::state::AppState;
use crate::storage::audit::{self, AuditFilter};
use crate::storage::users;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/audit", web::get().to(page));
}

#[derive(Deserialize)]
struct AuditQuery {
    helpline_id: Option<HelplineId>,
    user_id: Option<UserId>,
    contact_id: Option<ContactId>,
    action: Option<String>,
    before: Option<i32>,
}

/// The query string of `filter`, for the next page's link.
fn filter_query(q: &AuditQuery, before: i32) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    if let Some(id) = q.helpline_id {
        pairs.append_pair("helpline_id", &id.to_string());
    }
    if let Some(id) = q.user_id {
        pairs.append_pair("user_id", &id.to_string());
    }
    if let Some(id) = q.contact_id {
        pairs.append_pair("contact_id", &id.to_string());
    }
    if let Some(action) = q.action.as_deref().filter(|a| !a.is_empty()) {
        pairs.append_pair("action", action);
    }
    pairs.append_pair("before", &before.to_string());
    pairs.finish()
}

async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ConsoleError> {
    require(
        viewer.who.reviews_contacts(),
        "only supervisors and admins read the audit log",
    )?;
    let q = query.into_inner();
    let filter = AuditFilter {
        helpline_id: q.helpline_id,
        contact_id: q.contact_id,
        user_id: q.user_id,
        action: q.action.clone().filter(|a| !a.is_empty()),
    };
    let limit = page_limit(Some(100));
    let rows = audit::list(&state.db, &viewer.who.scope(), &filter, q.before, limit).await?;
    let (rows, next_before) = split_page(rows, limit, |r| r.id);
    let people = users::by_ids(&state.db, rows.iter().filter_map(|r| r.user_id).collect()).await?;
    let name_of = |id: Option<UserId>| match id {
        None => "peerline (a command or a job)".to_owned(),
        Some(id) => people
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("user {id}"), |person| person.name.clone()),
    };
    let tz = own_clock(&state, viewer.who.user_id).await?;
    let body = html! {
        form method="get" class="panel" {
            label for="action" { "Action, e.g. reveal_caller" }
            input id="action" name="action" type="text" value=(q.action.clone().unwrap_or_default());
            label for="contact_id" { "Contact number" }
            input id="contact_id" name="contact_id" type="text" inputmode="numeric" value=(q.contact_id.map(|c| c.to_string()).unwrap_or_default());
            label for="user_id" { "Person (user number)" }
            input id="user_id" name="user_id" type="text" inputmode="numeric" value=(q.user_id.map(|c| c.to_string()).unwrap_or_default());
            button type="submit" { "Filter" }
        }
        p class="hint" { "Times on your clock (" (tz.name()) "). Entries can never be changed or removed." }
        @if rows.is_empty() { p { "No entries." } }
        div class="scroll" {
            table class="people" id="audit" {
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Contact" } th scope="col" { "Detail" } } }
                tbody {
                    @for row in &rows {
                        tr {
                            td { (day_and_time(row.at, tz)) }
                            td { (name_of(row.user_id)) }
                            td { (words(&row.action)) }
                            td {
                                @if let Some(contact) = row.contact_id {
                                    a href={ "/console/contacts/" (contact) } { "#" (contact) }
                                }
                            }
                            td { (row.detail.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        @if let Some(before) = next_before {
            p { a href={ "/console/audit?" (filter_query(&q, before)) } { "Older entries" } }
        }
    };
    Ok(layout::page("Audit log", Some(&viewer), body))
}
