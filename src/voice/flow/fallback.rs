//! When no volunteer answered: the on-call supervisor, the fallback number, voicemail.

use super::*;
use crate::domain::ids::ContactId;

/// The fallback path when no volunteer answered: 1 the on-call supervisor, 2 the
/// helpline's fallback number, 3 voicemail. A step with nobody to call moves to the next.
pub(super) async fn fallback_step(
    state: &AppState,
    call: &Call,
    step: i32,
) -> Result<VoiceResponse, DbErr> {
    let now = state.clock.now();
    let urls = urls(state);
    let id = call.contact.id;
    let ring_secs = u32::try_from(call.settings.routing.ring_timeout_secs).unwrap_or(20);
    if step <= 1 {
        let on_call = rota::on_call_at(&state.db, call.helpline.id, now).await?;
        if let Some((supervisor, phone)) = on_call.into_iter().find_map(|(user, _)| {
            crate::storage::users::phone_of(&state.vault, &user).map(|phone| (user, phone))
        }) {
            contacts::set_stage(&state.db, id, Stage::Fallback, now).await?;
            let event = Event::once(now, EventKind::FallbackOnCall)
                .detail(json!({"user_id": supervisor.id, "name": supervisor.name}));
            contacts::record_event(&state.db, id, event).await?;
            return Ok(VoiceResponse::new()
                .push(call.say(prompts::TO_SUPERVISOR))
                .push(Verb::Dial(Dial {
                    action: Some(urls.fallback(id, 2)),
                    timeout_secs: ring_secs,
                    caller_id: call.contact.dialed_number.clone(),
                    numbers: vec![DialNumber {
                        number: phone.to_string(),
                        whisper_url: Some(urls.supervisor_whisper(id)),
                        status_callback: None,
                    }],
                })));
        }
    }
    if step <= 2
        && let Some(number) = call.fallback_number()
    {
        contacts::set_stage(&state.db, id, Stage::Fallback, now).await?;
        contacts::record_event(&state.db, id, Event::once(now, EventKind::FallbackNumber)).await?;
        return Ok(VoiceResponse::new()
            .push(call.say(prompts::TO_FALLBACK))
            .push(Verb::Dial(Dial {
                action: Some(urls.fallback(id, 3)),
                timeout_secs: ring_secs.max(30),
                caller_id: call.contact.dialed_number.clone(),
                numbers: vec![DialNumber {
                    number,
                    whisper_url: None,
                    status_callback: None,
                }],
            })));
    }
    contacts::set_stage(&state.db, id, Stage::Voicemail, now).await?;
    contacts::record_event(&state.db, id, Event::once(now, EventKind::VoicemailOffered)).await?;
    Ok(VoiceResponse::new()
        .push(call.say(prompts::VOICEMAIL))
        .push(Verb::Record(Record {
            action: urls.voicemail(id),
            max_length_secs: VOICEMAIL_MAX_SECS,
            recording_status_callback: urls.recording(id),
        }))
        .push(call.say(prompts::NO_MESSAGE))
        .push(Verb::Hangup))
}

/// A fallback `<Dial>` ended (`step` is the step to take next if nobody took the call).
pub async fn fallback_dial_ended(
    state: &AppState,
    contact_id: ContactId,
    step: i32,
    result: DialResult<'_>,
) -> Result<Option<VoiceResponse>, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    // Step 2 follows the supervisor; step 3 follows the fallback number.
    let supervisor_took_it = call.contact.outcome == Some(Outcome::OnCallSupervisor);
    if step == 2 && supervisor_took_it {
        end_call(
            state,
            &call,
            Outcome::OnCallSupervisor,
            result.dial_duration,
            now,
        )
        .await?;
        return Ok(Some(call.goodbye()));
    }
    if step == 3 && result.connected() {
        contacts::set_outcome(&state.db, contact_id, Outcome::FallbackNumber, now).await?;
        end_call(state, &call, Outcome::FallbackNumber, None, now).await?;
        return Ok(Some(call.goodbye()));
    }
    if result.caller_gone() {
        end_call(state, &call, Outcome::Abandoned, None, now).await?;
        return Ok(Some(VoiceResponse::new()));
    }
    Ok(Some(fallback_step(state, &call, step).await?))
}

