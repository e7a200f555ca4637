//! Callbacks on their way: a waiting callback is assigned a volunteer by the router's own
//! rules (first requested first), the volunteer's phone is rung from the helpline number
//! through Twilio's REST API, and a callback that expired, or whose step never heard back,
//! is given up or taken up again. Each move is a conditional update, so on several
//! servers each callback is assigned, rung and given up once.

use super::*;
use crate::domain::callback::CallbackState;
use crate::domain::ids::{HelplineId, OfferId, TopicId};
use crate::domain::routing::Tier;
use crate::storage::callbacks::{self, Move};
use crate::storage::entities::callback;
use crate::storage::outbox::{self, NewMessage};
use crate::telephony::rest::{OutboundCall, TwilioClient};
use crate::voice::waiting_prompts;

/// Most callbacks one pass takes up at each step.
const BATCH: u64 = 20;
/// How long a callback waits after its volunteer's phone could not be rung.
const RING_FAILED_PAUSE: Duration = Duration::seconds(30);
/// How long the caller's phone rings when a volunteer calls them back.
pub(super) const CALLER_RING_SECS: u32 = 30;
/// How long dialling the caller may take before it counts as unanswered.
pub(super) const DIALLING_CLAIM: Duration = Duration::minutes(3);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CallbackPass {
    /// Volunteers' phones rung.
    pub rung: usize,
    /// Callbacks given up because their time ran out.
    pub expired: usize,
    /// Steps that never heard back, taken up again.
    pub recovered: usize,
}

/// One pass over the callbacks: give up the expired, take up the stalled, assign
/// volunteers to those due and ring them.
pub async fn run_callbacks(state: &AppState, client: &TwilioClient) -> Result<CallbackPass, DbErr> {
    let now = state.clock.now();
    let mut pass = CallbackPass::default();
    for expired in callbacks::expired(&state.db, now, BATCH).await? {
        if give_up(
            state,
            &expired,
            "nobody was free before the callback expired",
        )
        .await?
        {
            pass.expired += 1;
        }
    }
    for stalled in callbacks::stalled(&state.db, now, BATCH).await? {
        if take_up_stalled(state, &stalled).await? {
            pass.recovered += 1;
        }
    }
    // First requested, first served: once a callback waits for someone to free up, no
    // later one for the same topic (or, behind one for any topic, no later one at all)
    // takes a volunteer who came free meanwhile.
    // Read the clock again, so that a callback taken up again above is due in this pass.
    let mut waiting_topics: Vec<Option<TopicId>> = Vec::new();
    for due in callbacks::due(&state.db, state.clock.now(), BATCH).await? {
        let behind = waiting_topics
            .iter()
            .any(|topic| topic.is_none() || *topic == due.topic_id);
        if !behind && assign(state, &due).await? == Assignment::Waits {
            waiting_topics.push(due.topic_id);
        }
    }
    for assigned in callbacks::assigned(&state.db, BATCH).await? {
        if ring_volunteer(state, client, &assigned).await? {
            pass.rung += 1;
        }
    }
    Ok(pass)
}

/// Assigns waiting callbacks requested before a live caller arrived, so that the live
/// caller does not take the volunteer they were waiting for.
pub(super) async fn assign_earlier_callbacks(
    state: &AppState,
    helpline_id: HelplineId,
    arrived_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let now = state.clock.now();
    let earlier = callbacks::waiting_before(&state.db, helpline_id, arrived_at, now).await?;
    let mut assigned_any = false;
    for waiting in earlier.iter().take(3) {
        assigned_any |= assign(state, waiting).await? == Assignment::Assigned;
    }
    if assigned_any {
        state.callbacks_wake.notify_one();
    }
    Ok(())
}

/// What became of a waiting callback in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assignment {
    /// A volunteer is reserved for it.
    Assigned,
    /// Nobody is free, but someone who could take it may free up: it keeps its place.
    Waits,
    /// Nobody on shift now could take it (or another server is on it): it holds up no one.
    Skipped,
}

