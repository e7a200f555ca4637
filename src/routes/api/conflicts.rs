//! `/volunteers/{id}/conflicts`: numbers a volunteer must never be put through to
//! (dual relationships). The number is kept only as a keyed hash and a two-digit hint.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rota_editable_volunteer;
use crate::domain::access::Principal;
use crate::domain::ids::VolunteerId;
use crate::domain::phone::E164;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::secrets::Vault;
use crate::state::AppState;
use crate::storage::entities::{Sealed, conflict};
use crate::storage::rota;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConflict {
    #[schema(value_type = String, example = "+12025550143")]
    pub number: E164,
    /// A private reminder, e.g. "neighbour".
    pub note: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConflictView {
    pub id: i32,
    pub volunteer_id: VolunteerId,
    /// The number's last two digits, e.g. `...47`; the number itself is kept sealed and
    /// never shown.
    pub number_hint: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn view(vault: &Vault, row: conflict::Model) -> ConflictView {
    ConflictView {
        id: row.id,
        volunteer_id: row.volunteer_id,
        number_hint: row.number_hint,
        note: Sealed::open_some(vault, row.note.as_ref()),
        created_at: row.created_at,
    }
}

/// A volunteer's declared conflicts (the volunteer and their supervisors only).
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ConflictView>), (status = 404, body = ErrorBody)))]
#[get("/volunteers/{id}/conflicts")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    rota_editable_volunteer(&state, &who, *id).await?;
    let rows = rota::conflicts(&state.db, *id).await?;
    let views: Vec<_> = rows
        .into_iter()
        .map(|row| view(&state.vault, row))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Declares a number this volunteer must never be connected to.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), request_body = NewConflict, security(("bearer" = [])),
    responses((status = 201, body = ConflictView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/volunteers/{id}/conflicts")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
    body: ValidJson<NewConflict>,
) -> Result<HttpResponse, ApiError> {
    rota_editable_volunteer(&state, &who, *id).await?;
    let new = body.0;
    if let Some(note) = &new.note {
        crate::domain::validate::text("note", note, 200)?;
    }
    let row = rota::create_conflict(
        &state.db,
        &state.vault,
        *id,
        &new.number,
        new.note.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(view(&state.vault, row)))
}

/// Withdraws a conflict.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), ("conflict_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/volunteers/{id}/conflicts/{conflict_id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(VolunteerId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, conflict_id) = path.into_inner();
    rota_editable_volunteer(&state, &who, id).await?;
    if !rota::delete_conflict(&state.db, id, conflict_id).await? {
        return Err(ApiError::NotFound("conflict"));
    }
    Ok(HttpResponse::NoContent().finish())
}
