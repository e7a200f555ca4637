//! `/metrics` in Prometheus's text format (behind `PEERLINE_METRICS_TOKEN` when set).

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;

use crate::contact_flow::candidates::{ActivityNow, as_candidates, engaged_on};
use crate::domain::access::Scope;
use crate::domain::live_board::{Availability, availability};
use crate::domain::rota::Channel;
use crate::domain::routing::Activity;
use crate::state::AppState;
use crate::storage::{helplines, live, outbox};
use crate::telemetry;

/// The metrics, with the live figures read now.
pub async fn scrape(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(token) = &state.settings.metrics_token {
        let expected = format!("Bearer {}", token.expose_secret());
        let given = request
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok());
        if !given.is_some_and(|given| crate::secrets::constant_time_eq(given, &expected)) {
            return HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer"))
                .body("a bearer token is required (PEERLINE_METRICS_TOKEN)\n");
        }
    }
    let Some(recorder) = telemetry::recorder() else {
        return HttpResponse::ServiceUnavailable().body("no metrics recorder\n");
    };
    record_live_figures(&state).await;
    recorder.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(recorder.render())
}

async fn record_live_figures(state: &AppState) {
    let now = state.clock.now();
    metrics::gauge!("peerline_spool_records").set(state.spool.pending() as f64);
    metrics::gauge!("peerline_spool_dead_letters").set(state.spool.dead_letters() as f64);
    for (job, health) in state.jobs.snapshot() {
        metrics::counter!("peerline_job_passes_total", "job" => job).absolute(health.passes);
        metrics::counter!("peerline_job_failures_total", "job" => job).absolute(health.failures);
    }
    let age = |since: Option<chrono::DateTime<chrono::Utc>>| {
        since.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
    };
    match outbox::backlog(&state.db, now).await {
        Ok((due, oldest)) => {
            metrics::gauge!("peerline_outbox_due").set(due as f64);
            metrics::gauge!("peerline_outbox_oldest_seconds").set(age(oldest));
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the outbox backlog"),
    }
    match live::snapshot(&state.db).await {
        Ok(live) => {
            metrics::gauge!("peerline_callers_holding").set(live.callers_holding as f64);
            metrics::gauge!("peerline_longest_hold_seconds").set(age(live.longest_holding_since));
            metrics::gauge!("peerline_volunteers_held_by_calls").set(live.reservations as f64);
            metrics::gauge!("peerline_text_slots_taken").set(live.text_slots as f64);
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the live figures"),
    }
    if let Err(error) = record_volunteer_states(state, now).await {
        tracing::warn!(%error, "metrics: cannot read the volunteers' states");
    }
}

/// How many of each helpline's volunteers are free, on a contact, resting, paused or off
/// shift for a call arriving now, as the router judges it (the live board's figures).
async fn record_volunteer_states(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sea_orm::DbErr> {
    let engaged = engaged_on(&state.db, Channel::Voice, now).await?;
    let activity = ActivityNow::read(&state.db, &state.activity, now)
        .await?
        .engaged_in(engaged);
    let idle = Activity::default();
    for (helpline_id, _) in helplines::all_settings(&state.db, &Scope::All).await? {
        let roster = state.roster.helpline(&state.db, helpline_id).await?;
        let members = &roster.members;
        let states = availability(
            now,
            Channel::Voice,
            &as_candidates(members, &activity, &idle),
        );
        for name in Availability::NAMES {
            let count = states.iter().filter(|(_, s)| s.name() == name).count();
            metrics::gauge!("peerline_volunteers", "helpline" => helpline_id.to_string(), "state" => name)
                .set(count as f64);
        }
    }
    Ok(())
}
