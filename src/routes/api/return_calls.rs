//! Returning missed calls and voicemails: a supervisor from the contact log
//! (`/contacts/{id}/return-call`), or a volunteer the helpline's supervisors allow
//! (`/helplines/{id}/call-returners`) from their own list (`/me/missed-calls`). A volunteer
//! is rung first, then the caller from the helpline number; nobody sees the number, and
//! each return is audited with its reason.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::contacts::reviewable_contact;
use super::my_contacts::volunteer_of;
use super::{managed_helpline, visible_volunteer};
use crate::domain::access::Principal;
use crate::domain::contact::Outcome;
use crate::domain::ids::{ContactId, HelplineId, TopicId, UserId, VolunteerId};
use crate::domain::supervision::masked_label;
use crate::domain::validate;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::entities::contact;
use crate::storage::{self, call_returners};
use crate::voice::flow::{self, ReturnRefused};

/// How far back a volunteer's list of missed calls goes.
const MISSED_CALLS_DAYS: i64 = 7;
const MISSED_CALLS_LIMIT: u64 = 100;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnCallRequest {
    /// Why the call is returned, for the audit log.
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReturnCallOpened {
    /// The missed call or voicemail being returned.
    pub contact_id: ContactId,
    /// The return call: a contact of its own in the log.
    pub return_contact_id: ContactId,
    pub callback_id: i32,
    /// Given up, and the on-call supervisors alerted, if nobody could take it by then.
    pub expires_at: DateTime<Utc>,
}

/// Returns a missed call or a voicemail: peerline rings a free volunteer and, once they
/// accept, the caller from the helpline number. Audited with the reason.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), request_body = ReturnCallRequest, security(("bearer" = [])),
    responses((status = 201, body = ReturnCallOpened), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/contacts/{id}/return-call")]
pub async fn return_call(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
    body: ValidJson<ReturnCallRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason;
    validate::text("reason", &reason, 1000)?;
    let missed = reviewable_contact(&state, &who, *id).await?;
    open_return(&state, &who, &missed, &reason).await
}

async fn open_return(
    state: &AppState,
    who: &Principal,
    missed: &contact::Model,
    reason: &str,
) -> Result<HttpResponse, ApiError> {
    let opened = flow::return_call(state, who, missed, reason)
        .await
        .map_err(|refused| match refused {
            ReturnRefused::Database(error) => ApiError::from(error),
            other => ApiError::Conflict(other.to_string()),
        })?;
    Ok(HttpResponse::Created().json(ReturnCallOpened {
        contact_id: missed.id,
        return_contact_id: opened.contact_id,
        callback_id: opened.callback_id,
        expires_at: opened.expires_at,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CallReturnerView {
    pub helpline_id: HelplineId,
    pub volunteer_id: VolunteerId,
    /// The user who allowed it.
    pub granted_by: UserId,
    pub granted_at: DateTime<Utc>,
}

/// The volunteers allowed to return missed calls on the helpline (its supervisors and
/// admins only).
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<CallReturnerView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/call-returners")]
pub async fn list_returners(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    let line = managed_helpline(&state, &who, *id).await?;
    let rows = call_returners::of_helpline(&state.db, line.id).await?;
    let views: Vec<CallReturnerView> = rows
        .into_iter()
        .map(|r| CallReturnerView {
            helpline_id: r.helpline_id,
            volunteer_id: r.volunteer_id,
            granted_by: r.granted_by,
            granted_at: r.granted_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Checks that `who` manages the helpline and that the volunteer serves it.
async fn authorised_returner(
    state: &AppState,
    who: &Principal,
    helpline_id: HelplineId,
    volunteer_id: VolunteerId,
) -> Result<(), ApiError> {
    let line = managed_helpline(state, who, helpline_id).await?;
    let (_, serves) = visible_volunteer(state, who, volunteer_id).await?;
    if !serves.contains(&line.id) {
        return Err(ApiError::Conflict(
            "the volunteer does not serve this helpline".into(),
        ));
    }
    Ok(())
}

fn returner_audit(action: &str, helpline_id: HelplineId, volunteer_id: VolunteerId) -> Audited<'_> {
    Audited::new(action)
        .helpline(helpline_id)
        .detail(json!({ "volunteer_id": volunteer_id }))
}

/// Allows a volunteer who serves the helpline to return its missed calls. Audited.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path), ("volunteer_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[put("/helplines/{id}/call-returners/{volunteer_id}")]
pub async fn allow_returner(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(HelplineId, VolunteerId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, volunteer_id) = path.into_inner();
    authorised_returner(&state, &who, id, volunteer_id).await?;
    let now = state.clock.now();
    let txn = storage::write_transaction(&state.db).await?;
    call_returners::grant(&txn, id, volunteer_id, who.user_id, now).await?;
    let entry = returner_audit("allow_call_returns", id, volunteer_id);
    audit::record(&txn, &who, entry, now).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stops a volunteer returning the helpline's missed calls. Audited.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path), ("volunteer_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/helplines/{id}/call-returners/{volunteer_id}")]
pub async fn withdraw_returner(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(HelplineId, VolunteerId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, volunteer_id) = path.into_inner();
    authorised_returner(&state, &who, id, volunteer_id).await?;
    let now = state.clock.now();
    let txn = storage::write_transaction(&state.db).await?;
    if !call_returners::revoke(&txn, id, volunteer_id).await? {
        return Err(ApiError::NotFound("call returner"));
    }
    let entry = returner_audit("withdraw_call_returns", id, volunteer_id);
    audit::record(&txn, &who, entry, now).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A missed call a volunteer may return, the caller masked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MissedCallView {
    pub contact_id: ContactId,
    pub helpline_id: HelplineId,
    pub received_at: DateTime<Utc>,
    pub topic_id: Option<TopicId>,
    pub outcome: Option<Outcome>,
    /// e.g. `caller ...42`.
    pub caller: String,
    /// The caller left a voicemail.
    pub voicemail: bool,
}

fn missed_view(row: contact::Model) -> MissedCallView {
    MissedCallView {
        caller: masked_label(row.channel, &row.caller_hint),
        voicemail: row.recording_url.is_some(),
        contact_id: row.id,
        helpline_id: row.helpline_id,
        received_at: row.received_at,
        topic_id: row.topic_id,
        outcome: row.outcome,
    }
}

/// The last week's missed calls on the helplines where the volunteer may return calls
/// (none elsewhere), newest first.
#[utoipa::path(tag = "supervision", security(("bearer" = [])),
    responses((status = 200, body = Vec<MissedCallView>), (status = 403, body = ErrorBody)))]
#[get("/me/missed-calls")]
pub async fn my_missed_calls(
    state: web::Data<AppState>,
    who: Principal,
) -> Result<HttpResponse, ApiError> {
    let me = volunteer_of(&who)?;
    let allowed = call_returners::helplines_of(&state.db, me).await?;
    let since = state.clock.now() - Duration::days(MISSED_CALLS_DAYS);
    let rows = call_returners::missed_calls(&state.db, &allowed, since, MISSED_CALLS_LIMIT).await?;
    let views: Vec<MissedCallView> = rows.into_iter().map(missed_view).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Returns a missed call, as a volunteer allowed to on its helpline. Audited.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), request_body = ReturnCallRequest, security(("bearer" = [])),
    responses((status = 201, body = ReturnCallOpened), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/me/missed-calls/{id}/return")]
pub async fn return_my_missed_call(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
    body: ValidJson<ReturnCallRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason;
    validate::text("reason", &reason, 1000)?;
    let me = volunteer_of(&who)?;
    let allowed = call_returners::helplines_of(&state.db, me).await?;
    let missed = call_returners::missed_call(&state.db, &allowed, *id)
        .await?
        .ok_or(ApiError::NotFound("missed call"))?;
    open_return(&state, &who, &missed, &reason).await
}
