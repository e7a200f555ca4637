//! A volunteer's own console, phone first: their next shifts on their own clock, pausing
//! and resuming themself, stepping back from a topic for a while, their quiet hours,
//! their recent contacts (callers masked) and the after-contact report, with what each
//! flag will do written beside it.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use chrono_tz::Tz;
use maud::{Markup, html};

use super::format::{channels_in_words, day_and_time, local_instant, stretch, words};
use super::layout::{self, form_token};
use super::session::{ConsoleError, Viewer};
use crate::contact_flow::candidates::recent_activity_of;
use crate::domain::calendar::LocalTime;
use crate::domain::ids::{ContactId, TopicId, VolunteerId};
use crate::domain::rota::Interval;
use crate::domain::rota_grid::week_of;
use crate::domain::routing::rest_ends_at;
use crate::domain::shift_calendar::shifts_within;
use crate::domain::shift_reminders::QuietHours;
use crate::domain::supervision::{Flag, ReportInput};
use crate::domain::timezone::TimeZone;
use crate::domain::volunteer_changes::VolunteerChanges;
use crate::error::ApiError;
use crate::routes::api::contact_views::MyContact;
use crate::routes::api::exceptions::{self, NewException};
use crate::routes::api::rota_care;
use crate::routes::api::step_backs::{self as step_backs_api, NewStepBack};
use crate::routes::api::{my_contacts, visible_volunteer, volunteers as volunteer_api};
use crate::state::AppState;
use crate::storage::rota::ExceptionKind;
use crate::storage::{self, contacts, helplines, rota, step_backs, users, volunteers};

/// How far ahead "my next shifts" looks.
const SHIFTS_AHEAD: Duration = Duration::weeks(4);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/me", web::get().to(my_page))
        .route("/console/me/availability", web::post().to(set_availability))
        .route("/console/me/leave", web::post().to(add_leave))
        .route("/console/me/leave/remove", web::post().to(remove_leave))
        .route("/console/me/step-back", web::post().to(step_back))
        .route("/console/me/step-back/end", web::post().to(end_step_back))
        .route("/console/me/quiet-hours", web::post().to(set_quiet_hours))
        .route("/console/me/contacts/{id}", web::get().to(my_contact))
        .route(
            "/console/me/contacts/{id}/report",
            web::post().to(file_report),
        );
}

/// What each flag does, as the volunteer reads it before raising it.
pub fn flag_consequence(flag: Flag) -> &'static str {
    match flag {
        Flag::Safeguarding => {
            "Someone may be at risk. The supervisor on call is texted at once and will contact you."
        }
        Flag::NeedsDebrief => {
            "You would like to talk this through. A debrief with a supervisor is booked, and you get a rest before your next contact."
        }
        Flag::Abusive => "The caller was abusive. A supervisor reviews it and may block them.",
    }
}

