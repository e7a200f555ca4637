//! A helpline's settings as its supervisors and administrators read them: greeting,
//! languages, fallback number, topics and their menu digits, the numbers callers dial,
//! reminders, cover requests and gap alerts, and every routing, texting and supervision
//! setting. The greeting, the fallback number, the topics and the rota care settings are
//! changed here, and administrators add and remove numbers; the routing, texting and
//! supervision settings through the API.

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::format::words;
use super::layout::{self, form_token};
use super::session::{ConsoleError, Viewer};
use crate::domain::helpline::TopicSettings;
use crate::domain::ids::HelplineId;
use crate::domain::phone::E164;
use crate::domain::shift_reminders::RotaCareSettings;
use crate::routes::api::helplines::change;
use crate::routes::api::managed_helpline;
use crate::routes::api::{numbers, topics};
use crate::state::AppState;
use crate::storage::helplines;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/helplines/{id}/settings", web::get().to(page))
        .route("/console/helplines/{id}/settings", web::post().to(save))
        .route("/console/helplines/{id}/topics", web::post().to(add_topic))
        .route(
            "/console/helplines/{id}/topics/remove",
            web::post().to(remove_topic),
        )
        .route(
            "/console/helplines/{id}/numbers",
            web::post().to(add_number),
        )
        .route(
            "/console/helplines/{id}/numbers/remove",
            web::post().to(remove_number),
        )
        .route(
            "/console/helplines/{id}/rota-care",
            web::post().to(save_rota_care),
        );
}

/// A checkbox of the rota care form.
fn tick(id: &str, name: &str, on: bool, words: &str) -> Markup {
    html! {
        div class="choice" {
            input type="checkbox" id=(id) name=(name) value="true" checked[on];
            label for=(id) { (words) }
        }
    }
}

/// A whole-number field of the rota care form.
fn count(id: &str, name: &str, value: i32, range: (i32, i32), words: &str) -> Markup {
    html! {
        label for=(id) { (words) }
        input id=(id) name=(name) type="number" min=(range.0) max=(range.1) value=(value) required;
    }
}

