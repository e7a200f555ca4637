//! `/me/contacts`: a volunteer's own contacts (taken or offered), masked, and their
//! after-contact reports. A report is never rewritten: each submission is a new version.

use actix_web::{HttpResponse, get, post, web};

use serde::{Deserialize, Serialize};

use super::contact_views::{self, MyContact, MyContactDetail, ReportVersionView};
use super::require;
use super::{page_limit, split_page};
use crate::domain::access::{Principal, Scope};
use crate::domain::ids::{ContactId, VolunteerId};
use crate::domain::supervision::{Flag, ReportInput};
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::{ValidJson, ValidQuery};
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::contact_log::{self, ContactFilter};
use crate::storage::entities::contact;
use crate::storage::{self, after_contact as reports, helplines};
use crate::supervision;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MyContactQuery {
    /// How many contacts (1 to 200, default 50).
    pub limit: Option<u64>,
    /// Contacts older than this id: the `next_before` of the previous page.
    pub before: Option<i32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MyContactPage {
    pub items: Vec<MyContact>,
    pub next_before: Option<i32>,
}

/// The caller's own volunteer id, or 403.
pub fn volunteer_of(who: &Principal) -> Result<VolunteerId, ApiError> {
    match who.scope() {
        Scope::Volunteer { volunteer_id, .. } => Ok(volunteer_id),
        _ => Err(ApiError::forbidden(
            "only volunteers have their own contacts",
        )),
    }
}

/// How each offer of `rows` to the volunteer ended.
async fn with_offers(
    state: &AppState,
    me: VolunteerId,
    rows: Vec<contact::Model>,
) -> Result<Vec<MyContact>, ApiError> {
    let offers =
        contact_log::offered_to(&state.db, me, rows.iter().map(|r| r.id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let outcome = offers
                .iter()
                .find(|o| o.contact_id == row.id)
                .and_then(|o| o.outcome);
            contact_views::my_contact(row, me, outcome)
        })
        .collect())
}

/// The volunteer's own contacts, newest first; callers shown only as masked labels.
#[utoipa::path(tag = "supervision", params(MyContactQuery), security(("bearer" = [])),
    responses((status = 200, body = MyContactPage), (status = 403, body = ErrorBody)))]
#[get("/me/contacts")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: ValidQuery<MyContactQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = own_contacts(&state, &who, query.0.before, query.0.limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A page of the volunteer's own contacts, newest first, older than `before`.
pub async fn own_contacts(
    state: &AppState,
    who: &Principal,
    before: Option<i32>,
    limit: Option<u64>,
) -> Result<MyContactPage, ApiError> {
    let me = volunteer_of(who)?;
    let limit = page_limit(limit);
    let rows = contact_log::list(
        &state.db,
        &who.scope(),
        &ContactFilter::default(),
        before,
        limit,
    )
    .await?;
    let (rows, next_before) = split_page(rows, limit, |r| r.id.0);
    let items = with_offers(state, me, rows).await?;
    Ok(MyContactPage { items, next_before })
}

/// One of the volunteer's contacts with every version of their report.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = MyContactDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/me/contacts/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(own_contact(&state, &who, *id).await?))
}

/// One of the volunteer's own contacts, with their report versions if they took it.
/// Audited.
pub async fn own_contact(
    state: &AppState,
    who: &Principal,
    id: ContactId,
) -> Result<MyContactDetail, ApiError> {
    let me = volunteer_of(who)?;
    let row = contact_log::get(&state.db, &who.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    let entry = Audited::new("view_own_contact").contact(row.helpline_id, row.id);
    audit::record(&state.db, who, entry, state.clock.now()).await?;
    // Only the volunteer who took it wrote (and may read) its report.
    let reports = if row.answered_by == Some(me) {
        reports::report_versions(&state.db, row.id)
            .await?
            .into_iter()
            .map(|r| contact_views::report_version(&state.vault, r))
            .collect()
    } else {
        Vec::new()
    };
    let contact = with_offers(state, me, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("contact"))?;
    Ok(MyContactDetail { contact, reports })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmittedReport {
    #[serde(flatten)]
    pub report: ReportVersionView,
    /// Flags this version raised for the first time.
    pub newly_raised: Vec<Flag>,
    /// On-call supervisors texted about a safeguarding concern.
    pub supervisors_alerted: usize,
}

/// Adds a version of the report on a contact the volunteer took: notes, outcome tags
/// from the helpline's list, and flags. A safeguarding flag alerts the on-call
/// supervisors at once; needs-debrief queues a debrief and starts a rest period.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), request_body = ReportInput, security(("bearer" = [])),
    responses((status = 201, body = SubmittedReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/me/contacts/{id}/report")]
pub async fn report(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
    body: ValidJson<ReportInput>,
) -> Result<HttpResponse, ApiError> {
    let submitted = submit_report(&state, &who, *id, body.0).await?;
    Ok(HttpResponse::Created().json(submitted))
}

/// Files a new version of the volunteer's report on contact `id`, which they must have
/// taken; a safeguarding flag alerts the supervisors on call in the same commit.
pub async fn submit_report(
    state: &AppState,
    who: &Principal,
    id: ContactId,
    input: ReportInput,
) -> Result<SubmittedReport, ApiError> {
    let me = volunteer_of(who)?;
    let row = contact_log::get(&state.db, &who.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    require(
        row.answered_by == Some(me),
        "only the volunteer who took a contact reports on it",
    )?;
    let helpline = helplines::get(&state.db, &storage::Scope::All, row.helpline_id)
        .await?
        .ok_or(ApiError::NotFound("helpline"))?;
    let settings = helplines::settings_of(&helpline)?;
    let input = input.validated(&settings.supervision)?;
    let submitted =
        supervision::report::submit(state, &row, me, &settings.name, &input, state.clock.now())
            .await?;
    Ok(SubmittedReport {
        report: contact_views::report_version(&state.vault, submitted.report),
        newly_raised: submitted.newly_raised,
        supervisors_alerted: submitted.supervisors_alerted,
    })
}
