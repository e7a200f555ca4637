//! `/helplines/{id}/topics`: the shared experiences a helpline offers.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{managed_helpline, visible_helpline};
use crate::domain::access::Principal;
use crate::domain::helpline::TopicSettings;
use crate::domain::ids::{HelplineId, TopicId};
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::state::AppState;
use crate::storage::entities::topic;
use crate::storage::{audit, helplines};

#[derive(Serialize, utoipa::ToSchema)]
pub struct TopicView {
    pub id: TopicId,
    pub helpline_id: HelplineId,
    #[serde(flatten)]
    pub settings: TopicSettings,
    pub created_at: DateTime<Utc>,
}

pub fn view(row: topic::Model) -> TopicView {
    TopicView {
        id: row.id,
        helpline_id: row.helpline_id,
        settings: TopicSettings {
            key: row.key,
            label: row.label,
            digit: row.digit,
            strict: row.strict,
        },
        created_at: row.created_at,
    }
}

/// A helpline's topics.
#[utoipa::path(tag = "topics", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<TopicView>), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/topics")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    visible_helpline(&state, &who, *id).await?;
    let rows = helplines::topics(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(view).collect::<Vec<_>>()))
}

/// Adds a topic; keys and keypad digits are unique within a helpline.
#[utoipa::path(tag = "topics", params(("id" = i32, Path)), request_body = TopicSettings, security(("bearer" = [])),
    responses((status = 201, body = TopicView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/helplines/{id}/topics")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    body: ValidJson<TopicSettings>,
) -> Result<HttpResponse, ApiError> {
    let row = add(&state, &who, *id, &body.0).await?;
    Ok(HttpResponse::Created().json(view(row)))
}

/// Adds a topic to helpline `id`, which `who` manages.
pub async fn add(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
    settings: &TopicSettings,
) -> Result<topic::Model, ApiError> {
    managed_helpline(state, who, id).await?;
    settings.validate()?;
    let row = helplines::create_topic(&state.db, id, settings, state.clock.now()).await?;
    audit_topic(state, who, "add_topic", id, None, Some(settings)).await?;
    Ok(row)
}

/// Records a topic added, changed or removed (the menu callers hear).
async fn audit_topic(
    state: &AppState,
    who: &Principal,
    action: &str,
    helpline_id: HelplineId,
    before: Option<&TopicSettings>,
    after: Option<&TopicSettings>,
) -> Result<(), ApiError> {
    let as_json = |t: Option<&TopicSettings>| {
        t.map_or(Ok(serde_json::json!({})), serde_json::to_value)
            .map_err(|e| ApiError::Internal(e.into()))
    };
    let subject = serde_json::json!({ "helpline_id": helpline_id });
    let change = (&as_json(before)?, &as_json(after)?);
    audit::record_change(
        &state.db,
        who,
        action,
        &[helpline_id],
        subject,
        change,
        state.clock.now(),
    )
    .await?;
    Ok(())
}

/// Replaces a topic.
#[utoipa::path(tag = "topics", params(("id" = i32, Path), ("topic_id" = i32, Path)), request_body = TopicSettings,
    security(("bearer" = [])),
    responses((status = 200, body = TopicView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/helplines/{id}/topics/{topic_id}")]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(HelplineId, TopicId)>,
    body: ValidJson<TopicSettings>,
) -> Result<HttpResponse, ApiError> {
    let (id, topic_id) = path.into_inner();
    managed_helpline(&state, &who, id).await?;
    body.0.validate()?;
    let existing = helplines::topic(&state.db, id, topic_id)
        .await?
        .ok_or(ApiError::NotFound("topic"))?;
    let before = view(existing.clone()).settings;
    let row = helplines::update_topic(&state.db, existing, &body.0).await?;
    audit_topic(
        &state,
        &who,
        "change_topic",
        id,
        Some(&before),
        Some(&body.0),
    )
    .await?;
    Ok(HttpResponse::Ok().json(view(row)))
}

/// Deletes a topic and the sign-offs for it.
#[utoipa::path(tag = "topics", params(("id" = i32, Path), ("topic_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/helplines/{id}/topics/{topic_id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(HelplineId, TopicId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, topic_id) = path.into_inner();
    remove(&state, &who, id, topic_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a topic of helpline `id`, which `who` manages.
pub async fn remove(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
    topic_id: TopicId,
) -> Result<(), ApiError> {
    managed_helpline(state, who, id).await?;
    let removed = helplines::topic(&state.db, id, topic_id)
        .await?
        .ok_or(ApiError::NotFound("topic"))?;
    if !helplines::delete_topic(&state.db, id, topic_id).await? {
        return Err(ApiError::NotFound("topic"));
    }
    let before = view(removed).settings;
    audit_topic(state, who, "remove_topic", id, Some(&before), None).await?;
    Ok(())
}
