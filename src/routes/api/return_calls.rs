//! `/contacts/{id}/return-call`: a supervisor returns a missed call or a voicemail. A
//! volunteer is rung first, then the caller from the helpline number; nobody sees the
//! number, and the return is audited with its reason.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::contacts::reviewable_contact;
use crate::domain::access::Principal;
use crate::domain::validate;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::state::AppState;
use crate::voice::flow::{self, ReturnRefused};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnCallRequest {
    /// Why the call is returned, for the audit log.
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReturnCallOpened {
    /// The missed call or voicemail being returned.
    pub contact_id: i32,
    /// The return call: a contact of its own in the log.
    pub return_contact_id: i32,
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
    id: web::Path<i32>,
    body: ValidJson<ReturnCallRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason;
    validate::text("reason", &reason, 1000)?;
    let missed = reviewable_contact(&state, &who, *id).await?;
    let opened = flow::return_call(&state, &who, &missed, &reason)
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
