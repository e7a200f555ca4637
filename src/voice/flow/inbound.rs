//! A new call: the greeting, the blocked-caller check and the topic and language menus.

use super::fallback::fallback_step;
use super::*;
use crate::domain::contact::EventKind;
use crate::domain::contact::{REPEAT_WINDOW_MINUTES, skips_volunteers};
use crate::domain::ids::ContactId;

/// What Twilio told us about a new inbound call.
pub struct InboundCall<'a> {
    pub call_sid: &'a str,
    pub from: &'a str,
    pub to: &'a E164,
}

/// A new call: reject a blocked caller, otherwise greet, play the menus or start routing.
/// The contact, its first events, an only topic and, for a call that goes straight to the
/// volunteers, its first round are written in one transaction.
pub async fn inbound(state: &AppState, call: InboundCall<'_>) -> Result<VoiceResponse, DbErr> {
    let now = state.clock.now();
    let directory = state.directory.current(&state.db).await?;
    let Some(listing) = directory.by_number(call.to) else {
        tracing::warn!(to = %call.to.masked(), "call to a number no helpline owns");
        return Ok(VoiceResponse::new()
            .say(prompts::NOT_IN_SERVICE, "en-GB")
            .push(Verb::Hangup));
    };
    let settings = listing.settings()?;
    state.fallbacks.remember(
        call.to,
        settings.fallback_number.as_ref(),
        &settings.texting.crisis_text,
    );
    let caller = E164::parse(call.from).ok();
    let identity = state.vault.caller_identity(caller.as_ref(), call.call_sid);
    let caller_hash = identity.hash;
    let hashes = match &caller {
        Some(number) => state.vault.hashes(number),
        None => vec![caller_hash.clone()],
    };
    let helpline_id = listing.row.id;
    let blocked =
        caller.is_some() && blocklist::is_blocked(&state.db, helpline_id, &hashes, now).await?;
    let menus = menus_of(&listing.topics, &settings);
    let only_topic = menus.only_topic();
    // A call that goes straight to the volunteers is read and planned for before its
    // contact is written, so that the contact and its first round are one commit.
    let first_round = if blocked || menus.topic_menu() || menus.language_menu() {
        None
    } else {
        let routed = Routed {
            helpline_id,
            caller_hashes: hashes.clone(),
            contact_id: None,
        };
        let choice = Choice {
            topic: only_topic.and_then(|id| listing.topics.iter().find(|t| t.id == id)),
            language: None,
        };
        Some(prepare_round(state, &routed, &settings, choice, now, now).await?)
    };
    let txn = storage::write_transaction(&state.db).await?;
    let (contact, new) = contacts::open_call(
        &txn,
        NewCall {
            channel: Channel::Voice,
            helpline_id,
            call_sid: call.call_sid.to_owned(),
            dialed_number: call.to.as_str().to_owned(),
            caller_hash,
            caller_encrypted: identity.sealed,
            caller_hint: identity.hint,
            stage: if blocked { Stage::Ended } else { Stage::Menu },
            outcome: blocked.then_some(Outcome::RejectedBlocked),
            received_at: now,
            route_deadline: first_round_deadline(&settings, now),
        },
    )
    .await?;
    contacts::record_event(&txn, contact.id, Event::once(now, EventKind::Received)).await?;
    if contact.outcome == Some(Outcome::RejectedBlocked) {
        contacts::record_event(
            &txn,
            contact.id,
            Event::once(now, EventKind::RejectedBlocked),
        )
        .await?;
        txn.commit().await?;
        return Ok(VoiceResponse::new().push(Verb::Reject));
    }
    // Withheld numbers count together ("withheld, this helpline"), or a dialler that
    // withholds its number could flood the volunteers.
    let since = now - Duration::minutes(REPEAT_WINDOW_MINUTES);
    let calls = match &caller {
        Some(_) => contacts::calls_from_since(&txn, helpline_id, &hashes, since).await?,
        None => contacts::withheld_calls_since(&txn, helpline_id, since).await?,
    };
    let mut call = Call::of(contact, &listing, settings);
    let greeting = call.speech(call.settings.greeting.clone());
    if skips_volunteers(calls) {
        let event = Event::once(now, EventKind::RepeatCallsToFallback).detail(json!({
            "calls_in_window": calls,
            "window_minutes": REPEAT_WINDOW_MINUTES,
        }));
        contacts::record_event(&txn, call.contact.id, event).await?;
        txn.commit().await?;
        let next = fallback_step(state, &call, 1).await?;
        return Ok(prepend(Verb::Say(greeting), next));
    }
    if menus.topic_menu() {
        txn.commit().await?;
        return Ok(menu_gather(
            state,
            &call,
            Some(greeting),
            "topic",
            prompts::topic_menu(&menus),
        ));
    }
    if let Some(only) = only_topic {
        contacts::set_choice(&txn, call.contact.id, Some(only), None, now).await?;
        call.contact.topic_id = Some(only);
    }
    if menus.language_menu() {
        txn.commit().await?;
        return Ok(menu_gather(
            state,
            &call,
            Some(greeting),
            "language",
            prompts::language_menu(&menus),
        ));
    }
    let next = match first_round {
        Some(prepared) if new => write_round(state, txn, call, 1, prepared).await?,
        // A repeated delivery: the round is the first delivery's.
        _ => {
            txn.commit().await?;
            route_loaded(state, call, 1).await?
        }
    };
    Ok(prepend(Verb::Say(greeting), next))
}