/// The form for reminders, cover requests and gap alerts.
fn rota_care_form(viewer: &Viewer, helpline_id: HelplineId, rota: &RotaCareSettings) -> Markup {
    html! {
        form method="post" action={ "/console/helplines/" (helpline_id) "/rota-care" } class="panel" id="rota-care-form" {
            (form_token(viewer))
            h3 { "Shift reminders" }
            (tick("reminders-enabled", "reminders_enabled", rota.reminders_enabled, "Text each volunteer before each shift, asking them to reply OK or NO"))
            (count("remind-hours", "remind_hours_before", rota.remind_hours_before, (1, 168), "Hours before the shift, on the volunteer's clock (1 to 168)"))
            (tick("remind-again", "remind_again_hour_before", rota.remind_again_hour_before, "Remind again an hour before"))
            (count("confirm-by", "confirm_by_hours_before", rota.confirm_by_hours_before, (0, 167), "Tell supervisors about a reminder nobody answered this many hours before the shift"))
            h3 { "Cover requests" }
            (tick("cover-enabled", "cover_requests_enabled", rota.cover_requests_enabled, "Ask other volunteers to cover a shift lost at short notice"))
            (count("short-notice", "short_notice_hours", rota.short_notice_hours, (1, 336), "A shift lost less than this many hours ahead is short notice (1 to 336)"))
            (count("wave-size", "cover_wave_size", rota.cover_wave_size, (1, 20), "Volunteers asked in each wave (1 to 20)"))
            (count("wave-minutes", "cover_wave_minutes", rota.cover_wave_minutes, (5, 240), "Minutes between waves (5 to 240)"))
            h3 { "Gap alerts" }
            (tick("gap-alerts", "gap_alerts_enabled", rota.gap_alerts_enabled, "Text supervisors the coming week's gaps once a day"))
            label for="gap-alert-time" { "At, HH:MM on the helpline's clock" }
            input id="gap-alert-time" name="gap_alert_time" type="text" inputmode="numeric" maxlength="5" value=(rota.gap_alert_time) required;
            button type="submit" { "Save rota care" }
        }
    }
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
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ConsoleError> {
    let helpline = managed_helpline(&state, &viewer.who, *id).await?;
    let settings = helplines::settings_of(&helpline)?;
    let topics = helplines::topics(&state.db, helpline.id).await?;
    let numbers = helplines::numbers(&state.db, helpline.id).await?;
    let base = format!("/console/helplines/{}", helpline.id);
    let body = html! {
        dl class="facts" {
            dt { "Time zone" } dd { (settings.time_zone.name()) }
            dt { "Spoken language" } dd { (settings.voice_language) }
            dt { "Languages offered" } dd { (settings.languages.join(", ")) }
        }
        form method="post" action={ "/console/helplines/" (helpline.id) "/settings" } class="panel" {
            (form_token(&viewer))
            label for="greeting" { "Greeting (what a caller hears first)" }
            textarea id="greeting" name="greeting" rows="3" maxlength="1000" required { (settings.greeting) }
            label for="fallback" { "Fallback number (when nobody answers), e.g. +44 20 7946 0000; empty for none" }
            input id="fallback" name="fallback_number" type="tel" value=(settings.fallback_number.as_ref().map(ToString::to_string).unwrap_or_default());
            button type="submit" { "Save" }
        }
        h2 id="topics" { "Topics" }
        @if topics.is_empty() { p { "No topics: callers are not asked to choose one." } }
        ul {
            @for t in &topics {
                li {
                    (t.label)
                    @if let Some(digit) = t.digit { " · press " (digit) }
                    @if t.strict { " · only volunteers signed off for it" }
                    form method="post" action={ (base) "/topics/remove" } class="inline-action" {
                        (form_token(&viewer))
                        input type="hidden" name="topic_id" value=(t.id);
                        button type="submit" class="link" { "Remove" }
                    }
                }
            }
        }
        form method="post" action={ (base) "/topics" } class="panel" id="add-topic" {
            h3 { "Add a topic" }
            (form_token(&viewer))
            label for="topic-label" { "What callers and volunteers hear, e.g. neonatal care" }
            input id="topic-label" name="label" type="text" required maxlength="100";
            label for="topic-key" { "Short key (lower-case letters, digits, - and _), e.g. neonatal" }
            input id="topic-key" name="key" type="text" required maxlength="50";
            label for="topic-digit" { "Menu digit, 1 to 9 (empty: not in the spoken menu)" }
            input id="topic-digit" name="digit" type="text" inputmode="numeric" maxlength="1";
            div class="choice" {
                input type="checkbox" id="topic-strict" name="strict" value="true";
                label for="topic-strict" { "Only volunteers signed off for it may take it" }
            }
            button type="submit" { "Add topic" }
        }
        h2 id="numbers" { "Numbers callers dial" }
        ul {
            @for n in &numbers {
                li {
                    (n.number)
                    @if viewer.who.is_admin() {
                        form method="post" action={ (base) "/numbers/remove" } class="inline-action" {
                            (form_token(&viewer))
                            input type="hidden" name="number_id" value=(n.id);
                            button type="submit" class="link" { "Remove" }
                        }
                    }
                }
            }
        }
        @if viewer.who.is_admin() {
            form method="post" action={ (base) "/numbers" } class="panel" id="add-number" {
                h3 { "Add a number" }
                (form_token(&viewer))
                label for="new-number" { "Number, with country code (point its Twilio webhooks here too)" }
                input id="new-number" name="number" type="tel" required;
                button type="submit" { "Add number" }
            }
        }
        h2 id="rota-care" { "Reminders, cover and gap alerts" }
        (rota_care_form(&viewer, helpline.id, &settings.rota))
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
    id: web::Path<HelplineId>,
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

async fn save_rota_care(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let on = |name| form.get(name) == Some("true");
    let rota = json!({
        "reminders_enabled": on("reminders_enabled"),
        "remind_hours_before": form.number::<i32>("remind_hours_before")?,
        "remind_again_hour_before": on("remind_again_hour_before"),
        "confirm_by_hours_before": form.number::<i32>("confirm_by_hours_before")?,
        "cover_requests_enabled": on("cover_requests_enabled"),
        "short_notice_hours": form.number::<i32>("short_notice_hours")?,
        "cover_wave_size": form.number::<i32>("cover_wave_size")?,
        "cover_wave_minutes": form.number::<i32>("cover_wave_minutes")?,
        "gap_alerts_enabled": on("gap_alerts_enabled"),
        "gap_alert_time": form.get("gap_alert_time").unwrap_or_default(),
    });
    change(&state, &viewer.who, *id, json!({ "rota": rota })).await?;
    Ok(back_to_settings(*id, "rota-care"))
}

fn back_to_settings(id: HelplineId, anchor: &str) -> HttpResponse {
    layout::see_other(format!("/console/helplines/{id}/settings#{anchor}"))
}

async fn add_topic(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let topic = TopicSettings {
        key: form.get("key").unwrap_or_default().to_owned(),
        label: form.get("label").unwrap_or_default().to_owned(),
        digit: form
            .get("digit")
            .map(|_| form.number("digit"))
            .transpose()?,
        strict: form.get("strict") == Some("true"),
    };
    topics::add(&state, &viewer.who, *id, &topic).await?;
    Ok(back_to_settings(*id, "topics"))
}

async fn remove_topic(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    topics::remove(&state, &viewer.who, *id, form.number("topic_id")?).await?;
    Ok(back_to_settings(*id, "topics"))
}

async fn add_number(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let number = form.parsed("number", E164::parse)?;
    numbers::add_number(&state, &viewer.who, *id, &number).await?;
    Ok(back_to_settings(*id, "numbers"))
}

async fn remove_number(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    numbers::remove_number(&state, &viewer.who, *id, form.number("number_id")?).await?;
    Ok(back_to_settings(*id, "numbers"))
}
