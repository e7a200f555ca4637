//! The call flow: each Twilio callback moves a call one step (menu, a round of offers, the
//! fallback path, voicemail) and answers with the TwiML for the next. Every step is safe
//! to deliver twice: rounds are claimed, offers and events are keyed, state changes are
//! conditional, and a repeated delivery gets the same TwiML back.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::DbErr;
use serde_json::json;

use super::candidates::RoutingInputs;
use super::prompts::{self, MenuTopic, Menus};
use super::urls::CallbackUrls;
use crate::domain::helpline::HelplineSettings;
use crate::domain::phone::E164;
use crate::domain::rota::Channel;
use crate::domain::routing::{self, Exclusion, RoutingRequest, Tier, TopicChoice};
use crate::state::AppState;
use crate::storage::contacts::{self, Event, NewCall, OfferOutcome, Outcome, Stage};
use crate::storage::entities::{contact, helpline, offer, topic};
use crate::storage::{Scope, blocklist, helplines, reservations, rota, volunteers};
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
    async fn load(state: &AppState, contact_id: i32) -> Result<Option<Self>, DbErr> {
        let Some(contact) = contacts::get(&state.db, contact_id).await? else {
            return Ok(None);
        };
        let Some(helpline) = helplines::get(&state.db, &Scope::All, contact.helpline_id).await?
        else {
            return Ok(None);
        };
        let settings = helplines::settings_of(&helpline)?;
        let topics = helplines::topics(&state.db, helpline.id).await?;
        Ok(Some(Self {
            contact,
            helpline,
            settings,
            topics,
        }))
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

fn urls(state: &AppState) -> CallbackUrls {
    CallbackUrls::new(&state.settings.public_url)
}

/// What Twilio told us about a new inbound call.
pub struct InboundCall<'a> {
    pub call_sid: &'a str,
    pub from: &'a str,
    pub to: &'a E164,
}

/// A new call: reject a blocked caller, otherwise greet, play the menus or start routing.
pub async fn inbound(state: &AppState, call: InboundCall<'_>) -> Result<VoiceResponse, DbErr> {
    let now = state.clock.now();
    let Some(helpline) = helplines::by_number(&state.db, call.to).await? else {
        tracing::warn!(to = %call.to.masked(), "call to a number no helpline owns");
        return Ok(VoiceResponse::new()
            .say(prompts::NOT_IN_SERVICE, "en-GB")
            .push(Verb::Hangup));
    };
    let settings = helplines::settings_of(&helpline)?;
    state
        .fallbacks
        .remember(call.to, settings.fallback_number.as_ref());
    let caller = E164::parse(call.from).ok();
    let (caller_hash, caller_hint, caller_encrypted) = match &caller {
        Some(number) => (
            state.numbers.hash(number),
            number.masked(),
            Some(state.numbers.seal(number)),
        ),
        // A withheld number matches nothing: each such call gets its own hash.
        None => (
            state.numbers.hash_withheld(call.call_sid),
            "withheld".to_owned(),
            None,
        ),
    };
    let blocked = caller.is_some()
        && blocklist::is_blocked(&state.db, helpline.id, &caller_hash, now).await?;
    let (contact, _) = contacts::open_call(
        &state.db,
        NewCall {
            helpline_id: helpline.id,
            call_sid: call.call_sid.to_owned(),
            dialed_number: call.to.as_str().to_owned(),
            caller_hash,
            caller_encrypted,
            caller_hint,
            stage: if blocked { Stage::Ended } else { Stage::Menu },
            outcome: blocked.then_some(Outcome::RejectedBlocked),
            received_at: now,
            route_deadline: now + Duration::seconds(settings.routing.max_wait_secs.into()),
        },
    )
    .await?;
    contacts::record_event(&state.db, contact.id, Event::once(now, "received")).await?;
    if contact.outcome.as_deref() == Some(Outcome::RejectedBlocked.as_str()) {
        contacts::record_event(&state.db, contact.id, Event::once(now, "rejected_blocked")).await?;
        return Ok(VoiceResponse::new().push(Verb::Reject));
    }
    let topics = helplines::topics(&state.db, helpline.id).await?;
    let call = Call {
        contact,
        helpline,
        settings,
        topics,
    };
    let greeting = call.speech(call.settings.greeting.clone());
    let menus = call.menus();
    if menus.topic_menu() {
        return Ok(menu_gather(
            state,
            &call,
            Some(greeting),
            "topic",
            prompts::topic_menu(&menus),
        ));
    }
    if let Some(only) = menus.only_topic() {
        contacts::set_choice(&state.db, call.contact.id, Some(only), None).await?;
    }
    if menus.language_menu() {
        return Ok(menu_gather(
            state,
            &call,
            Some(greeting),
            "language",
            prompts::language_menu(&menus),
        ));
    }
    let next = start_routing(state, call.contact.id).await?;
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

/// The caller pressed a key (or none) in a menu.
pub async fn menu_choice(
    state: &AppState,
    contact_id: i32,
    step: &str,
    digits: &str,
) -> Result<Option<VoiceResponse>, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let menus = call.menus();
    match step {
        "topic" => {
            let chosen = menus.topic_for(digits);
            contacts::set_choice(&state.db, contact_id, chosen.map(|t| t.id), None).await?;
            let event = Event::once(now, "topic_chosen").detail(json!({
                "digits": digits,
                "topic_id": chosen.map(|t| t.id),
                "topic": chosen.map(|t| t.label.clone()),
            }));
            contacts::record_event(&state.db, contact_id, event).await?;
            if menus.language_menu() {
                let menu = prompts::language_menu(&menus);
                return Ok(Some(menu_gather(state, &call, None, "language", menu)));
            }
        }
        "language" => {
            let chosen = menus.language_for(digits).map(str::to_owned);
            contacts::set_choice(&state.db, contact_id, None, chosen.clone()).await?;
            let event = Event::once(now, "language_chosen")
                .detail(json!({"digits": digits, "language": chosen}));
            contacts::record_event(&state.db, contact_id, event).await?;
        }
        _ => return Ok(None),
    }
    let next = start_routing(state, contact_id).await?;
    Ok(Some(prepend(call.say(prompts::CONNECTING), next)))
}

