//! The two phones of a callback. The volunteer's phone rings first; they hear what the
//! callback is about and press 1, and only then their own call dials the caller from the
//! helpline number, so the caller never waits on a line for a volunteer who may not
//! answer. The caller hears who is calling and presses 1 to be put through. Nobody sees
//! anyone's number: both phones show the helpline's.

use super::callback_dispatch::{CALLER_RING_SECS, DIALLING_CLAIM, back_to_waiting, give_up};
use super::whisper::offer_and_call;
use super::*;
use crate::domain::callback::{self as rules, AfterUnanswered, CallbackState};
use crate::domain::ids::OfferId;
use crate::storage::callbacks::{self, Move};
use crate::storage::entities::callback;
use crate::voice::waiting_prompts;

/// An offer made for a callback, its call, and the callback while it is still about
/// that offer (`None` once it has moved on to another volunteer or ended).
type CallbackOffer = (offer::Model, Call, Option<callback::Model>);

async fn current(state: &AppState, offer_id: OfferId) -> Result<Option<CallbackOffer>, DbErr> {
    let Some((offer, call)) = offer_and_call(state, offer_id).await? else {
        return Ok(None);
    };
    let callback = callbacks::of_contact(&state.db, call.contact.id)
        .await?
        .filter(|c| c.offer_id == Some(offer_id));
    Ok(Some((offer, call, callback)))
}

fn taken(call: &Call) -> VoiceResponse {
    VoiceResponse::new()
        .push(call.say(waiting_prompts::CALLBACK_TAKEN))
        .push(Verb::Hangup)
}

fn hang_up() -> VoiceResponse {
    VoiceResponse::new().push(Verb::Hangup)
}

/// The volunteer picked up their phone, rung for a callback.
pub async fn callback_volunteer(
    state: &AppState,
    offer_id: OfferId,
    leg_sid: Option<&str>,
) -> Result<VoiceResponse, DbErr> {
    let Some((offer, call, callback)) = current(state, offer_id).await? else {
        return Ok(hang_up());
    };
    if let Some(leg) = leg_sid {
        contacts::set_offer_leg(&state.db, offer_id, leg).await?;
    }
    let now = state.clock.now();
    let event = Event::once(now, EventKind::PickedUp)
        .keyed(format!("picked_up:{offer_id}"))
        .volunteer(offer.volunteer_id);
    contacts::record_event(&state.db, call.contact.id, event).await?;
    let ringing = callback.is_some_and(|c| c.state == CallbackState::RingingVolunteer);
    if !ringing || offer.outcome.is_some() {
        return Ok(taken(&call));
    }
    let topic = call.topic().map(|t| t.label.as_str());
    let words = waiting_prompts::callback_whisper(&call.helpline.name, topic);
    Ok(accept_gather(
        &call,
        words,
        urls(state).callback_accept(offer_id),
    ))
}

