//! The coordinator's rota for one helpline: the coverage gaps of the next 14 days
//! (overall, per topic and on call) as red bands, the week as a grid on the helpline's
//! clock, each volunteer's weekly shifts, leave and extra shifts, and the supervisors'
//! on-call rota, changed in place.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

use super::charts::gap_bands;
use super::format::{channels_in_words, day_and_time, local_instant, stretch, words};
use super::layout::{self, form_token};
use super::session::{ConsoleError, Viewer};
use crate::domain::calendar::{LocalTime, Weekday};
use crate::domain::ids::{HelplineId, UserId, VolunteerId};
use crate::domain::rota::{Interval, ShiftChannels};
use crate::domain::rota_grid::{week_grid, week_of};
use crate::domain::timezone::TimeZone;
use crate::error::ApiError;
use crate::routes::api::exceptions::{self, NewException};
use crate::routes::api::managed_helpline;
use crate::routes::api::on_call::{self, NewOnCallShift};
use crate::routes::api::rota::on_call_gaps;
use crate::routes::api::shifts::{self, ShiftInput, ShiftsInput};
use crate::state::AppState;
use crate::storage::cover_requests::{self, CoverAnswer, LossReason};
use crate::storage::entities::{cover_ask, cover_request, on_call_shift, user};
use crate::storage::rota::{self as rota_storage, ExceptionKind, RotaMember};
use crate::storage::{helplines, users};

/// How far ahead the coverage bands look.
const GAP_DAYS: i64 = 14;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/helplines/{id}/rota", web::get().to(rota_page))
        .route("/console/helplines/{id}/shifts", web::post().to(add_shifts))
        .route(
            "/console/helplines/{id}/shifts/remove",
            web::post().to(remove_shift),
        )
        .route(
            "/console/helplines/{id}/leave",
            web::post().to(add_exception),
        )
        .route(
            "/console/helplines/{id}/leave/remove",
            web::post().to(remove_exception),
        )
        .route(
            "/console/helplines/{id}/on-call",
            web::post().to(add_on_call),
        )
        .route(
            "/console/helplines/{id}/on-call/remove",
            web::post().to(remove_on_call),
        );
}

#[derive(Deserialize)]
struct WeekQuery {
    /// Any day of the week to show (YYYY-MM-DD); default this week.
    week: Option<NaiveDate>,
}

fn rota_url(helpline_id: HelplineId) -> String {
    format!("/console/helplines/{helpline_id}/rota")
}

fn back_to_rota(helpline_id: HelplineId, anchor: &str) -> HttpResponse {
    layout::see_other(format!("{}#{anchor}", rota_url(helpline_id)))
}

/// Each local day of the next `GAP_DAYS` on the helpline's clock, labelled, with its span.
fn coming_days(zone: TimeZone, today: NaiveDate) -> Vec<(String, Interval)> {
    (0..GAP_DAYS)
        .filter_map(|offset| {
            let day = today + Duration::days(offset);
            let span = Interval::new(
                zone.start_of_day(day),
                zone.start_of_day(day + Duration::days(1)),
            )
            .ok()?;
            Some((day.format("%a %-d %b").to_string(), span))
        })
        .collect()
}

fn gap_list(id: &str, gaps: &[Interval], tz: Tz) -> Markup {
    html! {
        @if gaps.is_empty() { p class="covered" id=(id) { "No gaps." } } @else {
            ul class="gaps" id=(id) { @for gap in gaps { li { (stretch(gap.start, gap.end, tz)) } } }
        }
    }
}

