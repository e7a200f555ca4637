//! The volunteer's leg: the whisper and their key press.

use super::*;
use crate::domain::ids::OfferId;

/// Fetches an offer with its call, for the volunteer-leg callbacks.
pub(super) async fn offer_and_call(
    state: &AppState,
    offer_id: OfferId,
) -> Result<Option<(offer::Model, Call)>, DbErr> {
    let Some(read) = contacts::offer_with_contact(&state.db, offer_id).await? else {
        return Ok(None);
    };
    let (offer, contact) = read.value;
    let Some(call) = Call::at_version(state, contact, read.directory_version).await? else {
        return Ok(None);
    };
    Ok(Some((offer, call)))
}

/// The volunteer picked up: ask them to accept before they are put through, so that their
/// voicemail can never take the call.
pub async fn whisper(
    state: &AppState,
    offer_id: OfferId,
    leg_sid: Option<&str>,
) -> Result<VoiceResponse, DbErr> {
    let Some((offer, call)) = offer_and_call(state, offer_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    let now = state.clock.now();
    let txn = storage::write_transaction(&state.db).await?;
    if let Some(leg) = leg_sid {
        contacts::set_offer_leg(&txn, offer.id, leg).await?;
    }
    let event = Event::once(now, EventKind::PickedUp)
        .keyed(format!("picked_up:{}", offer.id))
        .volunteer(offer.volunteer_id);
    contacts::record_event(&txn, call.contact.id, event).await?;
    txn.commit().await?;
    let still_waiting = call.contact.ended_at.is_none() && call.contact.answered_at.is_none();
    if !still_waiting || offer.outcome.is_some() {
        return Ok(VoiceResponse::new()
            .push(call.say(prompts::ANSWERED_ELSEWHERE))
            .push(Verb::Hangup));
    }
    let text = prompts::whisper(&call.helpline.name, call.topic().map(|t| t.label.as_str()));
    Ok(accept_gather(
        &call,
        text,
        urls(state).whisper_answer(offer.id),
    ))
}

/// The volunteer's key press after the whisper: 1 bridges the call, anything else (or
/// nothing) declines it and the caller's `<Dial>` moves on.
pub async fn whisper_answer(
    state: &AppState,
    offer_id: OfferId,
    digits: &str,
) -> Result<VoiceResponse, DbErr> {
    let Some((offer, call)) = offer_and_call(state, offer_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    let now = state.clock.now();
    let id = call.contact.id;
    // Each answer's writes commit together.
    let txn = storage::write_transaction(&state.db).await?;
    if digits.trim() == "1" {
        let tier = Some(offer.tier);
        if contacts::mark_answered(
            &txn,
            &call.contact,
            Some(offer.volunteer_id),
            Outcome::Answered,
            tier,
            now,
        )
        .await?
        {
            contacts::settle_offer(&txn, offer.id, OfferOutcome::Accepted, now).await?;
            reservations::connect(&txn, offer.volunteer_id, id, now + CONNECTED_RESERVATION)
                .await?;
            let event = Event::once(now, EventKind::Answered)
                .volunteer(offer.volunteer_id)
                .detail(json!({"tier": offer.tier, "offer_id": offer.id}));
            contacts::record_event(&txn, id, event).await?;
            txn.commit().await?;
            return Ok(VoiceResponse::new());
        }
        contacts::settle_offer(&txn, offer.id, OfferOutcome::Canceled, now).await?;
        reservations::release(&txn, offer.volunteer_id, id).await?;
        txn.commit().await?;
        return Ok(VoiceResponse::new()
            .push(call.say(prompts::ANSWERED_ELSEWHERE))
            .push(Verb::Hangup));
    }
    if contacts::settle_offer(&txn, offer.id, OfferOutcome::Declined, now).await? {
        let event = Event::once(now, EventKind::OfferDeclined)
            .keyed(format!("offer_outcome:{}", offer.id))
            .volunteer(offer.volunteer_id)
            .detail(json!({"digits": digits}));
        contacts::record_event(&txn, id, event).await?;
    }
    reservations::release(&txn, offer.volunteer_id, id).await?;
    txn.commit().await?;
    Ok(VoiceResponse::new().push(Verb::Hangup))
}
