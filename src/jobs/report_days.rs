//! Keeps the report tallies of each helpline's settled days, so that a long period's
//! report adds up kept days instead of counting every contact. Safe on several servers at
//! once: a day's tallies are kept only at the generation they were counted at.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use super::supervisor::{After, Supervisor};
use crate::domain::access::Scope;
use crate::state::AppState;
use crate::storage::{helplines, report_days};

/// Days a pass looks at. The rest wait for the next pass: after an upgrade, a year of
/// days is tallied over twelve minutes or so, a few seconds of the database's time a
/// minute, rather than in one go beside the calls.
pub const BATCH: usize = 31;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub planted: usize,
    /// Days looked at: tallied, or left for a contact still in progress or for another
    /// server counting them.
    pub looked_at: usize,
    pub tallied: usize,
    /// Days due that this pass left for the next.
    pub left: usize,
}

/// Plants every helpline's newly settled days and looks at up to `batch` of the days due.
pub async fn tally_settled_days(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: usize,
) -> Result<Pass, DbErr> {
    let mut pass = Pass::default();
    for (helpline_id, settings) in helplines::all_settings(db, &Scope::All).await? {
        let zone = settings.time_zone;
        pass.planted += report_days::plant(db, helpline_id, zone, now).await?;
        let due = report_days::due(db, helpline_id, zone, now).await?;
        for (n, day) in due.iter().enumerate() {
            if pass.looked_at == batch {
                pass.left += due.len() - n;
                break;
            }
            pass.looked_at += 1;
            if report_days::keep(db, helpline_id, zone, *day).await? {
                pass.tallied += 1;
            }
        }
    }
    Ok(pass)
}

/// Starts the tallying, a pass `every` so often.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: Duration) {
    jobs.every("report_days", every, move || {
        let state = state.clone();
        async move {
            let pass = tally_settled_days(&state.db, state.clock.now(), BATCH).await?;
            if pass.tallied > 0 || pass.left > 0 {
                tracing::info!(
                    tallied = pass.tallied,
                    left = pass.left,
                    "kept the report tallies of settled days"
                );
            }
            Ok(After::Wait)
        }
    });
}
