//! `/volunteers/{id}/step-backs`: a volunteer stepping back, for a while, from one topic
//! or from every contact, without losing their sign-off. Only that it is in force and
//! until when is kept: never why.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{rota_editable_volunteer, visible_volunteer};
use crate::domain::access::Principal;
use crate::domain::ids::{TopicId, VolunteerId};
use crate::domain::step_back::{InvalidLength, Length};
use crate::error::{ApiError, ErrorBody};
use crate::rota_care::stepping_back;
use crate::routes::extract::ValidJson;
use crate::state::AppState;
use crate::storage::entities::step_back;
use crate::storage::{helplines, step_backs};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStepBack {
    /// The topic to step back from; leave it out to step back from every contact.
    pub topic_id: Option<TopicId>,
    /// Until this RFC 3339 instant (at most 8 weeks ahead); or give `shifts`.
    pub until: Option<DateTime<Utc>>,
    /// For the volunteer's next this many shifts (1 to 20, one under way counted).
    pub shifts: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StepBackView {
    pub id: i32,
    pub volunteer_id: VolunteerId,
    /// None: every contact.
    pub topic_id: Option<TopicId>,
    pub starts_at: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// As asked, when asked as a number of shifts.
    pub shifts: Option<i32>,
}

fn view(row: step_back::Model) -> StepBackView {
    StepBackView {
        id: row.id,
        volunteer_id: row.volunteer_id,
        topic_id: row.topic_id,
        starts_at: row.starts_at,
        until: row.until,
        shifts: row.shifts,
    }
}

fn length_of(body: &NewStepBack) -> Result<Length, ApiError> {
    match (body.until, body.shifts) {
        (Some(until), None) => Ok(Length::Until(until)),
        (None, Some(shifts)) => Ok(Length::Shifts(shifts)),
        _ => Err(ApiError::InvalidBody(
            "give either `until` or `shifts`".to_owned(),
        )),
    }
}

fn field_of(problem: &InvalidLength) -> &'static str {
    match problem {
        InvalidLength::InThePast | InvalidLength::TooFar => "until",
        InvalidLength::ShiftCount | InvalidLength::TooFewShifts { .. } => "shifts",
    }
}

/// Steps the volunteer back from a topic (or every contact) until a date or for their
/// next shifts: the router offers them no such contact meanwhile, and coverage does not
/// count them. The volunteer or their supervisor.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), request_body = NewStepBack, security(("bearer" = [])),
    responses((status = 201, body = StepBackView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/volunteers/{id}/step-backs")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
    body: ValidJson<NewStepBack>,
) -> Result<HttpResponse, ApiError> {
    let row = add(&state, &who, *id, body.0).await?;
    Ok(HttpResponse::Created().json(view(row)))
}

/// Steps volunteer `id` back as `body` asks, for `who` (the volunteer or their supervisor).
pub async fn add(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    body: NewStepBack,
) -> Result<step_back::Model, ApiError> {
    let volunteer = rota_editable_volunteer(state, who, id).await?;
    let length = length_of(&body)?;
    if let Some(topic_id) = body.topic_id {
        let serves = crate::storage::users::served_helplines(&state.db, id).await?;
        let topic = helplines::topic_by_id(&state.db, topic_id).await?;
        if !topic.is_some_and(|t| serves.contains(&t.helpline_id)) {
            return Err(ApiError::InvalidField {
                field: "topic_id".to_owned(),
                message: "is no topic of the volunteer's helplines".to_owned(),
            });
        }
    }
    let now = state.clock.now();
    let asked_by = Some(who.user_id);
    let asked =
        stepping_back::step_back(&state.db, &volunteer, body.topic_id, length, asked_by, now)
            .await?;
    asked.map_err(|problem| ApiError::InvalidField {
        field: field_of(&problem).to_owned(),
        message: problem.to_string(),
    })
}

/// The volunteer's step-backs in force or to come, soonest to end first.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<StepBackView>), (status = 404, body = ErrorBody)))]
#[get("/volunteers/{id}/step-backs")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    visible_volunteer(&state, &who, *id).await?;
    let rows = step_backs::in_force_or_ahead(&state.db, *id, state.clock.now()).await?;
    let views: Vec<StepBackView> = rows.into_iter().map(view).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Ends a step-back now: the volunteer is ready again. The volunteer or their supervisor.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), ("step_back_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/volunteers/{id}/step-backs/{step_back_id}")]
pub async fn end(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(VolunteerId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, step_back_id) = path.into_inner();
    finish(&state, &who, id, step_back_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends volunteer `id`'s step-back `step_back_id` now, for `who`.
pub async fn finish(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    step_back_id: i32,
) -> Result<(), ApiError> {
    rota_editable_volunteer(state, who, id).await?;
    if !step_backs::end(&state.db, id, step_back_id, state.clock.now()).await? {
        return Err(ApiError::NotFound("step-back"));
    }
    Ok(())
}