fn menu_gather(
    state: &AppState,
    call: &Call,
    greeting: Option<Say>,
    step: &str,
    menu: String,
) -> VoiceResponse {
    let mut prompts_list: Vec<Prompt> = greeting.into_iter().map(Prompt::Say).collect();
    prompts_list.push(Prompt::Say(call.speech(menu)));
    let action = urls(state).menu(call.contact.id, step);
    VoiceResponse::new()
        .push(Verb::Gather(Gather {
            action: action.clone(),
            num_digits: 1,
            timeout_secs: MENU_TIMEOUT_SECS,
            prompts: prompts_list,
        }))
        // Only reached if Twilio skips the action; the menu step treats it as "any".
        .push(Verb::Redirect { url: action })
}

fn prepend(first: Verb, rest: VoiceResponse) -> VoiceResponse {
    let mut response = VoiceResponse::new().push(first);
    for verb in rest.verbs() {
        response = response.push(verb.clone());
    }
    response
}

/// The caller pressed a key (or none) in a menu. The choice, its event and, when no menu
/// follows, the first round are written in one transaction.
pub async fn menu_choice(
    state: &AppState,
    contact_id: ContactId,
    step: &str,
    digits: &str,
) -> Result<Option<VoiceResponse>, DbErr> {
    let Some(mut call) = Call::load(state, contact_id).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let menus = call.menus();
    let (topic_id, language, event) = match step {
        "topic" => {
            let chosen = menus.topic_for(digits);
            let event = Event::once(now, EventKind::TopicChosen).detail(json!({
                "digits": digits,
                "topic_id": chosen.map(|t| t.id),
                "topic": chosen.map(|t| t.label.clone()),
            }));
            (chosen.map(|t| t.id), None, event)
        }
        "language" => {
            let chosen = menus.language_for(digits).map(str::to_owned);
            let event = Event::once(now, EventKind::LanguageChosen)
                .detail(json!({"digits": digits, "language": chosen}));
            (None, chosen, event)
        }
        _ => return Ok(None),
    };
    if topic_id.is_some() {
        call.contact.topic_id = topic_id;
    }
    if language.is_some() {
        call.contact.language = language.clone();
    }
    let language_menu_next = step == "topic" && menus.language_menu();
    let first_round = if language_menu_next || !call.awaits_first_round() {
        None
    } else {
        Some(prepare_call_round(state, &call, now).await?)
    };
    let txn = storage::write_transaction(&state.db).await?;
    contacts::set_choice(&txn, contact_id, topic_id, language, now).await?;
    contacts::record_event(&txn, contact_id, event).await?;
    if language_menu_next {
        txn.commit().await?;
        let menu = prompts::language_menu(&menus);
        return Ok(Some(menu_gather(state, &call, None, "language", menu)));
    }
    // The first round of offers; the caller's wait is counted from here.
    let connecting = call.say(prompts::CONNECTING);
    let next = match first_round {
        Some(prepared) => write_round(state, txn, call, 1, prepared).await?,
        // A repeated delivery, or a call that is over: as the round or its end says.
        None => {
            txn.commit().await?;
            route_loaded(state, call, 1).await?
        }
    };
    Ok(Some(prepend(connecting, next)))
}
