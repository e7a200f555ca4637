//! `/twilio/sms/*`: inbound texts (from texters and from volunteers' phones) and delivery
//! status callbacks for the messages peerline sends.

use actix_web::{HttpResponse, post, web};

use crate::contact_flow::refusals;
use crate::domain::phone::E164;
use crate::spool::Spooled;
use crate::state::AppState;
use crate::storage::contacts::{self, Event, EventKind};
use crate::storage::messages;
use crate::telephony::twiml::MessagingResponse;
use crate::telephony::webhook::{SignedForm, WebhookError};
use crate::texting::{self, Inbound};

use super::STATUS_DEADLINE;
use crate::routes::deadline::on_database;

/// Sent straight back in the webhook's answer when a message could not be taken in, so
/// the texter is never left with silence; followed by the helpline's crisis text when it
/// is remembered, else by a general one.
const NOT_RECEIVED: &str =
    "Sorry, we could not receive your message just now. Please send it again in a few minutes.";
/// Sent when the message could not reach the database but is kept to be passed on.
const KEPT_FOR_LATER: &str = "Thank you, we have your message. Our system is slow just now, so a reply may take a little longer.";
const GENERAL_CRISIS_TEXT: &str = "If you are in danger now, call your local emergency number.";

fn messaging(response: MessagingResponse) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(response.to_xml())
}

/// An inbound text. Every reply goes through the outbox, so the answer is an empty
/// `<Response/>`. After a fault, or when the database does not answer within the answer
/// deadline (`PEERLINE_ANSWER_DEADLINE_MS`), the text is spooled to be taken in later and
/// the answer says so, with the crisis text (or, if even the spool failed, asks for the
/// text again).
#[post("/twilio/sms")]
pub async fn incoming(
    state: web::Data<AppState>,
    form: SignedForm,
) -> Result<HttpResponse, WebhookError> {
    let message_sid = form.sid("MessageSid", &["SM", "MM"])?.to_owned();
    let to = E164::parse(form.require("To")?).map_err(|_| WebhookError::Invalid("To"))?;
    let sender = form.get("From").unwrap_or_default();
    let Ok(from) = E164::parse(sender) else {
        // Nobody can text an alphanumeric id, a short code or a withheld sender back: it
        // is logged as a refused contact, and Twilio gets an empty answer.
        let logged = texting::refuse_sender(&state, &message_sid, sender, &to);
        if let Err(error) = on_database(&state, state.settings.answer_deadline, logged).await {
            tracing::error!(%error, "a text from an unanswerable sender could not be logged");
        }
        return Ok(messaging(MessagingResponse::new()));
    };
    // No database column can keep a NUL character: it is removed, and the contact says so.
    let raw_body = form.get("Body").unwrap_or_default();
    let nul_removed = raw_body.contains('\0');
    let message = Inbound {
        message_sid,
        from,
        to,
        body: raw_body.replace('\0', ""),
        media_count: form
            .get("NumMedia")
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0),
    };
    let at = state.clock.now();
    let Err(error) = on_database(
        &state,
        state.settings.answer_deadline,
        texting::receive(&state, message.clone()),
    )
    .await
    else {
        if nul_removed {
            note_nul_removed(&state, &message.message_sid).await;
        }
        return Ok(messaging(MessagingResponse::new()));
    };
    tracing::error!(%error, "an inbound text could not be taken in; spooling it");
    let crisis = state
        .fallbacks
        .crisis_text_for(message.to.as_str())
        .unwrap_or_else(|| GENERAL_CRISIS_TEXT.to_owned());
    let spooled = Spooled::Text {
        message_sid: message.message_sid,
        from_sealed: state.vault.seal(&message.from),
        to: message.to.as_str().to_owned(),
        body_sealed: state.vault.seal_text(&message.body),
        media_count: message.media_count,
        at,
    };
    let reply = match state.spool.append(&spooled) {
        Ok(()) => format!("{KEPT_FOR_LATER} {crisis}"),
        Err(error) => {
            tracing::error!(%error, "the text could not be spooled either");
            format!("{NOT_RECEIVED} {crisis}")
        }
    };
    Ok(messaging(MessagingResponse::new().message(reply)))
}

/// Records on the contact that the text arrived with NUL characters, which were removed.
async fn note_nul_removed(state: &AppState, message_sid: &str) {
    tracing::warn!(
        message_sid,
        "an inbound text held NUL characters; they were removed"
    );
    let at = state.clock.now();
    let noted = async {
        if let Some(contact_id) = messages::contact_of(&state.db, message_sid).await? {
            let event = Event::once(at, EventKind::NulRemoved)
                .keyed(format!("nul_removed:{message_sid}"))
                .detail(serde_json::json!({ "message_sid": message_sid }));
            contacts::record_event(&state.db, contact_id, event).await?;
        }
        Ok::<_, sea_orm::DbErr>(())
    };
    if let Err(error) = on_database(state, STATUS_DEADLINE, noted).await {
        tracing::warn!(%error, "could not note the removed NUL characters on the contact");
    }
}

/// A message's delivery status; repeated and out-of-order reports only move it forward.
#[post("/twilio/sms/status")]
pub async fn status(
    state: web::Data<AppState>,
    form: SignedForm,
) -> Result<HttpResponse, WebhookError> {
    let sid = form.sid("MessageSid", &["SM", "MM"])?;
    let delivery = form.require("MessageStatus")?;
    let error_code = form.get("ErrorCode").and_then(|c| c.trim().parse().ok());
    let now = state.clock.now();
    let recorded = async {
        let advanced =
            crate::storage::outbox::record_delivery(&state.db, sid, delivery, error_code, now)
                .await?;
        // A refusal reported later counts as one reported at once (an opt-out above all).
        if let (Some(message), Some(code)) = (advanced, error_code)
            && let Some(to) = state.vault.open(&message.to_encrypted)
        {
            refusals::record(&state.db, &state.vault, &message, &to, code, now).await?;
        }
        Ok::<_, sea_orm::DbErr>(())
    };
    match on_database(&state, STATUS_DEADLINE, recorded).await {
        Ok(_) => Ok(messaging(MessagingResponse::new())),
        Err(error) => {
            tracing::error!(%error, "recording a delivery status failed; Twilio will retry");
            Ok(HttpResponse::ServiceUnavailable().finish())
        }
    }
}
