//! `/contacts`: the contact log for supervisors and admins. The list and the full record
//! are scoped in the query to the caller's helplines; reading a record, revealing a
//! caller's number and blocking or unblocking a caller are each written to the audit log.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::contact_views::{self, ContactDetail, ContactSummary};
use super::{page_limit, require, split_page};
use crate::domain::access::Principal;
use crate::domain::contact::Outcome;
use crate::domain::ids::{ContactId, HelplineId, TopicId, VolunteerId};
use crate::domain::phone::E164;
use crate::domain::rota::Channel;
use crate::domain::routing::Tier;
use crate::domain::supervision::{CannotBlock, Flag, ReviewState, check_block};
use crate::domain::validate;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::{ValidJson, ValidQuery};
use crate::secrets::WITHHELD_HINT;
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::blocklist::{self, NewBlock};
use crate::storage::contact_log::{self, ContactFilter, HelplineWindow};
use crate::storage::entities::{Sealed, contact};
use crate::storage::{
    self, after_contact, callbacks, contacts, helplines, messages, outbox, reviews, surveys,
};

const REVIEWERS_ONLY: &str = "only supervisors and admins review contacts";

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    pub helpline_id: Option<HelplineId>,
    pub channel: Option<Channel>,
    pub topic_id: Option<TopicId>,
    #[param(inline)]
    pub outcome: Option<Outcome>,
    /// The volunteer who answered.
    pub volunteer_id: Option<VolunteerId>,
    /// Contacts with this flag raised (resolved or not).
    pub flag: Option<Flag>,
    pub review_state: Option<ReviewState>,
    #[param(inline)]
    pub tier: Option<Tier>,
    /// First day, in each helpline's own time zone (YYYY-MM-DD).
    pub from: Option<NaiveDate>,
    /// Last day, inclusive, in each helpline's own time zone.
    pub to: Option<NaiveDate>,
    /// How many contacts (1 to 200, default 50).
    pub limit: Option<u64>,
    /// Contacts older than this id: the `next_before` of the previous page.
    pub before: Option<i32>,
}

/// A page of contacts, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactPage {
    pub items: Vec<ContactSummary>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<i32>,
}

/// The UTC bounds of local days `from..=to` in each helpline the caller sees.
pub async fn windows(
    state: &AppState,
    who: &Principal,
    helpline_id: Option<HelplineId>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<HelplineWindow>, ApiError> {
    if from.is_none() && to.is_none() {
        return Ok(Vec::new());
    }
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(ApiError::field("to", "must not be before 'from'"));
    }
    let zones = helplines::zones(&state.db, &who.scope()).await?;
    Ok(zones
        .into_iter()
        .filter(|(id, _)| helpline_id.is_none_or(|h| h == *id))
        .map(|(id, zone)| HelplineWindow {
            helpline_id: id,
            from: from.map(|d| zone.start_of_day(d)),
            to: to
                .and_then(|d| d.checked_add_signed(Duration::days(1)))
                .map(|d| zone.start_of_day(d)),
        })
        .collect())
}

/// Contacts of the caller's helplines, newest first, filtered.
#[utoipa::path(tag = "supervision", params(ContactQuery), security(("bearer" = [])),
    responses((status = 200, body = ContactPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/contacts")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: ValidQuery<ContactQuery>,
) -> Result<HttpResponse, ApiError> {
    require(who.reviews_contacts(), REVIEWERS_ONLY)?;
    let q = query.0;
    let filter = ContactFilter {
        helpline_id: q.helpline_id,
        channel: q.channel,
        topic_id: q.topic_id,
        outcome: q.outcome,
        volunteer_id: q.volunteer_id,
        flag: q.flag,
        review_state: q.review_state,
        tier: q.tier,
        windows: windows(&state, &who, q.helpline_id, q.from, q.to).await?,
    };
    let limit = page_limit(q.limit);
    let rows = contact_log::list(&state.db, &who.scope(), &filter, q.before, limit).await?;
    let (rows, next_before) = split_page(rows, limit, |r| r.id.0);
    let flag_rows = contact_log::flags_of(&state.db, rows.iter().map(|r| r.id).collect()).await?;
    let flags = contact_views::flags_by_contact(&flag_rows);
    let items = rows
        .into_iter()
        .map(|r| {
            let f = flags.get(&r.id);
            contact_views::summary(r, f)
        })
        .collect();
    Ok(HttpResponse::Ok().json(ContactPage { items, next_before }))
}

/// A contact of the caller's helplines, or 404 (403 for volunteers).
pub async fn reviewable_contact(
    state: &AppState,
    who: &Principal,
    id: ContactId,
) -> Result<contact::Model, ApiError> {
    require(who.reviews_contacts(), REVIEWERS_ONLY)?;
    contact_log::get(&state.db, &who.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("contact"))
}

/// Everything about one contact: timeline, routing trace, offers, transcript, voicemail,
/// the volunteer's report versions, flags and review history. Audited.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = ContactDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/contacts/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
) -> Result<HttpResponse, ApiError> {
    let row = reviewable_contact(&state, &who, *id).await?;
    Ok(HttpResponse::Ok().json(viewed(&state, &who, row).await?))
}