/// Reserves the volunteer the router puts first for a waiting callback and records the
/// offer. The phone is rung by [`ring_volunteer`].
async fn assign(state: &AppState, waiting: &callback::Model) -> Result<Assignment, DbErr> {
    let Some(call) = Call::load(state, waiting.contact_id).await? else {
        return Ok(Assignment::Skipped);
    };
    if call.contact.ended_at.is_some() || call.contact.answered_at.is_some() {
        return Ok(Assignment::Skipped);
    }
    let now = state.clock.now();
    let contact_id = call.contact.id;
    let mut inputs = RoutingInputs::load(
        &state.db,
        state,
        &Routed::contact(state, &call.contact),
        &call.settings.routing,
        Channel::Voice,
        now,
    )
    .await?;
    // Tried for this callback: those who let it ring or turned it down. The volunteer
    // who called the caller before may try again.
    inputs.already_tried = contacts::offers(&state.db, contact_id)
        .await?
        .into_iter()
        .filter(|o| o.offered_at >= waiting.requested_at)
        .filter(|o| o.outcome != Some(OfferOutcome::Accepted))
        .map(|o| o.volunteer_id)
        .collect();
    let plan = plan_call(call.choice(), &inputs, now);
    // A call a volunteer returned rings them, on shift or not (they asked to make this
    // call), as soon as no other call holds them; it holds up no other callback.
    let (candidates, if_none_free) = match waiting.for_volunteer {
        Some(volunteer_id) => {
            let tier = plan
                .offers
                .iter()
                .find(|o| o.volunteer_id == volunteer_id)
                .map_or(Tier::AnyTopic, |o| o.tier);
            (vec![(volunteer_id, tier)], Assignment::Skipped)
        }
        None if plan.offers.is_empty() => {
            return Ok(if plan.worth_waiting() {
                Assignment::Waits
            } else {
                Assignment::Skipped
            });
        }
        // Every volunteer the plan names may be taken by another call a moment before.
        None => (
            plan.offers
                .iter()
                .map(|o| (o.volunteer_id, o.tier))
                .collect(),
            Assignment::Waits,
        ),
    };
    let round = call.contact.round + 1;
    let ring_secs = call.settings.routing.ring_timeout_secs;
    let claim = now + Duration::seconds(ring_secs.into()) + WHISPER_GRACE;
    let txn = storage::write_transaction(&state.db).await?;
    if !contacts::claim_round(
        &txn,
        contact_id,
        RoundClaim::to(round, Stage::Callback),
        now,
    )
    .await?
    {
        txn.rollback().await?;
        return Ok(Assignment::Skipped);
    }
    let mut chosen = None;
    for (volunteer_id, tier) in candidates {
        if reservations::reserve(&txn, volunteer_id, contact_id, claim, now).await? {
            chosen = Some((volunteer_id, tier));
            break;
        }
    }
    let Some((volunteer_id, tier)) = chosen else {
        txn.rollback().await?;
        return Ok(if_none_free);
    };
    let offer = contacts::create_offer(&txn, contact_id, volunteer_id, round, tier, now).await?;
    let assigned = Move::new(&[CallbackState::Waiting], CallbackState::Assigned)
        .set_offer(Some(offer.id))
        .claimed_until(Some(claim))
        .make(&txn, waiting.id, now)
        .await?;
    if !assigned {
        txn.rollback().await?;
        return Ok(Assignment::Skipped);
    }
    let trace = Event::once(now, EventKind::Routed)
        .keyed(format!("route:{round}"))
        .detail(plan.trace(round));
    contacts::record_event(&txn, contact_id, trace).await?;
    let offered = Event::once(now, EventKind::Offered)
        .keyed(format!("offer:{}", offer.id))
        .volunteer(volunteer_id)
        .detail(json!({"round": round, "tier": tier, "callback_id": waiting.id}));
    contacts::record_event(&txn, contact_id, offered).await?;
    txn.commit().await?;
    Ok(Assignment::Assigned)
}

/// Rings the volunteer assigned to a callback, from the helpline number; true when
/// Twilio took the call. A call Twilio refused, or may not have placed, puts the callback
/// back to wait a little; if the phone rings after all, the volunteer hears it was taken.
async fn ring_volunteer(
    state: &AppState,
    client: &TwilioClient,
    assigned: &callback::Model,
) -> Result<bool, DbErr> {
    let Some(offer_id) = assigned.offer_id else {
        return Ok(false);
    };
    let Some((offer, call)) = super::whisper::offer_and_call(state, offer_id).await? else {
        return Ok(false);
    };
    let now = state.clock.now();
    let ring_secs = call.settings.routing.ring_timeout_secs;
    let claim = now + Duration::seconds(ring_secs.into()) + WHISPER_GRACE;
    let ringing = Move::new(&[CallbackState::Assigned], CallbackState::RingingVolunteer)
        .about_offer(offer_id)
        .first_ring()
        .claimed_until(Some(claim))
        .make(&state.db, assigned.id, now)
        .await?;
    if !ringing {
        return Ok(false);
    }
    let phone = volunteers::get(&state.db, &Scope::All, offer.volunteer_id)
        .await?
        .map(|v| volunteers::phone_of(&state.vault, &v).map(|p| p.to_string()))
        .transpose()?;
    let urls = urls(state);
    let result = match &phone {
        Some(phone) => client
            .place_call(&OutboundCall {
                to: phone,
                from: &call.contact.dialed_number,
                url: &urls.callback_volunteer(offer_id),
                status_callback: &urls.callback_status(offer_id),
                ring_secs: u32::try_from(ring_secs).unwrap_or(20),
            })
            .await
            .map_err(|e| e.to_string()),
        None => Err("the volunteer no longer exists".to_owned()),
    };
    let error = match result {
        Ok(placed) => {
            contacts::set_offer_leg(&state.db, offer_id, &placed.sid).await?;
            return Ok(true);
        }
        Err(error) => error,
    };
    tracing::warn!(callback = assigned.id, %error, "a volunteer's phone could not be rung for a callback");
    let now = state.clock.now();
    if contacts::settle_offer(&state.db, offer_id, OfferOutcome::Failed, now).await? {
        let event = Event::once(now, EventKind::OfferMissed)
            .keyed(format!("offer_outcome:{offer_id}"))
            .volunteer(offer.volunteer_id)
            .detail(json!({"outcome": OfferOutcome::Failed.as_str(), "reason": error}));
        contacts::record_event(&state.db, call.contact.id, event).await?;
    }
    reservations::release(&state.db, offer.volunteer_id, call.contact.id).await?;
    back_to_waiting(state, offer_id, &[CallbackState::RingingVolunteer])
        .due_at(now + RING_FAILED_PAUSE)
        .make(&state.db, assigned.id, now)
        .await?;
    Ok(false)
}

