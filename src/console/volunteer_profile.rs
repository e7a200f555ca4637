//! A volunteer as their supervisors look after them: training, refresher date, the
//! channels they are trained for, their wellbeing limits and their topic sign-offs,
//! changed through the same functions (and the same permission checks) as the API.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use maud::html;

use super::format::words;
use super::layout::{self, form_token};
use super::session::{ConsoleError, FormFields, Viewer};
use crate::domain::ids::VolunteerId;
use crate::domain::volunteer::{TrainingStatus, WellbeingLimits};
use crate::domain::volunteer_changes::VolunteerChanges;
use crate::error::ApiError;
use crate::routes::api::{require, signoffs, visible_volunteer, volunteers as volunteer_api};
use crate::state::AppState;
use crate::storage::{helplines, volunteers};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/volunteers/{id}", web::get().to(page))
        .route("/console/volunteers/{id}", web::post().to(save))
        .route(
            "/console/volunteers/{id}/signoffs",
            web::post().to(sign_off),
        );
}

fn profile_url(id: VolunteerId) -> String {
    format!("/console/volunteers/{id}")
}

async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ConsoleError> {
    let (row, serves) = visible_volunteer(&state, &viewer.who, *id).await?;
    require(
        viewer.who.manages_volunteer(&serves),
        "only an admin or their supervisor looks after a volunteer",
    )?;
    let p = volunteers::profile_of(&row)?;
    let phone = volunteers::phone_of(&state.vault, &row)?;
    let signed_off = volunteers::signed_off_topics(&state.db, vec![row.id]).await?;
    let mut topics = Vec::new();
    for helpline_id in &serves {
        topics.extend(helplines::topics(&state.db, *helpline_id).await?);
    }
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let limits = p.limits;
    let body = html! {
        p { (phone.to_string()) " · " (p.time_zone.name()) " · languages " (p.languages.join(", "))
            @if !p.active { " · " strong { "paused" } } }
        form method="post" action=(profile_url(row.id)) class="panel" id="training" {
            h2 { "Training and limits" }
            (form_token(&viewer))
            label for="training-status" { "Training" }
            select id="training-status" name="training_status" {
                @for status in [TrainingStatus::InTraining, TrainingStatus::Trained, TrainingStatus::Lapsed] {
                    option value=(status.as_str()) selected[status == p.training_status] { (words(status.as_str())) }
                }
            }
            label for="completed" { "Training completed on (YYYY-MM-DD)" }
            input id="completed" name="training_completed_on" type="text" value=(date(p.training_completed_on));
            label for="refresher" { "Refresher due on (YYYY-MM-DD)" }
            input id="refresher" name="refresher_due_on" type="text" value=(date(p.refresher_due_on));
            fieldset {
                legend { "Trained for" }
                div class="choice" {
                    input type="checkbox" id="trained-voice" name="trained_voice" value="true" checked[p.trained_voice];
                    label for="trained-voice" { "calls" }
                }
                div class="choice" {
                    input type="checkbox" id="trained-sms" name="trained_sms" value="true" checked[p.trained_sms];
                    label for="trained-sms" { "texts" }
                }
            }
            label for="max-contacts" { "Most contacts in one shift (1 to 50)" }
            input id="max-contacts" name="max_contacts_per_shift" type="text" inputmode="numeric" value=(limits.max_contacts_per_shift);
            label for="long-minutes" { "A contact this long counts as long (minutes, 5 to 240)" }
            input id="long-minutes" name="long_contact_minutes" type="text" inputmode="numeric" value=(limits.long_contact_minutes);
            label for="rest-minutes" { "Rest after a long contact (minutes, 0 to 240)" }
            input id="rest-minutes" name="rest_minutes_after_long" type="text" inputmode="numeric" value=(limits.rest_minutes_after_long);
            label for="max-texts" { "Text conversations at once (1 to 5)" }
            input id="max-texts" name="max_text_conversations" type="text" inputmode="numeric" value=(limits.max_text_conversations);
            button type="submit" { "Save" }
        }
        section aria-labelledby="signoffs" {
            h2 id="signoffs" { "Signed off as ready for" }
            @if topics.is_empty() { p { "Their helplines have no topics." } }
            ul {
                @for topic in &topics {
                    @let ready = signed_off.iter().any(|(_, t)| *t == topic.id);
                    li {
                        (topic.label) ": " @if ready { strong { "signed off" } } @else { "not signed off" }
                        form method="post" action={ (profile_url(row.id)) "/signoffs" } class="inline-action" {
                            (form_token(&viewer))
                            input type="hidden" name="topic_id" value=(topic.id);
                            input type="hidden" name="ready" value=(if ready { "false" } else { "true" });
                            button type="submit" class="link" { @if ready { "Withdraw" } @else { "Sign off" } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&p.name, Some(&viewer), body))
}

fn optional_date(form: &FormFields, name: &'static str) -> Result<Option<NaiveDate>, ConsoleError> {
    form.get(name)
        .map(|raw| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| ApiError::field(name, "a date, YYYY-MM-DD").into())
        })
        .transpose()
}

async fn save(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<VolunteerId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let training_status = form
        .get("training_status")
        .and_then(TrainingStatus::parse)
        .ok_or_else(|| ApiError::field("training_status", "in training, trained or lapsed"))?;
    let changes = VolunteerChanges {
        training_status: Some(training_status),
        training_completed_on: optional_date(&form, "training_completed_on")?,
        refresher_due_on: optional_date(&form, "refresher_due_on")?,
        trained_voice: Some(form.get("trained_voice") == Some("true")),
        trained_sms: Some(form.get("trained_sms") == Some("true")),
        limits: Some(WellbeingLimits {
            max_contacts_per_shift: form.number("max_contacts_per_shift")?,
            long_contact_minutes: form.number("long_contact_minutes")?,
            rest_minutes_after_long: form.number("rest_minutes_after_long")?,
            max_text_conversations: form.number("max_text_conversations")?,
        }),
        ..Default::default()
    };
    volunteer_api::change(&state, &viewer.who, *id, changes).await?;
    Ok(layout::see_other(profile_url(*id)))
}

async fn sign_off(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<VolunteerId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let topic_id = form.number("topic_id")?;
    match form.get("ready") {
        Some("true") => {
            signoffs::grant(&state, &viewer.who, *id, topic_id).await?;
        }
        Some("false") => signoffs::withdraw(&state, &viewer.who, *id, topic_id).await?,
        _ => return Err(ApiError::field("ready", "true or false").into()),
    }
    Ok(layout::see_other(format!("{}#signoffs", profile_url(*id))))
}
