//! `/volunteers/{id}/exceptions`: dated leave and one-off extra shifts.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{rota_editable_volunteer, visible_volunteer};
use crate::domain::access::Principal;
use crate::domain::ids::VolunteerId;
use crate::domain::rota::{Interval, ShiftChannels};
use crate::error::{ApiError, ErrorBody};
use crate::rota_care::cover;
use crate::routes::extract::ValidJson;
use crate::secrets::Vault;
use crate::state::AppState;
use crate::storage;
use crate::storage::cover_requests::LossReason;
use crate::storage::entities::{Sealed, rota_exception};
use crate::storage::rota::{self, ExceptionKind};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewException {
    pub kind: ExceptionKind,
    /// RFC 3339 instant the exception starts (inclusive).
    pub starts_at: DateTime<Utc>,
    /// RFC 3339 instant the exception ends (exclusive).
    pub ends_at: DateTime<Utc>,
    /// For an extra shift: the channels it covers (default both).
    pub channels: Option<ShiftChannels>,
    pub note: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExceptionView {
    pub id: i32,
    pub volunteer_id: VolunteerId,
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub channels: Option<String>,
    pub note: Option<String>,
}

fn view(vault: &Vault, row: rota_exception::Model) -> ExceptionView {
    ExceptionView {
        id: row.id,
        volunteer_id: row.volunteer_id,
        kind: row.kind,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        channels: row.channels,
        note: Sealed::open_some(vault, row.note.as_ref()),
    }
}

/// A volunteer's leave and extra shifts, by start.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ExceptionView>), (status = 404, body = ErrorBody)))]
#[get("/volunteers/{id}/exceptions")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    visible_volunteer(&state, &who, *id).await?;
    let rows = rota::exceptions(&state.db, vec![*id]).await?;
    let views: Vec<_> = rows
        .into_iter()
        .map(|row| view(&state.vault, row))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Records leave or an extra shift.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), request_body = NewException, security(("bearer" = [])),
    responses((status = 201, body = ExceptionView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/volunteers/{id}/exceptions")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
    body: ValidJson<NewException>,
) -> Result<HttpResponse, ApiError> {
    let row = add(&state, &who, *id, body.0).await?;
    Ok(HttpResponse::Created().json(view(&state.vault, row)))
}

/// Records leave or an extra shift for volunteer `id`, whose rota `who` may edit.
pub async fn add(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    new: NewException,
) -> Result<rota_exception::Model, ApiError> {
    rota_editable_volunteer(state, who, id).await?;
    let span =
        Interval::new(new.starts_at, new.ends_at).map_err(|e| ApiError::field("ends_at", e))?;
    let channels = match new.kind {
        ExceptionKind::Leave if new.channels.is_some() => {
            return Err(ApiError::field(
                "channels",
                "leave covers every channel; channels applies to extra shifts",
            ));
        }
        ExceptionKind::Leave => None,
        ExceptionKind::ExtraShift => Some(new.channels.unwrap_or(ShiftChannels::Both)),
    };
    if let Some(note) = &new.note {
        crate::domain::validate::text("note", note, 500)?;
    }
    let now = state.clock.now();
    let txn = storage::write_transaction(&state.db).await?;
    let note = Sealed::seal_some(&state.vault, new.note.as_deref());
    let row = rota::create_exception(&txn, id, new.kind, span, channels, note, now).await?;
    if new.kind == ExceptionKind::Leave {
        // Leave close to a shift that leaves a gap asks other volunteers to cover it.
        cover::after_loss(&txn, id, cover::Loss::Leave(span, LossReason::Leave), now).await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// Removes leave or an extra shift.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), ("exception_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/volunteers/{id}/exceptions/{exception_id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(VolunteerId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, exception_id) = path.into_inner();
    remove(&state, &who, id, exception_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes leave or an extra shift of volunteer `id`, whose rota `who` may edit.
pub async fn remove(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    exception_id: i32,
) -> Result<(), ApiError> {
    rota_editable_volunteer(state, who, id).await?;
    if !rota::delete_exception(&state.db, id, exception_id, state.clock.now()).await? {
        return Err(ApiError::NotFound("exception"));
    }
    Ok(())
}
