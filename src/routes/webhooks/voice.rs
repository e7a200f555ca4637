//! `/twilio/voice/*`: the inbound call, its menus, rounds of offers, the volunteers'
//! whispers, the fallback path, voicemail and status callbacks.

use actix_web::{HttpResponse, post, web};
use sea_orm::DbErr;
use serde::Deserialize;

use crate::domain::ids::{ContactId, OfferId};
use crate::domain::phone::E164;
use crate::spool::Spooled;
use crate::state::AppState;
use crate::telephony::twiml::{Dial, DialNumber, Verb, VoiceResponse};
use crate::telephony::webhook::{SignedForm, WebhookError, is_twilio_recording_url};
use crate::voice::flow::{self, DialResult, InboundCall, Recording};
use crate::voice::prompts;

use super::STATUS_DEADLINE;
use crate::routes::deadline::on_database;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(inbound)
        .service(menu)
        .service(route)
        .service(dial)
        .service(whisper)
        .service(whisper_answer)
        .service(leg)
        .service(fallback)
        .service(supervisor)
        .service(supervisor_answer)
        .service(voicemail)
        .service(recording)
        .service(caller_status);
}

pub(super) fn twiml(response: VoiceResponse) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(response.to_xml())
}

/// Answers the caller's call whatever happens: the flow's TwiML, or after a fault, or when
/// the database does not answer within the answer deadline (`PEERLINE_ANSWER_DEADLINE_MS`),
/// the helpline's fallback number (remembered while the database was up), so the caller
/// still reaches a human.
pub(super) async fn for_caller(
    state: &AppState,
    form: &SignedForm,
    flow: impl std::future::Future<Output = Result<Option<VoiceResponse>, DbErr>>,
) -> HttpResponse {
    let result = on_database(state, state.settings.answer_deadline, flow).await;
    if let (Err(error), Some(call_sid)) = (&result, form.get("CallSid")) {
        // The caller is handed over from memory; the contact log hears of it once the
        // database is back.
        let spooled = Spooled::Handoff {
            call_sid: call_sid.to_owned(),
            at: state.clock.now(),
            to_fallback: state
                .fallbacks
                .for_number(form.get("To").unwrap_or_default())
                .is_some(),
            reason: error.to_string(),
        };
        spool_call(state, &spooled);
    }
    answer_caller(state, form, result)
}

/// Spools what a caller's webhook answered from memory, for the contact log to get once
/// the database is back; a spool that fails too is logged.
fn spool_call(state: &AppState, record: &Spooled) {
    if let Err(spool_error) = state.spool.append(record) {
        tracing::error!(%spool_error, "a call answered from memory could not be spooled either");
    }
}

fn answer_caller(
    state: &AppState,
    form: &SignedForm,
    result: Result<Option<VoiceResponse>, DbErr>,
) -> HttpResponse {
    match result {
        Ok(Some(response)) => twiml(response),
        Ok(None) => {
            tracing::warn!(
                "voice callback for an unknown call; sending the caller to the fallback"
            );
            twiml(fault_response(state, form))
        }
        Err(error) => {
            tracing::error!(%error, "voice callback failed; sending the caller to the fallback");
            twiml(fault_response(state, form))
        }
    }
}

fn fault_response(state: &AppState, form: &SignedForm) -> VoiceResponse {
    let dialed = form.get("To").unwrap_or_default();
    match state.fallbacks.for_number(dialed) {
        Some(number) => VoiceResponse::new()
            .say(prompts::FAULT, "en-GB")
            .push(Verb::Dial(Dial {
                action: None,
                timeout_secs: 60,
                caller_id: dialed.to_owned(),
                numbers: vec![DialNumber {
                    number,
                    whisper_url: None,
                    status_callback: None,
                }],
            })),
        None => VoiceResponse::new()
            .say(prompts::FAULT_NO_FALLBACK, "en-GB")
            .push(Verb::Hangup),
    }
}

/// Answers a volunteer's or supervisor's leg: on a fault or past the answer deadline, hang
/// up that leg only; the caller's `<Dial>` then moves on.
pub(super) async fn for_leg(
    state: &AppState,
    flow: impl std::future::Future<Output = Result<VoiceResponse, DbErr>>,
) -> HttpResponse {
    match on_database(state, state.settings.answer_deadline, flow).await {
        Ok(response) => twiml(response),
        Err(error) => {
            tracing::error!(%error, "whisper callback failed; hanging up the volunteer's leg");
            twiml(VoiceResponse::new().push(Verb::Hangup))
        }
    }
}