async fn my_page(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, ConsoleError> {
    let me = my_contacts::volunteer_of(&viewer.who)?;
    let (row, _) = visible_volunteer(&state, &viewer.who, me).await?;
    let profile = volunteers::profile_of(&row)?;
    let zone = profile.time_zone;
    let now = state.clock.now();
    let rota = rota::rota_of(&state.db, me, zone).await?;
    let upcoming = match Interval::new(now, now + SHIFTS_AHEAD) {
        Ok(span) => shifts_within(&rota, span),
        Err(_) => Vec::new(),
    };
    let contacts = my_contacts::own_contacts(&state, &viewer.who, None, Some(10)).await?;
    let tz = zone.tz();
    let week_start = zone.start_of_day(week_of(now.with_timezone(&tz).date_naive()));
    let this_week = contacts::answered_by_since(&state.db, me, week_start).await?;
    let talk_minutes: i64 = this_week
        .iter()
        .map(|(_, _, _, talk)| i64::from(talk.unwrap_or(0)))
        .sum::<i64>()
        / 60;
    // Rest depends on their own recent contacts and flags alone.
    let activity = recent_activity_of(&state.db, me, now).await?;
    let resting_until = rest_ends_at(&profile, &activity).filter(|until| *until > now);
    let stepped_back = step_backs::in_force_or_ahead(&state.db, me, now).await?;
    let mut topics = Vec::new();
    for helpline_id in users::served_helplines(&state.db, me).await? {
        topics.extend(helplines::topics(&state.db, helpline_id).await?);
    }
    let topic_label = |id: Option<TopicId>| match id {
        None => "every contact".to_owned(),
        Some(id) => topics
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("topic {id}"), |t| t.label.clone()),
    };
    let leave: Vec<_> = rota::exceptions(&state.db, vec![me])
        .await?
        .into_iter()
        .filter(|e| e.kind == ExceptionKind::Leave.as_str() && e.ends_at > now)
        .collect();
    let body = html! {
        p { "Hello " (profile.name) ". Times are on your own clock (" (zone.to_string()) ")." }
        section aria-labelledby="availability" {
            h2 id="availability" { "Taking contacts" }
            @if profile.active {
                p class="status" { "You are taking contacts when you are on shift." }
                form method="post" action="/console/me/availability" {
                    (form_token(&viewer))
                    input type="hidden" name="active" value="false";
                    button type="submit" { "Pause: take no contacts for now" }
                }
            } @else {
                p class="status paused" { "You are paused: peerline offers you no calls or texts until you resume." }
                form method="post" action="/console/me/availability" {
                    (form_token(&viewer))
                    input type="hidden" name="active" value="true";
                    button type="submit" { "Resume taking contacts" }
                }
            }
        }
        section aria-labelledby="week" {
            h2 id="week" { "My week" }
            p {
                (this_week.len()) " contact(s) since Monday, " (talk_minutes) " min of talk."
                @if let Some(until) = resting_until {
                    " " strong { "Resting until " (day_and_time(until, tz)) } ": no contacts are offered to you before then."
                }
            }
        }
        section aria-labelledby="shifts" {
            h2 id="shifts" { "My next shifts (4 weeks)" }
            @if upcoming.is_empty() {
                p { "No shifts in the next four weeks." }
            } @else {
                ul class="shifts" {
                    @for shift in &upcoming {
                        li class=[shift.on_leave.then_some("leave")] {
                            @if shift.span.start <= now {
                                strong { "On shift now" } ", until " (day_and_time(shift.span.end, tz))
                            } @else {
                                (stretch(shift.span.start, shift.span.end, tz))
                            }
                            " · " (channels_in_words(shift.channels))
                            @if shift.extra { " · extra shift" }
                            @if shift.on_leave { " · on leave" }
                        }
                    }
                }
            }
        }
        section aria-labelledby="leave" {
            h2 id="leave" { "Leave" }
            @if leave.is_empty() { p { "No leave booked." } }
            ul {
                @for row in &leave {
                    li {
                        (stretch(row.starts_at, row.ends_at, tz))
                        form method="post" action="/console/me/leave/remove" class="inline-action" {
                            (form_token(&viewer))
                            input type="hidden" name="exception_id" value=(row.id);
                            button type="submit" class="link" { "Cancel" }
                        }
                    }
                }
            }
            form method="post" action="/console/me/leave" class="panel" id="add-leave" {
                (form_token(&viewer))
                label for="leave-from" { "From, YYYY-MM-DD HH:MM on your clock" }
                input id="leave-from" name="from" type="text" placeholder="2026-12-24 00:00" required;
                label for="leave-to" { "Until" }
                input id="leave-to" name="to" type="text" placeholder="2026-12-27 00:00" required;
                button type="submit" { "Book leave" }
            }
        }
        section aria-labelledby="step-back" {
            h2 id="step-back" { "Stepping back" }
            p { "Not ready, for a while, to hear about one topic, or to take any contact? Step back without losing your sign-off. Nobody asks why." }
            ul {
                @for row in &stepped_back {
                    li {
                        "From " (topic_label(row.topic_id)) " until " (day_and_time(row.until, tz))
                        form method="post" action="/console/me/step-back/end" class="inline-action" {
                            (form_token(&viewer))
                            input type="hidden" name="step_back_id" value=(row.id);
                            button type="submit" class="link" { "End now" }
                        }
                    }
                }
            }
            form method="post" action="/console/me/step-back" class="panel" id="add-step-back" {
                (form_token(&viewer))
                label for="step-back-topic" { "Step back from" }
                select id="step-back-topic" name="topic_id" {
                    option value="" { "Every contact" }
                    @for topic in &topics {
                        option value=(topic.id) { (topic.label) }
                    }
                }
                label for="step-back-shifts" { "For my next shifts (1 to 20)" }
                input id="step-back-shifts" name="shifts" type="number" min="1" max="20";
                label for="step-back-until" { "Or until, YYYY-MM-DD HH:MM on your clock" }
                input id="step-back-until" name="until" type="text" placeholder="2026-12-24 00:00";
                button type="submit" { "Step back" }
            }
        }
        section aria-labelledby="quiet-hours" {
            h2 id="quiet-hours" { "Quiet hours" }
            p { "No shift reminders or requests to cover reach you in these hours of your day; a reminder due then comes when they end." }
            p id="quiet-now" {
                @match volunteers::quiet_hours_of(&row) {
                    Some(quiet) => { "Quiet from " (quiet.from) " to " (quiet.until) " on your clock." }
                    None => { "No quiet hours set." }
                }
            }
            form method="post" action="/console/me/quiet-hours" class="panel" id="set-quiet-hours" {
                (form_token(&viewer))
                label for="quiet-from" { "Quiet from, HH:MM" }
                input id="quiet-from" name="from" type="text" inputmode="numeric" placeholder="22:00" maxlength="5";
                label for="quiet-until" { "Until, HH:MM" }
                input id="quiet-until" name="until" type="text" inputmode="numeric" placeholder="08:00" maxlength="5";
                p class="hint" { "Leave both empty to clear them." }
                button type="submit" { "Save quiet hours" }
            }
        }
        section aria-labelledby="contacts" {
            h2 id="contacts" { "My recent contacts" }
            (contact_list(&contacts.items, tz))
        }
    };
    Ok(layout::page("My shifts and contacts", Some(&viewer), body))
}

