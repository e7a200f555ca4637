//! `/volunteers/{id}/signoffs`: which topics a volunteer is signed off as ready for.
//! Only a supervisor of the topic's helpline signs off or revokes.

use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::{require, visible_volunteer};
use crate::domain::access::{Principal, Role};
use crate::domain::ids::{HelplineId, TopicId, UserId, VolunteerId};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::entities::{topic, topic_signoff};
use crate::storage::{helplines, volunteers};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignOffView {
    pub topic_id: TopicId,
    pub helpline_id: HelplineId,
    pub topic_key: String,
    pub topic_label: String,
    /// Always `ready`: a sign-off exists only while the volunteer is ready for the topic.
    pub status: &'static str,
    /// The supervisor's user id (absent if that user was since removed).
    pub signed_off_by: Option<UserId>,
    pub signed_off_at: DateTime<Utc>,
}

fn view(signoff: topic_signoff::Model, topic: topic::Model) -> SignOffView {
    SignOffView {
        topic_id: topic.id,
        helpline_id: topic.helpline_id,
        topic_key: topic.key,
        topic_label: topic.label,
        status: "ready",
        signed_off_by: signoff.signed_off_by,
        signed_off_at: signoff.signed_off_at,
    }
}

/// A volunteer's sign-offs.
#[utoipa::path(tag = "volunteers", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<SignOffView>), (status = 404, body = ErrorBody)))]
#[get("/volunteers/{id}/signoffs")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    visible_volunteer(&state, &who, *id).await?;
    let rows = volunteers::signoffs(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|(s, t)| view(s, t))
            .collect::<Vec<_>>(),
    ))
}

/// Loads the topic for a sign-off change and checks that the caller is a supervisor of
/// its helpline and that the volunteer serves that helpline.
async fn authorised_topic(
    state: &AppState,
    who: &Principal,
    volunteer_id: VolunteerId,
    topic_id: TopicId,
) -> Result<topic::Model, ApiError> {
    let (_, serves) = visible_volunteer(state, who, volunteer_id).await?;
    require(
        who.role == Role::Supervisor,
        "only a supervisor can sign a volunteer off",
    )?;
    // A topic of a helpline they do not supervise does not exist for them.
    let found = helplines::topic_by_id(&state.db, topic_id)
        .await?
        .filter(|t| who.manages_helpline(t.helpline_id))
        .ok_or(ApiError::NotFound("topic"))?;
    if !serves.contains(&found.helpline_id) {
        return Err(ApiError::Conflict(
            "the volunteer does not serve this topic's helpline".into(),
        ));
    }
    Ok(found)
}

async fn audit_signoff(
    state: &AppState,
    who: &Principal,
    action: &str,
    volunteer_id: VolunteerId,
    topic: &topic::Model,
) -> Result<(), ApiError> {
    let entry = Audited::new(action)
        .helpline(topic.helpline_id)
        .detail(json!({ "volunteer_id": volunteer_id, "topic_id": topic.id }));
    audit::record(&state.db, who, entry, state.clock.now()).await?;
    Ok(())
}

/// Signs the volunteer off as ready for a topic (supervisors of its helpline only).
#[utoipa::path(tag = "volunteers", params(("id" = i32, Path), ("topic_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = SignOffView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[put("/volunteers/{id}/signoffs/{topic_id}")]
pub async fn sign_off(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(VolunteerId, TopicId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, topic_id) = path.into_inner();
    let (signoff, topic) = grant(&state, &who, id, topic_id).await?;
    Ok(HttpResponse::Ok().json(view(signoff, topic)))
}

/// Signs volunteer `id` off for `topic_id`, if `who` supervises its helpline. Audited.
pub async fn grant(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    topic_id: TopicId,
) -> Result<(topic_signoff::Model, topic::Model), ApiError> {
    let topic = authorised_topic(state, who, id, topic_id).await?;
    let signoff =
        volunteers::sign_off(&state.db, id, topic_id, who.user_id, state.clock.now()).await?;
    audit_signoff(state, who, "sign_off", id, &topic).await?;
    Ok((signoff, topic))
}

/// Revokes a sign-off (supervisors of the topic's helpline only).
#[utoipa::path(tag = "volunteers", params(("id" = i32, Path), ("topic_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/volunteers/{id}/signoffs/{topic_id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(VolunteerId, TopicId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, topic_id) = path.into_inner();
    withdraw(&state, &who, id, topic_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes volunteer `id`'s sign-off for `topic_id`, if `who` supervises its helpline.
/// Audited.
pub async fn withdraw(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    topic_id: TopicId,
) -> Result<(), ApiError> {
    let topic = authorised_topic(state, who, id, topic_id).await?;
    if !volunteers::revoke_sign_off(&state.db, id, topic_id, state.clock.now()).await? {
        return Err(ApiError::NotFound("sign-off"));
    }
    audit_signoff(state, who, "revoke_sign_off", id, &topic).await?;
    Ok(())
}
