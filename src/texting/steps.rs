//! The steps a conversation takes on its own: an offer that ran out goes to the next
//! volunteer, a topic menu nobody answered or a held conversation is offered, and a
//! conversation with no message for the inactivity timeout closes. Also the close itself,
//! shared with STOP and a volunteer's CLOSE.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, DbErr};
use serde_json::json;

use super::offers::offer_next;
use super::{Conversation, NOTICE, VolunteerPhone, wording};
use crate::contact_flow::alerts::alert_after_end;
use crate::domain::contact::Outcome;
use crate::domain::ids::VolunteerId;
use crate::state::AppState;
use crate::storage::contacts::{self, Event, EventKind, OfferOutcome, Stage, TalkTime};
use crate::storage::entities::contact;
use crate::storage::{self, conversations, text_slots};

/// Moves on a conversation whose current step ran out (found by `conversations::due`).
/// Safe on several servers at once: the offer's settlement and the next round are claimed.
pub async fn step_due(state: &AppState, contact: contact::Model) -> Result<(), DbErr> {
    let now = state.clock.now();
    let Some(conversation) = Conversation::at(state, &state.db, contact).await? else {
        return Ok(());
    };
    let txn = storage::write_transaction(&state.db).await?;
    if conversation.contact.stage == Stage::Offered
        && let Some(offer) = conversations::pending_offer(&txn, conversation.contact.id).await?
    {
        if !contacts::settle_offer(&txn, offer.id, OfferOutcome::NoAnswer, now).await? {
            return txn.rollback().await;
        }
        text_slots::release(&txn, offer.volunteer_id, conversation.contact.id).await?;
        let event = Event::once(now, EventKind::OfferExpired)
            .keyed(format!("offer_expired:{}", offer.id))
            .volunteer(offer.volunteer_id);
        contacts::record_event(&txn, conversation.contact.id, event).await?;
        if let Some(to) = phone_of(state, &txn, &conversation, offer.volunteer_id).await? {
            let text = wording::offer_expired(conversation.reference());
            conversation
                .write_to_volunteer(state, &txn, &to, NOTICE, text, now)
                .await?;
        }
    }
    if offer_next(state, &txn, &conversation, now).await? {
        txn.commit().await
    } else {
        txn.rollback().await
    }
}

/// Closes a conversation with no message for its helpline's inactivity timeout, telling
/// the volunteer who holds it.
pub async fn close_inactive(state: &AppState, contact: contact::Model) -> Result<(), DbErr> {
    let now = state.clock.now();
    let Some(conversation) = Conversation::at(state, &state.db, contact).await? else {
        return Ok(());
    };
    let txn = storage::write_transaction(&state.db).await?;
    let hours = conversation.settings.texting.inactivity_timeout_hours;
    let text = wording::closed_inactive(conversation.reference(), hours);
    notify_holder(state, &txn, &conversation, text, now).await?;
    let kind = "closed_inactive";
    if close(
        state,
        &txn,
        &conversation,
        Outcome::Unanswered,
        kind,
        TalkTime::Unknown,
        now,
    )
    .await?
    {
        txn.commit().await
    } else {
        txn.rollback().await
    }
}

/// Ends the conversation once: its outcome (if none yet), the event, the pending offer
/// cancelled, every text slot freed, and the alert its outcome raises. False if it had
/// already ended.
pub(super) async fn close(
    state: &AppState,
    txn: &DatabaseTransaction,
    conversation: &Conversation,
    outcome_if_unset: Outcome,
    kind: &str,
    talk: TalkTime,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let id = conversation.contact.id;
    let Some(ended) = contacts::finish(txn, id, outcome_if_unset, talk, now).await? else {
        return Ok(false);
    };
    if let Some(offer) = conversations::pending_offer(txn, id).await? {
        contacts::settle_offer(txn, offer.id, OfferOutcome::Canceled, now).await?;
    }
    text_slots::release_contact(txn, id).await?;
    let event = Event::once(now, EventKind::Ended).detail(json!({
        "reason": kind,
        "outcome": ended.outcome,
    }));
    contacts::record_event(txn, id, event).await?;
    let name = &conversation.helpline.name;
    alert_after_end(txn, &state.vault, &ended, name, now).await?;
    if kind != "opted_out" {
        super::survey::ask_first(&state.vault, txn, conversation, now).await?;
    }
    Ok(true)
}

/// The volunteer who holds the conversation (took it, or has it offered) and their phone.
pub(super) async fn holder(
    state: &AppState,
    txn: &DatabaseTransaction,
    conversation: &Conversation,
) -> Result<Option<VolunteerPhone>, DbErr> {
    let volunteer_id = match conversation.contact.answered_by {
        Some(id) => id,
        None => match conversations::pending_offer(txn, conversation.contact.id).await? {
            Some(offer) => offer.volunteer_id,
            None => return Ok(None),
        },
    };
    phone_of(state, txn, conversation, volunteer_id).await
}

/// Tells the volunteer who holds the conversation, if anyone does.
pub(super) async fn notify_holder(
    state: &AppState,
    txn: &DatabaseTransaction,
    conversation: &Conversation,
    text: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if conversation.contact.ended_at.is_some() {
        return Ok(());
    }
    if let Some(to) = holder(state, txn, conversation).await? {
        conversation
            .write_to_volunteer(state, txn, &to, NOTICE, text, now)
            .await?;
    }
    Ok(())
}

/// A volunteer's phone, from the cached roster of the conversation's helpline.
async fn phone_of(
    state: &AppState,
    txn: &DatabaseTransaction,
    conversation: &Conversation,
    volunteer_id: VolunteerId,
) -> Result<Option<VolunteerPhone>, DbErr> {
    let roster = state
        .roster
        .helpline(txn, conversation.contact.helpline_id)
        .await?;
    roster
        .member(volunteer_id)
        .map(|m| {
            Ok(VolunteerPhone {
                volunteer_id,
                phone: m.open_phone(&state.vault)?,
            })
        })
        .transpose()
}