/// Starts the first round of offers, with the caller's wait counted from now.
async fn start_routing(state: &AppState, contact_id: i32) -> Result<VoiceResponse, DbErr> {
    route_round(state, contact_id, 1).await
}

/// One round of offers: claim the round, plan, reserve volunteers, ring them. When nobody
/// can be rung: hold if someone may free up before the caller's wait is spent, else the
/// fallback path.
pub async fn route_round(
    state: &AppState,
    contact_id: i32,
    round: i32,
) -> Result<VoiceResponse, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    if call.contact.ended_at.is_some() || call.contact.answered_at.is_some() {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    }
    let now = state.clock.now();
    if round == 1 {
        let deadline = now + Duration::seconds(call.settings.routing.max_wait_secs.into());
        contacts::set_deadline_once(&state.db, contact_id, deadline).await?;
    }
    if !contacts::claim_round(&state.db, contact_id, round, Stage::Routing).await? {
        return replay_round(state, &call, round).await;
    }
    let call = Call::load(state, contact_id).await?.unwrap_or(call);
    if now >= call.contact.route_deadline {
        return fallback_step(state, &call, 1).await;
    }
    let inputs = RoutingInputs::load(
        &state.db,
        &state.roster,
        &call.contact,
        &call.settings.routing,
        now,
    )
    .await?;
    let topic = call.topic().map(|t| TopicChoice {
        topic_id: t.id,
        strict: t.strict,
    });
    let request = RoutingRequest {
        at: now,
        channel: Channel::Voice,
        topic,
        language: call.contact.language.as_deref(),
        capacity: 1,
        continuity: inputs.continuity,
        conflicted: &inputs.conflicted,
        already_tried: &inputs.already_tried,
    };
    let plan = routing::plan(&request, &inputs.candidates());
    let remaining = (call.contact.route_deadline - now).num_seconds().max(0);
    let ring_secs = i64::from(call.settings.routing.ring_timeout_secs)
        .min(remaining)
        .max(5);
    let expires = now + Duration::seconds(ring_secs) + WHISPER_GRACE;
    let group = usize::try_from(call.settings.routing.ring_group_size).unwrap_or(1);
    let mut rung = Vec::new();
    let mut lost_race = false;
    for candidate in &plan.offers {
        if rung.len() >= group {
            break;
        }
        if reservations::reserve(&state.db, candidate.volunteer_id, contact_id, expires, now)
            .await?
        {
            let offer = contacts::create_offer(
                &state.db,
                contact_id,
                candidate.volunteer_id,
                round,
                candidate.tier,
                now,
            )
            .await?;
            rung.push(offer);
        } else {
            lost_race = true;
        }
    }
    let trace = trace_detail(round, &plan, &rung);
    let event = Event::once(now, "routed")
        .keyed(format!("route:{round}"))
        .detail(trace);
    contacts::record_event(&state.db, contact_id, event).await?;
    for offer in &rung {
        let event = Event::once(now, "offered")
            .keyed(format!("offer:{}", offer.id))
            .volunteer(offer.volunteer_id)
            .detail(json!({"round": round, "tier": offer.tier}));
        contacts::record_event(&state.db, contact_id, event).await?;
    }
    if !rung.is_empty() {
        contacts::set_stage(&state.db, contact_id, Stage::Ringing).await?;
        return dial_offers(state, &call, round, &rung, ring_secs).await;
    }
    if (plan.worth_waiting() || lost_race) && remaining > i64::from(HOLD_SECS) {
        contacts::set_stage(&state.db, contact_id, Stage::Holding).await?;
        return Ok(hold(state, &call, round + 1));
    }
    fallback_step(state, &call, 1).await
}

