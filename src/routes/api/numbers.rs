//! `/helplines/{id}/numbers`: the numbers callers dial. Admins add and remove them.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{require, visible_helpline};
use crate::domain::access::Principal;
use crate::domain::ids::HelplineId;
use crate::domain::phone::E164;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::state::AppState;
use crate::storage::audit;
use crate::storage::entities::helpline_number;
use crate::storage::helplines;
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNumber {
    #[schema(value_type = String, example = "+12025550143")]
    pub number: E164,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NumberView {
    pub id: i32,
    pub number: String,
    pub created_at: DateTime<Utc>,
}

fn view(row: helpline_number::Model) -> NumberView {
    NumberView {
        id: row.id,
        number: row.number,
        created_at: row.created_at,
    }
}

/// A helpline's numbers.
#[utoipa::path(tag = "helplines", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<NumberView>), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/numbers")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    visible_helpline(&state, &who, *id).await?;
    let rows = helplines::numbers(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(view).collect::<Vec<_>>()))
}

/// Adds a number (admins only); a number belongs to one helpline.
#[utoipa::path(tag = "helplines", params(("id" = i32, Path)), request_body = NewNumber, security(("bearer" = [])),
    responses((status = 201, body = NumberView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/helplines/{id}/numbers")]
pub async fn add(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    body: ValidJson<NewNumber>,
) -> Result<HttpResponse, ApiError> {
    let row = add_number(&state, &who, *id, &body.0.number).await?;
    Ok(HttpResponse::Created().json(view(row)))
}

/// Adds a number callers dial to reach helpline `id` (admins only).
pub async fn add_number(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
    number: &E164,
) -> Result<helpline_number::Model, ApiError> {
    visible_helpline(state, who, id).await?;
    require(
        who.is_admin(),
        "only an admin may change a helpline's numbers",
    )?;
    let row = helplines::add_number(&state.db, id, number, state.clock.now()).await?;
    let added = json!({ "number": number.as_str() });
    let subject = json!({ "helpline_id": id });
    audit::record_change(
        &state.db,
        who,
        "add_number",
        &[id],
        subject,
        (&json!({}), &added),
        state.clock.now(),
    )
    .await?;
    Ok(row)
}

/// Removes a number (admins only).
#[utoipa::path(tag = "helplines", params(("id" = i32, Path), ("number_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/helplines/{id}/numbers/{number_id}")]
pub async fn remove(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(HelplineId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, number_id) = path.into_inner();
    remove_number(&state, &who, id, number_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes one of helpline `id`'s numbers (admins only).
pub async fn remove_number(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
    number_id: i32,
) -> Result<(), ApiError> {
    visible_helpline(state, who, id).await?;
    require(
        who.is_admin(),
        "only an admin may change a helpline's numbers",
    )?;
    let removed = helplines::numbers(&state.db, id)
        .await?
        .into_iter()
        .find(|n| n.id == number_id)
        .ok_or(ApiError::NotFound("number"))?;
    if !helplines::remove_number(&state.db, id, number_id).await? {
        return Err(ApiError::NotFound("number"));
    }
    let before = json!({ "number": removed.number });
    let subject = json!({ "helpline_id": id });
    audit::record_change(
        &state.db,
        who,
        "remove_number",
        &[id],
        subject,
        (&before, &json!({})),
        state.clock.now(),
    )
    .await?;
    Ok(())
}
