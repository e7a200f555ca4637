//! A helpline's settings as its supervisors and administrators read them: greeting,
//! languages, fallback number, topics and their menu digits, the numbers callers dial,
//! and every routing, texting and supervision setting; the greeting and the fallback
//! number can be changed here (everything else through the API).

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::format::words;
use super::layout::{self, form_token};
use super::session::{ConsoleError, Viewer};
use crate::routes::api::helplines::change;
use crate::routes::api::managed_helpline;
use crate::state::AppState;
use crate::storage::helplines;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/helplines/{id}/settings", web::get().to(page))
        .route("/console/helplines/{id}/settings", web::post().to(save));
}

/// Every field of a group of settings, as words and values.
fn setting_list(group: &Value) -> Markup {
    html! {
        dl class="facts" {
            @for (key, value) in group.as_object().into_iter().flatten() {
                dt { (words(key)) }
                dd {
                    @match value {
                        Value::String(text) => (text),
                        Value::Array(items) => (items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect::<Vec<_>>().join(", ")),
                        Value::Null => "none",
                        other => (other.to_string()),
                    }
                }
            }
        }
    }
}

async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<i32>,
) -> Result<HttpResponse, ConsoleError> {
    let helpline = managed_helpline(&state, &viewer.who, *id).await?;
    let settings = helplines::settings_of(&helpline)?;
    let topics = helplines::topics(&state.db, helpline.id).await?;
    let numbers = helplines::numbers(&state.db, helpline.id).await?;
    let body = html! {
        dl class="facts" {
            dt { "Time zone" } dd { (settings.time_zone.name()) }
            dt { "Spoken language" } dd { (settings.voice_language) }
            dt { "Languages offered" } dd { (settings.languages.join(", ")) }
            dt { "Numbers callers dial" } dd { (numbers.iter().map(|n| n.number.as_str()).collect::<Vec<_>>().join(", ")) }
        }
        form method="post" action={ "/console/helplines/" (helpline.id) "/settings" } class="panel" {
            (form_token(&viewer))
            label for="greeting" { "Greeting (what a caller hears first)" }
            textarea id="greeting" name="greeting" rows="3" maxlength="1000" required { (settings.greeting) }
            label for="fallback" { "Fallback number (when nobody answers), e.g. +44 20 7946 0000; empty for none" }
            input id="fallback" name="fallback_number" type="tel" value=(settings.fallback_number.as_ref().map(ToString::to_string).unwrap_or_default());
            button type="submit" { "Save" }
        }
        h2 { "Topics" }
        @if topics.is_empty() { p { "No topics: callers are not asked to choose one." } }
        ul {
            @for t in &topics {
                li {
                    (t.label)
                    @if let Some(digit) = t.digit { " · press " (digit) }
                    @if t.strict { " · only volunteers signed off for it" }
                }
            }
        }
        h2 { "Routing" }
        (setting_list(&json!(settings.routing)))
        h2 { "Texting" }
        (setting_list(&json!(settings.texting)))
        h2 { "Supervision" }
        (setting_list(&json!(settings.supervision)))
    };
    Ok(layout::page(
        &format!("Settings · {}", settings.name),
        Some(&viewer),
        body,
    ))
}

async fn save(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let changes = json!({
        "greeting": form.get("greeting").unwrap_or_default(),
        "fallback_number": form.get("fallback_number"),
    });
    change(&state, &viewer.who, *id, changes).await?;
    Ok(layout::see_other(format!(
        "/console/helplines/{id}/settings"
    )))
}