/// The volunteer's key press: 1 dials the caller; anything else puts the callback back
/// for the next volunteer.
pub async fn callback_accept(
    state: &AppState,
    offer_id: OfferId,
    digits: &str,
) -> Result<VoiceResponse, DbErr> {
    let Some((offer, call, callback)) = current(state, offer_id).await? else {
        return Ok(hang_up());
    };
    let Some(callback) = callback else {
        return Ok(taken(&call));
    };
    let now = state.clock.now();
    let id = call.contact.id;
    if digits.trim() != "1" {
        let from = [CallbackState::RingingVolunteer];
        if back_to_waiting(state, offer_id, &from)
            .make(&state.db, callback.id, now)
            .await?
        {
            contacts::settle_offer(&state.db, offer_id, OfferOutcome::Declined, now).await?;
            let event = Event::once(now, EventKind::OfferDeclined)
                .keyed(format!("offer_outcome:{offer_id}"))
                .volunteer(offer.volunteer_id)
                .detail(json!({"digits": digits}));
            contacts::record_event(&state.db, id, event).await?;
            reservations::release(&state.db, offer.volunteer_id, id).await?;
            state.callbacks_wake.notify_one();
        }
        return Ok(hang_up());
    }
    let dialling = Move::new(
        &[CallbackState::RingingVolunteer],
        CallbackState::CallingCaller,
    )
    .about_offer(offer_id)
    .counting_a_caller_attempt()
    .claimed_until(Some(now + DIALLING_CLAIM))
    .make(&state.db, callback.id, now)
    .await?;
    let attempt = if dialling {
        callback.caller_attempts + 1
    } else if callback.state == CallbackState::CallingCaller {
        // A repeated delivery of the same key press dials the same way.
        callback.caller_attempts
    } else {
        return Ok(taken(&call));
    };
    let Some(caller) = call
        .contact
        .caller_encrypted
        .as_deref()
        .and_then(|sealed| state.vault.open(sealed))
    else {
        give_up(state, &callback, "the caller's number cannot be read").await?;
        return Ok(taken(&call));
    };
    if dialling {
        contacts::settle_offer(&state.db, offer_id, OfferOutcome::Accepted, now).await?;
        let held = now + DIALLING_CLAIM;
        reservations::connect(&state.db, offer.volunteer_id, id, held).await?;
        let event = Event::once(now, EventKind::CallbackDialling)
            .keyed(format!("callback_dialling:{attempt}"))
            .volunteer(offer.volunteer_id)
            .detail(json!({"attempt": attempt, "offer_id": offer_id}));
        contacts::record_event(&state.db, id, event).await?;
    }
    let urls = urls(state);
    Ok(VoiceResponse::new()
        .push(call.say(waiting_prompts::CALLING_THEM))
        .push(Verb::Dial(Dial {
            action: Some(urls.callback_dialled(offer_id)),
            timeout_secs: CALLER_RING_SECS,
            caller_id: call.contact.dialed_number.clone(),
            numbers: vec![DialNumber {
                number: caller.as_str().to_owned(),
                whisper_url: Some(urls.callback_caller(offer_id)),
                status_callback: None,
            }],
        })))
}

/// The caller picked up: they hear who is calling before they are put through.
pub async fn callback_caller(state: &AppState, offer_id: OfferId) -> Result<VoiceResponse, DbErr> {
    let Some((_, call, Some(callback))) = current(state, offer_id).await? else {
        return Ok(hang_up());
    };
    if callback.state != CallbackState::CallingCaller || call.contact.ended_at.is_some() {
        return Ok(hang_up());
    }
    let words = waiting_prompts::callback_greeting(&call.helpline.name, callback.kind);
    Ok(accept_gather(
        &call,
        words,
        urls(state).callback_caller_answer(offer_id),
    ))
}

/// The caller's key press: 1 puts them through to the volunteer, who answers the contact.
pub async fn callback_caller_answer(
    state: &AppState,
    offer_id: OfferId,
    digits: &str,
) -> Result<VoiceResponse, DbErr> {
    let Some((offer, call, Some(callback))) = current(state, offer_id).await? else {
        return Ok(hang_up());
    };
    if digits.trim() != "1" {
        return Ok(hang_up());
    }
    let now = state.clock.now();
    let id = call.contact.id;
    let volunteer = Some(offer.volunteer_id);
    let answered = contacts::mark_answered(
        &state.db,
        &call.contact,
        volunteer,
        Outcome::Answered,
        Some(offer.tier),
        now,
    )
    .await?;
    if !answered {
        return Ok(hang_up());
    }
    Move::new(&[CallbackState::CallingCaller], CallbackState::Connected)
        .about_offer(offer_id)
        .claimed_until(None)
        .make(&state.db, callback.id, now)
        .await?;
    reservations::connect(
        &state.db,
        offer.volunteer_id,
        id,
        now + CONNECTED_RESERVATION,
    )
    .await?;
    let event = Event::once(now, EventKind::Answered)
        .volunteer(offer.volunteer_id)
        .detail(json!({"tier": offer.tier, "offer_id": offer_id, "callback_id": callback.id}));
    contacts::record_event(&state.db, id, event).await?;
    Ok(VoiceResponse::new())
}

