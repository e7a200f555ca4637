//! Sends each helpline's daily gap alert, once: at the helpline's chosen time on its
//! clock, its supervisors are texted the gaps of the coming week that nobody covers yet.
//! A week with no gaps is recorded and not texted.

use sea_orm::DbErr;

use super::{tell_supervisors, wording};
use crate::domain::gap_alert::{GapAlert, alert_span, due_day};
use crate::state::AppState;
use crate::storage::gap_alerts::{self, NewGapAlert};
use crate::storage::{self, Scope, helplines, rota};

/// Sends every gap alert due at the state's clock; returns how many were sent.
pub async fn run_once(state: &AppState) -> Result<usize, DbErr> {
    let now = state.clock.now();
    let mut sent = 0;
    for (helpline_id, settings) in helplines::all_settings(&state.db, &Scope::All).await? {
        if !settings.rota.gap_alerts_enabled {
            continue;
        }
        let zone = settings.time_zone;
        let Some(day) = due_day(settings.rota.gap_alert_time, zone, now) else {
            continue;
        };
        if gap_alerts::sent_for(&state.db, helpline_id, day).await? {
            continue;
        }
        let span = alert_span(now);
        let (overall, topics) = rota::coverage_of(&state.db, helpline_id, span, None, now).await?;
        let alert = GapAlert::new(overall, topics);
        let details = format!(
            "{}/console/helplines/{helpline_id}/rota",
            state.settings.public_url.as_str().trim_end_matches('/')
        );
        let txn = storage::write_transaction(&state.db).await?;
        let told = if alert.is_empty() {
            0
        } else {
            let body = |zone| wording::gap_alert(&alert, zone, &details);
            tell_supervisors(&txn, &state.vault, helpline_id, zone, body, now).await?
        };
        let record = NewGapAlert {
            helpline_id,
            local_day: day,
            span,
            alert: &alert,
            told,
        };
        if gap_alerts::claim(&txn, record, now).await? {
            txn.commit().await?;
            sent += 1;
        } else {
            txn.rollback().await?;
        }
    }
    Ok(sent)
}
