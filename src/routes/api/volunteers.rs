//! `/volunteers`: peer supporters' profiles. Admins and supervisors of a helpline the
//! volunteer serves manage everything; a volunteer edits only their own name, phone,
//! time zone, languages and pause state.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{edits, require, visible_helpline, visible_volunteer};
use crate::domain::access::Principal;
use crate::domain::ids::{HelplineId, VolunteerId};
use crate::domain::phone::E164;
use crate::domain::shift_reminders::QuietHours;
use crate::domain::timezone::TimeZone;
use crate::domain::volunteer::{
    NotTakingContacts, TrainingStatus, VolunteerProfile, WellbeingLimits, validate_phone,
};
use crate::domain::volunteer_changes::{ChangeRefused, Editor, VolunteerChanges};
use crate::error::{ApiError, ErrorBody};
use crate::rota_care::cover;
use crate::routes::extract::{ValidJson, ValidQuery};
use crate::secrets::Vault;
use crate::state::AppState;
use crate::storage::audit;
use crate::storage::entities::volunteer;
use crate::storage::{self, Page, PageRequest, helplines, users, volunteers};

#[derive(Serialize, utoipa::ToSchema)]
pub struct VolunteerView {
    pub id: VolunteerId,
    pub name: String,
    pub phone: String,
    pub time_zone: String,
    pub languages: Vec<String>,
    pub training_status: TrainingStatus,
    pub training_completed_on: Option<NaiveDate>,
    pub refresher_due_on: Option<NaiveDate>,
    pub trained_voice: bool,
    pub trained_sms: bool,
    /// False while the volunteer has paused themself.
    pub active: bool,
    pub limits: WellbeingLimits,
    /// When no rota text is sent to them, on their clock (`PUT .../quiet-hours`).
    pub quiet_hours: Option<QuietHours>,
    /// Helplines this volunteer serves.
    pub helplines: Vec<HelplineId>,
    /// Why this volunteer takes no contacts today on any channel (absent when they do):
    /// a new volunteer is in training and trained for no channel until a supervisor
    /// says otherwise.
    pub not_taking_contacts: Option<NotTakingContacts>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(
    vault: &Vault,
    row: volunteer::Model,
    helplines: Vec<HelplineId>,
    now: DateTime<Utc>,
) -> Result<VolunteerView, ApiError> {
    let p = volunteers::profile_of(&row)?;
    Ok(VolunteerView {
        not_taking_contacts: p.readiness().check(now, None).err(),
        id: row.id,
        name: p.name,
        phone: volunteers::phone_of(vault, &row)?.to_string(),
        time_zone: p.time_zone.to_string(),
        languages: p.languages,
        training_status: p.training_status,
        training_completed_on: p.training_completed_on,
        refresher_due_on: p.refresher_due_on,
        trained_voice: p.trained_voice,
        trained_sms: p.trained_sms,
        active: p.active,
        limits: p.limits,
        quiet_hours: volunteers::quiet_hours_of(&row),
        helplines,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVolunteer {
    pub name: String,
    #[schema(value_type = String, example = "+12025550143")]
    pub phone: E164,
    #[schema(value_type = String, example = "America/New_York")]
    pub time_zone: TimeZone,
    pub languages: Vec<String>,
    #[serde(default = "in_training")]
    pub training_status: TrainingStatus,
    pub training_completed_on: Option<NaiveDate>,
    pub refresher_due_on: Option<NaiveDate>,
    #[serde(default)]
    pub trained_voice: bool,
    #[serde(default)]
    pub trained_sms: bool,
    #[serde(default)]
    pub limits: Option<WellbeingLimits>,
    /// Helplines the volunteer serves (at least one).
    pub helplines: Vec<HelplineId>,
}

fn in_training() -> TrainingStatus {
    TrainingStatus::InTraining
}

/// Checks that every helpline in `wanted` exists for the caller, and that the caller may
/// add or remove each one that changes relative to `current`.
async fn check_helplines(
    state: &AppState,
    who: &Principal,
    wanted: &[HelplineId],
    current: &[HelplineId],
) -> Result<(), ApiError> {
    if wanted.is_empty() {
        return Err(ApiError::field(
            "helplines",
            "must name at least one helpline",
        ));
    }
    for (i, id) in wanted.iter().enumerate() {
        if visible_helpline(state, who, *id).await.is_err() {
            return Err(ApiError::field(
                format!("helplines[{i}]"),
                format!("no helpline {id}"),
            ));
        }
    }
    let changed = wanted
        .iter()
        .filter(|h| !current.contains(h))
        .chain(current.iter().filter(|h| !wanted.contains(h)));
    for id in changed {
        require(
            who.manages_helpline(*id),
            &format!("you may not change membership of helpline {id}"),
        )?;
    }
    Ok(())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VolunteerFilter {
    /// Only volunteers serving this helpline.
    pub helpline_id: Option<HelplineId>,
    pub limit: Option<u64>,
    pub after: Option<i32>,
}

/// Volunteers the caller may see: all (admin), those serving the supervisor's helplines,
/// or only themself (volunteer).
#[utoipa::path(tag = "volunteers", params(VolunteerFilter), security(("bearer" = [])),
    responses((status = 200, body = Page<VolunteerView>)))]
#[get("/volunteers")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    filter: ValidQuery<VolunteerFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest {
        limit: filter.0.limit,
        after: filter.0.after,
    };
    let rows = volunteers::list(&state.db, &who.scope(), filter.0.helpline_id, page).await?;
    let page = Page::from_rows(rows, page, |r| r.id.0, |r| r);
    let ids = page.items.iter().map(|r| r.id).collect();
    let mut served = users::served_helplines_of(&state.db, ids).await?;
    let items = page
        .items
        .into_iter()
        .map(|row| {
            let serves = served.remove(&row.id).unwrap_or_default();
            view(&state.vault, row, serves, state.clock.now())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_after: page.next_after,
    }))
}

