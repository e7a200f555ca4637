//! A message from a volunteer's phone: which of their conversations it is for (by its
//! `#12` reference, or the only one they hold), then accepting an offer, relaying the
//! reply to the texter, or `#12 CLOSE` to pass on an offer or close the conversation.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, DbErr};

use super::offers::offer_next;
use super::steps::close;
use super::{
    CLOSING, Conversation, Inbound, NOTICE, RELAY_TO_TEXTER, VOLUNTEER_HELP, VolunteerPhone,
    wording,
};
use crate::domain::contact::Outcome;
use crate::domain::ids::ContactId;
use crate::domain::text_message::{self, Keyword, ReplyAction, VolunteerReply};
use crate::rota_care::replies::{self, FromVolunteer};
use crate::state::AppState;
use crate::storage::contacts::{self, Event, EventKind, OfferOutcome, TalkTime};
use crate::storage::entities::volunteer;
use crate::storage::messages::{self, Received, Role};
use crate::storage::outbox::{self, NewMessage};
use crate::storage::{self, conversations, opt_outs, text_slots};

/// Handles a message from `volunteer`'s phone to a helpline number. Safe to deliver
/// twice: a MessageSid already logged on its conversation changes nothing.
pub async fn receive_from_volunteer(
    state: &AppState,
    volunteer: volunteer::Model,
    inbound: Inbound,
) -> Result<(), DbErr> {
    let now = state.clock.now();
    let me = VolunteerPhone {
        volunteer_id: volunteer.id,
        phone: inbound.from.clone(),
    };
    let txn = storage::write_transaction(&state.db).await?;
    let held = conversations::held_by(&txn, volunteer.id).await?;
    let references: Vec<ContactId> = held.iter().map(|c| c.id).collect();
    let rota_answer = FromVolunteer {
        volunteer: &volunteer,
        phone: &me.phone,
        to: inbound.to.as_str(),
        body: &inbound.body,
        holds_conversation: !held.is_empty(),
    };
    let answered_rota = replies::answer(&txn, &state.vault, rota_answer, now).await?;
    match text_message::keyword(&inbound.body) {
        // The carrier acts on these for the volunteer's own number; mirror it, relay nothing.
        Some(Keyword::OptOut) => {
            let to = inbound.to.as_str();
            opt_outs::opt_out(&txn, &state.vault, &me.phone, to, now).await?;
            let number = inbound.to.as_str();
            super::hand_back::let_go(&txn, &state.vault, volunteer.id, number, now).await?;
            return txn.commit().await;
        }
        Some(Keyword::OptIn) => {
            opt_outs::opt_in(&txn, &state.vault, &me.phone, inbound.to.as_str()).await?;
            return txn.commit().await;
        }
        // A bare YES is the carrier's opt-in word and, here, a rota answer too.
        _ if answered_rota => return txn.commit().await,
        Some(Keyword::Help) => {
            help(state, &txn, &inbound, &references, None, now).await?;
            return txn.commit().await;
        }
        None => {}
    }
    let reply = VolunteerReply::parse(&inbound.body);
    let target = match reply.reference {
        Some(reference) => held.into_iter().find(|c| c.id == reference),
        None if held.len() == 1 => held.into_iter().next(),
        None => None,
    };
    let Some(target) = target else {
        help(state, &txn, &inbound, &references, reply.reference, now).await?;
        return txn.commit().await;
    };
    let Some(mut conversation) = Conversation::at(state, &txn, target).await? else {
        return txn.rollback().await;
    };
    let received = Received {
        contact_id: conversation.contact.id,
        recipient: Role::Texter,
        at: now,
        sender: Role::Volunteer,
        volunteer_id: Some(volunteer.id),
        message_sid: &inbound.message_sid,
        body: &inbound.body,
        media_count: inbound.media_count,
    };
    let Some(message) = messages::record_received(&txn, &state.vault, received).await? else {
        return txn.rollback().await;
    };
    let reference = conversation.reference();
    if conversation.contact.answered_by != Some(volunteer.id) {
        let Some(offer) = conversations::pending_offer(&txn, reference)
            .await?
            .filter(|o| o.volunteer_id == volunteer.id)
        else {
            help(state, &txn, &inbound, &references, Some(reference), now).await?;
            return txn.commit().await;
        };
        if reply.action == ReplyAction::End {
            // Ending an offer not yet taken passes it on at once.
            contacts::settle_offer(&txn, offer.id, OfferOutcome::Declined, now).await?;
            text_slots::release(&txn, volunteer.id, reference).await?;
            let event = Event::once(now, EventKind::Declined)
                .keyed(format!("declined:{}", offer.id))
                .volunteer(volunteer.id);
            contacts::record_event(&txn, reference, event).await?;
            let text = wording::passed_on(reference);
            conversation
                .write_to_volunteer(state, &txn, &me, NOTICE, text, now)
                .await?;
            offer_next(state, &txn, &conversation, now).await?;
            return txn.commit().await;
        }
        if !contacts::settle_offer(&txn, offer.id, OfferOutcome::Accepted, now).await?
            || !contacts::mark_answered(
                &txn,
                &conversation.contact,
                Some(volunteer.id),
                Outcome::Answered,
                Some(offer.tier),
                now,
            )
            .await?
        {
            return txn.rollback().await;
        }
        let event = Event::once(now, EventKind::Accepted)
            .keyed(format!("accepted:{}", offer.id))
            .volunteer(volunteer.id)
            .detail(serde_json::json!({"tier": offer.tier}));
        contacts::record_event(&txn, reference, event).await?;
        conversation.contact.answered_by = Some(volunteer.id);
    }
    match reply.action {
        ReplyAction::End => {
            let closing = conversation.settings.texting.closing_text.clone();
            conversation
                .write_to_texter(&state.vault, &txn, CLOSING, closing, now)
                .await?;
            let kind = "ended_by_volunteer";
            close(
                state,
                &txn,
                &conversation,
                Outcome::Answered,
                kind,
                TalkTime::UntilNow,
                now,
            )
            .await?;
            let text = wording::closed_by_volunteer(reference);
            conversation
                .write_to_volunteer(state, &txn, &me, NOTICE, text, now)
                .await?;
        }
        ReplyAction::Relay(text) if text.is_empty() => {
            help(state, &txn, &inbound, &references, None, now).await?;
        }
        ReplyAction::Relay(text) => {
            if let Some(queued) = conversation
                .tell_texter(&state.vault, &txn, RELAY_TO_TEXTER, text, now)
                .await?
            {
                messages::mark_relayed(&txn, message.id, queued).await?;
            }
            let closes_at = conversation.closes_at(now);
            conversations::keep_open_until(&txn, reference, closes_at, now).await?;
        }
    }
    txn.commit().await
}

/// A short private reply to a volunteer's message that could not be placed.
async fn help(
    state: &AppState,
    txn: &DatabaseTransaction,
    inbound: &Inbound,
    open: &[ContactId],
    unknown_reference: Option<ContactId>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let body = wording::volunteer_help(open, unknown_reference);
    let from = inbound.to.as_str();
    let message = NewMessage::to_phone(&state.vault, &inbound.from, from, VOLUNTEER_HELP, body);
    outbox::enqueue(txn, &state.vault, message, now).await?;
    Ok(())
}
