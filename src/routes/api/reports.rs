//! `/helplines/{id}/reports/...`: a helpline's figures over whole local days, for its
//! supervisors and admins, as JSON or as CSV (`Accept: text/csv` or `?format=csv`).
//! Every report fetched is an export, and is audited.

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{managed_helpline, visible_helpline};
use crate::domain::access::Principal;
use crate::domain::callback::{CallbackFigures, callback_figures};
use crate::domain::csv_export::{Text, to_csv};
use crate::domain::ids::{HelplineId, TopicId};
use crate::domain::report_period::Period;
use crate::domain::report_tally::{ContactsTally, VolunteerTally};
use crate::domain::reports::{
    ContactsReport, VolunteerLoad, contacts_report, volunteer_load, volunteer_load_csv,
};
use crate::domain::rota::{Channel, Interval};
use crate::domain::survey::{SurveyFigures, understood_figures};
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidQuery;
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::report_queries as queries;
use crate::storage::{helplines, report_days, rota, rota_history};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day, in the helpline's time zone (YYYY-MM-DD).
    pub from: NaiveDate,
    /// Last day, inclusive (at most 366 days after `from`).
    pub to: NaiveDate,
    /// `json` (default) or `csv`; `Accept: text/csv` also asks for CSV.
    #[param(inline)]
    pub format: Option<Format>,
    /// Coverage only: the channel shifts must cover (default any).
    pub channel: Option<Channel>,
}

/// The period every report shares.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportPeriod {
    pub helpline_id: HelplineId,
    pub time_zone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactsReportView {
    #[serde(flatten)]
    pub period: ReportPeriod,
    #[serde(flatten)]
    pub report: ContactsReport,
    /// Callers called back instead of holding, and missed calls returned.
    pub callbacks: CallbackFigures,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VolunteerLoadView {
    #[serde(flatten)]
    pub period: ReportPeriod,
    pub volunteers: Vec<VolunteerLoad>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TopicHours {
    pub topic_id: TopicId,
    pub key: String,
    /// Hours with nobody signed off for the topic on shift.
    pub uncovered_hours: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageReportView {
    #[serde(flatten)]
    pub period: ReportPeriod,
    pub period_hours: f64,
    /// Hours with nobody who takes contacts on shift.
    pub uncovered_hours: f64,
    pub topics: Vec<TopicHours>,
}

/// The helpline (which the caller must supervise), its period, and the format asked for.
async fn prepare(
    state: &AppState,
    who: &Principal,
    helpline_id: HelplineId,
    query: &ReportQuery,
    request: &HttpRequest,
) -> Result<(Period, Format), ApiError> {
    let row = managed_helpline(state, who, helpline_id).await?;
    let settings = helplines::settings_of(&row)?;
    let period = Period::new(settings.time_zone, query.from, query.to)?;
    let wants_csv = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    let format = query
        .format
        .unwrap_or(if wants_csv { Format::Csv } else { Format::Json });
    Ok((period, format))
}

/// Writes a report's export (or a look at it, `format` "console") to the audit log.
pub async fn audit_export(
    state: &AppState,
    who: &Principal,
    helpline_id: HelplineId,
    name: &str,
    period: &Period,
    format: &str,
) -> Result<(), ApiError> {
    let detail = json!({ "report": name, "from": period.from, "to": period.to, "format": format });
    let entry = Audited::new("export_report")
        .helpline(helpline_id)
        .detail(detail);
    audit::record(&state.db, who, entry, state.clock.now()).await?;
    Ok(())
}

/// Records the export, then answers with JSON or CSV.
pub async fn export<T: Serialize>(
    state: &AppState,
    who: &Principal,
    helpline_id: HelplineId,
    name: &str,
    (period, format): (Period, Format),
    view: T,
    csv: impl FnOnce(&T) -> Result<String, csv::Error>,
) -> Result<HttpResponse, ApiError> {
    let format_name = if format == Format::Csv { "csv" } else { "json" };
    audit_export(state, who, helpline_id, name, &period, format_name).await?;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(view),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{name}-{helpline_id}-{}-{}.csv\"",
                    period.from, period.to
                ),
            ))
            .body(csv(&view).map_err(|e| ApiError::Internal(e.into()))?),
    })
}

fn period_view(helpline_id: HelplineId, period: &Period) -> ReportPeriod {
    ReportPeriod {
        helpline_id,
        time_zone: period.zone.to_string(),
        from: period.from,
        to: period.to,
    }
}

/// Contacts by channel, topic, outcome, hour and weekday; answer rate, missed and
/// abandoned counts, voicemails; wait and talk time (median, 90th percentile); the
/// peer-match rate; offers per answered contact.
#[utoipa::path(tag = "reports", params(("id" = i32, Path), ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = ContactsReportView, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/reports/contacts")]
pub async fn contacts(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    query: ValidQuery<ReportQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    let asked = prepare(&state, &who, id, &query.0, &request).await?;
    let view = contacts_view(&state, id, &asked.0).await?;
    export(&state, &who, id, "contacts", asked, view, |v| {
        v.report.to_csv()
    })
    .await
}

