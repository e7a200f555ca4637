//! Reminds volunteers of their shifts, reports unanswered reminders, asks for cover of
//! lost shifts and sends the daily gap alerts (see `rota_care`). Several servers may run
//! it at once.

use std::sync::Arc;
use std::time::Duration;

use super::supervisor::{After, Supervisor};
use crate::rota_care::{cover, gap_alerts, reminders};
use crate::state::AppState;

/// Runs a pass every `every` for as long as the server runs.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: Duration) {
    jobs.every("rota_care", every, move || {
        let state = state.clone();
        async move {
            let reminded = state.waking_outbox(reminders::run_once(&state)).await?;
            let covered = state.waking_outbox(cover::run_once(&state)).await?;
            let gap_alerts = state.waking_outbox(gap_alerts::run_once(&state)).await?;
            if reminded != reminders::Pass::default()
                || covered != cover::Pass::default()
                || gap_alerts > 0
            {
                tracing::info!(
                    reminders_sent = reminded.sent,
                    unanswered_reported = reminded.reported,
                    asked_to_cover = covered.asked,
                    cover_expired = covered.expired,
                    gap_alerts,
                    "rota care pass"
                );
            }
            Ok(After::Wait)
        }
    });
}
