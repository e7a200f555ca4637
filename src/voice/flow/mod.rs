//! The call flow: each Twilio callback moves a call one step (menu, a round of offers, the
//! fallback path, voicemail) and answers with the TwiML for the next. Every step is safe
//! to deliver twice: rounds are claimed, offers and events are keyed, state changes are
//! conditional, and a repeated delivery gets the same TwiML back.

mod callback_dispatch;
mod callback_legs;
mod fallback;
mod holding;
mod inbound;
mod returns;
mod rounds;
mod status;
mod survey;
mod whisper;

pub use callback_dispatch::{CallbackPass, run_callbacks};
pub use callback_legs::{
    callback_accept, callback_caller, callback_caller_answer, callback_dialled, callback_status,
    callback_volunteer,
};
pub use fallback::{
    Recording, fallback_dial_ended, save_recording, supervisor_answer, supervisor_whisper,
    voicemail_left,
};
pub use holding::hold_choice;
pub use inbound::{InboundCall, inbound, menu_choice};
pub use returns::{ReturnOpened, ReturnRefused, return_call};
pub use rounds::{DialResult, dial_ended, route_round};
use rounds::{first_round_deadline, prepare_call_round, prepare_round, route_loaded, write_round};
pub use status::{call_status, leg_status};
pub use survey::survey_answer;
pub use whisper::{whisper, whisper_answer};

use chrono::{DateTime, Duration, Utc};
use sea_orm::DbErr;
use serde_json::json;

use super::prompts::{self, MenuTopic, Menus};
use super::urls::CallbackUrls;
use crate::contact_flow::alerts::alert_after_end;
use crate::contact_flow::candidates::{Routed, RoutingInputs};
use crate::domain::helpline::HelplineSettings;
use crate::domain::ids::ContactId;
use crate::domain::phone::E164;
use crate::domain::rota::Channel;
use crate::domain::routing::{self, RoutingRequest, TopicChoice};
use crate::state::AppState;
use crate::storage::contacts::{
    self, Event, EventKind, NewCall, OfferOutcome, Outcome, RoundClaim, Stage, TalkTime,
};
use crate::storage::directory::Listing;
use crate::storage::entities::{contact, helpline, offer, topic};
use crate::storage::{self, Scope, blocklist, helplines, reservations, rota, volunteers};
use crate::telephony::twiml::{Dial, DialNumber, Gather, Prompt, Record, Say, Verb, VoiceResponse};

/// How long a connected volunteer stays reserved if no callback ever says the call ended.
const CONNECTED_RESERVATION: Duration = Duration::hours(12);
/// Extra time a ringing reservation lasts beyond the ring timeout: the whisper and the
/// volunteer's key press happen after the phone is answered.
const WHISPER_GRACE: Duration = Duration::seconds(45);
/// How long a caller holds before the router looks again when everyone is busy.
const HOLD_SECS: u32 = 10;
const VOICEMAIL_MAX_SECS: u32 = 180;
const MENU_TIMEOUT_SECS: u32 = 6;
const WHISPER_TIMEOUT_SECS: u32 = 8;

/// The flow's view of one call: the contact with its helpline.
struct Call {
    contact: contact::Model,
    helpline: helpline::Model,
    settings: HelplineSettings,
    topics: Vec<topic::Model>,
}

impl Call {
    async fn load(state: &AppState, contact_id: ContactId) -> Result<Option<Self>, DbErr> {
        match contacts::get_versioned(&state.db, contact_id).await? {
            Some(read) => Self::at_version(state, read.value, read.directory_version).await,
            None => Ok(None),
        }
    }

    /// The call of a contact read with the directory's `version`, with its helpline as
    /// the directory had it then.
    async fn at_version(
        state: &AppState,
        contact: contact::Model,
        version: i64,
    ) -> Result<Option<Self>, DbErr> {
        let directory = state.directory.at_version(&state.db, version).await?;
        let Some(listing) = directory.helpline(contact.helpline_id) else {
            return Ok(None);
        };
        let settings = listing.settings()?;
        Ok(Some(Self::of(contact, &listing, settings)))
    }

    /// The call of `contact`, at the helpline `listing` describes, with its `settings`.
    fn of(contact: contact::Model, listing: &Listing, settings: HelplineSettings) -> Self {
        Self {
            contact,
            helpline: listing.row.clone(),
            settings,
            topics: listing.topics.clone(),
        }
    }

    fn speech(&self, text: impl Into<String>) -> Say {
        Say::new(text, &self.settings.voice_language)
    }

    fn say(&self, text: impl Into<String>) -> Verb {
        Verb::Say(self.speech(text))
    }

    fn menus(&self) -> Menus {
        menus_of(&self.topics, &self.settings)
    }

    fn topic(&self) -> Option<&topic::Model> {
        let id = self.contact.topic_id?;
        self.topics.iter().find(|t| t.id == id)
    }

