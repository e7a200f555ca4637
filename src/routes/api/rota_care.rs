//! Rota care in the API: a volunteer's quiet hours and the reminders they were sent, and
//! a helpline's cover requests with whom each one asked and its daily gap alerts.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Duration, Utc};
use secrecy::ExposeSecret;
use serde::Serialize;

use super::{managed_helpline, rota_editable_volunteer, visible_volunteer};
use crate::domain::access::Principal;
use crate::domain::coverage::TopicCoverage;
use crate::domain::ids::{HelplineId, TopicId, VolunteerId};
use crate::domain::rota::Interval;
use crate::domain::shift_reminders::{QuietHours, ReminderRound};
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::secrets::{generate_token, hash_token};
use crate::state::AppState;
use crate::storage::cover_requests::{self, CoverAnswer, LossReason};
use crate::storage::shift_reminders::{self, ReminderAnswer};
use crate::storage::{self, calendar_feeds, gap_alerts, volunteers};

/// How far back the lists reach.
const RECENT: Duration = Duration::days(7);

/// Sets the hours of the volunteer's day (on their clock) when no rota text is sent to
/// them; a reminder due then waits for them to end. The volunteer or their supervisor.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), request_body = QuietHours, security(("bearer" = [])),
    responses((status = 200, body = QuietHours), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/volunteers/{id}/quiet-hours")]
pub async fn set_quiet_hours(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
    body: ValidJson<QuietHours>,
) -> Result<HttpResponse, ApiError> {
    set_quiet_hours_of(&state, &who, *id, Some(body.0)).await?;
    Ok(HttpResponse::Ok().json(body.0))
}

/// Sets (or, with none, clears) the quiet hours of volunteer `id`, whose rota `who` may
/// edit.
pub async fn set_quiet_hours_of(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    quiet: Option<QuietHours>,
) -> Result<(), ApiError> {
    rota_editable_volunteer(state, who, id).await?;
    if let Some(quiet) = quiet {
        quiet.validate()?;
    }
    volunteers::set_quiet_hours(&state.db, id, quiet, state.clock.now()).await?;
    Ok(())
}

/// Clears the volunteer's quiet hours.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/volunteers/{id}/quiet-hours")]
pub async fn clear_quiet_hours(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    set_quiet_hours_of(&state, &who, *id, None).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CalendarFeedView {
    /// The feed's address, to subscribe to in a calendar app; shown only now. Anyone with
    /// it can read what it shows (a volunteer's shifts and leave, or a helpline's gaps),
    /// so it is kept like a password.
    pub url: String,
}

/// Gives the volunteer a new secret iCalendar feed of their shifts, extra shifts and
/// leave for the next 8 weeks; any earlier feed address stops working. The volunteer or
/// their supervisor.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 201, body = CalendarFeedView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/volunteers/{id}/calendar-feed")]
pub async fn issue_calendar_feed(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    rota_editable_volunteer(&state, &who, *id).await?;
    let token = generate_token();
    let token = token.expose_secret();
    let txn = storage::write_transaction(&state.db).await?;
    calendar_feeds::replace(&txn, *id, hash_token(token), state.clock.now()).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(CalendarFeedView {
        url: feed_url(&state, token),
    }))
}

/// Stops the volunteer's calendar feed address from working.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/volunteers/{id}/calendar-feed")]
pub async fn revoke_calendar_feed(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    rota_editable_volunteer(&state, &who, *id).await?;
    calendar_feeds::revoke(&state.db, *id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Gives the caller a secret iCalendar feed of the helpline's gaps for the next 8 weeks:
/// stretches with nobody on shift, and with nobody on shift for each topic. Any earlier
/// gap feed of theirs for this helpline stops working, and the feed stops when they no
/// longer manage the helpline. Admins and the helpline's supervisors.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 201, body = CalendarFeedView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/helplines/{id}/gap-feed")]
pub async fn issue_gap_feed(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    managed_helpline(&state, &who, *id).await?;
    let token = generate_token();
    let token = token.expose_secret();
    let txn = storage::write_transaction(&state.db).await?;
    let owner = (who.user_id, *id);
    calendar_feeds::replace_gap_feed(&txn, owner, hash_token(token), state.clock.now()).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(CalendarFeedView {
        url: feed_url(&state, token),
    }))
}

/// Stops the caller's gap feed address for the helpline from working.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/helplines/{id}/gap-feed")]
pub async fn revoke_gap_feed(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    managed_helpline(&state, &who, *id).await?;
    calendar_feeds::revoke_gap_feed(&state.db, who.user_id, *id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The public address of the feed with `token`.
fn feed_url(state: &AppState, token: &str) -> String {
    format!(
        "{}/calendar/{token}.ics",
        state.settings.public_url.as_str().trim_end_matches('/')
    )
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReminderView {
    pub id: i32,
    pub helpline_id: HelplineId,
    pub round: ReminderRound,
    pub shift_starts_at: DateTime<Utc>,
    pub shift_ends_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    /// When the supervisors are told if no answer has come.
    pub answer_by: Option<DateTime<Utc>>,
    pub answer: Option<ReminderAnswer>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When the supervisors were told that no answer came.
    pub reported_at: Option<DateTime<Utc>>,
}

/// The reminders of the volunteer's shifts from a week ago on, with their answers.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ReminderView>), (status = 404, body = ErrorBody)))]
#[get("/volunteers/{id}/reminders")]
pub async fn reminders(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    visible_volunteer(&state, &who, *id).await?;
    let since = state.clock.now() - RECENT;
    let rows = shift_reminders::of_volunteer(&state.db, *id, since).await?;
    let views: Vec<ReminderView> = rows
        .into_iter()
        .map(|r| ReminderView {
            id: r.id,
            helpline_id: r.helpline_id,
            round: r.round,
            shift_starts_at: r.shift_starts_at,
            shift_ends_at: r.shift_ends_at,
            sent_at: r.sent_at,
            answer_by: r.answer_by,
            answer: r.answer,
            answered_at: r.answered_at,
            reported_at: r.reported_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverAskView {
    pub volunteer_id: VolunteerId,
    pub wave: i32,
    pub sent_at: DateTime<Utc>,
    pub answer: Option<CoverAnswer>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverRequestView {
    /// The number volunteers answer with: `YES 7`.
    pub id: i32,
    pub helpline_id: HelplineId,
    /// The volunteer whose shift was lost.
    pub lost_by: VolunteerId,
    pub reason: LossReason,
    pub shift_starts_at: DateTime<Utc>,
    pub shift_ends_at: DateTime<Utc>,
    pub channels: String,
    /// The topic left without anyone signed off; absent when nobody at all was left.
    pub topic_id: Option<TopicId>,
    pub created_at: DateTime<Utc>,
    pub waves: i32,
    pub filled_by: Option<VolunteerId>,
    pub filled_at: Option<DateTime<Utc>>,
    /// When it was filled, or when the shift began unfilled.
    pub closed_at: Option<DateTime<Utc>>,
    pub asked: Vec<CoverAskView>,
}

/// The helpline's cover requests for shifts that ended a week ago or later, with each
/// volunteer asked and their answer.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<CoverRequestView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/cover-requests")]
pub async fn helpline_cover_requests(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    managed_helpline(&state, &who, *id).await?;
    let since = state.clock.now() - RECENT;
    let rows = cover_requests::of_helpline(&state.db, *id, since).await?;
    let views: Vec<CoverRequestView> = rows
        .into_iter()
        .map(|(r, asks)| CoverRequestView {
            id: r.id,
            helpline_id: r.helpline_id,
            lost_by: r.lost_by,
            reason: r.reason,
            shift_starts_at: r.shift_starts_at,
            shift_ends_at: r.shift_ends_at,
            channels: r.channels,
            topic_id: r.topic_id,
            created_at: r.created_at,
            waves: r.waves,
            filled_by: r.filled_by,
            filled_at: r.filled_at,
            closed_at: r.closed_at,
            asked: asks
                .into_iter()
                .map(|a| CoverAskView {
                    volunteer_id: a.volunteer_id,
                    wave: a.wave,
                    sent_at: a.sent_at,
                    answer: a.answer,
                    answered_at: a.answered_at,
                })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// How far back the gap alerts reach.
const RECENT_ALERTS: Duration = Duration::days(14);

#[derive(Serialize, utoipa::ToSchema)]
pub struct GapAlertView {
    pub id: i32,
    /// The helpline's day it was sent for, on its clock.
    #[schema(value_type = String, format = Date)]
    pub day: String,
    pub sent_at: DateTime<Utc>,
    /// The week it looked at.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Stretches with nobody who takes contacts on shift.
    pub gaps: Vec<Interval>,
    /// Topics with gaps of their own: stretches when someone is on shift but nobody signed
    /// off for the topic (the overall gaps are not repeated). Topics without are left out.
    pub topics: Vec<TopicCoverage>,
    /// How many supervisors were texted (none when the week had no gaps).
    pub told: i32,
}

/// The helpline's daily gap alerts of the last two weeks, newest first: what each told
/// its supervisors about the week ahead. Sent only when the helpline turns on
/// `rota.gap_alerts_enabled`, at `rota.gap_alert_time` on its clock.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<GapAlertView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/gap-alerts")]
pub async fn helpline_gap_alerts(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    managed_helpline(&state, &who, *id).await?;
    let since = state.clock.now() - RECENT_ALERTS;
    let rows = gap_alerts::of_helpline(&state.db, *id, since).await?;
    let views: Vec<GapAlertView> = rows
        .into_iter()
        .map(|(row, alert)| GapAlertView {
            id: row.id,
            day: row.local_day,
            sent_at: row.sent_at,
            from: row.covers_from,
            to: row.covers_until,
            gaps: alert.overall,
            topics: alert.topics,
            told: row.told,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}
