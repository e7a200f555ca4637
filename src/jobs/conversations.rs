//! Moves text conversations on when nobody writes: offers that ran out, topic menus
//! nobody answered, held conversations to offer again, and conversations to close after
//! the inactivity timeout. Several servers may run it at once: each step is claimed.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sea_orm::DbErr;

use super::supervisor::{After, Supervisor};
use crate::state::AppState;
use crate::storage::conversations;
use crate::texting;

const BATCH: u64 = 100;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub stepped: usize,
    pub closed: usize,
}

/// Takes every due step and closes every inactive conversation as of the state's clock.
pub async fn run_once(state: &AppState) -> Result<Pass, DbErr> {
    let now = state.clock.now();
    let mut pass = Pass::default();
    for contact in conversations::inactive(&state.db, now, BATCH).await? {
        texting::close_inactive(state, contact).await?;
        pass.closed += 1;
    }
    for contact in conversations::due(&state.db, now, BATCH).await? {
        texting::step_due(state, contact).await?;
        pass.stepped += 1;
    }
    Ok(pass)
}

/// Runs a pass every `every` for as long as the server runs.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: StdDuration) {
    jobs.every("conversations", every, move || {
        let state = state.clone();
        async move {
            let pass = state.waking_outbox(run_once(&state)).await?;
            if pass != Pass::default() {
                tracing::info!(
                    stepped = pass.stepped,
                    closed = pass.closed,
                    "moved text conversations on"
                );
            }
            Ok(After::Wait)
        }
    });
}
