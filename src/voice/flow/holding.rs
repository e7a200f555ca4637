//! Holding: what a caller hears while everyone is busy (their place in the queue, the
//! likely wait, the offer of a callback) and their answers to the callback questions.

use super::*;
use crate::domain::callback::{self as waiting, CallbackKind, QueueSaid};
use crate::domain::ids::ContactId;
use crate::storage::callbacks::{self, NewCallback};
use crate::storage::queue;
use crate::voice::waiting_prompts;

/// What a caller about to hold hears before the router looks again at `next_round`. A
/// repeated delivery hears the same words as the first.
pub(super) async fn hold(
    state: &AppState,
    call: &Call,
    next_round: i32,
) -> Result<VoiceResponse, DbErr> {
    let key = format!("hold:{next_round}");
    let told = contacts::event_by_key(&state.db, call.contact.id, &key).await?;
    let words = match told.and_then(|event| event.detail) {
        Some(detail) => serde_json::from_str::<serde_json::Value>(&detail)
            .ok()
            .and_then(|d| d["words"].as_str().map(str::to_owned))
            .unwrap_or_else(|| hold_message(call)),
        None => announce(state, call, &key).await?,
    };
    let urls = urls(state);
    let id = call.contact.id;
    let look_again = Verb::Redirect {
        url: urls.route(id, next_round),
    };
    if !offers_callbacks(state, call) {
        return Ok(VoiceResponse::new()
            .push(call.say(words))
            .push(Verb::Pause { seconds: HOLD_SECS })
            .push(look_again));
    }
    let language = &call.settings.voice_language;
    Ok(VoiceResponse::new()
        .push(Verb::Gather(Gather {
            action: urls.hold(id, next_round, "offer"),
            num_digits: 1,
            timeout_secs: 1,
            prompts: vec![
                Prompt::Say(Say::new(words, language)),
                Prompt::Say(Say::new(waiting_prompts::OFFER_CALLBACK, language)),
                Prompt::Pause { seconds: HOLD_SECS },
            ],
        }))
        .push(look_again))
}

fn hold_message(call: &Call) -> String {
    call.settings
        .callers
        .hold_message
        .clone()
        .unwrap_or_else(|| prompts::HOLD.to_owned())
}

/// Works out what the caller hears about the queue this time (their place when it has
/// changed, the likely wait at most once a minute), records it under `key` and returns
/// the words.
async fn announce(state: &AppState, call: &Call, key: &str) -> Result<String, DbErr> {
    let now = state.clock.now();
    let id = call.contact.id;
    let ahead = queue::callers_ahead(&state.db, call.helpline.id, call.contact.received_at).await?;
    let waits = queue::recent_held_waits(&state.db, call.helpline.id, now).await?;
    let said = queue::last_said(&state.db, id).await?;
    let estimate = waiting::estimate_wait_minutes(ahead, &waits);
    let news = waiting::queue_news(ahead, estimate, said, now);
    let told = QueueSaid {
        ahead: Some(ahead),
        estimate_at: news
            .estimate_minutes
            .map_or(said.estimate_at, |_| Some(now)),
    };
    let words = match waiting_prompts::queue_news(news) {
        Some(news) => format!("{news} {}", hold_message(call)),
        None => hold_message(call),
    };
    let event = Event::once(now, EventKind::Holding)
        .keyed(key)
        .detail(json!({
            "ahead": told.ahead,
            "estimate_at": told.estimate_at,
            "estimate_minutes": estimate,
            "words": words,
        }));
    contacts::record_event(&state.db, id, event).await?;
    Ok(words)
}

/// Whether this caller can be offered a callback: the helpline offers them, this server
/// can place calls, and the caller's number is known.
fn offers_callbacks(state: &AppState, call: &Call) -> bool {
    call.settings.callers.callbacks_enabled
        && state.twilio.is_some()
        && call.contact.caller_encrypted.is_some()
}

/// A holding caller's key press at one of the callback questions (`step`): pressing 2
/// asks for a callback, 1 confirms the number is safe to call, then 1 or 2 says whether a
/// text is safe. Anything else, or nothing, goes on holding for round `round`.
pub async fn hold_choice(
    state: &AppState,
    contact_id: ContactId,
    round: i32,
    step: &str,
    digits: &str,
) -> Result<Option<VoiceResponse>, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(None);
    };
    if call.contact.stage == Stage::Callback {
        return Ok(Some(booked(&call)));
    }
    if call.contact.ended_at.is_some() || call.contact.answered_at.is_some() {
        return Ok(Some(VoiceResponse::new().push(Verb::Hangup)));
    }
    let pressed = digits.trim();
    let urls = urls(state);
    let question = |step: &str, words: &str| {
        let action = urls.hold(contact_id, round, step);
        VoiceResponse::new()
            .push(Verb::Gather(Gather {
                action: action.clone(),
                num_digits: 1,
                timeout_secs: MENU_TIMEOUT_SECS,
                prompts: vec![Prompt::Say(call.speech(words))],
            }))
            .push(Verb::Redirect { url: action })
    };
    match (step, pressed) {
        ("offer", "2") if offers_callbacks(state, &call) => {
            Ok(Some(question("confirm", waiting_prompts::CONFIRM_NUMBER)))
        }
        ("confirm", "1") => Ok(Some(question("texts", waiting_prompts::ASK_TEXTS))),
        ("texts", answer) => {
            book(state, &call, answer == "1").await?;
            Ok(Some(booked(&call)))
        }
        _ => Ok(Some(route_loaded(state, call, round).await?)),
    }
}

/// Opens the callback, keeping the caller's place (the time they called) and topic.
async fn book(state: &AppState, call: &Call, texts_ok: bool) -> Result<(), DbErr> {
    let now = state.clock.now();
    let expires_in = Duration::minutes(call.settings.callers.callback_expires_mins.into());
    let txn = storage::write_transaction(&state.db).await?;
    let opened = callbacks::open(
        &txn,
        NewCallback {
            contact_id: call.contact.id,
            helpline_id: call.helpline.id,
            topic_id: call.contact.topic_id,
            kind: CallbackKind::Requested,
            texts_ok,
            expires_at: now + expires_in,
            requested_by: None,
            reason: None,
            for_volunteer: None,
        },
        now,
    )
    .await?;
    if let Some(callback) = opened {
        contacts::set_stage(&txn, call.contact.id, Stage::Callback, now).await?;
        let event = Event::once(now, EventKind::CallbackRequested).detail(json!({
            "callback_id": callback.id,
            "texts_ok": texts_ok,
            "expires_at": callback.expires_at,
        }));
        contacts::record_event(&txn, call.contact.id, event).await?;
    }
    txn.commit().await?;
    state.callbacks_wake.notify_one();
    Ok(())
}

fn booked(call: &Call) -> VoiceResponse {
    let words = waiting_prompts::callback_booked(call.settings.callers.callback_expires_mins);
    VoiceResponse::new()
        .push(call.say(words))
        .push(Verb::Hangup)
}