async fn rota_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    query: web::Query<WeekQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let helpline = managed_helpline(&state, &viewer.who, *id).await?;
    let settings = helplines::settings_of(&helpline)?;
    let zone = settings.time_zone;
    let tz = zone.tz();
    let now = state.clock.now();
    let today = now.with_timezone(&tz).date_naive();
    let days = coming_days(zone, today);
    let span = match (days.first(), days.last()) {
        (Some((_, first)), Some((_, last))) => Interval::new(first.start, last.end).ok(),
        _ => None,
    }
    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no days to show")))?;
    let (overall, topics) =
        rota_storage::coverage_of(&state.db, helpline.id, span, None, now).await?;
    let on_call = on_call_gaps(&state, helpline.id, span).await?;
    let members = rota_storage::helpline_members(&state.db, helpline.id).await?;
    let first_day = week_of(query.week.unwrap_or(today));
    let rotas: Vec<_> = members.iter().map(|m| &m.rota).collect();
    let grid = week_grid(zone, first_day, &rotas);
    let ids: Vec<VolunteerId> = members.iter().map(|m| m.volunteer_id).collect();
    let shift_rows = rota_storage::shifts(&state.db, ids.clone()).await?;
    let exception_rows = rota_storage::exceptions(&state.db, ids).await?;
    let on_call_rows = rota_storage::on_call_shifts(&state.db, helpline.id).await?;
    let supervisors = users::supervisors_of(&state.db, helpline.id).await?;
    let requests = cover_requests::of_helpline(&state.db, helpline.id, now - COVER_SHOWN).await?;
    let body = html! {
        p { "Times are on the helpline's clock (" (zone.name()) ") unless a volunteer's own is given." }
        section aria-labelledby="gaps" {
            h2 id="gaps" { "Gaps in the next 14 days" }
            p class="hint" { "Red: nobody who takes contacts is on shift (overall), nobody signed off for the topic, or no supervisor on call." }
            h3 { "Anyone" }
            (gap_bands("Gaps: anyone on shift", &days, &overall))
            (gap_list("gaps-anyone", &overall, tz))
            @for topic in &topics {
                h3 { (topic.label) }
                (gap_bands(&format!("Gaps: {}", topic.label), &days, &topic.gaps))
                (gap_list(&format!("gaps-topic-{}", topic.key), &topic.gaps, tz))
            }
            h3 { "Supervisor on call" }
            (gap_bands("Gaps: supervisor on call", &days, &on_call))
            (gap_list("gaps-on-call", &on_call, tz))
        }
        (cover_section(&requests, &members, tz))
        section aria-labelledby="week" {
            h2 id="week" { "The week of " (first_day.format("%-d %B %Y")) }
            p {
                a href={ (rota_url(helpline.id)) "?week=" (first_day - Duration::days(7)) "#week" } { "Previous week" }
                " · "
                a href={ (rota_url(helpline.id)) "?week=" (first_day + Duration::days(7)) "#week" } { "Next week" }
            }
            (week_table(first_day, &grid, &members))
        }
        (volunteer_section(&viewer, helpline.id, &members, &shift_rows, &exception_rows, tz, now))
        (on_call_section(&viewer, helpline.id, &on_call_rows, &supervisors))
    };
    Ok(layout::page(
        &format!("Rota · {}", settings.name),
        Some(&viewer),
        body,
    ))
}

/// How far back the cover requests shown reach (by the end of their shift).
const COVER_SHOWN: Duration = Duration::days(7);

fn loss_in_words(reason: LossReason) -> &'static str {
    match reason {
        LossReason::CannotCome => "answered NO to the reminder",
        LossReason::Leave => "took leave at short notice",
        LossReason::Paused => "paused",
    }
}

fn answer_in_words(answer: Option<CoverAnswer>) -> &'static str {
    match answer {
        Some(CoverAnswer::Took) => "took it",
        Some(CoverAnswer::Declined) => "cannot",
        Some(CoverAnswer::TooLate) => "offered too late",
        None => "no answer yet",
    }
}

