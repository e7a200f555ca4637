//! Rota questions for coordinators: who is on shift at an instant, and where the gaps
//! are in a period (overall and per topic). Admins and the helpline's supervisors only.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::managed_helpline;
use crate::domain::access::Principal;
use crate::domain::coverage::{CoverageMember, TopicCoverage, gaps};
use crate::domain::ids::{HelplineId, TopicId, UserId, VolunteerId};
use crate::domain::moment::Moment;
use crate::domain::on_call;
use crate::domain::rota::{Channel, Interval, ShiftChannels};
use crate::domain::volunteer::NotTakingContacts;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::ValidQuery;
use crate::state::AppState;
use crate::storage::{helplines, rota, rota_history};

/// The longest period a coverage question may span.
pub const MAX_COVERAGE_DAYS: i64 = 62;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OnShiftQuery {
    /// An instant (RFC 3339) or a day (`YYYY-MM-DD`: its first instant on the helpline's
    /// clock); default now.
    #[param(value_type = Option<String>, example = "2026-11-23T19:00:00Z")]
    pub at: Option<Moment>,
    /// Only shifts covering this channel (default any).
    pub channel: Option<Channel>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OnShiftVolunteer {
    pub volunteer_id: VolunteerId,
    pub name: String,
    pub time_zone: String,
    /// The instant on the volunteer's own clock, with its UTC offset.
    pub local_time: String,
    /// Whether they would be offered contacts (trained, refresher current, not paused).
    pub takes_contacts: bool,
    /// Why not, when `takes_contacts` is false.
    pub not_taking_contacts: Option<NotTakingContacts>,
    /// Topics they are signed off as ready for.
    pub ready_topics: Vec<TopicId>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OnCallSupervisor {
    pub user_id: UserId,
    pub name: String,
    pub local_time: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OnShiftView {
    pub at: DateTime<Utc>,
    pub channel: Option<Channel>,
    pub volunteers: Vec<OnShiftVolunteer>,
    pub on_call: Vec<OnCallSupervisor>,
}

/// Who is on shift for a helpline at an instant, each with their local time: for a past
/// instant, by the rota as it stood then; otherwise as planned now.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), OnShiftQuery), security(("bearer" = [])),
    responses((status = 200, body = OnShiftView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/on-shift")]
pub async fn on_shift(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    query: ValidQuery<OnShiftQuery>,
) -> Result<HttpResponse, ApiError> {
    let helpline = managed_helpline(&state, &who, *id).await?;
    let zone = helplines::settings_of(&helpline)?.time_zone;
    let at = query
        .0
        .at
        .map_or_else(|| state.clock.now(), |at| at.start(zone));
    let channel = query.0.channel;
    let members = rota_history::members_at(&state.db, *id, at, state.clock.now()).await?;
    let volunteers = members
        .into_iter()
        .filter(|m| m.rota.is_on_shift(at, channel))
        .map(|m| {
            let trained = ShiftChannels::trained(m.profile.trained_voice, m.profile.trained_sms);
            // Asked about any channel, a shift counts only for a channel they are trained for.
            let serves = trained.is_some_and(|t| m.rota.serves(at, channel, t));
            let readiness = m.profile.readiness().check(at, channel).and(if serves {
                Ok(())
            } else {
                Err(NotTakingContacts::NotTrainedForChannel)
            });
            OnShiftVolunteer {
                volunteer_id: m.volunteer_id,
                name: m.profile.name,
                time_zone: m.profile.time_zone.to_string(),
                local_time: local_time(at, m.rota.time_zone),
                takes_contacts: readiness.is_ok(),
                not_taking_contacts: readiness.err(),
                ready_topics: m.ready_topics,
            }
        })
        .collect();
    let on_call = on_call_at(&state, *id, at).await?;
    Ok(HttpResponse::Ok().json(OnShiftView {
        at,
        channel,
        volunteers,
        on_call,
    }))
}

fn local_time(at: DateTime<Utc>, zone: crate::domain::timezone::TimeZone) -> String {
    at.with_timezone(&zone.tz())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The supervisors on call for a helpline at an instant.
async fn on_call_at(
    state: &AppState,
    helpline_id: HelplineId,
    at: DateTime<Utc>,
) -> Result<Vec<OnCallSupervisor>, ApiError> {
    let people = rota::on_call_at(&state.db, helpline_id, at).await?;
    Ok(people
        .into_iter()
        .map(|(user, zone)| OnCallSupervisor {
            user_id: user.id,
            name: user.name,
            local_time: Some(local_time(at, zone)),
        })
        .collect())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// Start of the period: an instant (RFC 3339) or a day (`YYYY-MM-DD`, from its start
    /// on the helpline's clock).
    #[param(value_type = String, example = "2026-11-23")]
    pub from: Moment,
    /// End of the period: an instant, or a day (to its end, included); at most 62 days
    /// after `from`.
    #[param(value_type = String, example = "2026-11-29")]
    pub to: Moment,
    pub channel: Option<Channel>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub channel: Option<Channel>,
    /// Stretches with nobody who takes contacts on shift.
    pub gaps: Vec<Interval>,
    pub topics: Vec<TopicCoverage>,
    /// Stretches with no supervisor on call: a safeguarding concern raised then goes to
    /// every supervisor of the helpline and every administrator with a phone.
    pub on_call_gaps: Vec<Interval>,
}

/// Rota gaps in a period: when nobody who takes contacts (trained, refresher current,
/// active, trained for the channel) is on shift, overall and per topic.
#[utoipa::path(tag = "rota", params(("id" = i32, Path), CoverageQuery), security(("bearer" = [])),
    responses((status = 200, body = CoverageView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/helplines/{id}/coverage")]
pub async fn coverage(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<HelplineId>,
    query: ValidQuery<CoverageQuery>,
) -> Result<HttpResponse, ApiError> {
    let helpline = managed_helpline(&state, &who, *id).await?;
    let zone = helplines::settings_of(&helpline)?.time_zone;
    let CoverageQuery { from, to, channel } = query.0;
    let (from, to) = (from.start(zone), to.end(zone));
    let span = Interval::new(from, to).map_err(|e| ApiError::field("to", e))?;
    if span.duration() > Duration::days(MAX_COVERAGE_DAYS) {
        return Err(ApiError::field(
            "to",
            format!("the period may span at most {MAX_COVERAGE_DAYS} days"),
        ));
    }
    let (rota_gaps, topics) =
        rota::coverage_of(&state.db, *id, span, channel, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(CoverageView {
        from,
        to,
        channel,
        gaps: rota_gaps,
        topics,
        on_call_gaps: on_call_gaps(&state, *id, span).await?,
    }))
}

/// The stretches of `span` with no supervisor of the helpline on call.
pub async fn on_call_gaps(
    state: &AppState,
    helpline_id: HelplineId,
    span: Interval,
) -> Result<Vec<Interval>, ApiError> {
    let (on_call_shifts, _) = rota::on_call_rota(&state.db, helpline_id).await?;
    let on_call = on_call::rotas(&on_call_shifts);
    let supervisors: Vec<CoverageMember<'_>> = on_call
        .iter()
        .map(CoverageMember::whenever_on_shift)
        .collect();
    Ok(gaps(span, &supervisors, None))
}