/// Acknowledges a status callback; a fault, or a database that does not answer within
/// `STATUS_DEADLINE`, is logged and Twilio is told to retry.
pub(super) async fn acknowledge(
    state: &AppState,
    flow: impl std::future::Future<Output = Result<(), DbErr>>,
) -> HttpResponse {
    match on_database(state, STATUS_DEADLINE, flow).await {
        Ok(()) => twiml(VoiceResponse::new()),
        Err(error) => {
            tracing::error!(%error, "status callback failed");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

pub(super) fn int_param(form: &SignedForm, name: &str) -> Option<i32> {
    form.get(name).and_then(|v| v.trim().parse().ok())
}

#[derive(Deserialize)]
struct ContactQuery {
    contact: ContactId,
}

#[derive(Deserialize)]
struct StepQuery {
    contact: ContactId,
    step: String,
}

#[derive(Deserialize)]
pub(super) struct RoundQuery {
    pub contact: ContactId,
    pub round: i32,
}

#[derive(Deserialize)]
struct FallbackQuery {
    contact: ContactId,
    step: i32,
}

#[derive(Deserialize)]
pub(super) struct OfferQuery {
    pub offer: OfferId,
}

pub(super) fn query<T: for<'de> Deserialize<'de>>(
    req: &actix_web::HttpRequest,
) -> Result<T, WebhookError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|_| WebhookError::Invalid("query string"))
}

/// What a caller hears when their webhook cannot be read (a parameter or our own query
/// string missing or malformed): never Twilio's "application error", but the helpline's
/// fallback number when the dialled number is known, else an apology and where to turn.
pub(super) fn unreadable_call(
    state: &AppState,
    form: &SignedForm,
    what: &WebhookError,
) -> HttpResponse {
    tracing::warn!(
        problem = %what,
        call_sid = form.get("CallSid").unwrap_or_default(),
        to = form.get("To").unwrap_or_default(),
        "a caller's webhook could not be read; answering with the fallback"
    );
    twiml(fault_response(state, form))
}

/// A volunteer's or supervisor's leg whose webhook cannot be read: that leg hangs up, and
/// the caller's `<Dial>` moves on.
pub(super) fn unreadable_leg(what: &WebhookError) -> HttpResponse {
    tracing::warn!(problem = %what, "a volunteer's leg webhook could not be read; hanging it up");
    twiml(VoiceResponse::new().push(Verb::Hangup))
}

pub(super) fn dial_result(form: &SignedForm) -> DialResult<'_> {
    DialResult {
        dial_status: form.get("DialCallStatus"),
        dial_duration: int_param(form, "DialCallDuration"),
        call_status: form.get("CallStatus"),
    }
}