/// The routing trace as stored on the contact: the eligible volunteers in the order they
/// would be offered the call (ids by tier), who was rung, and why each other volunteer was
/// not (ids by reason). Ids only, so a helpline of thousands keeps a compact trace.
fn trace_detail(round: i32, plan: &routing::Plan, rung: &[offer::Model]) -> serde_json::Value {
    let mut eligible: Vec<(&'static str, Vec<i32>)> = Vec::new();
    for offer in &plan.offers {
        match eligible.last_mut() {
            Some((tier, ids)) if *tier == offer.tier.as_str() => ids.push(offer.volunteer_id),
            _ => eligible.push((offer.tier.as_str(), vec![offer.volunteer_id])),
        }
    }
    let mut passed_over: HashMap<Exclusion, Vec<i32>> = HashMap::new();
    for (volunteer_id, why) in &plan.excluded {
        passed_over.entry(*why).or_default().push(*volunteer_id);
    }
    let passed_over: serde_json::Map<String, serde_json::Value> = passed_over
        .into_iter()
        .map(|(why, ids)| (why.as_str().to_owned(), json!(ids)))
        .collect();
    json!({
        "round": round,
        "eligible": eligible.into_iter().map(|(tier, ids)| json!({"tier": tier, "volunteer_ids": ids})).collect::<Vec<_>>(),
        "continuity": plan.offers.iter().find(|o| o.continuity).map(|o| o.volunteer_id),
        "rung": rung.iter().map(|o| o.volunteer_id).collect::<Vec<_>>(),
        "passed_over": passed_over,
    })
}

fn hold(state: &AppState, call: &Call, next_round: i32) -> VoiceResponse {
    VoiceResponse::new()
        .push(call.say(prompts::HOLD))
        .push(Verb::Pause { seconds: HOLD_SECS })
        .push(Verb::Redirect {
            url: urls(state).route(call.contact.id, next_round),
        })
}

/// The same answer for a repeated delivery of a round that was already decided.
async fn replay_round(state: &AppState, call: &Call, round: i32) -> Result<VoiceResponse, DbErr> {
    let rung: Vec<offer::Model> = contacts::offers(&state.db, call.contact.id)
        .await?
        .into_iter()
        .filter(|o| o.round == round)
        .collect();
    if !rung.is_empty() && call.contact.round == round {
        let ring_secs = call.settings.routing.ring_timeout_secs.into();
        return dial_offers(state, call, round, &rung, ring_secs).await;
    }
    // Nothing to replay (a hold, or a round still being decided): look again shortly.
    Ok(hold(state, call, call.contact.round + 1))
}

async fn dial_offers(
    state: &AppState,
    call: &Call,
    round: i32,
    rung: &[offer::Model],
    ring_secs: i64,
) -> Result<VoiceResponse, DbErr> {
    let urls = urls(state);
    let mut numbers = Vec::new();
    for offer in rung {
        let Some(volunteer) = volunteers::get(&state.db, &Scope::All, offer.volunteer_id).await?
        else {
            continue;
        };
        numbers.push(DialNumber {
            number: volunteer.phone,
            whisper_url: Some(urls.whisper(offer.id)),
            status_callback: Some(urls.leg(offer.id)),
        });
    }
    Ok(VoiceResponse::new().push(Verb::Dial(Dial {
        action: Some(urls.dial(call.contact.id, round)),
        timeout_secs: u32::try_from(ring_secs).unwrap_or(20),
        caller_id: call.contact.dialed_number.clone(),
        numbers,
    })))
}

/// What Twilio reports when a `<Dial>` ends.
pub struct DialResult<'a> {
    pub dial_status: Option<&'a str>,
    pub dial_duration: Option<i32>,
    /// The caller's own call status: `completed` when they hung up.
    pub call_status: Option<&'a str>,
}