/// Adds a volunteer (admins, or supervisors for their own helplines).
#[utoipa::path(tag = "volunteers", request_body = NewVolunteer, security(("bearer" = [])),
    responses((status = 201, body = VolunteerView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/volunteers")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<NewVolunteer>,
) -> Result<HttpResponse, ApiError> {
    require(
        who.manages_volunteer(&body.0.helplines),
        "only an admin or supervisor may add volunteers",
    )?;
    let new = body.0;
    let profile = VolunteerProfile {
        name: new.name,
        time_zone: new.time_zone,
        languages: new.languages,
        training_status: new.training_status,
        training_completed_on: new.training_completed_on,
        refresher_due_on: new.refresher_due_on,
        trained_voice: new.trained_voice,
        trained_sms: new.trained_sms,
        active: true,
        limits: new.limits.unwrap_or_default(),
    };
    profile.validate()?;
    validate_phone(&new.phone)?;
    check_helplines(&state, &who, &new.helplines, &[]).await?;
    refuse_helplines_own_number(&state, &new.phone).await?;
    let now = state.clock.now();
    let row = volunteers::create(
        &state.db,
        &state.vault,
        &profile,
        &new.phone,
        &new.helplines,
        now,
    )
    .await?;
    let serves = users::served_helplines(&state.db, row.id).await?;
    let created = view(&state.vault, row, serves.clone(), now)?;
    let after = serde_json::to_value(&created).map_err(|e| ApiError::Internal(e.into()))?;
    let subject = serde_json::json!({ "volunteer_id": created.id });
    audit::record_change(
        &state.db,
        &who,
        "create_volunteer",
        &serves,
        subject,
        (&serde_json::json!({}), &after),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// One volunteer.
#[utoipa::path(tag = "volunteers", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = VolunteerView), (status = 404, body = ErrorBody)))]
#[get("/volunteers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    let (row, serves) = visible_volunteer(&state, &who, *id).await?;
    Ok(HttpResponse::Ok().json(view(&state.vault, row, serves, state.clock.now())?))
}

/// Changes a volunteer. A volunteer may change only their own name, phone, time zone,
/// languages and `active` (pause); the rest is for their supervisors. The read-only
/// fields a GET returned may be sent back, and are ignored.
#[utoipa::path(tag = "volunteers", params(("id" = i32, Path)), request_body = VolunteerChanges, security(("bearer" = [])),
    responses((status = 200, body = VolunteerView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[patch("/volunteers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
    body: ValidJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let changes: VolunteerChanges =
        edits::typed(edits::without_read_only(body.0, &["not_taking_contacts"]))?;
    Ok(HttpResponse::Ok().json(change(&state, &who, *id, changes).await?))
}

/// Applies `changes` to volunteer `id`, within what `who` may change.
pub async fn change(
    state: &AppState,
    who: &Principal,
    id: VolunteerId,
    changes: VolunteerChanges,
) -> Result<VolunteerView, ApiError> {
    let (existing, serves) = visible_volunteer(state, who, id).await?;
    let mut profile = volunteers::profile_of(&existing)?;
    let phone = volunteers::phone_of(&state.vault, &existing)?;
    let editor = if who.manages_every(&serves) {
        Editor::Manager
    } else if who.manages_volunteer(&serves) {
        Editor::PartManager
    } else if who.is_volunteer(id) {
        Editor::TheVolunteer
    } else {
        Editor::Other
    };
    changes
        .check_editor(editor, (&profile, &phone), &serves)
        .map_err(|refused| match refused {
            ChangeRefused::NotTheirs => ApiError::forbidden(
                "only the volunteer or their supervisor may change this profile".to_owned(),
            ),
            ChangeRefused::ManagersOnly(field) => ApiError::forbidden(format!(
                "{field} can only be changed by a supervisor or admin"
            )),
            ChangeRefused::EveryHelplinesSupervisor(field) => ApiError::forbidden(format!(
                "{field} of a volunteer who also serves other helplines can only be changed \
                 by a supervisor of every helpline they serve, or an admin"
            )),
        })?;
    if let Some(wanted) = &changes.helplines {
        check_helplines(state, who, wanted, &serves).await?;
    }
    let helplines = changes.helplines.clone();
    let new_phone = changes.phone.clone();
    let quiet_hours = changes.quiet_hours;
    changes.apply(&mut profile);
    profile.validate()?;
    if let Some(Some(quiet)) = &quiet_hours {
        quiet.validate()?;
    }
    if let Some(phone) = &new_phone {
        validate_phone(phone)?;
        refuse_helplines_own_number(state, phone).await?;
    }
    let now = state.clock.now();
    let before = serde_json::to_value(view(&state.vault, existing.clone(), serves.clone(), now)?)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let pausing = existing.active && !profile.active;
    // The change, the cover it asks for and its audit entry stand or fall together.
    let txn = storage::write_transaction(&state.db).await?;
    let mut row = volunteers::update(
        &txn,
        &state.vault,
        existing,
        &profile,
        new_phone.as_ref(),
        helplines.as_deref(),
        now,
    )
    .await?;
    if pausing {
        // Shifts coming up at short notice are lost: ask others to cover them.
        cover::after_loss(&txn, id, cover::Loss::Pause, now).await?;
    }
    if let Some(quiet) = quiet_hours {
        volunteers::set_quiet_hours(&txn, row.id, quiet, now).await?;
        row.quiet_from = quiet.map(|q| q.from.to_string());
        row.quiet_until = quiet.map(|q| q.until.to_string());
    }
    let now_serves = users::served_helplines(&txn, row.id).await?;
    let changed = view(&state.vault, row, now_serves.clone(), now)?;
    let after = serde_json::to_value(&changed).map_err(|e| ApiError::Internal(e.into()))?;
    let concerned: Vec<HelplineId> = serves
        .iter()
        .chain(&now_serves)
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let subject = serde_json::json!({ "volunteer_id": id });
    audit::record_change(
        &txn,
        who,
        "change_volunteer",
        &concerned,
        subject,
        (&before, &after),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(changed)
}

/// A volunteer's phone must never be a helpline's own or fallback number: the helpline
/// would ring itself.
async fn refuse_helplines_own_number(state: &AppState, phone: &E164) -> Result<(), ApiError> {
    if helplines::is_helplines_own(&state.db, phone).await? {
        return Err(ApiError::field(
            "phone",
            "is one of the helplines' own or fallback numbers: a call would ring the helpline itself",
        ));
    }
    Ok(())
}

/// Removes a volunteer with their rota, sign-offs and conflicts; one who appears in the
/// contact log is kept (409): pause them instead.
#[utoipa::path(tag = "volunteers", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[delete("/volunteers/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<VolunteerId>,
) -> Result<HttpResponse, ApiError> {
    let (_, serves) = visible_volunteer(&state, &who, *id).await?;
    require(
        who.manages_volunteer(&serves),
        "only an admin or their supervisor may remove a volunteer",
    )?;
    volunteers::delete(&state.db, *id)
        .await
        .map_err(|err| match ApiError::from(err) {
            ApiError::Conflict(_) => ApiError::Conflict(
                "this volunteer appears in the contact log, which must keep them; pause them (active: false) instead".into(),
            ),
            other => other,
        })?;
    Ok(HttpResponse::NoContent().finish())
}
