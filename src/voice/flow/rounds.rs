//! Rounds of offers: plan, reserve, ring; hold while someone may free up; the dial outcome.

use super::fallback::fallback_step;
use super::holding::hold;
use super::*;
use sea_orm::DatabaseTransaction;

use crate::domain::ids::{ContactId, OfferId};

/// One round of offers: claim the round, plan, reserve volunteers, ring them. When nobody
/// can be rung: hold if someone may free up before the caller's wait is spent, else the
/// fallback path.
pub async fn route_round(
    state: &AppState,
    contact_id: ContactId,
    round: i32,
) -> Result<VoiceResponse, DbErr> {
    match Call::load(state, contact_id).await? {
        Some(call) => route_loaded(state, call, round).await,
        None => Ok(VoiceResponse::new().push(Verb::Hangup)),
    }
}

/// [`route_round`] for a call the caller already loaded.
pub(super) async fn route_loaded(
    state: &AppState,
    call: Call,
    round: i32,
) -> Result<VoiceResponse, DbErr> {
    if call.is_past_routing() {
        return Ok(VoiceResponse::new().push(Verb::Hangup));
    }
    if call.contact.round >= round {
        return replay_round(state, &call, round).await;
    }
    let now = state.clock.now();
    // The caller's wait is counted from the first round, so only a later one finds it spent.
    if round > 1 && now >= call.contact.route_deadline {
        let contact_id = call.contact.id;
        let claim = RoundClaim::to(round, Stage::Fallback);
        if !contacts::claim_round(&state.db, contact_id, claim, now).await? {
            return replay_round(state, &call, round).await;
        }
        return fallback_step(state, &call, 1).await;
    }
    let prepared = prepare_call_round(state, &call, now).await?;
    let txn = storage::write_transaction(&state.db).await?;
    write_round(state, txn, call, round, prepared).await
}

/// When the caller's wait for a volunteer ends if their first round starts at `now`: the
/// wait is counted from the first round, not from the greeting and menus.
pub(super) fn first_round_deadline(
    settings: &HelplineSettings,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    now + Duration::seconds(settings.routing.max_wait_secs.into())
}

/// What a round read and decided before its transaction: the roster, who is engaged,
/// the caller's conflicts and past, and the plan made from them. They are read with no
/// transaction open, so no lock is held while they are.
pub(super) struct Prepared {
    inputs: RoutingInputs,
    plan: routing::Plan,
    at: DateTime<Utc>,
}