fn contact_list(items: &[MyContact], tz: Tz) -> Markup {
    html! {
        @if items.is_empty() {
            p { "No contacts yet." }
        } @else {
            ul class="contacts" {
                @for c in items {
                    li {
                        a href={ "/console/me/contacts/" (c.id) } {
                            (day_and_time(c.received_at, tz)) " · " (c.caller)
                        }
                        " · "
                        @if c.taken { "you took it" } @else {
                            "offered to you"
                            @if let Some(outcome) = c.offer_outcome { " (" (words(outcome.as_str())) ")" }
                        }
                    }
                }
            }
        }
    }
}

async fn set_availability(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let me = my_contacts::volunteer_of(&viewer.who)?;
    let active = match form.get("active") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(ApiError::field("active", "must be true or false").into()),
    };
    let changes = VolunteerChanges {
        active: Some(active),
        ..Default::default()
    };
    volunteer_api::change(&state, &viewer.who, me, changes).await?;
    Ok(layout::see_other("/console/me"))
}

async fn my_contact(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<ContactId>,
) -> Result<HttpResponse, ConsoleError> {
    contact_page(&state, &viewer, *id, None).await
}

async fn contact_page(
    state: &AppState,
    viewer: &Viewer,
    id: ContactId,
    notice: Option<Markup>,
) -> Result<HttpResponse, ConsoleError> {
    let me = my_contacts::volunteer_of(&viewer.who)?;
    let detail = my_contacts::own_contact(state, &viewer.who, id).await?;
    let (row, _) = visible_volunteer(state, &viewer.who, me).await?;
    let tz = volunteers::profile_of(&row)?.time_zone.tz();
    let contact = &detail.contact;
    let helpline = helplines::get(&state.db, &storage::Scope::All, contact.helpline_id)
        .await?
        .ok_or(ApiError::NotFound("helpline"))?;
    let settings = helplines::settings_of(&helpline)?;
    let topic = match contact.topic_id {
        Some(topic_id) => helplines::topic_by_id(&state.db, topic_id)
            .await?
            .map(|t| t.label),
        None => None,
    };
    let latest = detail.reports.last();
    let body = html! {
        @if let Some(notice) = notice { (notice) }
        dl class="facts" {
            dt { "Who" } dd { (contact.caller) }
            dt { "When" } dd { (day_and_time(contact.received_at, tz)) }
            dt { "Helpline" } dd { (settings.name) }
            dt { "Topic" } dd { (topic.as_deref().unwrap_or("none chosen")) }
            @if let Some(talk) = contact.talk_secs { dt { "Talk time" } dd { (talk / 60) " min" } }
        }
        @if contact.taken {
            section aria-labelledby="report" {
                h2 id="report" { "After-contact report" }
                @if let Some(latest) = latest {
                    p { "Version " (latest.version) " filed " (day_and_time(latest.created_at, tz)) ". Filing again adds a new version; earlier ones are kept." }
                }
                form method="post" action={ "/console/me/contacts/" (contact.id) "/report" } {
                    (form_token(viewer))
                    label for="notes" { "Notes" }
                    textarea id="notes" name="notes" rows="6" maxlength="10000" {
                        (latest.and_then(|r| r.notes.as_deref()).unwrap_or_default())
                    }
                    fieldset {
                        legend { "How it went" }
                        @for tag in &settings.supervision.outcome_tags {
                            @let field = format!("tag-{tag}");
                            div class="choice" {
                                input type="checkbox" id=(field) name="outcome_tags" value=(tag)
                                    checked[latest.is_some_and(|r| r.outcome_tags.contains(tag))];
                                label for=(field) { (words(tag)) }
                            }
                        }
                    }
                    fieldset {
                        legend { "Flags" }
                        @for flag in Flag::ALL {
                            @let field = format!("flag-{}", flag.as_str());
                            @let hint = format!("{field}-what");
                            div class="choice" {
                                input type="checkbox" id=(field) name="flags" value=(flag.as_str())
                                    aria-describedby=(hint)
                                    checked[latest.is_some_and(|r| r.flags.contains(&flag))];
                                label for=(field) { (words(flag.as_str())) }
                                p class="hint" id=(hint) { (flag_consequence(flag)) }
                            }
                        }
                    }
                    button type="submit" { "File report" }
                }
            }
        } @else {
            p { "This contact was offered to you; someone else took it, so there is no report for you to file." }
        }
        p { a href="/console/me" { "Back to my shifts and contacts" } }
    };
    Ok(layout::page(
        &format!("Contact #{}", contact.id),
        Some(viewer),
        body,
    ))
}