/// The full record of a contact `who` may see, written to the audit log as viewed.
pub async fn viewed(
    state: &AppState,
    who: &Principal,
    row: contact::Model,
) -> Result<ContactDetail, ApiError> {
    let entry = Audited::new("view_contact").contact(row.helpline_id, row.id);
    audit::record(&state.db, who, entry, state.clock.now()).await?;
    detail(state, row).await
}

/// The full record of a contact the caller may see.
pub async fn detail(state: &AppState, row: contact::Model) -> Result<ContactDetail, ApiError> {
    let (db, vault) = (&state.db, &state.vault);
    let id = row.id;
    let flag_rows = contact_log::flags_of(db, vec![id]).await?;
    let flags = contact_views::flags_by_contact(&flag_rows);
    Ok(ContactDetail {
        language: row.language.clone(),
        stage: row.stage,
        recording: contact_views::recording(&row),
        events: contact_log::events(db, id)
            .await?
            .into_iter()
            .map(contact_views::event)
            .collect(),
        offers: contacts::offers(db, id)
            .await?
            .into_iter()
            .map(contact_views::offer)
            .collect(),
        transcript: messages::transcript(db, id)
            .await?
            .into_iter()
            .map(|m| contact_views::message(vault, m))
            .collect(),
        reports: after_contact::report_versions(db, id)
            .await?
            .into_iter()
            .map(|r| contact_views::report_version(vault, r))
            .collect(),
        flag_history: flag_rows
            .into_iter()
            .filter_map(|f| contact_views::flag(vault, f))
            .collect(),
        reviews: reviews::history(db, id)
            .await?
            .into_iter()
            .map(|r| contact_views::review(vault, r))
            .collect(),
        deliveries: outbox::of_contact(db, id)
            .await?
            .into_iter()
            .map(contact_views::delivery)
            .collect(),
        survey: surveys::of_contact(db, id)
            .await?
            .into_iter()
            .map(contact_views::survey_answer)
            .collect(),
        callback: callbacks::of_contact(db, id)
            .await?
            .map(|c| contact_views::callback(vault, c)),
        summary: contact_views::summary(row, flags.get(&id)),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// Why the number is needed (a safeguarding action), for the audit log.
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RevealedCaller {
    pub contact_id: ContactId,
    pub number: String,
}

/// Reveals the caller's or texter's number, for safeguarding. Audited with the reason.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), request_body = RevealRequest, security(("bearer" = [])),
    responses((status = 200, body = RevealedCaller), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/contacts/{id}/reveal-caller")]
pub async fn reveal_caller(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
    body: ValidJson<RevealRequest>,
) -> Result<HttpResponse, ApiError> {
    let row = reviewable_contact(&state, &who, *id).await?;
    let number = reveal(&state, &who, &row, &body.0.reason).await?;
    Ok(HttpResponse::Ok().json(RevealedCaller {
        contact_id: row.id,
        number: number.to_string(),
    }))
}

/// The number of `row`'s caller, for a reviewer with a reason; audited before it is shown.
pub async fn reveal(
    state: &AppState,
    who: &Principal,
    row: &contact::Model,
    reason: &str,
) -> Result<E164, ApiError> {
    validate::text("reason", reason, 1000)?;
    let number = row
        .caller_encrypted
        .as_deref()
        .and_then(|sealed| state.vault.open(sealed))
        .ok_or_else(|| {
            ApiError::Conflict(
                "no number is held for this contact: withheld, or erased under the retention policy"
                    .into(),
            )
        })?;
    // No number leaves without its audit entry.
    audit::record(
        &state.db,
        who,
        Audited::new("reveal_caller")
            .contact(row.helpline_id, row.id)
            .detail(json!({ "reason": reason })),
        state.clock.now(),
    )
    .await?;
    tracing::info!(
        contact = %row.id,
        user = %who.user_id,
        "caller number revealed"
    );
    Ok(number)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockFromContact {
    /// Why, for the other supervisors.
    pub reason: String,
    /// When the block lapses (RFC 3339, in the future).
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactBlock {
    /// The blocked-caller entry (see `/helplines/{id}/blocked-callers`).
    pub block_id: i32,
    pub helpline_id: HelplineId,
    /// The masked number, e.g. `...47`.
    pub number_hint: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Blocks this contact's caller at its helpline until `expires_at`, without showing
/// their number. Audited.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), request_body = BlockFromContact, security(("bearer" = [])),
    responses((status = 201, body = ContactBlock), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/contacts/{id}/block")]
pub async fn block(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
    body: ValidJson<BlockFromContact>,
) -> Result<HttpResponse, ApiError> {
    let row = reviewable_contact(&state, &who, *id).await?;
    Ok(HttpResponse::Created().json(block_caller(&state, &who, &row, body.0).await?))
}

/// Blocks `row`'s caller at its helpline until the request's expiry, without showing
/// their number. Audited.
pub async fn block_caller(
    state: &AppState,
    who: &Principal,
    row: &contact::Model,
    request: BlockFromContact,
) -> Result<ContactBlock, ApiError> {
    validate::text("reason", &request.reason, 500)?;
    let now = state.clock.now();
    let number_held = row.caller_hint != WITHHELD_HINT && row.erased_at.is_none();
    check_block(request.expires_at, now, number_held).map_err(|reason| match reason {
        CannotBlock::ExpiryNotInFuture => ApiError::field("expires_at", "must be in the future"),
        CannotBlock::NoNumberHeld => ApiError::Conflict(
            "no number is held for this contact (withheld, or erased under the retention \
             policy); there is nothing to block"
                .into(),
        ),
    })?;
    let txn = storage::write_transaction(&state.db).await?;
    let created = blocklist::create(
        &txn,
        NewBlock {
            helpline_id: row.helpline_id,
            number_hash: row.caller_hash.clone(),
            number_hint: row.caller_hint.clone(),
            number_sealed: row.caller_encrypted.clone().map(Sealed),
            reason: Some(Sealed::seal(&state.vault, &request.reason)),
            expires_at: Some(request.expires_at),
        },
        now,
    )
    .await?;
    audit::record(
        &txn,
        who,
        Audited::new("block_caller")
            .contact(row.helpline_id, row.id)
            .detail(json!({ "reason": request.reason, "expires_at": request.expires_at })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(ContactBlock {
        block_id: created.id,
        helpline_id: created.helpline_id,
        number_hint: created.number_hint,
        expires_at: created.expires_at,
    })
}

/// Lifts the block on this contact's caller. Audited.
#[utoipa::path(tag = "supervision", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/contacts/{id}/block")]
pub async fn unblock(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<ContactId>,
) -> Result<HttpResponse, ApiError> {
    let row = reviewable_contact(&state, &who, *id).await?;
    let txn = storage::write_transaction(&state.db).await?;
    let hashes = state
        .vault
        .caller_hashes(row.caller_encrypted.as_deref(), &row.caller_hash);
    if !blocklist::delete_number(&txn, row.helpline_id, &hashes).await? {
        return Err(ApiError::NotFound("block on this caller"));
    }
    audit::record(
        &txn,
        &who,
        Audited::new("unblock_caller").contact(row.helpline_id, row.id),
        state.clock.now(),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