/// Reads and plans a round at `now` for `routed`, a caller who arrived at `arrived_at` and
/// chose `choice`. First, callers waiting for a callback since before this caller arrived
/// are given their volunteers.
pub(super) async fn prepare_round(
    state: &AppState,
    routed: &Routed,
    settings: &HelplineSettings,
    choice: Choice<'_>,
    arrived_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Prepared, DbErr> {
    let helpline_id = routed.helpline_id;
    super::callback_dispatch::assign_earlier_callbacks(state, helpline_id, arrived_at).await?;
    let inputs = RoutingInputs::load(
        &state.db,
        state,
        routed,
        &settings.routing,
        Channel::Voice,
        now,
    )
    .await?;
    let plan = plan_call(choice, &inputs, now);
    Ok(Prepared {
        inputs,
        plan,
        at: now,
    })
}

/// [`prepare_round`] for a call whose contact is written.
pub(super) async fn prepare_call_round(
    state: &AppState,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<Prepared, DbErr> {
    let routed = Routed::contact(state, &call.contact);
    let arrived_at = call.contact.received_at;
    prepare_round(
        state,
        &routed,
        &call.settings,
        call.choice(),
        arrived_at,
        now,
    )
    .await
}

/// Writes a prepared round within `txn`, which may already hold what led to it (a new
/// call's contact, a menu choice): claims the round, reserves and offers volunteers,
/// records the trace and the stage, and commits all of it together. Only the delivery
/// that claims the round writes it; another gets the round as it was decided.
pub(super) async fn write_round(
    state: &AppState,
    txn: DatabaseTransaction,
    mut call: Call,
    round: i32,
    prepared: Prepared,
) -> Result<VoiceResponse, DbErr> {
    let Prepared {
        inputs,
        plan,
        at: now,
    } = prepared;
    let contact_id = call.contact.id;
    let deadline = (round == 1).then(|| first_round_deadline(&call.settings, now));
    if let Some(deadline) = deadline {
        call.contact.route_deadline = deadline;
    }
    let remaining = (call.contact.route_deadline - now).num_seconds().max(0);
    // Who hears what when nobody could be rung: held while someone may free up (or was
    // just taken by another caller) and the wait allows it, otherwise the fallback.
    let stage_unrung = |lost_race: bool| {
        if (plan.worth_waiting() || lost_race) && remaining > i64::from(HOLD_SECS) {
            Stage::Holding
        } else {
            Stage::Fallback
        }
    };
    // The stage the round most likely ends in, written with the claim; written again
    // only if every volunteer it would ring was taken by another caller meanwhile.
    let expected = if plan.offers.is_empty() {
        stage_unrung(false)
    } else {
        Stage::Ringing
    };
    let claim = RoundClaim {
        round,
        stage: expected,
        route_deadline: deadline,
        peer_match_free: Some(plan.peer_match_free()),
    };
    if !contacts::claim_round(&txn, contact_id, claim, now).await? {
        // Whatever led here is kept; the round is another delivery's.
        txn.commit().await?;
        return replay_round(state, &call, round).await;
    }
    let ring_secs = ring_secs_at(&call, now);
    let expires = now + Duration::seconds(ring_secs) + WHISPER_GRACE;
    let group = usize::try_from(call.settings.routing.ring_group_size).unwrap_or(1);
    // The trace first: it is the round's largest write, and no volunteer is held while
    // it is written.
    let event = Event::once(now, EventKind::Routed)
        .keyed(format!("route:{round}"))
        .detail(plan.trace(round));
    contacts::record_event(&txn, contact_id, event).await?;
    let mut rung = Vec::new();
    let mut lost_race = false;
    for candidate in &plan.offers {
        if rung.len() >= group {
            break;
        }
        if reservations::reserve(&txn, candidate.volunteer_id, contact_id, expires, now).await? {
            let offer = contacts::create_offer(
                &txn,
                contact_id,
                candidate.volunteer_id,
                round,
                candidate.tier,
                now,
            )
            .await?;
            // The phone comes from the cached roster: no query on the way to ringing.
            let phone = inputs
                .member(offer.volunteer_id)
                .map(|m| m.open_phone(&state.vault))
                .transpose()?
                .map(|phone| phone.to_string());
            rung.push((offer, phone));
        } else {
            lost_race = true;
        }
    }
    for (offer, _) in &rung {
        let event = Event::once(now, EventKind::Offered)
            .keyed(format!("offer:{}", offer.id))
            .volunteer(offer.volunteer_id)
            .detail(json!({"round": round, "tier": offer.tier}));
        contacts::record_event(&txn, contact_id, event).await?;
    }
    let stage = if rung.is_empty() {
        stage_unrung(lost_race)
    } else {
        Stage::Ringing
    };
    if stage != expected {
        contacts::set_stage(&txn, contact_id, stage, now).await?;
    }
    txn.commit().await?;
    match stage {
        Stage::Ringing => {
            let phones: Vec<(OfferId, String)> = rung
                .into_iter()
                .filter_map(|(offer, phone)| Some((offer.id, phone?)))
                .collect();
            Ok(dial_offers(state, &call, round, &phones, ring_secs))
        }
        Stage::Holding => hold(state, &call, round + 1).await,
        _ => fallback_step(state, &call, 1).await,
    }
}

/// How long a round started at `at` rings: the helpline's ring time, cut to what is left
/// of the caller's wait, and never under 5 seconds.
fn ring_secs_at(call: &Call, at: DateTime<Utc>) -> i64 {
    let remaining = (call.contact.route_deadline - at).num_seconds().max(0);
    i64::from(call.settings.routing.ring_timeout_secs)
        .min(remaining)
        .max(5)
}

/// The same answer for a repeated delivery of a round that was already decided: the
/// round is read again (the delivery that decided it may have committed only after this
/// one loaded the call), and the `<Dial>` or the hold is rebuilt as it was first given.
async fn replay_round(state: &AppState, call: &Call, round: i32) -> Result<VoiceResponse, DbErr> {
    let call = Call {
        contact: contacts::get(&state.db, call.contact.id)
            .await?
            .unwrap_or_else(|| call.contact.clone()),
        helpline: call.helpline.clone(),
        settings: call.settings.clone(),
        topics: call.topics.clone(),
    };
    let rung: Vec<offer::Model> = contacts::offers(&state.db, call.contact.id)
        .await?
        .into_iter()
        .filter(|o| o.round == round)
        .collect();
    if let Some(decided_at) = rung.iter().map(|o| o.offered_at).min()
        && call.contact.round == round
    {
        let mut phones = Vec::with_capacity(rung.len());
        for offer in &rung {
            if let Some(v) = volunteers::get(&state.db, &Scope::All, offer.volunteer_id).await? {
                phones.push((
                    offer.id,
                    volunteers::phone_of(&state.vault, &v)?.to_string(),
                ));
            }
        }
        let ring_secs = ring_secs_at(&call, decided_at);
        return Ok(dial_offers(state, &call, round, &phones, ring_secs));
    }
    // A hold (as first given), or a round still being decided: look again shortly.
    hold(state, &call, call.contact.round + 1).await
}

/// The `<Dial>` that rings the round's volunteers: `(offer id, phone)` each.
fn dial_offers(
    state: &AppState,
    call: &Call,
    round: i32,
    phones: &[(OfferId, String)],
    ring_secs: i64,
) -> VoiceResponse {
    let urls = urls(state);
    let numbers = phones
        .iter()
        .map(|(offer_id, phone)| DialNumber {
            number: phone.clone(),
            whisper_url: Some(urls.whisper(*offer_id)),
            status_callback: Some(urls.leg(*offer_id)),
        })
        .collect();
    VoiceResponse::new().push(Verb::Dial(Dial {
        action: Some(urls.dial(call.contact.id, round)),
        timeout_secs: u32::try_from(ring_secs).unwrap_or(20),
        caller_id: call.contact.dialed_number.clone(),
        numbers,
    }))
}

/// What Twilio reports when a `<Dial>` ends.
pub struct DialResult<'a> {
    pub dial_status: Option<&'a str>,
    pub dial_duration: Option<i32>,
    /// The caller's own call status: `completed` when they hung up.
    pub call_status: Option<&'a str>,
}

impl DialResult<'_> {
    pub(super) fn caller_gone(&self) -> bool {
        matches!(self.call_status, Some("completed" | "canceled" | "failed"))
    }

    pub(super) fn connected(&self) -> bool {
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
    contact_id: ContactId,
    round: i32,
    result: DialResult<'_>,
) -> Result<Option<VoiceResponse>, DbErr> {
    let Some(read) = contacts::with_offers(&state.db, contact_id).await? else {
        return Ok(None);
    };
    let (contact, offers) = read.value;
    let Some(call) = Call::at_version(state, contact, read.directory_version).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let round_offers: Vec<offer::Model> = offers.into_iter().filter(|o| o.round == round).collect();
    let answered_here = call
        .contact
        .answered_by
        .is_some_and(|v| round_offers.iter().any(|o| o.volunteer_id == v));
    let ends = if answered_here {
        Some((Outcome::Answered, result.dial_duration))
    } else if result.caller_gone() {
        Some((Outcome::Abandoned, None))
    } else {
        None
    };
    // The round's offers settle, and the call ends if it does, in one commit.
    let txn = storage::write_transaction(&state.db).await?;
    for offer in &round_offers {
        if Some(offer.volunteer_id) == call.contact.answered_by {
            contacts::end_offer(&txn, offer.id, now).await?;
        } else if contacts::settle_offer(&txn, offer.id, result.offer_outcome(), now).await? {
            let event = Event::once(now, EventKind::OfferMissed)
                .keyed(format!("offer_outcome:{}", offer.id))
                .volunteer(offer.volunteer_id)
                .detail(json!({"outcome": result.offer_outcome().as_str()}));
            contacts::record_event(&txn, contact_id, event).await?;
        }
        // A call that ends frees all its volunteers at once, below.
        if ends.is_none() {
            reservations::release(&txn, offer.volunteer_id, contact_id).await?;
        }
    }
    if let Some((outcome, talk_secs)) = ends {
        end_call_in(&txn, state, &call, outcome, talk_secs, now).await?;
    }
    txn.commit().await?;
    if ends.is_none() {
        return Ok(Some(route_loaded(state, call, round + 1).await?));
    }
    after_call_ended(state);
    if !answered_here {
        return Ok(Some(VoiceResponse::new()));
    }
    // The volunteer hung up and the caller is still there: the helpline may ask them how
    // it went.
    let survey = (!result.caller_gone())
        .then(|| super::survey::first_question(state, &call))
        .flatten();
    Ok(Some(survey.unwrap_or_else(|| call.goodbye())))
}