/// The move that puts a callback about `offer_id` back to wait for a volunteer, due now.
pub(super) fn back_to_waiting(state: &AppState, offer_id: OfferId, from: &[CallbackState]) -> Move {
    Move::new(from, CallbackState::Waiting)
        .about_offer(offer_id)
        .set_offer(None)
        .claimed_until(None)
        .due_at(state.clock.now())
}

/// A step that never heard back: a volunteer's phone whose end was never reported goes
/// back to waiting; a caller's phone whose dial never ended counts as unanswered.
async fn take_up_stalled(state: &AppState, stalled: &callback::Model) -> Result<bool, DbErr> {
    let Some(offer_id) = stalled.offer_id else {
        return Ok(false);
    };
    let Some((offer, call)) = super::whisper::offer_and_call(state, offer_id).await? else {
        return Ok(false);
    };
    let now = state.clock.now();
    if stalled.state == CallbackState::CallingCaller {
        super::callback_legs::caller_unreached(state, &call, stalled, &offer).await?;
        return Ok(true);
    }
    let from = [CallbackState::Assigned, CallbackState::RingingVolunteer];
    let moved = back_to_waiting(state, offer_id, &from)
        .make(&state.db, stalled.id, now)
        .await?;
    if moved {
        contacts::settle_offer(&state.db, offer_id, OfferOutcome::NoAnswer, now).await?;
        contacts::end_offer(&state.db, offer_id, now).await?;
        reservations::release(&state.db, offer.volunteer_id, call.contact.id).await?;
    }
    Ok(moved)
}

/// Gives the callback up (`why`): the contact ends as `callback_failed`, the on-call
/// supervisors are alerted as for any unanswered call, and the caller gets a text saying
/// we tried, if they said texts are safe. True for the one server that gave it up.
pub(super) async fn give_up(
    state: &AppState,
    callback: &callback::Model,
    why: &str,
) -> Result<bool, DbErr> {
    let Some(call) = Call::load(state, callback.contact_id).await? else {
        return Ok(false);
    };
    let now = state.clock.now();
    let open = [
        CallbackState::Waiting,
        CallbackState::Assigned,
        CallbackState::RingingVolunteer,
        CallbackState::CallingCaller,
    ];
    let txn = storage::write_transaction(&state.db).await?;
    let gave_up = Move::new(&open, CallbackState::Failed)
        .claimed_until(None)
        .ended_at(now)
        .make(&txn, callback.id, now)
        .await?;
    if !gave_up {
        txn.rollback().await?;
        return Ok(false);
    }
    let texted = callback.texts_ok && call.contact.caller_encrypted.is_some();
    let event = Event::once(now, EventKind::CallbackFailed).detail(
        json!({"reason": why, "caller_attempts": callback.caller_attempts, "texted": texted}),
    );
    contacts::record_event(&txn, call.contact.id, event).await?;
    if let (true, Some(sealed)) = (callback.texts_ok, &call.contact.caller_encrypted) {
        let number = &call.contact.dialed_number;
        let message = NewMessage {
            contact_id: Some(call.contact.id),
            purpose: "callback_missed",
            to_sealed: sealed.clone(),
            to_hint: call.contact.caller_hint.clone(),
            to_hash: call.contact.caller_hash.clone(),
            from: number.clone(),
            body: waiting_prompts::missed_callback_text(&call.helpline.name, number),
        };
        outbox::enqueue(&txn, &state.vault, message, now).await?;
    }
    end_call_in(&txn, state, &call, Outcome::CallbackFailed, None, now).await?;
    txn.commit().await?;
    Ok(true)
}
