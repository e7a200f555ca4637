//! Offering a conversation to the next volunteer: one at a time, by the same routing
//! decision as calls, on the text channel; or, with nobody to offer it to, holding it
//! until someone is.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseTransaction, DbErr};
use serde_json::json;

use super::{Conversation, HOLDING, OFFER, RELAY_TO_VOLUNTEER, VolunteerPhone, wording};
use crate::contact_flow::candidates::{Routed, RoutingInputs};
use crate::domain::rota::Channel;
use crate::domain::routing::{RoutingRequest, TopicChoice};
use crate::state::AppState;
use crate::storage::contacts::{self, Event, EventKind, RoundClaim, Stage};
use crate::storage::{conversations, messages, opt_outs, text_slots};

/// How soon a held conversation is looked at again.
const HOLD_RECHECK: Duration = Duration::seconds(30);
/// The most of a texter's earlier messages a newly offered volunteer is sent.
const BACKLOG: u64 = 10;

/// Offers the conversation to the next eligible volunteer with a free text slot, sending
/// them the offer and the texter's messages so far; with nobody, holds it (telling the
/// texter the first time). Writes in `txn`; false when another server already moved the
/// conversation on.
pub(super) async fn offer_next(
    state: &AppState,
    txn: &DatabaseTransaction,
    conversation: &Conversation,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let contact = &conversation.contact;
    // Read through the transaction: a second pooled connection could be waiting for it.
    let inputs = RoutingInputs::load(
        txn,
        state,
        &Routed::contact(state, contact),
        &conversation.settings.routing,
        Channel::Sms,
        now,
    )
    .await?;
    let topic = contact.topic_id.and_then(|id| {
        let t = conversation.topics.iter().find(|t| t.id == id)?;
        Some(TopicChoice {
            topic_id: t.id,
            strict: t.strict,
        })
    });
    let request = RoutingRequest {
        at: now,
        channel: Channel::Sms,
        topic,
        language: contact.language.as_deref(),
        continuity: inputs.continuity,
        conflicted: &inputs.conflicted,
        already_tried: &inputs.already_tried,
    };
    let plan = inputs.plan(&request);
    let round = contact.round + 1;
    let claim = RoundClaim {
        peer_match_free: Some(plan.peer_match_free()),
        ..RoundClaim::to(round, Stage::Routing)
    };
    if !contacts::claim_round(txn, contact.id, claim, now).await? {
        return Ok(false);
    }
    let event = Event::once(now, EventKind::Routed)
        .keyed(format!("route:{round}"))
        .detail(plan.trace(round));
    contacts::record_event(txn, contact.id, event).await?;
    for candidate in &plan.offers {
        let Some(member) = inputs.member(candidate.volunteer_id) else {
            continue;
        };
        // A phone the carrier has opted out of this number's messages cannot be offered
        // a conversation: every message to it would be refused.
        let phone = member.open_phone(&state.vault)?;
        if opt_outs::is_opted_out(txn, &state.vault.hashes(&phone), &contact.dialed_number).await? {
            continue;
        }
        let capacity = member.profile.limits.capacity(Channel::Sms);
        if !text_slots::take(txn, candidate.volunteer_id, contact.id, capacity, now).await? {
            continue;
        }
        let offer = contacts::create_offer(
            txn,
            contact.id,
            candidate.volunteer_id,
            round,
            candidate.tier,
            now,
        )
        .await?;
        let event = Event::once(now, EventKind::Offered)
            .keyed(format!("offer:{}", offer.id))
            .volunteer(offer.volunteer_id)
            .detail(json!({"round": round, "tier": offer.tier}));
        contacts::record_event(txn, contact.id, event).await?;
        let timeout = Duration::seconds(conversation.settings.texting.offer_timeout_secs.into());
        conversations::set_step(txn, contact.id, Stage::Offered, now + timeout, now).await?;
        let to = VolunteerPhone {
            volunteer_id: offer.volunteer_id,
            phone,
        };
        let reference = conversation.reference();
        let notice = wording::offer(
            reference,
            &conversation.helpline.name,
            conversation.topic_label(),
        );
        conversation
            .write_to_volunteer(state, txn, &to, OFFER, notice, now)
            .await?;
        for earlier in messages::texter_conversation(txn, contact.id, BACKLOG).await? {
            let body = messages::body_of(&state.vault, &earlier);
            let text = wording::relayed_to_volunteer(reference, &body, earlier.media_count);
            let relay = RELAY_TO_VOLUNTEER;
            let queued = conversation
                .tell_volunteer(state, txn, &to, relay, text, now)
                .await?;
            messages::mark_relayed(txn, earlier.id, queued).await?;
        }
        return Ok(true);
    }
    conversations::set_step(txn, contact.id, Stage::Holding, now + HOLD_RECHECK, now).await?;
    // The texter hears once that they are waiting, not at every look.
    if contacts::record_event(txn, contact.id, Event::once(now, EventKind::Holding)).await? {
        let text = wording::holding(&conversation.settings.texting);
        conversation
            .write_to_texter(&state.vault, txn, HOLDING, text, now)
            .await?;
    }
    Ok(true)
}