impl DialResult<'_> {
    fn caller_gone(&self) -> bool {
        matches!(self.call_status, Some("completed" | "canceled" | "failed"))
    }

    fn connected(&self) -> bool {
        matches!(self.dial_status, Some("completed" | "answered"))
    }

    fn offer_outcome(&self) -> OfferOutcome {
        match self.dial_status {
            Some("busy") => OfferOutcome::Busy,
            Some("failed") => OfferOutcome::Failed,
            Some("canceled") => OfferOutcome::Canceled,
            // Another leg of the group was answered first.
            Some("completed" | "answered") => OfferOutcome::Canceled,
            _ => OfferOutcome::NoAnswer,
        }
    }
}

/// A round's `<Dial>` ended: the call was answered and is over, or the next round starts.
pub async fn dial_ended(
    state: &AppState,
    contact_id: i32,
    round: i32,
    result: DialResult<'_>,
) -> Result<Option<VoiceResponse>, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let round_offers: Vec<offer::Model> = contacts::offers(&state.db, contact_id)
        .await?
        .into_iter()
        .filter(|o| o.round == round)
        .collect();
    let answered_here = call
        .contact
        .answered_by
        .is_some_and(|v| round_offers.iter().any(|o| o.volunteer_id == v));
    for offer in &round_offers {
        if Some(offer.volunteer_id) == call.contact.answered_by {
            contacts::end_offer(&state.db, offer.id, now).await?;
        } else if contacts::settle_offer(&state.db, offer.id, result.offer_outcome(), now).await? {
            let event = Event::once(now, "offer_missed")
                .keyed(format!("offer_outcome:{}", offer.id))
                .volunteer(offer.volunteer_id)
                .detail(json!({"outcome": result.offer_outcome().as_str()}));
            contacts::record_event(&state.db, contact_id, event).await?;
        }
        reservations::release(&state.db, offer.volunteer_id, contact_id).await?;
    }
    if answered_here {
        end_call(state, &call, Outcome::Answered, result.dial_duration, now).await?;
        return Ok(Some(call.goodbye()));
    }
    if result.caller_gone() {
        end_call(state, &call, Outcome::Abandoned, None, now).await?;
        return Ok(Some(VoiceResponse::new()));
    }
    Ok(Some(route_round(state, contact_id, round + 1).await?))
}

async fn end_call(
    state: &AppState,
    call: &Call,
    outcome: Outcome,
    talk_secs: Option<i32>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if contacts::finish(&state.db, call.contact.id, outcome, talk_secs, at).await? {
        let ended = contacts::get(&state.db, call.contact.id).await?;
        let event = Event::once(at, "ended").detail(json!({
            "outcome": ended.as_ref().and_then(|c| c.outcome.clone()),
            "talk_secs": ended.as_ref().and_then(|c| c.talk_secs),
        }));
        contacts::record_event(&state.db, call.contact.id, event).await?;
    }
    reservations::release_contact(&state.db, call.contact.id).await
}

