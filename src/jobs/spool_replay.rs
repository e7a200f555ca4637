//! Writes what this server spooled during a database outage to the database once it
//! answers again: each call answered from memory becomes its contact (outcome, and an
//! `answered_from_memory` event saying why), each text is taken in as if it had just
//! arrived. Records are keyed by Twilio's ids, so a record written twice counts once.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use serde_json::json;

use super::supervisor::{After, Supervisor};
use crate::domain::contact::Outcome;
use crate::domain::phone::E164;
use crate::domain::rota::Channel;
use crate::spool::{Spool, Spooled};
use crate::state::AppState;
use crate::storage::contacts::{self, Event, EventKind, NewCall, Stage, TalkTime};
use crate::storage::{self, helplines, reservations};
use crate::texting::{self, Inbound};

/// Writes one spooled record to the database.
pub async fn replay(state: &AppState, record: Spooled) -> Result<(), DbErr> {
    match record {
        Spooled::Call {
            call_sid,
            dialed,
            caller_sealed,
            at,
            to_fallback,
            reason,
        } => {
            let Some(helpline) = helplines::by_number(
                &state.db,
                &E164::parse(&dialed).map_err(|_| {
                    DbErr::Custom(format!("spooled call {call_sid} to an invalid number"))
                })?,
            )
            .await?
            else {
                tracing::warn!(%call_sid, "a spooled call to a number no helpline uses now");
                return Ok(());
            };
            let caller = caller_sealed.as_deref().and_then(|s| state.vault.open(s));
            let identity = state.vault.caller_identity(caller.as_ref(), &call_sid);
            let outcome = handed_over(to_fallback);
            // The contact, its end and the reason are written together.
            let txn = storage::write_transaction(&state.db).await?;
            let (contact, _) = contacts::open_call(
                &txn,
                NewCall {
                    channel: Channel::Voice,
                    helpline_id: helpline.id,
                    call_sid: call_sid.clone(),
                    dialed_number: dialed,
                    caller_hash: identity.hash,
                    caller_encrypted: identity.sealed,
                    caller_hint: identity.hint,
                    stage: Stage::Ended,
                    outcome: Some(outcome),
                    received_at: at,
                    route_deadline: at,
                },
            )
            .await?;
            // A statement the webhook abandoned may still have run once the database came
            // back and opened the contact: close it the way the caller's call went.
            let opened_late = contact.ended_at.is_none();
            if opened_late {
                contacts::finish(&txn, contact.id, outcome, TalkTime::Unknown, at).await?;
            }
            let event = Event::once(at, EventKind::AnsweredFromMemory)
                .detail(json!({ "reason": reason, "to_fallback_number": to_fallback }));
            contacts::record_event(&txn, contact.id, event).await?;
            txn.commit().await?;
            if opened_late {
                reservations::release_contact(&state.db, contact.id).await?;
            }
            Ok(())
        }
        Spooled::Handoff {
            call_sid,
            at,
            to_fallback,
            reason,
        } => replay_handoff(state, &call_sid, at, to_fallback, reason).await,
        Spooled::Text {
            message_sid,
            from_sealed,
            to,
            body_sealed,
            media_count,
            at: _,
        } => {
            let (Some(from), Ok(to), Some(body)) = (
                state.vault.open(&from_sealed),
                E164::parse(&to),
                state.vault.open_text(&body_sealed),
            ) else {
                tracing::error!(%message_sid, "a spooled text cannot be read (another key?); dropped");
                return Ok(());
            };
            let inbound = Inbound {
                message_sid,
                from,
                to,
                body,
                media_count,
            };
            texting::receive(state, inbound).await
        }
    }
}

/// How a call answered from memory ends: at the fallback number, or, with none known,
/// told to call again.
fn handed_over(to_fallback: bool) -> Outcome {
    if to_fallback {
        Outcome::FallbackNumber
    } else {
        Outcome::Abandoned
    }
}

/// A call handed to the fallback number from memory part-way through ends there in the
/// log, unless a volunteer had answered it: the outcome says so (not `abandoned`, which
/// the call's end, reported once the database was back, may have written meanwhile).
async fn replay_handoff(
    state: &AppState,
    call_sid: &str,
    at: DateTime<Utc>,
    to_fallback: bool,
    reason: String,
) -> Result<(), DbErr> {
    let Some(contact) = contacts::by_sid(&state.db, call_sid).await? else {
        tracing::warn!(%call_sid, "a spooled hand-off for a call the log does not have");
        return Ok(());
    };
    let outcome = handed_over(to_fallback);
    let txn = storage::write_transaction(&state.db).await?;
    if contact.answered_at.is_none() {
        if contact.ended_at.is_none() {
            contacts::finish(&txn, contact.id, outcome, TalkTime::Unknown, at).await?;
        } else {
            contacts::correct_outcome(&txn, contact.id, Outcome::Abandoned, outcome, at).await?;
        }
    }
    let event = Event::once(at, EventKind::AnsweredFromMemory).detail(
        json!({ "reason": reason, "to_fallback_number": to_fallback, "during_the_call": true }),
    );
    contacts::record_event(&txn, contact.id, event).await?;
    txn.commit().await?;
    reservations::release_contact(&state.db, contact.id).await?;
    Ok(())
}

/// Replays the spool's next batch, if the database answers; returns how many records.
pub async fn drain(state: &AppState) -> Result<usize, DbErr> {
    let spool: &Spool = &state.spool;
    let batch = match spool.take_batch() {
        Ok(Some(batch)) => batch,
        Ok(None) => return Ok(0),
        Err(error) => return Err(DbErr::Custom(format!("reading the spool: {error}"))),
    };
    state.db.ping().await?;
    let records =
        Spool::read(&batch).map_err(|e| DbErr::Custom(format!("reading the spool: {e}")))?;
    let count = records.len();
    for record in records {
        let Err(error) = replay(state, record.clone()).await else {
            continue;
        };
        if storage::not_answering(&error) || state.db.ping().await.is_err() {
            // The database went away again: the whole batch waits for it.
            return Err(error);
        }
        // The database answers but will not take this record. Once more (a passing
        // conflict), then it is set aside so that it cannot hold back the others.
        let Err(error) = replay(state, record.clone()).await else {
            continue;
        };
        tracing::error!(
            %error,
            "a spooled record cannot be stored; it is moved to the spool's dead-letter file"
        );
        spool
            .dead_letter(&record, &error.to_string(), state.clock.now())
            .map_err(|e| DbErr::Custom(format!("setting a spool record aside: {e}")))?;
    }
    spool
        .finish(&batch)
        .map_err(|e| DbErr::Custom(format!("clearing the spool: {e}")))?;
    Ok(count)
}

/// Drains the spool every `every`.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: StdDuration) {
    jobs.every("spool", every, move || {
        let state = state.clone();
        async move {
            let written = state
                .waking_outbox(drain(&state))
                .await
                .map_err(|error| anyhow::anyhow!("the spool waits for the database: {error}"))?;
            if written > 0 {
                tracing::info!(written, "wrote spooled calls and texts to the database");
            }
            Ok(After::Wait)
        }
    });
}
