//! `/volunteers/{id}/shifts`: weekly recurring shifts on the volunteer's own wall clock.
//! The volunteer and their supervisors edit them.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{rota_editable_volunteer, visible_volunteer};
use crate::domain::access::Principal;
use crate::domain::calendar::{LocalTime, Weekday};
use crate::domain::ids::VolunteerId;
use crate::domain::rota::{InvalidShift, ShiftChannels, WeeklyShift};
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::state::AppState;
use crate::storage::entities::shift;
use crate::storage::{self, rota};

/// A weekly shift. An `end` at or before `start` crosses midnight and belongs to the
/// weekday it starts on.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftInput {
    pub weekday: Weekday,
    /// Local start, `HH:MM`, in the volunteer's time zone.
    #[schema(value_type = String, example = "22:00")]
    pub start: LocalTime,
    /// Local end, `HH:MM`.
    #[schema(value_type = String, example = "02:00")]
    pub end: LocalTime,
    #[serde(default = "both")]
    pub channels: ShiftChannels,
    /// First date (inclusive) a shift may start on.
    pub valid_from: Option<NaiveDate>,
    /// Last date (inclusive) a shift may start on.
    pub valid_until: Option<NaiveDate>,
}

fn both() -> ShiftChannels {
    ShiftChannels::Both
}

impl ShiftInput {
    pub fn into_shift(self) -> Result<WeeklyShift, ApiError> {
        WeeklyShift::new(
            self.weekday,
            self.start,
            self.end,
            self.channels,
            self.valid_from,
            self.valid_until,
        )
        .map_err(|e| match e {
            InvalidShift::ZeroLength(_) => ApiError::field("end", e),
            InvalidShift::ValidityReversed { .. } => ApiError::field("valid_until", e),
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ShiftView {
    pub id: i32,
    pub volunteer_id: VolunteerId,
    #[serde(flatten)]
    pub shift: ShiftInput,
    pub crosses_midnight: bool,
}

impl From<&WeeklyShift> for ShiftInput {
    fn from(s: &WeeklyShift) -> Self {
        Self {
            weekday: s.weekday(),
            start: s.start(),
            end: s.end(),
            channels: s.channels(),
            valid_from: s.valid_from(),
            valid_until: s.valid_until(),
        }
    }
}

fn view(row: shift::Model) -> Result<ShiftView, ApiError> {
    let s = rota::weekly_shift_of(&row)?;
    Ok(ShiftView {
        id: row.id,
        volunteer_id: row.volunteer_id,
        crosses_midnight: s.crosses_midnight(),
        shift: ShiftInput::from(&s),
    })
}

/// A volunteer's weekly shifts.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ShiftView>), (status = 404, body = ErrorBody)))]
#[get("/volunteers/{id}/shifts")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    visible_volunteer(&state, &who, *id).await?;
    let rows = rota::shifts(&state.db, vec![*id]).await?;
    let views = rows.into_iter().map(view).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(views))
}

/// Adds a weekly shift.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), request_body = ShiftInput, security(("bearer" = [])),
    responses((status = 201, body = ShiftView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/volunteers/{id}/shifts")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
    body: ValidJson<ShiftInput>,
) -> Result<HttpResponse, ApiError> {
    rota_editable_volunteer(&state, &who, *id).await?;
    let shift = body.0.into_shift()?;
    let row = rota::create_shift(&state.db, *id, &shift, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(view(row)?))
}

/// The same weekly hours on several weekdays.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftsInput {
    /// Each weekday gets its own shift (at least one, no repeats).
    pub weekdays: Vec<Weekday>,
    #[schema(value_type = String, example = "19:00")]
    pub start: LocalTime,
    #[schema(value_type = String, example = "22:00")]
    pub end: LocalTime,
    #[serde(default = "both")]
    pub channels: ShiftChannels,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

/// Adds the same weekly shift on several weekdays at once (all or none).
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), request_body = ShiftsInput, security(("bearer" = [])),
    responses((status = 201, body = Vec<ShiftView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/volunteers/{id}/shifts/weekdays")]
pub async fn create_on_weekdays(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
    body: ValidJson<ShiftsInput>,
) -> Result<HttpResponse, ApiError> {
    let rows = add_on_weekdays(&state, &who, *id, body.0).await?;
    let views = rows.into_iter().map(view).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Created().json(views))
}

/// Adds the same weekly shift on several weekdays for volunteer `id`, whose rota `who`
/// may edit: all or none.
pub async fn add_on_weekdays(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    input: ShiftsInput,
) -> Result<Vec<shift::Model>, ApiError> {
    rota_editable_volunteer(state, who, id).await?;
    if input.weekdays.is_empty() {
        return Err(ApiError::field("weekdays", "name at least one weekday"));
    }
    let mut shifts = Vec::with_capacity(input.weekdays.len());
    for (i, weekday) in input.weekdays.iter().enumerate() {
        if input.weekdays[..i].contains(weekday) {
            return Err(ApiError::field(
                format!("weekdays[{i}]"),
                format!("{} is named twice", weekday.as_str()),
            ));
        }
        let one = ShiftInput {
            weekday: *weekday,
            start: input.start,
            end: input.end,
            channels: input.channels,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
        };
        shifts.push(one.into_shift()?);
    }
    let now = state.clock.now();
    let txn = storage::write_transaction(&state.db).await?;
    let mut rows = Vec::with_capacity(shifts.len());
    for shift in &shifts {
        rows.push(rota::create_shift(&txn, id, shift, now).await?);
    }
    txn.commit().await?;
    Ok(rows)
}

/// Replaces a weekly shift.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), ("shift_id" = i32, Path)), request_body = ShiftInput,
    security(("bearer" = [])),
    responses((status = 200, body = ShiftView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/volunteers/{id}/shifts/{shift_id}")]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(VolunteerId, i32)>,
    body: ValidJson<ShiftInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, shift_id) = path.into_inner();
    rota_editable_volunteer(&state, &who, id).await?;
    let shift = body.0.into_shift()?;
    let existing = rota::shift(&state.db, id, shift_id)
        .await?
        .ok_or(ApiError::NotFound("shift"))?;
    let row = rota::update_shift(&state.db, existing, &shift, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(view(row)?))
}

/// Removes a weekly shift.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), ("shift_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/volunteers/{id}/shifts/{shift_id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(VolunteerId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, shift_id) = path.into_inner();
    remove(&state, &who, id, shift_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a weekly shift of volunteer `id`, whose rota `who` may edit.
pub async fn remove(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    shift_id: i32,
) -> Result<(), ApiError> {
    rota_editable_volunteer(state, who, id).await?;
    if !rota::delete_shift(&state.db, id, shift_id, state.clock.now()).await? {
        return Err(ApiError::NotFound("shift"));
    }
    Ok(())
}
