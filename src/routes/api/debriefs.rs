//! `/debriefs`: volunteers who asked to talk a contact through, and check-ins suggested
//! for volunteers who stepped back often, for their helplines' supervisors. Marking one done is audited.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::require;
use crate::domain::access::Principal;
use crate::domain::ids::{ContactId, HelplineId, UserId, VolunteerId};
use crate::domain::validate;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::{ValidJson, ValidQuery};
use crate::secrets::Vault;
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::entities::{Sealed, debrief};
use crate::storage::{self, after_contact};

#[derive(Serialize, utoipa::ToSchema)]
pub struct DebriefView {
    pub id: i32,
    pub helpline_id: HelplineId,
    pub volunteer_id: VolunteerId,
    /// The contact to talk through; none: a check-in suggested because the volunteer
    /// stepped back three times in a month (never a penalty).
    pub contact_id: Option<ContactId>,
    pub requested_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<UserId>,
    pub notes: Option<String>,
}

fn view(vault: &Vault, row: debrief::Model) -> DebriefView {
    DebriefView {
        notes: Sealed::open_some(vault, row.notes.as_ref()),
        id: row.id,
        helpline_id: row.helpline_id,
        volunteer_id: row.volunteer_id,
        contact_id: row.contact_id,
        requested_at: row.requested_at,
        done_at: row.done_at,
        done_by: row.done_by,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DebriefQuery {
    /// Include debriefs already done (default: open ones only).
    #[serde(default)]
    pub include_done: bool,
}

/// The debrief queue of the caller's helplines, oldest request first.
#[utoipa::path(tag = "supervision", params(DebriefQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<DebriefView>), (status = 403, body = ErrorBody)))]
#[get("/debriefs")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: ValidQuery<DebriefQuery>,
) -> Result<HttpResponse, ApiError> {
    require(
        who.reviews_contacts(),
        "only supervisors and admins hold debriefs",
    )?;
    let rows = after_contact::debriefs(&state.db, &who.scope(), query.0.include_done).await?;
    let views: Vec<_> = rows
        .into_iter()
        .map(|row| view(&state.vault, row))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DebriefDone {
    /// What was talked through or agreed (kept with the debrief).
    pub notes: Option<String>,
}

/// Marks a debrief done. Audited.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), request_body = DebriefDone, security(("bearer" = [])),
    responses((status = 200, body = DebriefView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/debriefs/{id}/done")]
pub async fn done(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<i32>,
    body: ValidJson<DebriefDone>,
) -> Result<HttpResponse, ApiError> {
    let row = finish(&state, &who, *id, body.0.notes).await?;
    Ok(HttpResponse::Ok().json(view(&state.vault, row)))
}

/// Marks debrief `id` of the caller's helplines done, with notes. Audited.
pub async fn finish(
    state: &AppState,
    who: &Principal,
    id: i32,
    notes: Option<String>,
) -> Result<debrief::Model, ApiError> {
    require(
        who.reviews_contacts(),
        "only supervisors and admins hold debriefs",
    )?;
    if let Some(notes) = &notes {
        validate::text("notes", notes, 5000)?;
    }
    let now = state.clock.now();
    let txn = storage::write_transaction(&state.db).await?;
    let sealed = Sealed::seal_some(&state.vault, notes.as_deref());
    let row = after_contact::finish_debrief(&txn, &who.scope(), id, who.user_id, sealed, now)
        .await?
        .ok_or(ApiError::NotFound("open debrief"))?;
    audit::record(
        &txn,
        who,
        match row.contact_id {
            Some(contact_id) => Audited::new("debrief_done").contact(row.helpline_id, contact_id),
            None => Audited::new("debrief_done").helpline(row.helpline_id),
        }
        .detail(json!({ "debrief_id": row.id, "volunteer_id": row.volunteer_id })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}