async fn file_report(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<ContactId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let mut flags = Vec::new();
    for raw in form.all("flags") {
        let flag = Flag::parse(raw)
            .ok_or_else(|| ApiError::field("flags", format!("'{raw}' is not a flag")))?;
        flags.push(flag);
    }
    let input = ReportInput {
        notes: form.get("notes").map(str::to_owned),
        outcome_tags: form
            .all("outcome_tags")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        flags,
    };
    let submitted = my_contacts::submit_report(&state, &viewer.who, *id, input).await?;
    let notice = html! {
        div class="notice" role="status" {
            p { "Report filed (version " (submitted.report.version) ")." }
            @if submitted.newly_raised.contains(&Flag::Safeguarding) {
                p { "Safeguarding: " (submitted.supervisors_alerted) " supervisor(s) texted." }
            }
            @if submitted.newly_raised.contains(&Flag::NeedsDebrief) {
                p { "A debrief is booked; take your rest before your next contact." }
            }
        }
    };
    contact_page(&state, &viewer, *id, Some(notice)).await
}

async fn add_leave(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let (me, zone) = me_and_my_clock(&state, &viewer).await?;
    let new = NewException {
        kind: ExceptionKind::Leave,
        starts_at: local_instant(&form, "from", zone)?,
        ends_at: local_instant(&form, "to", zone)?,
        channels: None,
        note: None,
    };
    exceptions::add(&state, &viewer.who, me, new).await?;
    Ok(layout::see_other("/console/me#leave"))
}

/// The signed-in volunteer's record id and their own clock.
async fn me_and_my_clock(
    state: &AppState,
    viewer: &Viewer,
) -> Result<(VolunteerId, TimeZone), ConsoleError> {
    let me = my_contacts::volunteer_of(&viewer.who)?;
    let (row, _) = visible_volunteer(state, &viewer.who, me).await?;
    Ok((me, volunteers::profile_of(&row)?.time_zone))
}

async fn remove_leave(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let me = my_contacts::volunteer_of(&viewer.who)?;
    let exception_id = form.number("exception_id")?;
    exceptions::remove(&state, &viewer.who, me, exception_id).await?;
    Ok(layout::see_other("/console/me#leave"))
}

async fn step_back(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let (me, zone) = me_and_my_clock(&state, &viewer).await?;
    let new = NewStepBack {
        topic_id: form
            .get("topic_id")
            .map(|_| form.number("topic_id"))
            .transpose()?,
        until: form
            .get("until")
            .map(|_| local_instant(&form, "until", zone))
            .transpose()?,
        shifts: form.optional("shifts", str::parse::<u32>)?,
    };
    step_backs_api::add(&state, &viewer.who, me, new).await?;
    Ok(layout::see_other("/console/me#step-back"))
}

async fn set_quiet_hours(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let me = my_contacts::volunteer_of(&viewer.who)?;
    let from = form.optional("from", LocalTime::parse)?;
    let until = form.optional("until", LocalTime::parse)?;
    let quiet = match (from, until) {
        (Some(from), Some(until)) => Some(QuietHours { from, until }),
        (None, None) => None,
        _ => {
            return Err(ApiError::field(
                "until",
                "give both times to set quiet hours, or neither to clear them",
            )
            .into());
        }
    };
    rota_care::set_quiet_hours_of(&state, &viewer.who, me, quiet).await?;
    Ok(layout::see_other("/console/me#quiet-hours"))
}

async fn end_step_back(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let me = my_contacts::volunteer_of(&viewer.who)?;
    let step_back_id = form.number("step_back_id")?;
    step_backs_api::finish(&state, &viewer.who, me, step_back_id).await?;
    Ok(layout::see_other("/console/me#step-back"))
}

/// Where a signed-in person starts.
pub fn home_of(viewer: &Viewer) -> &'static str {
    if viewer.who.volunteer_id.is_some() && !viewer.who.reviews_contacts() {
        "/console/me"
    } else {
        "/console/reviews"
    }
}
