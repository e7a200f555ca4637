//! Status callbacks for the caller's call and for each volunteer's leg.

use super::*;
use crate::domain::ids::OfferId;

/// A status callback for the caller's own call.
pub async fn call_status(
    state: &AppState,
    call_sid: &str,
    status: &str,
    duration: Option<i32>,
) -> Result<(), DbErr> {
    let Some(read) = contacts::with_offers_by_sid(&state.db, call_sid).await? else {
        return Ok(());
    };
    let (contact, offers) = read.value;
    let now = state.clock.now();
    let event = Event::once(now, EventKind::CallStatus)
        .keyed(format!("status:{status}"))
        .detail(json!({"status": status, "duration_secs": duration}));
    // A caller who hung up to be called back is not gone: the callback goes on.
    let ends_the_call = is_final(status) && contact.stage != Stage::Callback;
    let contact_id = contact.id;
    let ending = if ends_the_call {
        Call::at_version(state, contact, read.directory_version).await?
    } else {
        None
    };
    let Some(call) = ending else {
        contacts::record_event(&state.db, contact_id, event).await?;
        return Ok(());
    };
    // The status, the offers' ends and the call's end commit together.
    let txn = storage::write_transaction(&state.db).await?;
    contacts::record_event(&txn, contact_id, event).await?;
    // Offers the dial action settled and ended already need nothing more.
    let open = offers
        .iter()
        .filter(|o| o.outcome.is_none() || o.ended_at.is_none());
    for offer in open {
        contacts::settle_offer(&txn, offer.id, OfferOutcome::Canceled, now).await?;
        contacts::end_offer(&txn, offer.id, now).await?;
    }
    end_call_in(&txn, state, &call, Outcome::Abandoned, None, now).await?;
    txn.commit().await?;
    after_call_ended(state);
    Ok(())
}

/// A status callback for a volunteer's leg.
pub async fn leg_status(
    state: &AppState,
    offer_id: OfferId,
    status: &str,
    duration: Option<i32>,
) -> Result<(), DbErr> {
    let Some(offer) = contacts::offer(&state.db, offer_id).await? else {
        return Ok(());
    };
    let now = state.clock.now();
    let event = Event::once(now, EventKind::LegStatus)
        .keyed(format!("leg:{}:{status}", offer.id))
        .volunteer(offer.volunteer_id)
        .detail(json!({"status": status, "duration_secs": duration}));
    if !is_final(status) {
        contacts::record_event(&state.db, offer.contact_id, event).await?;
        return Ok(());
    }
    // The status, the offer's end and the volunteer's release commit together.
    let txn = storage::write_transaction(&state.db).await?;
    contacts::record_event(&txn, offer.contact_id, event).await?;
    contacts::settle_offer(&txn, offer.id, leg_outcome(status), now).await?;
    contacts::end_offer(&txn, offer.id, now).await?;
    // The volunteer is free again as soon as their own phone hangs up.
    reservations::release(&txn, offer.volunteer_id, offer.contact_id).await?;
    txn.commit().await?;
    state.callbacks_wake.notify_one();
    Ok(())
}
