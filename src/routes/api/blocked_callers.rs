//! `/helplines/{id}/blocked-callers`: callers a helpline's supervisors refuse (their
//! calls get `<Reject>`). The number is kept only as a keyed hash and a two-digit hint.
//! Blocking and unblocking are audited.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::managed_helpline;
use crate::domain::access::Principal;
use crate::domain::ids::HelplineId;
use crate::domain::phone::E164;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidJson;
use crate::secrets::Vault;
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::blocklist::{self, NewBlock};
use crate::storage::entities::{Sealed, blocked_caller};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBlockedCaller {
    #[schema(value_type = String, example = "+12025550143")]
    pub number: E164,
    /// Why, for the other supervisors.
    pub reason: Option<String>,
    /// When the block lapses (RFC 3339); absent: until removed.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockedCallerView {
    pub id: i32,
    pub helpline_id: HelplineId,
    /// The number's last two digits, e.g. `...47`; the number itself is kept sealed and
    /// never shown.
    pub number_hint: String,
    pub reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn view(vault: &Vault, row: blocked_caller::Model) -> BlockedCallerView {
    BlockedCallerView {
        id: row.id,
        helpline_id: row.helpline_id,
        number_hint: row.number_hint,
        reason: Sealed::open_some(vault, row.reason.as_ref()),
        expires_at: row.expires_at,
        created_at: row.created_at,
    }
}

/// A helpline's blocked callers (its supervisors and admins).
#[utoipa::path(tag = "helplines", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<BlockedCallerView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/blocked-callers")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    managed_helpline(&state, &who, *id).await?;
    let rows = blocklist::list(&state.db, *id).await?;
    let views: Vec<_> = rows
        .into_iter()
        .map(|row| view(&state.vault, row))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Blocks a caller's number at this helpline.
#[utoipa::path(tag = "helplines", params(("id" = i32, Path)), request_body = NewBlockedCaller, security(("bearer" = [])),
    responses((status = 201, body = BlockedCallerView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/helplines/{id}/blocked-callers")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    body: ValidJson<NewBlockedCaller>,
) -> Result<HttpResponse, ApiError> {
    managed_helpline(&state, &who, *id).await?;
    let new = body.0;
    if let Some(reason) = &new.reason {
        crate::domain::validate::text("reason", reason, 500)?;
    }
    let row = blocklist::create(
        &state.db,
        NewBlock {
            helpline_id: *id,
            number_hash: state.vault.hash(&new.number),
            number_hint: new.number.masked(),
            number_sealed: Some(Sealed::seal(&state.vault, new.number.as_str())),
            reason: Sealed::seal_some(&state.vault, new.reason.as_deref()),
            expires_at: new.expires_at,
        },
        state.clock.now(),
    )
    .await?;
    let entry = Audited::new("block_caller")
        .helpline(*id)
        .detail(json!({ "block_id": row.id, "number_hint": row.number_hint }));
    audit::record(&state.db, &who, entry, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(view(&state.vault, row)))
}

/// Unblocks a caller.
#[utoipa::path(tag = "helplines", params(("id" = i32, Path), ("block_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/helplines/{id}/blocked-callers/{block_id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(HelplineId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, block_id) = path.into_inner();
    managed_helpline(&state, &who, id).await?;
    if !blocklist::delete(&state.db, id, block_id).await? {
        return Err(ApiError::NotFound("blocked caller"));
    }
    let entry = Audited::new("unblock_caller")
        .helpline(id)
        .detail(json!({ "block_id": block_id }));
    audit::record(&state.db, &who, entry, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
