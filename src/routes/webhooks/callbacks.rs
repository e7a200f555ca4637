//! `/twilio/voice/hold` and `/twilio/voice/callback/*`: a holding caller's answers to the
//! callback questions, and the two phones of a callback (the volunteer's, rung first, and
//! the caller's, dialled from it).

use std::future::Future;

use actix_web::{HttpRequest, HttpResponse, post, web};
use sea_orm::DbErr;
use serde::Deserialize;

use super::voice::{
    OfferQuery, acknowledge, dial_result, for_caller, for_leg, int_param, query, unreadable_call,
    unreadable_leg,
};
use crate::domain::ids::{ContactId, OfferId};
use crate::state::AppState;
use crate::telephony::twiml::VoiceResponse;
use crate::telephony::webhook::{SignedForm, WebhookError};
use crate::voice::flow;

/// A webhook of one of a callback's legs, about the offer its query names; an unreadable
/// query hangs the leg up.
async fn about_offer<Fut>(
    state: &AppState,
    req: &HttpRequest,
    flow: impl FnOnce(OfferId) -> Fut,
) -> Result<HttpResponse, WebhookError>
where
    Fut: Future<Output = Result<VoiceResponse, DbErr>>,
{
    Ok(match query::<OfferQuery>(req) {
        Ok(q) => for_leg(state, flow(q.offer)).await,
        Err(problem) => unreadable_leg(&problem),
    })
}

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(hold)
        .service(volunteer)
        .service(accept)
        .service(status)
        .service(caller)
        .service(caller_answer)
        .service(dialled);
}

#[derive(Deserialize)]
struct HoldQuery {
    contact: ContactId,
    round: i32,
    step: String,
}

/// A holding caller pressed a key (or none) at a callback question.
#[post("/twilio/voice/hold")]
async fn hold(
    state: web::Data<AppState>,
    form: SignedForm,
    req: HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: HoldQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    let digits = form.get("Digits").unwrap_or_default();
    let result = flow::hold_choice(&state, q.contact, q.round, &q.step, digits);
    Ok(for_caller(&state, &form, result).await)
}

/// The volunteer picked up the phone peerline rang for a callback.
#[post("/twilio/voice/callback/volunteer")]
async fn volunteer(
    state: web::Data<AppState>,
    form: SignedForm,
    req: HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let leg = form.get("CallSid");
    about_offer(&state, &req, |offer| {
        flow::callback_volunteer(&state, offer, leg)
    })
    .await
}

#[post("/twilio/voice/callback/accept")]
async fn accept(
    state: web::Data<AppState>,
    form: SignedForm,
    req: HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let digits = form.get("Digits").unwrap_or_default();
    about_offer(&state, &req, |offer| {
        flow::callback_accept(&state, offer, digits)
    })
    .await
}

/// The end of the volunteer's phone call for a callback.
#[post("/twilio/voice/callback/status")]
async fn status(
    state: web::Data<AppState>,
    form: SignedForm,
    req: HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = query(&req)?;
    let call_status = form.require("CallStatus")?;
    let duration = int_param(&form, "CallDuration");
    Ok(acknowledge(
        &state,
        flow::callback_status(&state, q.offer, call_status, duration),
    )
    .await)
}

/// The caller picked up the callback.
#[post("/twilio/voice/callback/caller")]
async fn caller(
    state: web::Data<AppState>,
    req: HttpRequest,
    _form: SignedForm,
) -> Result<HttpResponse, WebhookError> {
    about_offer(&state, &req, |offer| flow::callback_caller(&state, offer)).await
}

#[post("/twilio/voice/callback/caller/answer")]
async fn caller_answer(
    state: web::Data<AppState>,
    form: SignedForm,
    req: HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let digits = form.get("Digits").unwrap_or_default();
    about_offer(&state, &req, |offer| {
        flow::callback_caller_answer(&state, offer, digits)
    })
    .await
}

/// The volunteer's dial to the caller ended.
#[post("/twilio/voice/callback/dialled")]
async fn dialled(
    state: web::Data<AppState>,
    form: SignedForm,
    req: HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let result = dial_result(&form);
    about_offer(&state, &req, |offer| {
        flow::callback_dialled(&state, offer, result)
    })
    .await
}
