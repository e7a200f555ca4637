//! Reviewing contacts: supervisors' review actions on a contact (audited), and the review
//! queue: flagged contacts first, then a random sample of each volunteer's unflagged
//! contacts per week.

use actix_web::{HttpResponse, get, post, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::contact_views::{self, ContactSummary, ReviewView};
use super::contacts::reviewable_contact;
use super::require;
use crate::domain::access::Principal;
use crate::domain::ids::{ContactId, HelplineId};
use crate::domain::supervision::{
    ReviewAction, ReviewState, SAMPLE_WEEKS, SamplingRule, review_sample,
};
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::{ValidJson, ValidQuery};
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::entities::{Sealed, contact, review};
use crate::storage::{self, after_contact, contact_log, helplines, reviews};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewResult {
    pub contact_id: ContactId,
    /// The contact's review state after the action.
    pub review_state: ReviewState,
    pub review: ReviewView,
}

/// Comments on, resolves a flag of, requests a follow-up for, completes or reopens the
/// review of a contact. Audited.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), request_body = ReviewAction, security(("bearer" = [])),
    responses((status = 201, body = ReviewResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/contacts/{id}/reviews")]
pub async fn act(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
    body: ValidJson<ReviewAction>,
) -> Result<HttpResponse, ApiError> {
    let row = reviewable_contact(&state, &who, *id).await?;
    let (review_state, stored) = apply(&state, &who, &row, &body.0).await?;
    Ok(HttpResponse::Created().json(ReviewResult {
        contact_id: row.id,
        review_state,
        review: contact_views::review(&state.vault, stored),
    }))
}

/// Applies a review action to `row`, a contact the reviewer may see; returns the review
/// state after it and the stored action. Audited.
pub async fn apply(
    state: &AppState,
    who: &Principal,
    row: &contact::Model,
    action: &ReviewAction,
) -> Result<(ReviewState, review::Model), ApiError> {
    let now = state.clock.now();
    let txn = storage::write_transaction(&state.db).await?;
    // Read inside the write transaction: another supervisor's action cannot slip between.
    let current = storage::contacts::get(&txn, row.id)
        .await?
        .map_or(ReviewState::Unreviewed, |c| c.review_state);
    let open_flags = after_contact::open_flags(&txn, row.id).await?;
    let next = action.next_state(current, &open_flags)?;
    if let ReviewAction::ResolveFlag { flag, action_taken } = action {
        let action_taken = Sealed::seal(&state.vault, action_taken);
        after_contact::resolve_flag(&txn, row.id, *flag, who.user_id, &action_taken, now).await?;
    }
    if next != current && !reviews::set_state(&txn, row.id, current, next).await? {
        return Err(ApiError::Conflict(
            "another review changed this contact; look again and retry".into(),
        ));
    }
    let stored = reviews::record(&txn, &state.vault, row.id, who.user_id, action, now).await?;
    audit::record(
        &txn,
        who,
        Audited::new("review")
            .contact(row.helpline_id, row.id)
            .detail(json!({ "action": action.name(), "review_state": next.as_str() })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((next, stored))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Only this helpline's contacts.
    pub helpline_id: Option<HelplineId>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewQueue {
    /// Contacts with an open flag, oldest first.
    pub flagged: Vec<ContactSummary>,
    /// The week's random sample of unflagged, unreviewed contacts per volunteer (the
    /// helpline's `supervision.review_sample_per_week`), over the last four weeks.
    pub sampled: Vec<ContactSummary>,
}

/// What a supervisor should review next.
#[utoipa::path(tag = "supervision", params(QueueQuery), security(("bearer" = [])),
    responses((status = 200, body = ReviewQueue), (status = 403, body = ErrorBody)))]
#[get("/review-queue")]
pub async fn queue(
    state: web::Data<AppState>,
    who: Principal,
    query: ValidQuery<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(review_queue(&state, &who, query.0.helpline_id).await?))
}

/// What `who` should review next, optionally for one helpline.
pub async fn review_queue(
    state: &AppState,
    who: &Principal,
    helpline_id: Option<HelplineId>,
) -> Result<ReviewQueue, ApiError> {
    require(
        who.reviews_contacts(),
        "only supervisors and admins review contacts",
    )?;
    let scope = who.scope();
    let flagged = reviews::flagged_unreviewed(&state.db, &scope, helpline_id, 500).await?;
    let since = state.clock.now() - Duration::weeks(SAMPLE_WEEKS);
    let pool = reviews::sample_pool(&state.db, &scope, helpline_id, since).await?;
    let rules: Vec<SamplingRule> = helplines::all_settings(&state.db, &scope)
        .await?
        .into_iter()
        .map(|(helpline_id, settings)| SamplingRule {
            helpline_id,
            time_zone: settings.time_zone,
            per_week: usize::try_from(settings.supervision.review_sample_per_week).unwrap_or(0),
        })
        .collect();
    let chosen = review_sample(&pool, &rules);
    let ids: Vec<ContactId> = flagged.iter().map(|c| c.id).collect();
    let flag_rows = contact_log::flags_of(&state.db, ids).await?;
    let flags = contact_views::flags_by_contact(&flag_rows);
    let sampled = reviews::by_ids(&state.db, chosen)
        .await?
        .into_iter()
        .map(|c| contact_views::summary(c, None))
        .collect();
    let flagged = flagged
        .into_iter()
        .map(|c| {
            let f = flags.get(&c.id);
            contact_views::summary(c, f)
        })
        .collect();
    Ok(ReviewQueue { flagged, sampled })
}