/// The fallback path when no volunteer answered: 1 the on-call supervisor, 2 the
/// helpline's fallback number, 3 voicemail. A step with nobody to call moves to the next.
async fn fallback_step(state: &AppState, call: &Call, step: i32) -> Result<VoiceResponse, DbErr> {
    let now = state.clock.now();
    let urls = urls(state);
    let id = call.contact.id;
    let ring_secs = u32::try_from(call.settings.routing.ring_timeout_secs).unwrap_or(20);
    if step <= 1 {
        let on_call = rota::on_call_at(&state.db, call.helpline.id, now).await?;
        if let Some((supervisor, phone)) = on_call
            .into_iter()
            .find_map(|(user, _)| user.phone.clone().map(|phone| (user, phone)))
        {
            contacts::set_stage(&state.db, id, Stage::Fallback).await?;
            let event = Event::once(now, "fallback_on_call")
                .detail(json!({"user_id": supervisor.id, "name": supervisor.name}));
            contacts::record_event(&state.db, id, event).await?;
            return Ok(VoiceResponse::new()
                .push(call.say(prompts::TO_SUPERVISOR))
                .push(Verb::Dial(Dial {
                    action: Some(urls.fallback(id, 2)),
                    timeout_secs: ring_secs,
                    caller_id: call.contact.dialed_number.clone(),
                    numbers: vec![DialNumber {
                        number: phone,
                        whisper_url: Some(urls.supervisor_whisper(id)),
                        status_callback: None,
                    }],
                })));
        }
    }
    if step <= 2
        && let Some(number) = call.fallback_number()
    {
        contacts::set_stage(&state.db, id, Stage::Fallback).await?;
        contacts::record_event(&state.db, id, Event::once(now, "fallback_number")).await?;
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
    contacts::set_stage(&state.db, id, Stage::Voicemail).await?;
    contacts::record_event(&state.db, id, Event::once(now, "voicemail_offered")).await?;
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
    contact_id: i32,
    step: i32,
    result: DialResult<'_>,
) -> Result<Option<VoiceResponse>, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    // Step 2 follows the supervisor; step 3 follows the fallback number.
    let supervisor_took_it =
        call.contact.outcome.as_deref() == Some(Outcome::OnCallSupervisor.as_str());
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
        contacts::set_outcome(&state.db, contact_id, Outcome::FallbackNumber).await?;
        end_call(state, &call, Outcome::FallbackNumber, None, now).await?;
        return Ok(Some(call.goodbye()));
    }
    if result.caller_gone() {
        end_call(state, &call, Outcome::Abandoned, None, now).await?;
        return Ok(Some(VoiceResponse::new()));
    }
    Ok(Some(fallback_step(state, &call, step).await?))
}

/// Fetches an offer with its call, for the volunteer-leg callbacks.
async fn offer_and_call(
    state: &AppState,
    offer_id: i32,
) -> Result<Option<(offer::Model, Call)>, DbErr> {
    let Some(offer) = contacts::offer(&state.db, offer_id).await? else {
        return Ok(None);
    };
    let Some(call) = Call::load(state, offer.contact_id).await? else {
        return Ok(None);
    };
    Ok(Some((offer, call)))
}

