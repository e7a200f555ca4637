//! `/audit`: the append-only audit log, for admins (everything) and supervisors (their
//! helplines). There is no way to change or remove an entry.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::require;
use super::{page_limit, split_page};
use crate::domain::access::Principal;
use crate::domain::ids::{ContactId, HelplineId, UserId};
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidQuery;
use crate::state::AppState;
use crate::storage::audit::{self, AuditFilter};
use crate::storage::entities::audit_entry;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub id: i32,
    pub at: DateTime<Utc>,
    /// Who did it; none when peerline did it itself (a command or a job, named in
    /// `detail.by`).
    pub user_id: Option<UserId>,
    /// The API token used.
    pub token_id: Option<i32>,
    pub helpline_id: Option<HelplineId>,
    /// e.g. `view_contact`, `reveal_caller`, `review`, `block_caller`, `export_report`,
    /// `sign_off`, `create_user`.
    pub action: String,
    pub contact_id: Option<ContactId>,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

fn view(row: audit_entry::Model) -> AuditEntryView {
    AuditEntryView {
        id: row.id,
        at: row.at,
        user_id: row.user_id,
        token_id: row.token_id,
        helpline_id: row.helpline_id,
        action: row.action,
        contact_id: row.contact_id,
        detail: row
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok()),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub helpline_id: Option<HelplineId>,
    pub contact_id: Option<ContactId>,
    pub user_id: Option<UserId>,
    pub action: Option<String>,
    /// How many entries (1 to 200, default 50).
    pub limit: Option<u64>,
    /// Entries older than this id: the `next_before` of the previous page.
    pub before: Option<i32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    pub next_before: Option<i32>,
}

/// Audit entries, newest first.
#[utoipa::path(tag = "supervision", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: ValidQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    require(
        who.reviews_contacts(),
        "only supervisors and admins read the audit log",
    )?;
    let q = query.0;
    let filter = AuditFilter {
        helpline_id: q.helpline_id,
        contact_id: q.contact_id,
        user_id: q.user_id,
        action: q.action,
    };
    let limit = page_limit(q.limit);
    let rows = audit::list(&state.db, &who.scope(), &filter, q.before, limit).await?;
    let (rows, next_before) = split_page(rows, limit, |r| r.id);
    Ok(HttpResponse::Ok().json(AuditPage {
        items: rows.into_iter().map(view).collect(),
        next_before,
    }))
}