    /// Whether no round of offers is for this call any more: it is over, answered, or
    /// waiting to be called back.
    fn is_past_routing(&self) -> bool {
        let contact = &self.contact;
        contact.ended_at.is_some()
            || contact.answered_at.is_some()
            || contact.stage == Stage::Callback
    }

    /// Whether the call waits for its first round of offers.
    fn awaits_first_round(&self) -> bool {
        self.contact.round == 0 && !self.is_past_routing()
    }

    fn choice(&self) -> Choice<'_> {
        Choice {
            topic: self.topic(),
            language: self.contact.language.as_deref(),
        }
    }

    fn goodbye(&self) -> VoiceResponse {
        VoiceResponse::new()
            .push(self.say(prompts::goodbye(&self.helpline.name)))
            .push(Verb::Hangup)
    }

    fn fallback_number(&self) -> Option<String> {
        self.settings
            .fallback_number
            .as_ref()
            .map(|n| n.as_str().to_owned())
    }
}

fn menus_of(topics: &[topic::Model], settings: &HelplineSettings) -> Menus {
    let mut menu_topics: Vec<MenuTopic> = topics
        .iter()
        .filter_map(|t| {
            Some(MenuTopic {
                id: t.id,
                digit: u32::try_from(t.digit?).ok()?,
                label: t.label.clone(),
            })
        })
        .collect();
    menu_topics.sort_by_key(|t| t.digit);
    Menus {
        topics: menu_topics,
        languages: settings.languages.clone(),
    }
}

/// What a caller chose in the menus, or was given as the helpline's only topic: what
/// their rounds are planned by.
#[derive(Clone, Copy)]
struct Choice<'a> {
    topic: Option<&'a topic::Model>,
    language: Option<&'a str>,
}

/// The router's plan at `now` for a caller who chose `choice`, from what was loaded for it.
fn plan_call(choice: Choice<'_>, inputs: &RoutingInputs, now: DateTime<Utc>) -> routing::Plan {
    let topic = choice.topic.map(|t| TopicChoice {
        topic_id: t.id,
        strict: t.strict,
    });
    let request = RoutingRequest {
        at: now,
        channel: Channel::Voice,
        topic,
        language: choice.language,
        continuity: inputs.continuity,
        conflicted: &inputs.conflicted,
        already_tried: &inputs.already_tried,
    };
    inputs.plan(&request)
}

fn urls(state: &AppState) -> CallbackUrls {
    CallbackUrls::new(&state.settings.public_url)
}

async fn end_call(
    state: &AppState,
    call: &Call,
    outcome: Outcome,
    talk_secs: Option<i32>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    // The end, its event and any alert it raises are written together or not at all.
    let txn = storage::write_transaction(&state.db).await?;
    end_call_in(&txn, state, call, outcome, talk_secs, at).await?;
    txn.commit().await?;
    after_call_ended(state);
    Ok(())
}

/// Once a call's end has committed: its volunteers are free, maybe for a caller waiting to
/// be called back.
fn after_call_ended(state: &AppState) {
    state.callbacks_wake.notify_one();
}

/// [`end_call`] within the transaction `txn`, which also holds whatever caused the end:
/// the call's end, its event, any alert it raises and its volunteers' reservations
/// released; the caller wakes the callbacks once it commits.
async fn end_call_in(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    call: &Call,
    outcome: Outcome,
    talk_secs: Option<i32>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let talk = talk_secs.map_or(TalkTime::UntilNow, TalkTime::Reported);
    if let Some(ended) = contacts::finish_read(txn, &call.contact, outcome, talk, at).await? {
        let event = Event::once(at, EventKind::Ended).detail(json!({
            "outcome": ended.outcome,
            "talk_secs": ended.talk_secs,
        }));
        contacts::record_event(txn, call.contact.id, event).await?;
        let name = &call.helpline.name;
        alert_after_end(txn, &state.vault, &ended, name, at).await?;
    }
    reservations::release_contact(txn, call.contact.id).await
}

fn accept_gather(call: &Call, text: String, action: String) -> VoiceResponse {
    let language = &call.settings.voice_language;
    VoiceResponse::new()
        .push(Verb::Gather(Gather {
            action,
            num_digits: 1,
            timeout_secs: WHISPER_TIMEOUT_SECS,
            prompts: vec![
                Prompt::Say(Say::new(text.clone(), language)),
                Prompt::Pause { seconds: 1 },
                Prompt::Say(Say::new(text, language)),
            ],
        }))
        .push(Verb::Hangup)
}

/// How an offer ended, from the final status of the volunteer's own leg.
fn leg_outcome(status: &str) -> OfferOutcome {
    match status {
        "busy" => OfferOutcome::Busy,
        "failed" => OfferOutcome::Failed,
        "canceled" => OfferOutcome::Canceled,
        "no-answer" => OfferOutcome::NoAnswer,
        // Picked up but never accepted.
        _ => OfferOutcome::Declined,
    }
}

fn is_final(status: &str) -> bool {
    matches!(
        status,
        "completed" | "busy" | "failed" | "no-answer" | "canceled"
    )
}
