//! `/helplines/{id}/rota.csv`: the helpline's weekly rota as a spreadsheet, out and back
//! in. An import makes each volunteer it names have exactly the shifts it lists; a dry
//! run says what would change and every line's errors, and changes nothing. Admins and
//! the helpline's supervisors.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, get, put, web};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

use super::managed_helpline;
use super::shifts::ShiftInput;
use crate::domain::access::Principal;
use crate::domain::ids::{HelplineId, VolunteerId};
use crate::domain::rota::WeeklyShift;
use crate::domain::rota_csv::{self, Held, LineError, Member, RotaChanges};
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::{CsvBody, ValidQuery};
use crate::state::AppState;
use crate::storage::entities::volunteer;
use crate::storage::{self, rota, rota_history, volunteers};

/// The helpline's weekly shifts as CSV, one a line:
/// `volunteer_id,volunteer,weekday,start,end,channels,valid_from,valid_until`, times on
/// each volunteer's own clock.
#[utoipa::path(tag = "rota", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/rota.csv")]
pub async fn export(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ApiError> {
    managed_helpline(&state, &who, *id).await?;
    let (people, held) = rota_of(&state.db, *id).await?;
    let text =
        rota_csv::export(&members(&people), &held).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"rota-{id}.csv\""),
        ))
        .body(text))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Only say what would change: nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ShiftChangeView {
    /// The line of the file that adds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The shift removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shift_id: Option<i32>,
    pub volunteer_id: VolunteerId,
    pub volunteer: String,
    #[serde(flatten)]
    pub shift: ShiftInput,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RotaImportView {
    /// Whether the changes were made: false on a dry run.
    pub applied: bool,
    pub added: Vec<ShiftChangeView>,
    pub removed: Vec<ShiftChangeView>,
    /// Shifts the file lists that are already on the rota.
    pub unchanged: usize,
    /// Every line that cannot be used (only on a dry run: an import with any is refused).
    pub errors: Vec<LineError>,
}

/// Imports the helpline's weekly rota from CSV (`Content-Type: text/csv`, the columns of
/// the export; `volunteer_id` or `volunteer`, `weekday`, `start` and `end` are needed).
/// Each volunteer the file names ends up with exactly the shifts it lists for them;
/// volunteers it does not name keep theirs. With `dry_run=true` nothing is written and
/// every line's errors are listed; otherwise a file with any error is refused whole.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), ImportQuery), security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = RotaImportView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
#[put("/helplines/{id}/rota.csv")]
pub async fn import(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    query: ValidQuery<ImportQuery>,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    managed_helpline(&state, &who, *id).await?;
    // Reading the file needs no lock; a dry run takes none at all, so that no webhook
    // waits on it.
    let file = rota_csv::read(&body.0);
    if query.0.dry_run {
        let (people, held) = rota_of(&state.db, *id).await?;
        let members = members(&people);
        let changes = file.changes(&members, &held);
        return Ok(HttpResponse::Ok().json(view(changes, &members, false)));
    }
    let txn = storage::write_transaction(&state.db).await?;
    let (people, held) = rota_of(&txn, *id).await?;
    let members = members(&people);
    let changes = file.changes(&members, &held);
    if !changes.errors.is_empty() {
        txn.rollback().await?;
        return Err(ApiError::InvalidBody(refusal(&changes.errors)));
    }
    apply(&txn, &changes, state.clock.now()).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view(changes, &members, true)))
}

/// How many line errors a refusal names before it says how many more there are.
const ERRORS_NAMED: usize = 10;

fn refusal(errors: &[LineError]) -> String {
    let mut named: Vec<String> = errors
        .iter()
        .take(ERRORS_NAMED)
        .map(|e| match &e.column {
            Some(column) => format!("line {} ({column}): {}", e.line, e.message),
            None => format!("line {}: {}", e.line, e.message),
        })
        .collect();
    if errors.len() > ERRORS_NAMED {
        named.push(format!(
            "and {} more (a dry run lists them all)",
            errors.len() - ERRORS_NAMED
        ));
    }
    let plural = if errors.len() == 1 { "" } else { "s" };
    format!(
        "{} line{plural} of the file cannot be used, so nothing was changed: {}",
        errors.len(),
        named.join("; ")
    )
}

/// The helpline's volunteers and the weekly shifts they hold.
async fn rota_of(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<(Vec<volunteer::Model>, Vec<Held>), DbErr> {
    let people = volunteers::serving_helpline(db, helpline_id).await?;
    let rows = rota::shifts(db, people.iter().map(|p| p.id).collect()).await?;
    let held = rows
        .iter()
        .map(|row| {
            Ok(Held {
                shift_id: row.id,
                volunteer_id: row.volunteer_id,
                shift: rota::weekly_shift_of(row)?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok((people, held))
}

fn members(people: &[volunteer::Model]) -> Vec<Member<'_>> {
    people
        .iter()
        .map(|p| Member {
            id: p.id,
            name: &p.name,
        })
        .collect()
}

async fn apply(
    txn: &impl ConnectionTrait,
    changes: &RotaChanges,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let mut touched = Vec::new();
    for gone in &changes.removed {
        rota::remove_shift(txn, gone.volunteer_id, gone.shift_id).await?;
        touched.push(gone.volunteer_id);
    }
    for added in &changes.added {
        rota::insert_shift(txn, added.volunteer_id, &added.shift, now).await?;
        touched.push(added.volunteer_id);
    }
    touched.sort_unstable();
    touched.dedup();
    rota_history::record(txn, &touched, now).await
}

fn view(changes: RotaChanges, members: &[Member<'_>], applied: bool) -> RotaImportView {
    let names: HashMap<VolunteerId, &str> = members.iter().map(|m| (m.id, m.name)).collect();
    let name = |id: VolunteerId| names.get(&id).copied().unwrap_or_default().to_owned();
    let change = |line, shift_id, volunteer_id, shift: &WeeklyShift| ShiftChangeView {
        line,
        shift_id,
        volunteer_id,
        volunteer: name(volunteer_id),
        shift: ShiftInput::from(shift),
    };
    RotaImportView {
        applied,
        added: changes
            .added
            .iter()
            .map(|a| change(Some(a.line), None, a.volunteer_id, &a.shift))
            .collect(),
        removed: changes
            .removed
            .iter()
            .map(|r| change(None, Some(r.shift_id), r.volunteer_id, &r.shift))
            .collect(),
        unchanged: changes.unchanged,
        errors: changes.errors,
    }
}
