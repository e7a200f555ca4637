//! Returning a missed call or a voicemail: a supervisor asks, and the caller is called
//! back as one who asked would be (a volunteer rung first, then the caller from the
//! helpline number). The return is a call of its own in the contact log, and audited.

use super::*;
use crate::domain::access::Principal;
use crate::domain::callback::{CallbackKind, CannotReturn, ReturnFacts, check_return};
use crate::domain::ids::ContactId;
use crate::storage::audit::{self, Audited};
use crate::storage::callbacks::{self, NewCallback};

/// Why a call cannot be returned now.
#[derive(Debug, thiserror::Error)]
pub enum ReturnRefused {
    #[error("{0}")]
    Cannot(#[from] CannotReturn),
    #[error("the caller is blocked on this helpline")]
    Blocked,
    #[error("a callback to this caller is already under way")]
    AlreadyUnderWay,
    #[error("peerline cannot place calls: TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is not set")]
    CannotPlaceCalls,
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// The return call opened for a missed call.
pub struct ReturnOpened {
    pub contact_id: ContactId,
    pub callback_id: i32,
    pub expires_at: DateTime<Utc>,
}

/// Opens a return call for `missed`, on behalf of `who` with `reason`: rung by the router's
/// choice of volunteer, or by `who` themselves when they are a volunteer.
pub async fn return_call(
    state: &AppState,
    who: &Principal,
    missed: &contact::Model,
    reason: &str,
) -> Result<ReturnOpened, ReturnRefused> {
    if state.twilio.is_none() {
        return Err(ReturnRefused::CannotPlaceCalls);
    }
    check_return(ReturnFacts {
        is_call: missed.channel == Channel::Voice,
        ended: missed.ended_at.is_some(),
        answered_by_volunteer: missed.answered_by.is_some(),
        number_held: missed.caller_encrypted.is_some() && missed.erased_at.is_none(),
    })?;
    let now = state.clock.now();
    let helpline = missed.helpline_id;
    let hashes = state
        .vault
        .caller_hashes(missed.caller_encrypted.as_deref(), &missed.caller_hash);
    if blocklist::is_blocked(&state.db, helpline, &hashes, now).await? {
        return Err(ReturnRefused::Blocked);
    }
    if callbacks::under_way_for_caller(&state.db, helpline, &hashes).await? {
        return Err(ReturnRefused::AlreadyUnderWay);
    }
    let Some(line) = helplines::get(&state.db, &Scope::All, helpline).await? else {
        return Err(DbErr::RecordNotFound("helpline".into()).into());
    };
    let settings = helplines::settings_of(&line)?;
    let expires_at = now + Duration::minutes(settings.callers.callback_expires_mins.into());
    let txn = storage::write_transaction(&state.db).await?;
    let (call, _) = contacts::open_call(
        &txn,
        NewCall {
            channel: Channel::Voice,
            helpline_id: helpline,
            call_sid: format!("return-{}-{}", missed.id, now.timestamp_millis()),
            dialed_number: missed.dialed_number.clone(),
            caller_hash: missed.caller_hash.clone(),
            caller_encrypted: missed.caller_encrypted.clone(),
            caller_hint: missed.caller_hint.clone(),
            stage: Stage::Callback,
            outcome: None,
            received_at: now,
            route_deadline: expires_at,
        },
    )
    .await?;
    contacts::set_choice(&txn, call.id, missed.topic_id, missed.language.clone(), now).await?;
    let Some(callback) = callbacks::open(
        &txn,
        NewCallback {
            contact_id: call.id,
            helpline_id: helpline,
            topic_id: missed.topic_id,
            kind: CallbackKind::Returned,
            texts_ok: false,
            expires_at,
            requested_by: Some(who.user_id),
            reason: Some(crate::storage::entities::Sealed::seal(&state.vault, reason)),
            for_volunteer: who.volunteer_id,
        },
        now,
    )
    .await?
    else {
        txn.rollback().await?;
        return Err(ReturnRefused::AlreadyUnderWay);
    };
    let requested = Event::once(now, EventKind::CallbackRequested).detail(json!({
        "callback_id": callback.id,
        "returning_contact_id": missed.id,
        "requested_by": who.user_id,
    }));
    contacts::record_event(&txn, call.id, requested).await?;
    let returned = Event::once(now, EventKind::CallbackRequested)
        .keyed(format!("returned:{}", call.id))
        .detail(json!({"return_contact_id": call.id, "requested_by": who.user_id}));
    contacts::record_event(&txn, missed.id, returned).await?;
    let entry = Audited::new("return_call")
        .contact(helpline, missed.id)
        .detail(json!({"reason": reason, "return_contact_id": call.id}));
    audit::record(&txn, who, entry, now).await?;
    txn.commit().await?;
    state.callbacks_wake.notify_one();
    Ok(ReturnOpened {
        contact_id: call.id,
        callback_id: callback.id,
        expires_at,
    })
}