/// The volunteer picked up: ask them to accept before they are put through, so that their
/// voicemail can never take the call.
pub async fn whisper(
    state: &AppState,
    offer_id: i32,
    leg_sid: Option<&str>,
) -> Result<VoiceResponse, DbErr> {
    let Some((offer, call)) = offer_and_call(state, offer_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    if let Some(leg) = leg_sid {
        contacts::set_offer_leg(&state.db, offer.id, leg).await?;
    }
    let now = state.clock.now();
    let event = Event::once(now, "picked_up")
        .keyed(format!("picked_up:{}", offer.id))
        .volunteer(offer.volunteer_id);
    contacts::record_event(&state.db, call.contact.id, event).await?;
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

/// The volunteer's key press after the whisper: 1 bridges the call, anything else (or
/// nothing) declines it and the caller's `<Dial>` moves on.
pub async fn whisper_answer(
    state: &AppState,
    offer_id: i32,
    digits: &str,
) -> Result<VoiceResponse, DbErr> {
    let Some((offer, call)) = offer_and_call(state, offer_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    let now = state.clock.now();
    let id = call.contact.id;
    if digits.trim() == "1" {
        let tier = Tier::parse(&offer.tier);
        if contacts::mark_answered(
            &state.db,
            &call.contact,
            Some(offer.volunteer_id),
            Outcome::Answered,
            tier,
            now,
        )
        .await?
        {
            contacts::settle_offer(&state.db, offer.id, OfferOutcome::Accepted, now).await?;
            reservations::connect(
                &state.db,
                offer.volunteer_id,
                id,
                now + CONNECTED_RESERVATION,
            )
            .await?;
            let event = Event::once(now, "answered")
                .volunteer(offer.volunteer_id)
                .detail(json!({"tier": offer.tier, "offer_id": offer.id}));
            contacts::record_event(&state.db, id, event).await?;
            return Ok(VoiceResponse::new());
        }
        contacts::settle_offer(&state.db, offer.id, OfferOutcome::Canceled, now).await?;
        reservations::release(&state.db, offer.volunteer_id, id).await?;
        return Ok(VoiceResponse::new()
            .push(call.say(prompts::ANSWERED_ELSEWHERE))
            .push(Verb::Hangup));
    }
    if contacts::settle_offer(&state.db, offer.id, OfferOutcome::Declined, now).await? {
        let event = Event::once(now, "offer_declined")
            .keyed(format!("offer_outcome:{}", offer.id))
            .volunteer(offer.volunteer_id)
            .detail(json!({"digits": digits}));
        contacts::record_event(&state.db, id, event).await?;
    }
    reservations::release(&state.db, offer.volunteer_id, id).await?;
    Ok(VoiceResponse::new().push(Verb::Hangup))
}

/// The on-call supervisor picked up.
pub async fn supervisor_whisper(state: &AppState, contact_id: i32) -> Result<VoiceResponse, DbErr> {
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
    contact_id: i32,
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
            Event::once(now, "answered_by_on_call"),
        )
        .await?;
        return Ok(VoiceResponse::new());
    }
    contacts::record_event(
        &state.db,
        contact_id,
        Event::once(now, "on_call_declined").detail(json!({"digits": digits})),
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
    contact_id: i32,
    recording: Recording<'_>,
) -> Result<VoiceResponse, DbErr> {
    let Some(call) = Call::load(state, contact_id).await? else {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    };
    let now = state.clock.now();
    save_recording(state, contact_id, &recording).await?;
    let outcome = if recording.duration_secs.unwrap_or(1) > 0 && recording.url.is_some() {
        Outcome::Voicemail
    } else {
        Outcome::Abandoned
    };
    contacts::set_outcome(&state.db, contact_id, outcome).await?;
    end_call(state, &call, outcome, None, now).await?;
    Ok(VoiceResponse::new()
        .push(call.say(prompts::MESSAGE_SAVED))
        .push(Verb::Hangup))
}

pub async fn save_recording(
    state: &AppState,
    contact_id: i32,
    recording: &Recording<'_>,
) -> Result<(), DbErr> {
    if let (Some(sid), Some(url)) = (recording.sid, recording.url) {
        contacts::save_recording(&state.db, contact_id, sid, url, recording.duration_secs).await?;
        let event = Event::once(state.clock.now(), "voicemail_recorded")
            .keyed(format!("recording:{sid}"))
            .detail(json!({"recording_sid": sid, "duration_secs": recording.duration_secs}));
        contacts::record_event(&state.db, contact_id, event).await?;
    }
    Ok(())
}

/// A status callback for the caller's own call.
pub async fn call_status(
    state: &AppState,
    call_sid: &str,
    status: &str,
    duration: Option<i32>,
) -> Result<(), DbErr> {
    let Some(contact) = contacts::by_sid(&state.db, call_sid).await? else {
        return Ok(());
    };
    let now = state.clock.now();
    let event = Event::once(now, "call_status")
        .keyed(format!("status:{status}"))
        .detail(json!({"status": status, "duration_secs": duration}));
    contacts::record_event(&state.db, contact.id, event).await?;
    if !is_final(status) {
        return Ok(());
    }
    let Some(call) = Call::load(state, contact.id).await? else {
        return Ok(());
    };
    for offer in contacts::offers(&state.db, contact.id).await? {
        contacts::settle_offer(&state.db, offer.id, OfferOutcome::Canceled, now).await?;
        contacts::end_offer(&state.db, offer.id, now).await?;
    }
    end_call(state, &call, Outcome::Abandoned, None, now).await
}

/// A status callback for a volunteer's leg.
pub async fn leg_status(
    state: &AppState,
    offer_id: i32,
    status: &str,
    duration: Option<i32>,
) -> Result<(), DbErr> {
    let Some(offer) = contacts::offer(&state.db, offer_id).await? else {
        return Ok(());
    };
    let now = state.clock.now();
    let event = Event::once(now, "leg_status")
        .keyed(format!("leg:{}:{status}", offer.id))
        .volunteer(offer.volunteer_id)
        .detail(json!({"status": status, "duration_secs": duration}));
    contacts::record_event(&state.db, offer.contact_id, event).await?;
    if !is_final(status) {
        return Ok(());
    }
    let outcome = match status {
        "busy" => OfferOutcome::Busy,
        "failed" => OfferOutcome::Failed,
        "canceled" => OfferOutcome::Canceled,
        "no-answer" => OfferOutcome::NoAnswer,
        // Picked up but never accepted.
        _ => OfferOutcome::Declined,
    };
    contacts::settle_offer(&state.db, offer.id, outcome, now).await?;
    contacts::end_offer(&state.db, offer.id, now).await?;
    // The volunteer is free again as soon as their own phone hangs up.
    reservations::release(&state.db, offer.volunteer_id, offer.contact_id).await
}

fn is_final(status: &str) -> bool {
    matches!(
        status,
        "completed" | "busy" | "failed" | "no-answer" | "canceled"
    )
}
