//! Asking a caller afterwards, if they stay on the line once the volunteer has hung up:
//! the peer-support question first, then the helpline's own. Every question can be
//! skipped, hanging up ends it, and nothing waits on it.

use super::*;
use crate::domain::ids::ContactId;
use crate::domain::survey::{self, SurveyAnswer};
use crate::storage::surveys;

const INTRO: &str = "Before you go, may we ask how it went? You can hang up at any time.";
const KEYS: &str = "Press 1 for yes, 2 for somewhat, or 3 for no.";

/// The first question, when the helpline asks callers afterwards.
pub(super) fn first_question(state: &AppState, call: &Call) -> Option<VoiceResponse> {
    let first = survey::question(&call.settings.callers, 1)?;
    call.settings
        .callers
        .survey_enabled
        .then(|| question(state, call, 1, &first))
}

fn question(state: &AppState, call: &Call, number: i32, text: &str) -> VoiceResponse {
    let language = &call.settings.voice_language;
    let mut prompts = Vec::new();
    if number == 1 {
        prompts.push(Prompt::Say(Say::new(INTRO, language)));
    }
    prompts.push(Prompt::Say(Say::new(format!("{text} {KEYS}"), language)));
    VoiceResponse::new()
        .push(Verb::Gather(Gather {
            action: urls(state).survey(call.contact.id, number),
            num_digits: 1,
            timeout_secs: MENU_TIMEOUT_SECS,
            prompts,
        }))
        .push(call.say(prompts::goodbye(&call.helpline.name)))
        .push(Verb::Hangup)
}

/// The caller's key press at question `number`: recorded when it is an answer, then the
/// next question or goodbye.
pub async fn survey_answer(
    state: &AppState,
    contact_id: ContactId,
    number: i32,
    digits: &str,
) -> Result<Option<VoiceResponse>, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(None);
    };
    let asked = survey::question(&call.settings.callers, number);
    let answered_by_volunteer = call.contact.answered_by.is_some();
    if let (Some(text), Some(answer), true) = (
        asked,
        SurveyAnswer::from_digits(digits),
        answered_by_volunteer,
    ) {
        let now = state.clock.now();
        surveys::record(&state.db, contact_id, number, &text, answer, now).await?;
    }
    let next = survey::question(&call.settings.callers, number + 1);
    Ok(Some(match (next, answered_by_volunteer) {
        (Some(text), true) => question(state, &call, number + 1, &text),
        _ => call.goodbye(),
    }))
}
