//! Status callbacks for the caller's call and for each volunteer's leg.

use super::*;

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
    let event = Event::once(now, EventKind::CallStatus)
        .keyed(format!("status:{status}"))
        .detail(json!({"status": status, "duration_secs": duration}));
    contacts::record_event(&state.db, contact.id, event).await?;
    // A caller who hung up to be called back is not gone: the callback goes on.
    if !is_final(status) || contact.stage == Stage::Callback {
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
    let event = Event::once(now, EventKind::LegStatus)
        .keyed(format!("leg:{}:{status}", offer.id))
        .volunteer(offer.volunteer_id)
        .detail(json!({"status": status, "duration_secs": duration}));
    contacts::record_event(&state.db, offer.contact_id, event).await?;
    if !is_final(status) {
        return Ok(());
    }
    let outcome = leg_outcome(status);
    contacts::settle_offer(&state.db, offer.id, outcome, now).await?;
    contacts::end_offer(&state.db, offer.id, now).await?;
    // The volunteer is free again as soon as their own phone hangs up.
    reservations::release(&state.db, offer.volunteer_id, offer.contact_id).await?;
    state.callbacks_wake.notify_one();
    Ok(())
}