/// The contacts report of helpline `id` (which the caller was checked to supervise).
pub async fn contacts_view(
    state: &AppState,
    id: HelplineId,
    period: &Period,
) -> Result<ContactsReportView, ApiError> {
    let db = &state.db;
    let report = contacts_report(&report_days::tally::<ContactsTally>(db, id, period).await?);
    // The period's calls are already counted, by channel, in the report.
    let calls = report
        .by_channel
        .iter()
        .find(|c| c.key == Channel::Voice.as_str())
        .map_or(0, |c| c.contacts);
    let callbacks = queries::callbacks(db, id, period).await?;
    Ok(ContactsReportView {
        period: period_view(id, period),
        report,
        callbacks: callback_figures(&callbacks, calls),
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyFiguresView {
    #[serde(flatten)]
    pub period: ReportPeriod,
    /// How callers answered "did you feel understood", overall, by topic and by
    /// peer-match tier.
    pub understood: SurveyFigures,
}

/// Callers' answers after their calls, as helpline-wide figures: for the helpline's
/// volunteers as well as its supervisors (no single contact's answer is shown here).
#[utoipa::path(tag = "reports", params(("id" = i32, Path), ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = SurveyFiguresView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/reports/survey")]
pub async fn survey(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    query: ValidQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    let row = visible_helpline(&state, &who, id).await?;
    let settings = helplines::settings_of(&row)?;
    let period = Period::new(settings.time_zone, query.0.from, query.0.to)?;
    let answers = queries::understood_answers(&state.db, id, &period).await?;
    Ok(HttpResponse::Ok().json(SurveyFiguresView {
        period: period_view(id, &period),
        understood: understood_figures(&answers),
    }))
}

/// Each volunteer's contacts and talk time per local week, long, flagged and
/// back-to-back contacts, missed offers, and their open debriefs: everyone who served the
/// helpline in the period (by the rota as it stood then) or took a contact in it.
#[utoipa::path(tag = "reports", params(("id" = i32, Path), ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = VolunteerLoadView, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/reports/volunteers")]
pub async fn volunteers(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    query: ValidQuery<ReportQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    let asked = prepare(&state, &who, id, &query.0, &request).await?;
    let period = &asked.0;
    // Everyone who served the helpline in the period (by the rota as it stood then) or
    // took a contact in it.
    let span = Interval::new(period.start(), period.end()).map_err(|e| ApiError::field("to", e))?;
    let VolunteerTally { weeks } = report_days::tally(&state.db, id, period).await?;
    let mut ids = rota_history::served_during(&state.db, id, span, state.clock.now()).await?;
    ids.extend(weeks.iter().map(|w| w.volunteer_id));
    ids.sort_unstable();
    ids.dedup();
    let load = volunteer_load(
        &queries::volunteers_named(&state.db, id, &ids).await?,
        &weeks,
    );
    let view = VolunteerLoadView {
        period: period_view(id, period),
        volunteers: load,
    };
    export(&state, &who, id, "volunteers", asked, view, |v| {
        volunteer_load_csv(&v.volunteers)
    })
    .await
}

fn hours(intervals: &[Interval]) -> f64 {
    let secs: i64 = intervals.iter().map(|i| i.duration().num_seconds()).sum();
    (secs as f64 / 3600.0 * 100.0).round() / 100.0
}

/// Rota coverage: hours in the period with nobody on shift who takes contacts, overall
/// and per topic.
#[utoipa::path(tag = "reports", params(("id" = i32, Path), ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = CoverageReportView, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/reports/coverage")]
pub async fn coverage(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    query: ValidQuery<ReportQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    let asked = prepare(&state, &who, id, &query.0, &request).await?;
    let period = &asked.0;
    let span = Interval::new(period.start(), period.end()).map_err(|e| ApiError::field("to", e))?;
    let (gaps, topics) =
        rota::coverage_of(&state.db, id, span, query.0.channel, state.clock.now()).await?;
    let view = CoverageReportView {
        period: period_view(id, period),
        period_hours: hours(&[span]),
        uncovered_hours: hours(&gaps),
        topics: topics
            .into_iter()
            .map(|t| TopicHours {
                topic_id: t.topic_id,
                uncovered_hours: hours(&t.gaps),
                key: t.key,
            })
            .collect(),
    };
    export(&state, &who, id, "coverage", asked, view, |v| {
        #[derive(Serialize)]
        struct Row<'a> {
            scope: &'a str,
            topic_id: Option<TopicId>,
            key: Option<Text<'a>>,
            uncovered_hours: f64,
        }
        let all = Row {
            scope: "all",
            topic_id: None,
            key: None,
            uncovered_hours: v.uncovered_hours,
        };
        let topics = v.topics.iter().map(|t| Row {
            scope: "topic",
            topic_id: Some(t.topic_id),
            key: Some(Text(&t.key)),
            uncovered_hours: t.uncovered_hours,
        });
        to_csv(
            &["scope", "topic_id", "key", "uncovered_hours"],
            std::iter::once(all).chain(topics),
        )
    })
    .await
}
