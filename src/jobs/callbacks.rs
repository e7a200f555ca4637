//! Takes callbacks forward: assigns volunteers, rings their phones, gives up the expired.
//! Runs every second, and at once when a request on this server has opened or freed one.

use std::sync::Arc;
use std::time::Duration;

use super::supervisor::{After, Supervisor};
use crate::state::AppState;
use crate::voice::flow;

/// Starts the callback passes when this server can place calls.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: Duration) {
    let Some(client) = state.twilio.clone() else {
        return;
    };
    let wake = state.callbacks_wake.clone();
    jobs.every_or_woken("callbacks", every, wake, move || {
        let state = state.clone();
        let client = client.clone();
        async move {
            let pass = state
                .waking_outbox(flow::run_callbacks(&state, &client))
                .await?;
            if pass.expired > 0 || pass.recovered > 0 {
                tracing::info!(?pass, "callbacks given up or taken up again");
            }
            Ok(After::Wait)
        }
    });
}