/// The on-call supervisor picked up.
pub async fn supervisor_whisper(
    state: &AppState,
    contact_id: ContactId,
) -> Result<VoiceResponse, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    if call.contact.ended_at.is_some() || call.contact.answered_at.is_some() {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    }
    let text = prompts::whisper_supervisor(&call.helpline.name);
    Ok(accept_gather(
        &call,
        text,
        urls(state).supervisor_answer(contact_id),
    ))
}

pub async fn supervisor_answer(
    state: &AppState,
    contact_id: ContactId,
    digits: &str,
) -> Result<VoiceResponse, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    let now = state.clock.now();
    if digits.trim() == "1"
        && contacts::mark_answered(
            &state.db,
            &call.contact,
            None,
            Outcome::OnCallSupervisor,
            None,
            now,
        )
        .await?
    {
        contacts::record_event(
            &state.db,
            contact_id,
            Event::once(now, EventKind::AnsweredByOnCall),
        )
        .await?;
        return Ok(VoiceResponse::new());
    }
    contacts::record_event(
        &state.db,
        contact_id,
        Event::once(now, EventKind::OnCallDeclined).detail(json!({"digits": digits})),
    )
    .await?;
    Ok(VoiceResponse::new().push(Verb::Hangup))
}

/// A recording's details, from the `<Record>` action or the recording status callback.
pub struct Recording<'a> {
    pub sid: Option<&'a str>,
    pub url: Option<&'a str>,
    pub duration_secs: Option<i32>,
}

/// The caller finished leaving a message.
pub async fn voicemail_left(
    state: &AppState,
    contact_id: ContactId,
    recording: Recording<'_>,
) -> Result<VoiceResponse, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    // Only a caller sent to voicemail leaves one: a late or out-of-place callback (on an
    // answered call, or one already ended) changes nothing.
    if call.contact.stage != Stage::Voicemail {
        tracing::warn!(
            contact = %contact_id,
            stage = call.contact.stage.as_str(),
            "a voicemail callback for a contact not at voicemail; ignored"
        );
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    }
    let now = state.clock.now();
    save_recording(state, contact_id, &recording).await?;
    let outcome = if recording.duration_secs.unwrap_or(1) > 0 && recording.url.is_some() {
        Outcome::Voicemail
    } else {
        Outcome::Abandoned
    };
    contacts::set_outcome(&state.db, contact_id, outcome, now).await?;
    end_call(state, &call, outcome, None, now).await?;
    Ok(VoiceResponse::new()
        .push(call.say(prompts::MESSAGE_SAVED))
        .push(Verb::Hangup))
}

/// Whether a recording can belong to `contact`: it went to voicemail (and may have ended
/// there since), nobody answered it, and it has not been erased.
fn expects_a_recording(contact: &contact::Model) -> bool {
    let voicemail_ended = contact.stage == Stage::Ended
        && matches!(
            contact.outcome,
            Some(Outcome::Voicemail | Outcome::Abandoned)
        );
    contact.answered_by.is_none()
        && contact.erased_at.is_none()
        && (contact.stage == Stage::Voicemail || voicemail_ended)
}

pub async fn save_recording(
    state: &AppState,
    contact_id: ContactId,
    recording: &Recording<'_>,
) -> Result<(), DbErr> {
    let Some(contact) = contacts::get(&state.db, contact_id).await? else {
        return Ok(());
    };
    if !expects_a_recording(&contact) {
        tracing::warn!(
            contact = %contact_id,
            "a recording for a contact that never went to voicemail; ignored"
        );
        return Ok(());
    }
    if let (Some(sid), Some(url)) = (recording.sid, recording.url) {
        contacts::save_recording(
            &state.db,
            contact_id,
            sid,
            url,
            recording.duration_secs,
            state.clock.now(),
        )
        .await?;
        let event = Event::once(state.clock.now(), EventKind::VoicemailRecorded)
            .keyed(format!("recording:{sid}"))
            .detail(json!({"recording_sid": sid, "duration_secs": recording.duration_secs}));
        contacts::record_event(&state.db, contact_id, event).await?;
    }
    Ok(())
}
