//! The admin and rota API under `/api/v1`: JSON, bearer tokens, one file per resource.
//! Records a caller may not see answer 404 (their existence is not revealed); actions on
//! records they may see but not change answer 403.

pub mod audit;
pub mod blocked_callers;
pub mod conflicts;
pub mod contact_views;
pub mod contacts;
pub mod debriefs;
pub mod edits;
pub mod exceptions;
pub mod helplines;
pub mod me;
pub mod my_contacts;
pub mod numbers;
pub mod on_call;
pub mod reports;
pub mod return_calls;
pub mod reviews;
pub mod rota;
pub mod rota_care;
pub mod rota_file;
pub mod shifts;
pub mod signoffs;
pub mod step_backs;
pub mod topics;
pub mod users;
pub mod volunteers;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::access::Principal;
use crate::domain::ids::{HelplineId, VolunteerId};
use crate::domain::validate::FieldError;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::entities::{helpline, volunteer};
use crate::storage::{self, users as user_storage};

/// Registers every `/api/v1` handler.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(me::me)
        .service(helplines::list)
        .service(helplines::create)
        .service(helplines::get)
        .service(helplines::update)
        .service(helplines::patch)
        .service(helplines::delete)
        .service(blocked_callers::list)
        .service(blocked_callers::create)
        .service(blocked_callers::delete)
        .service(numbers::list)
        .service(numbers::add)
        .service(numbers::remove)
        .service(topics::list)
        .service(topics::create)
        .service(topics::update)
        .service(topics::delete)
        .service(rota::on_shift)
        .service(rota::coverage)
        .service(on_call::list)
        .service(on_call::create)
        .service(on_call::delete)
        .service(volunteers::list)
        .service(volunteers::create)
        .service(volunteers::get)
        .service(volunteers::update)
        .service(volunteers::delete)
        .service(signoffs::list)
        .service(signoffs::sign_off)
        .service(signoffs::revoke)
        .service(shifts::list)
        .service(shifts::create)
        .service(shifts::create_on_weekdays)
        .service(shifts::update)
        .service(shifts::delete)
        .service(exceptions::list)
        .service(exceptions::create)
        .service(exceptions::delete)
        .service(step_backs::create)
        .service(step_backs::list)
        .service(step_backs::end)
        .service(rota_care::set_quiet_hours)
        .service(rota_care::clear_quiet_hours)
        .service(rota_care::reminders)
        .service(rota_care::issue_calendar_feed)
        .service(rota_care::revoke_calendar_feed)
        .service(rota_care::helpline_cover_requests)
        .service(rota_care::helpline_gap_alerts)
        .service(rota_file::export)
        .service(rota_file::import)
        .service(rota_care::issue_gap_feed)
        .service(rota_care::revoke_gap_feed)
        .service(conflicts::list)
        .service(conflicts::create)
        .service(conflicts::delete)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::delete)
        .service(users::issue_token)
        .service(users::tokens)
        .service(users::revoke_token)
        .service(my_contacts::list)
        .service(my_contacts::get)
        .service(my_contacts::report)
        .service(contacts::list)
        .service(contacts::get)
        .service(contacts::reveal_caller)
        .service(return_calls::return_call)
        .service(return_calls::list_returners)
        .service(return_calls::allow_returner)
        .service(return_calls::withdraw_returner)
        .service(return_calls::my_missed_calls)
        .service(return_calls::return_my_missed_call)
        .service(contacts::block)
        .service(contacts::unblock)
        .service(reviews::act)
        .service(reviews::queue)
        .service(debriefs::list)
        .service(debriefs::done)
        .service(audit::list)
        .service(reports::contacts)
        .service(reports::survey)
        .service(reports::volunteers)
        .service(reports::coverage);
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        ApiError::InvalidField {
            field: err.field,
            message: err.message,
        }
    }
}

/// The limit asked for, within bounds.
pub fn page_limit(limit: Option<u64>) -> u64 {
    storage::PageRequest { limit, after: None }.limit()
}

/// Splits `limit + 1` rows into a page and the cursor for the next one.
pub fn split_page<R>(
    mut rows: Vec<R>,
    limit: u64,
    id: impl Fn(&R) -> i32,
) -> (Vec<R>, Option<i32>) {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more { rows.last().map(id) } else { None };
    (rows, next)
}

/// `Ok` when `allowed`, else 403 with `message`.
pub fn require(allowed: bool, message: &str) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(message))
    }
}

/// A helpline the caller may see, or 404.
pub async fn visible_helpline(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
) -> Result<helpline::Model, ApiError> {
    storage::helplines::get(&state.db, &who.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("helpline"))
}

/// A helpline the caller manages: 404 if they cannot see it, 403 if they only see it.
pub async fn managed_helpline(
    state: &AppState,
    who: &Principal,
    id: HelplineId,
) -> Result<helpline::Model, ApiError> {
    let found = visible_helpline(state, who, id).await?;
    require(
        who.manages_helpline(id),
        "only an admin or a supervisor of this helpline may change it",
    )?;
    Ok(found)
}

/// A volunteer the caller may see, with the helplines they serve; or 404.
pub async fn visible_volunteer(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
) -> Result<(volunteer::Model, Vec<HelplineId>), ApiError> {
    let found = storage::volunteers::get(&state.db, &who.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("volunteer"))?;
    let serves = user_storage::served_helplines(&state.db, id).await?;
    Ok((found, serves))
}

/// A volunteer whose rota (shifts, leave, conflicts) the caller may edit.
pub async fn rota_editable_volunteer(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
) -> Result<volunteer::Model, ApiError> {
    let (found, serves) = visible_volunteer(state, who, id).await?;
    require(
        who.edits_rota_of(id, &serves),
        "only the volunteer or their supervisor may change this rota",
    )?;
    Ok(found)
}