/// The cover requests of shifts that ended in the last week or are still to come: whose
/// shift, why it was lost, who was asked and what they said, and how it ended.
fn cover_section(
    requests: &[(cover_request::Model, Vec<cover_ask::Model>)],
    members: &[RotaMember],
    tz: Tz,
) -> Markup {
    let name = |id: VolunteerId| {
        members
            .iter()
            .find(|m| m.volunteer_id == id)
            .map_or("a former volunteer", |m| m.profile.name.as_str())
    };
    html! {
        section aria-labelledby="cover" {
            h2 id="cover" { "Cover requests" }
            @if requests.is_empty() {
                p { "No shift has been lost at short notice in the last week." }
            }
            ul id="cover-requests" {
                @for (request, asks) in requests {
                    li {
                        strong { (stretch(request.shift_starts_at, request.shift_ends_at, tz)) }
                        " · " (name(request.lost_by)) " " (loss_in_words(request.reason))
                        " · "
                        @match (request.filled_by, request.closed_at) {
                            (Some(by), _) => { "covered by " (name(by)) }
                            (None, Some(_)) => { "began uncovered" }
                            (None, None) => { "open, " (request.waves) " waves so far" }
                        }
                        @if !asks.is_empty() {
                            ul {
                                @for ask in asks {
                                    li { (name(ask.volunteer_id)) ": " (answer_in_words(ask.answer)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

fn week_table(
    first_day: NaiveDate,
    grid: &crate::domain::rota_grid::WeekGrid,
    members: &[RotaMember],
) -> Markup {
    html! {
        div class="scroll" {
            table class="week" {
                thead {
                    tr {
                        th scope="col" { "Hour" }
                        @for offset in 0..7 {
                            th scope="col" { ((first_day + Duration::days(offset)).format("%a %-d")) }
                        }
                    }
                }
                tbody {
                    @for (hour, row) in grid.iter().enumerate() {
                        tr {
                            th scope="row" { (format!("{hour:02}:00")) }
                            @for cell in row {
                                @match cell {
                                    None => td class="skipped" { "clocks go forward" },
                                    Some(cell) if cell.on_shift.is_empty() => td class="empty" { "nobody" },
                                    Some(cell) => td {
                                        (cell.on_shift.iter()
                                            .filter_map(|i| members.get(*i))
                                            .map(|m| first_name(&m.profile.name))
                                            .collect::<Vec<_>>()
                                            .join(", "))
                                    },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn volunteer_section(
    viewer: &Viewer,
    helpline_id: HelplineId,
    members: &[RotaMember],
    shift_rows: &[crate::storage::entities::shift::Model],
    exception_rows: &[crate::storage::entities::rota_exception::Model],
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let mut shifts_of: HashMap<VolunteerId, Vec<&crate::storage::entities::shift::Model>> =
        HashMap::new();
    for row in shift_rows {
        shifts_of.entry(row.volunteer_id).or_default().push(row);
    }
    let remove_shift = format!("/console/helplines/{helpline_id}/shifts/remove");
    let remove_leave = format!("/console/helplines/{helpline_id}/leave/remove");
    html! {
        section aria-labelledby="volunteers" {
            h2 id="volunteers" { "Volunteers" }
            @for m in members {
                @let own = m.profile.time_zone.tz();
                article class="volunteer" {
                    h3 { a href={ "/console/volunteers/" (m.volunteer_id) } { (m.profile.name) } }
                    p class="hint" {
                        (m.profile.time_zone.name()) ", now " (day_and_time(now, own))
                        " · " (words_of_training(m))
                        @if !m.profile.active { " · " strong { "paused" } }
                    }
                    ul {
                        @for row in shifts_of.get(&m.volunteer_id).into_iter().flatten() {
                            li {
                                (words(&row.weekday)) " " (row.start_time) "–" (row.end_time) " their time · "
                                (ShiftChannels::parse(&row.channels).map_or("calls and texts", channels_in_words))
                                form method="post" action=(remove_shift) class="inline-action" {
                                    (form_token(viewer))
                                    input type="hidden" name="volunteer_id" value=(m.volunteer_id);
                                    input type="hidden" name="shift_id" value=(row.id);
                                    button type="submit" class="link" { "Remove" }
                                }
                            }
                        }
                        @for row in exception_rows.iter().filter(|e| e.volunteer_id == m.volunteer_id && e.ends_at > now) {
                            li {
                                (words(&row.kind)) " " (stretch(row.starts_at, row.ends_at, tz))
                                form method="post" action=(remove_leave) class="inline-action" {
                                    (form_token(viewer))
                                    input type="hidden" name="volunteer_id" value=(m.volunteer_id);
                                    input type="hidden" name="exception_id" value=(row.id);
                                    button type="submit" class="link" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
            (add_shift_form(viewer, helpline_id, members))
            (add_leave_form(viewer, helpline_id, members))
        }
    }
}

fn on_call_section(
    viewer: &Viewer,
    helpline_id: HelplineId,
    shifts: &[on_call_shift::Model],
    supervisors: &[user::Model],
) -> Markup {
    let name = |id: UserId| {
        supervisors
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("user {id}"), |u| u.name.clone())
    };
    let reachable: Vec<&user::Model> = supervisors
        .iter()
        .filter(|u| u.phone.is_some() && u.time_zone.is_some())
        .collect();
    html! {
        section aria-labelledby="on-call" {
            h2 id="on-call" { "Supervisors on call" }
            @if shifts.is_empty() {
                p class="problem" { "Nobody is on call: a safeguarding alert goes to every supervisor of the helpline and every administrator with a phone." }
            }
            ul {
                @for row in shifts {
                    li {
                        (name(row.user_id)) " · " (words(&row.weekday)) " " (row.start_time) "–" (row.end_time) " their time"
                        form method="post" action={ "/console/helplines/" (helpline_id) "/on-call/remove" } class="inline-action" {
                            (form_token(viewer))
                            input type="hidden" name="on_call_id" value=(row.id);
                            button type="submit" class="link" { "Remove" }
                        }
                    }
                }
            }
            @if reachable.is_empty() {
                p { "No supervisor of this helpline has both a phone and a time zone on record, so nobody can be put on call." }
            } @else {
                form method="post" action={ "/console/helplines/" (helpline_id) "/on-call" } class="panel" id="add-on-call" {
                    h3 { "Put a supervisor on call" }
                    (form_token(viewer))
                    label for="on-call-user" { "Supervisor" }
                    select id="on-call-user" name="user_id" {
                        @for u in &reachable { option value=(u.id) { (u.name) } }
                    }
                    label for="on-call-day" { "Day" }
                    select id="on-call-day" name="weekday" {
                        @for day in Weekday::ALL { option value=(day.as_str()) { (words(day.as_str())) } }
                    }
                    label for="on-call-start" { "Start, HH:MM on the supervisor's own clock" }
                    input id="on-call-start" name="start" type="text" inputmode="numeric" placeholder="00:00" pattern="[0-2][0-9]:[0-5][0-9]" required;
                    label for="on-call-end" { "End, HH:MM" }
                    input id="on-call-end" name="end" type="text" inputmode="numeric" placeholder="23:59" pattern="[0-2][0-9]:[0-5][0-9]" required;
                    button type="submit" { "Add on-call shift" }
                }
            }
        }
    }
}

fn words_of_training(m: &RotaMember) -> String {
    let mut parts = vec![words(m.profile.training_status.as_str())];
    if let Some(due) = m.profile.refresher_due_on {
        parts.push(format!("refresher due {}", due.format("%-d %b %Y")));
    }
    parts.push(format!("{} topic sign-off(s)", m.ready_topics.len()));
    parts.join(" · ")
}

fn volunteer_select(id: &str, members: &[RotaMember]) -> Markup {
    html! {
        label for=(id) { "Volunteer" }
        select id=(id) name="volunteer_id" required {
            @for m in members { option value=(m.volunteer_id) { (m.profile.name) } }
        }
    }
}

fn add_shift_form(viewer: &Viewer, helpline_id: HelplineId, members: &[RotaMember]) -> Markup {
    html! {
        form method="post" action={ "/console/helplines/" (helpline_id) "/shifts" } class="panel" id="add-shift" {
            h3 { "Add a weekly shift" }
            (form_token(viewer))
            (volunteer_select("shift-volunteer", members))
            fieldset {
                legend { "Days" }
                @for day in Weekday::ALL {
                    @let field = format!("day-{}", day.as_str());
                    div class="choice" {
                        input type="checkbox" id=(field) name="weekdays" value=(day.as_str());
                        label for=(field) { (words(day.as_str())) }
                    }
                }
            }
            label for="shift-start" { "Start, HH:MM on the volunteer's own clock" }
            input id="shift-start" name="start" type="text" inputmode="numeric" placeholder="19:00" pattern="[0-2][0-9]:[0-5][0-9]" required;
            label for="shift-end" { "End, HH:MM (at or before the start: it ends the next day)" }
            input id="shift-end" name="end" type="text" inputmode="numeric" placeholder="22:00" pattern="[0-2][0-9]:[0-5][0-9]" required;
            label for="shift-channels" { "Takes" }
            select id="shift-channels" name="channels" {
                option value="both" { "calls and texts" }
                option value="voice" { "calls" }
                option value="sms" { "texts" }
            }
            button type="submit" { "Add shift" }
        }
    }
}

fn add_leave_form(viewer: &Viewer, helpline_id: HelplineId, members: &[RotaMember]) -> Markup {
    html! {
        form method="post" action={ "/console/helplines/" (helpline_id) "/leave" } class="panel" id="add-leave" {
            h3 { "Add leave or an extra shift" }
            (form_token(viewer))
            (volunteer_select("leave-volunteer", members))
            label for="leave-kind" { "What" }
            select id="leave-kind" name="kind" {
                option value="leave" { "leave" }
                option value="extra_shift" { "extra shift" }
            }
            label for="leave-from" { "From, YYYY-MM-DD HH:MM on the helpline's clock" }
            input id="leave-from" name="from" type="text" placeholder="2026-12-24 19:00" required;
            label for="leave-to" { "Until, YYYY-MM-DD HH:MM" }
            input id="leave-to" name="to" type="text" placeholder="2026-12-26 09:00" required;
            button type="submit" { "Add" }
        }
    }
}

async fn add_shifts(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    managed_helpline(&state, &viewer.who, *id).await?;
    let volunteer_id = form.number("volunteer_id")?;
    let weekdays = form
        .all("weekdays")
        .into_iter()
        .map(|d| Weekday::parse(d).map_err(|e| ApiError::field("weekdays", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let input = ShiftsInput {
        weekdays,
        start: form.parsed("start", LocalTime::parse)?,
        end: form.parsed("end", LocalTime::parse)?,
        channels: form
            .get("channels")
            .and_then(ShiftChannels::parse)
            .unwrap_or(ShiftChannels::Both),
        valid_from: None,
        valid_until: None,
    };
    shifts::add_on_weekdays(&state, &viewer.who, volunteer_id, input).await?;
    Ok(back_to_rota(*id, "gaps"))
}

async fn remove_shift(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    managed_helpline(&state, &viewer.who, *id).await?;
    let volunteer_id = form.number("volunteer_id")?;
    shifts::remove(&state, &viewer.who, volunteer_id, form.number("shift_id")?).await?;
    Ok(back_to_rota(*id, "volunteers"))
}

async fn add_exception(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let helpline = managed_helpline(&state, &viewer.who, *id).await?;
    let zone = helplines::settings_of(&helpline)?.time_zone;
    let kind = form
        .get("kind")
        .and_then(ExceptionKind::parse)
        .ok_or_else(|| ApiError::field("kind", "leave or extra_shift"))?;
    let new = NewException {
        kind,
        starts_at: local_instant(&form, "from", zone)?,
        ends_at: local_instant(&form, "to", zone)?,
        channels: None,
        note: None,
    };
    exceptions::add(&state, &viewer.who, form.number("volunteer_id")?, new).await?;
    Ok(back_to_rota(*id, "gaps"))
}

async fn remove_exception(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    managed_helpline(&state, &viewer.who, *id).await?;
    let volunteer_id = form.number("volunteer_id")?;
    let exception_id = form.number("exception_id")?;
    exceptions::remove(&state, &viewer.who, volunteer_id, exception_id).await?;
    Ok(back_to_rota(*id, "volunteers"))
}

async fn add_on_call(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let new = NewOnCallShift {
        user_id: form.number("user_id")?,
        shift: ShiftInput {
            weekday: form.parsed("weekday", Weekday::parse)?,
            start: form.parsed("start", LocalTime::parse)?,
            end: form.parsed("end", LocalTime::parse)?,
            channels: ShiftChannels::Both,
            valid_from: None,
            valid_until: None,
        },
    };
    on_call::add(&state, &viewer.who, *id, new).await?;
    Ok(back_to_rota(*id, "gaps"))
}

async fn remove_on_call(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    on_call::remove(&state, &viewer.who, *id, form.number("on_call_id")?).await?;
    Ok(back_to_rota(*id, "on-call"))
}
