//! `/helplines/{id}/on-call`: supervisors' weekly on-call shifts for a helpline, on the
//! supervisor's own wall clock (their user record's time zone).

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};

use super::shifts::ShiftInput;
use super::{managed_helpline, visible_helpline};
use crate::domain::access::{Principal, Role};
use crate::domain::ids::{HelplineId, UserId};
use crate::domain::rota::ShiftChannels;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::state::AppState;
use crate::storage::entities::on_call_shift;
use crate::storage::{audit, rota, users};
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOnCallShift {
    /// A supervisor of this helpline with a phone and time zone on their user record.
    pub user_id: UserId,
    #[serde(flatten)]
    pub shift: ShiftInput,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OnCallShiftView {
    pub id: i32,
    pub helpline_id: HelplineId,
    pub user_id: UserId,
    #[serde(flatten)]
    pub shift: ShiftInput,
}

fn view(row: on_call_shift::Model) -> Result<OnCallShiftView, ApiError> {
    let s = rota::on_call_shift_of(&row)?;
    Ok(OnCallShiftView {
        id: row.id,
        helpline_id: row.helpline_id,
        user_id: row.user_id,
        shift: ShiftInput {
            weekday: s.weekday(),
            start: s.start(),
            end: s.end(),
            channels: ShiftChannels::Both,
            valid_from: s.valid_from(),
            valid_until: s.valid_until(),
        },
    })
}

/// The helpline's on-call rota.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<OnCallShiftView>), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/on-call")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    visible_helpline(&state, &who, *id).await?;
    let rows = rota::on_call_shifts(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(view).collect::<Result<Vec<_>, _>>()?))
}

/// Puts a supervisor on call for a weekly shift.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), request_body = NewOnCallShift, security(("bearer" = [])),
    responses((status = 201, body = OnCallShiftView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/helplines/{id}/on-call")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    body: ValidJson<NewOnCallShift>,
) -> Result<HttpResponse, ApiError> {
    let row = add(&state, &who, *id, body.0).await?;
    Ok(HttpResponse::Created().json(view(row)?))
}

/// Puts a supervisor of helpline `id` on call for a weekly shift.
pub async fn add(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
    new: NewOnCallShift,
) -> Result<on_call_shift::Model, ApiError> {
    managed_helpline(state, who, id).await?;
    let NewOnCallShift { user_id, shift } = new;
    let supervisor = users::get(&state.db, user_id).await?;
    let scoped = users::user_helplines(&state.db, user_id)
        .await?
        .contains(&id);
    let Some(supervisor) = supervisor.filter(|u| u.role == Role::Supervisor && scoped) else {
        return Err(ApiError::field(
            "user_id",
            format!("user {user_id} is not a supervisor of this helpline"),
        ));
    };
    if supervisor.phone.is_none() || supervisor.time_zone.is_none() {
        return Err(ApiError::field(
            "user_id",
            "the supervisor needs a phone and time zone to be on call",
        ));
    }
    let shift = shift.into_shift()?;
    let row = rota::create_on_call_shift(&state.db, id, user_id, &shift, state.clock.now()).await?;
    let added = on_call_json(&row);
    let subject = json!({ "helpline_id": id });
    audit::record_change(
        &state.db,
        who,
        "add_on_call",
        &[id],
        subject,
        (&json!({}), &added),
        state.clock.now(),
    )
    .await?;
    Ok(row)
}

/// An on-call shift as the audit log keeps it.
fn on_call_json(row: &on_call_shift::Model) -> serde_json::Value {
    json!({ "user_id": row.user_id, "weekday": row.weekday, "start": row.start_time, "end": row.end_time })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OnCallRemoved {
    /// On-call shifts the helpline still has.
    pub remaining_shifts: usize,
    /// Set when the helpline has nobody on call any more: what happens to safeguarding
    /// alerts until someone is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Removes an on-call shift; warns when it was the helpline's last.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), ("on_call_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = OnCallRemoved), (status = 404, body = ErrorBody)))]
#[delete("/helplines/{id}/on-call/{on_call_id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(HelplineId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, on_call_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(remove(&state, &who, id, on_call_id).await?))
}

/// Takes an on-call shift off helpline `id`'s rota; warns when nobody is left on call.
pub async fn remove(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
    on_call_id: i32,
) -> Result<OnCallRemoved, ApiError> {
    managed_helpline(state, who, id).await?;
    let removed = rota::on_call_shifts(&state.db, id)
        .await?
        .into_iter()
        .find(|s| s.id == on_call_id)
        .ok_or(ApiError::NotFound("on-call shift"))?;
    if !rota::delete_on_call_shift(&state.db, id, on_call_id).await? {
        return Err(ApiError::NotFound("on-call shift"));
    }
    let subject = json!({ "helpline_id": id });
    let before = on_call_json(&removed);
    audit::record_change(
        &state.db,
        who,
        "remove_on_call",
        &[id],
        subject,
        (&before, &json!({})),
        state.clock.now(),
    )
    .await?;
    let remaining_shifts = rota::on_call_shifts(&state.db, id).await?.len();
    let warning = (remaining_shifts == 0).then(|| {
        tracing::warn!(helpline = %id, "the helpline has nobody on call any more");
        "Nobody is on call for this helpline any more: safeguarding alerts will go to every \
         supervisor of the helpline and every administrator with a phone until someone is."
            .to_owned()
    });
    Ok(OnCallRemoved {
        remaining_shifts,
        warning,
    })
}
