//! `/twilio/voice/hold` and `/twilio/voice/callback/*`: a holding caller's answers to the
//! callback questions, and the two phones of a callback (the volunteer's, rung first, and
//! the caller's, dialled from it).

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use super::voice::{
    OfferQuery, acknowledge, dial_result, for_caller, for_leg, int_param, query, unreadable_call,
    unreadable_leg,
};
use crate::state::AppState;
use crate::telephony::webhook::{SignedForm, WebhookError};
use crate::voice::flow;

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
    contact: i32,
    round: i32,
    step: String,
}

/// A holding caller pressed a key (or none) at a callback question.
#[post("/twilio/voice/hold")]
async fn hold(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
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
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    let leg = form.get("CallSid");
    Ok(for_leg(&state, flow::callback_volunteer(&state, q.offer, leg)).await)
}

#[post("/twilio/voice/callback/accept")]
async fn accept(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    let digits = form.get("Digits").unwrap_or_default();
    Ok(for_leg(&state, flow::callback_accept(&state, q.offer, digits)).await)
}

/// The end of the volunteer's phone call for a callback.
#[post("/twilio/voice/callback/status")]
async fn status(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = query(&req)?;
    let call_status = form.require("CallStatus")?;
    let duration = int_param(&form, "CallDuration");
    Ok(acknowledge(flow::callback_status(
        &state,
        q.offer,
        call_status,
        duration,
    ))
    .await)
}

/// The caller picked up the callback.
#[post("/twilio/voice/callback/caller")]
async fn caller(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    _form: SignedForm,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    Ok(for_leg(&state, flow::callback_caller(&state, q.offer)).await)
}

#[post("/twilio/voice/callback/caller/answer")]
async fn caller_answer(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    let digits = form.get("Digits").unwrap_or_default();
    Ok(for_leg(
        &state,
        flow::callback_caller_answer(&state, q.offer, digits),
    )
    .await)
}

/// The volunteer's dial to the caller ended.
#[post("/twilio/voice/callback/dialled")]
async fn dialled(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    let result = flow::callback_dialled(&state, q.offer, dial_result(&form));
    Ok(for_leg(&state, result).await)
}