/// The one URL to set on each helpline number: "A call comes in".
#[post("/twilio/voice")]
async fn inbound(
    state: web::Data<AppState>,
    form: SignedForm,
) -> Result<HttpResponse, WebhookError> {
    let call_sid = match form.sid("CallSid", &["CA"]) {
        Ok(sid) => sid,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    let to = match form.require("To").and_then(|to| {
        E164::parse(to).map_err(|_| WebhookError::Invalid("To (not an E.164 number)"))
    }) {
        Ok(to) => to,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    // An absent or empty From is a caller whose number is withheld.
    let from = form.get("From").unwrap_or_default();
    let at = state.clock.now();
    let call = InboundCall {
        call_sid,
        from,
        to: &to,
    };
    let result = on_database(
        &state,
        state.settings.answer_deadline,
        flow::inbound(&state, call),
    )
    .await;
    if let Err(error) = &result {
        // The call is answered from memory; the contact log gets it once the database is back.
        let spooled = Spooled::Call {
            call_sid: call_sid.to_owned(),
            dialed: to.as_str().to_owned(),
            caller_sealed: E164::parse(from).ok().map(|n| state.vault.seal(&n)),
            at,
            to_fallback: state.fallbacks.for_number(to.as_str()).is_some(),
            reason: error.to_string(),
        };
        spool_call(&state, &spooled);
    }
    Ok(answer_caller(&state, &form, result.map(Some)))
}

#[post("/twilio/voice/menu")]
async fn menu(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: StepQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    let digits = form.get("Digits").unwrap_or_default();
    let result = flow::menu_choice(&state, q.contact, &q.step, digits);
    Ok(for_caller(&state, &form, result).await)
}

#[post("/twilio/voice/route")]
async fn route(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: RoundQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    let result = flow::route_round(&state, q.contact, q.round);
    Ok(for_caller(&state, &form, async { result.await.map(Some) }).await)
}

#[post("/twilio/voice/dial")]
async fn dial(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: RoundQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    let result = flow::dial_ended(&state, q.contact, q.round, dial_result(&form));
    Ok(for_caller(&state, &form, result).await)
}

#[post("/twilio/voice/fallback")]
async fn fallback(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: FallbackQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    let result = flow::fallback_dial_ended(&state, q.contact, q.step, dial_result(&form));
    Ok(for_caller(&state, &form, result).await)
}

#[post("/twilio/voice/whisper")]
async fn whisper(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    Ok(for_leg(&state, flow::whisper(&state, q.offer, form.get("CallSid"))).await)
}

#[post("/twilio/voice/whisper/answer")]
async fn whisper_answer(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    let digits = form.get("Digits").unwrap_or_default();
    Ok(for_leg(&state, flow::whisper_answer(&state, q.offer, digits)).await)
}

#[post("/twilio/voice/supervisor")]
async fn supervisor(
    state: web::Data<AppState>,
    _form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: ContactQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    Ok(for_leg(&state, flow::supervisor_whisper(&state, q.contact)).await)
}

#[post("/twilio/voice/supervisor/answer")]
async fn supervisor_answer(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: ContactQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_leg(&problem)),
    };
    let digits = form.get("Digits").unwrap_or_default();
    Ok(for_leg(&state, flow::supervisor_answer(&state, q.contact, digits)).await)
}

/// The recording a voicemail callback names: its id and URL are kept only in Twilio's
/// own forms (an https URL on Twilio's API host), anything else is logged and dropped.
fn recording_of(form: &SignedForm) -> Recording<'_> {
    let sid = form.sid("RecordingSid", &["RE"]).ok();
    let url = form
        .get("RecordingUrl")
        .filter(|url| is_twilio_recording_url(url));
    if form.get("RecordingUrl").is_some() && (sid.is_none() || url.is_none()) {
        tracing::warn!(
            sid = form.get("RecordingSid").unwrap_or_default(),
            "a voicemail callback named a recording in a form Twilio does not use; not kept"
        );
    }
    let (sid, url) = sid.zip(url).unzip();
    Recording {
        sid,
        url,
        duration_secs: int_param(form, "RecordingDuration"),
    }
}

#[post("/twilio/voice/voicemail")]
async fn voicemail(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: ContactQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    let result = flow::voicemail_left(&state, q.contact, recording_of(&form));
    Ok(for_caller(&state, &form, async { result.await.map(Some) }).await)
}

#[post("/twilio/voice/recording")]
async fn recording(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: ContactQuery = query(&req)?;
    Ok(acknowledge(
        &state,
        flow::save_recording(&state, q.contact, &recording_of(&form)),
    )
    .await)
}

#[post("/twilio/voice/leg")]
async fn leg(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: OfferQuery = query(&req)?;
    let leg_status = form.require("CallStatus")?;
    Ok(acknowledge(
        &state,
        flow::leg_status(
            &state,
            q.offer,
            leg_status,
            int_param(&form, "CallDuration"),
        ),
    )
    .await)
}

/// Optional: the number's "call status changes" URL, which keeps the log exact when a
/// caller hangs up while holding.
#[post("/twilio/voice/status")]
async fn caller_status(
    state: web::Data<AppState>,
    form: SignedForm,
) -> Result<HttpResponse, WebhookError> {
    let call_sid = form.sid("CallSid", &["CA"])?;
    let call_status = form.require("CallStatus")?;
    Ok(acknowledge(
        &state,
        flow::call_status(
            &state,
            call_sid,
            call_status,
            int_param(&form, "CallDuration"),
        ),
    )
    .await)
}
