//! `/helplines`: a helpline's settings. Admins create and delete; admins and the
//! helpline's supervisors update; volunteers read the helplines they serve.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{edits, managed_helpline, require, visible_helpline};
use crate::domain::access::Principal;
use crate::domain::helpline::HelplineSettings;
use crate::domain::ids::HelplineId;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::{ValidJson, ValidQuery};
use crate::state::AppState;
use crate::storage::audit;
use crate::storage::entities::helpline;
use crate::storage::{Page, PageRequest, helplines};

#[derive(Serialize, utoipa::ToSchema)]
pub struct HelplineView {
    pub id: HelplineId,
    #[serde(flatten)]
    pub settings: HelplineSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(row: helpline::Model) -> Result<HelplineView, ApiError> {
    Ok(HelplineView {
        id: row.id,
        settings: helplines::settings_of(&row)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Helplines the caller may see.
#[utoipa::path(tag = "helplines", params(PageRequest), security(("bearer" = [])),
    responses((status = 200, body = Page<HelplineView>), (status = 401, body = ErrorBody)))]
#[get("/helplines")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    page: ValidQuery<PageRequest>,
) -> Result<HttpResponse, ApiError> {
    let rows = helplines::list(&state.db, &who.scope(), page.0).await?;
    let page = Page::from_rows(rows, page.0, |r| r.id.0, view);
    let items = page.items.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_after: page.next_after,
    }))
}

/// Creates a helpline (admins only).
#[utoipa::path(tag = "helplines", request_body = HelplineSettings, security(("bearer" = [])),
    responses((status = 201, body = HelplineView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/helplines")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<HelplineSettings>,
) -> Result<HttpResponse, ApiError> {
    require(who.is_admin(), "only an admin may create helplines")?;
    body.0.validate()?;
    let row = helplines::create(&state.db, &body.0, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(view(row)?))
}

/// One helpline.
#[utoipa::path(tag = "helplines", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = HelplineView), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    let row = visible_helpline(&state, &who, *id).await?;
    Ok(HttpResponse::Ok().json(view(row)?))
}

/// Replaces a helpline's settings (the read-only `id`, `created_at` and `updated_at` a
/// GET returned may be sent back; they are ignored).
#[utoipa::path(tag = "helplines", params(("id" = i32, Path)), request_body = HelplineSettings, security(("bearer" = [])),
    responses((status = 200, body = HelplineView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/helplines/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    body: ValidJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let existing = managed_helpline(&state, &who, *id).await?;
    let settings: HelplineSettings = edits::typed(edits::without_read_only(body.0, &[]))?;
    save(&state, &who, existing, settings).await
}

/// Changes some of a helpline's settings: a JSON merge patch (`{"routing":
/// {"max_wait_secs": 120}}` changes that one setting; `null` clears an optional one).
#[utoipa::path(tag = "helplines", params(("id" = i32, Path)), request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = HelplineView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[patch("/helplines/{id}")]
pub async fn patch(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    body: ValidJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let row = change(&state, &who, *id, body.0).await?;
    Ok(HttpResponse::Ok().json(view(row)?))
}

/// Applies a JSON merge patch to the settings of helpline `id`, which `who` manages.
pub async fn change(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
    changes: serde_json::Value,
) -> Result<helpline::Model, ApiError> {
    let existing = managed_helpline(state, who, id).await?;
    let settings = edits::patched(&helplines::settings_of(&existing)?, changes)?;
    store(state, who, existing, settings).await
}

async fn save(
    state: &AppState,
    who: &Principal,
    existing: helpline::Model,
    settings: HelplineSettings,
) -> Result<HttpResponse, ApiError> {
    let row = store(state, who, existing, settings).await?;
    Ok(HttpResponse::Ok().json(view(row)?))
}

/// Validates and stores a helpline's new settings; audits what changed.
async fn store(
    state: &AppState,
    who: &Principal,
    existing: helpline::Model,
    settings: HelplineSettings,
) -> Result<helpline::Model, ApiError> {
    settings.validate()?;
    let as_json =
        |s: &HelplineSettings| serde_json::to_value(s).map_err(|e| ApiError::Internal(e.into()));
    let before = as_json(&helplines::settings_of(&existing)?)?;
    let after = as_json(&settings)?;
    let id = existing.id;
    let row = helplines::update(&state.db, existing, &settings, state.clock.now()).await?;
    let subject = serde_json::json!({ "helpline_id": id });
    audit::record_change(
        &state.db,
        who,
        "change_helpline",
        &[id],
        subject,
        (&before, &after),
        state.clock.now(),
    )
    .await?;
    Ok(row)
}

/// Deletes a helpline with its numbers, topics and on-call rota (admins only); one with
/// contacts in its log is kept (409).
#[utoipa::path(tag = "helplines", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[delete("/helplines/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    visible_helpline(&state, &who, *id).await?;
    require(who.is_admin(), "only an admin may delete helplines")?;
    helplines::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
