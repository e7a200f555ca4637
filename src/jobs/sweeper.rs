//! Closes calls whose last callback never came (the caller hung up while holding and the
//! number has no status callback, or Twilio gave up on a callback), so that no contact
//! stays open and no volunteer stays held for ever.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::supervisor::{After, Supervisor};
use crate::domain::ids::ContactId;
use crate::domain::rota::Channel;
use crate::state::AppState;
use crate::storage::contacts::{self, Event, EventKind, Outcome, Stage, TalkTime};
use crate::storage::entities::contact;
use crate::storage::reservations;

/// A call not yet answered is over once its caller's wait is this far behind it.
pub const UNANSWERED_GRACE: Duration = Duration::minutes(30);
/// An answered call with no word for this long is over (the longest a volunteer stays held).
pub const ANSWERED_GRACE: Duration = Duration::hours(12);
const BATCH: u64 = 200;

/// Closes the stale calls found at `now`; returns how many this call closed.
pub async fn sweep(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let stale: Vec<ContactId> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::Channel.eq(Channel::Voice))
        .filter(contact::Column::EndedAt.is_null())
        // A callback ends by its own rules (it expires, or the caller cannot be reached).
        .filter(contact::Column::Stage.ne(Stage::Callback))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(contact::Column::AnsweredAt.is_null())
                        .add(contact::Column::RouteDeadline.lt(now - UNANSWERED_GRACE)),
                )
                .add(contact::Column::AnsweredAt.lt(now - ANSWERED_GRACE)),
        )
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    let mut closed = 0;
    for id in stale {
        // Only one server's update wins; only that one records why.
        let ended = contacts::finish(db, id, Outcome::Abandoned, TalkTime::Unknown, now).await?;
        if ended.is_some() {
            let event = Event::once(now, EventKind::ClosedUnfinished).detail(json!({
                "reason": "no final callback from the telephony provider",
            }));
            contacts::record_event(db, id, event).await?;
            closed += 1;
        }
        reservations::release_contact(db, id).await?;
    }
    Ok(closed)
}

/// Sweeps every `every` for as long as the server runs.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: StdDuration) {
    jobs.every("sweeper", every, move || {
        let state = state.clone();
        async move {
            let closed = state
                .waking_outbox(sweep(&state.db, state.clock.now()))
                .await?;
            if closed > 0 {
                tracing::info!(closed, "closed calls whose last callback never came");
            }
            Ok(After::Wait)
        }
    });
}