/// The volunteer's dial to the caller ended: the call is over, or the caller was not
/// reached and is tried again later or given up.
pub async fn callback_dialled(
    state: &AppState,
    offer_id: OfferId,
    result: DialResult<'_>,
) -> Result<VoiceResponse, DbErr> {
    let Some((offer, call, Some(callback))) = current(state, offer_id).await? else {
        return Ok(hang_up());
    };
    let now = state.clock.now();
    if call.contact.answered_by == Some(offer.volunteer_id) {
        contacts::end_offer(&state.db, offer_id, now).await?;
        end_call(state, &call, Outcome::Answered, result.dial_duration, now).await?;
        Move::new(&[CallbackState::Connected], CallbackState::Connected)
            .about_offer(offer_id)
            .ended_at(now)
            .make(&state.db, callback.id, now)
            .await?;
        return Ok(call.goodbye());
    }
    let words = caller_unreached(state, &call, &callback, &offer).await?;
    Ok(VoiceResponse::new()
        .push(call.say(words))
        .push(Verb::Hangup))
}

/// The caller did not answer the dial about `offer`: the volunteer is free again, and the
/// callback is tried again after the helpline's pause or given up. Returns what the
/// volunteer hears.
pub(super) async fn caller_unreached(
    state: &AppState,
    call: &Call,
    callback: &callback::Model,
    offer: &offer::Model,
) -> Result<&'static str, DbErr> {
    let now = state.clock.now();
    contacts::end_offer(&state.db, offer.id, now).await?;
    reservations::release(&state.db, offer.volunteer_id, call.contact.id).await?;
    let attempt = callback.caller_attempts;
    let event = Event::once(now, EventKind::CallbackUnanswered)
        .keyed(format!("callback_unanswered:{attempt}"))
        .volunteer(offer.volunteer_id)
        .detail(json!({"attempt": attempt}));
    contacts::record_event(&state.db, call.contact.id, event).await?;
    let retry = Duration::minutes(call.settings.callers.callback_retry_mins.into());
    match rules::after_unanswered(attempt, retry, callback.expires_at, now) {
        AfterUnanswered::TryAgainAt(at) => {
            back_to_waiting(state, offer.id, &[CallbackState::CallingCaller])
                .due_at(at)
                .make(&state.db, callback.id, now)
                .await?;
            Ok(waiting_prompts::TRYING_AGAIN_LATER)
        }
        AfterUnanswered::GiveUp => {
            give_up(state, callback, "the caller did not answer").await?;
            Ok(waiting_prompts::GIVEN_UP)
        }
    }
}

/// Twilio reports that the volunteer's phone, rung for a callback, has hung up. If they
/// never accepted, the callback goes back to wait for the next volunteer.
pub async fn callback_status(
    state: &AppState,
    offer_id: OfferId,
    status: &str,
    duration: Option<i32>,
) -> Result<(), DbErr> {
    let Some((offer, call)) = offer_and_call(state, offer_id).await? else {
        return Ok(());
    };
    let now = state.clock.now();
    let id = call.contact.id;
    let event = Event::once(now, EventKind::LegStatus)
        .keyed(format!("leg:{offer_id}:{status}"))
        .volunteer(offer.volunteer_id)
        .detail(json!({"status": status, "duration_secs": duration}));
    contacts::record_event(&state.db, id, event).await?;
    if !is_final(status) {
        return Ok(());
    }
    let Some(callback) = callbacks::of_contact(&state.db, id).await? else {
        return Ok(());
    };
    let from = [CallbackState::RingingVolunteer];
    if back_to_waiting(state, offer_id, &from)
        .make(&state.db, callback.id, now)
        .await?
    {
        let outcome = leg_outcome(status);
        if contacts::settle_offer(&state.db, offer_id, outcome, now).await? {
            let event = Event::once(now, EventKind::OfferMissed)
                .keyed(format!("offer_outcome:{offer_id}"))
                .volunteer(offer.volunteer_id)
                .detail(json!({"outcome": outcome.as_str()}));
            contacts::record_event(&state.db, id, event).await?;
        }
        reservations::release(&state.db, offer.volunteer_id, id).await?;
        state.callbacks_wake.notify_one();
    }
    contacts::end_offer(&state.db, offer_id, now).await
}
