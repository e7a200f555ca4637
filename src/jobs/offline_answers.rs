//! Keeps every server's offline answers (fallback numbers and crisis texts) fresh while
//! the database is up, so that an outage right after a restart, or on a number no call
//! has reached yet, still answers callers and texters.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sea_orm::DbErr;

use super::supervisor::{After, Supervisor};
use crate::domain::access::Scope;
use crate::domain::phone::E164;
use crate::state::AppState;
use crate::storage::helplines;

/// Reads every helpline's numbers and settings into the cache; returns how many numbers.
pub async fn refresh(state: &AppState) -> Result<usize, DbErr> {
    let mut remembered = 0;
    for (helpline_id, settings) in helplines::all_settings(&state.db, &Scope::All).await? {
        for row in helplines::numbers(&state.db, helpline_id).await? {
            let Ok(number) = E164::parse(&row.number) else {
                continue;
            };
            state.fallbacks.remember(
                &number,
                settings.fallback_number.as_ref(),
                &settings.texting.crisis_text,
            );
            remembered += 1;
        }
    }
    Ok(remembered)
}

/// Refreshes at start and then every `every`; on a failure the last answers stay.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: StdDuration) {
    jobs.every("offline_answers", every, move || {
        let state = state.clone();
        async move {
            refresh(&state).await?;
            Ok(After::Wait)
        }
    });
}
