//! `/twilio/sms/*`: inbound texts (from texters and from volunteers' phones) and delivery
//! status callbacks for the messages peerline sends.

use actix_web::{HttpResponse, post, web};

use crate::domain::phone::E164;
use crate::state::AppState;
use crate::storage::{helplines, volunteers};
use crate::telephony::twiml::MessagingResponse;
use crate::telephony::webhook::{SignedForm, WebhookError};
use crate::texting::{self, Inbound};

use super::{STATUS_DEADLINE, within};

/// Sent straight back in the webhook's answer when a message could not be taken in, so
/// the texter is never left with silence; followed by the helpline's crisis text when it
/// is remembered, else by a general one.
const NOT_RECEIVED: &str =
    "Sorry, we could not receive your message just now. Please send it again in a few minutes.";
const GENERAL_CRISIS_TEXT: &str = "If you are in danger now, call your local emergency number.";

fn messaging(response: MessagingResponse) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(response.to_xml())
}

/// An inbound text. Every reply goes through the outbox, so the answer is an empty
/// `<Response/>`; after a fault, or when the database does not answer within the answer
/// deadline (`PEERLINE_ANSWER_DEADLINE_MS`), it asks the sender to try again and gives
/// the crisis text.
#[post("/twilio/sms")]
pub async fn incoming(
    state: web::Data<AppState>,
    form: SignedForm,
) -> Result<HttpResponse, WebhookError> {
    let message_sid = form.require("MessageSid")?.to_owned();
    let from = E164::parse(form.require("From")?).map_err(|_| WebhookError::Invalid("From"))?;
    let to = E164::parse(form.require("To")?).map_err(|_| WebhookError::Invalid("To"))?;
    let message = Inbound {
        message_sid,
        from,
        to,
        body: form.get("Body").unwrap_or_default().to_owned(),
        media_count: form
            .get("NumMedia")
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0),
    };
    let dialed = message.to.as_str().to_owned();
    match within(state.settings.answer_deadline, receive(&state, message)).await {
        Ok(()) => Ok(messaging(MessagingResponse::new())),
        Err(error) => {
            tracing::error!(%error, "an inbound text could not be taken in");
            let crisis = state
                .fallbacks
                .crisis_text_for(&dialed)
                .unwrap_or_else(|| GENERAL_CRISIS_TEXT.to_owned());
            let reply = format!("{NOT_RECEIVED} {crisis}");
            Ok(messaging(MessagingResponse::new().message(reply)))
        }
    }
}

async fn receive(state: &AppState, message: Inbound) -> Result<(), sea_orm::DbErr> {
    if let Some(volunteer) = volunteers::by_phone(&state.db, &message.from).await? {
        return texting::receive_from_volunteer(state, volunteer, message).await;
    }
    let Some(helpline) = helplines::by_number(&state.db, &message.to).await? else {
        tracing::warn!(to = %message.to.masked(), "a text to a number no helpline uses");
        return Ok(());
    };
    texting::receive_from_texter(state, helpline, message).await
}

/// A message's delivery status; repeated and out-of-order reports only move it forward.
#[post("/twilio/sms/status")]
pub async fn status(
    state: web::Data<AppState>,
    form: SignedForm,
) -> Result<HttpResponse, WebhookError> {
    let sid = form.require("MessageSid")?;
    let delivery = form.require("MessageStatus")?;
    let error_code = form.get("ErrorCode").and_then(|c| c.trim().parse().ok());
    let now = state.clock.now();
    let recorded =
        crate::storage::outbox::record_delivery(&state.db, sid, delivery, error_code, now);
    match within(STATUS_DEADLINE, recorded).await {
        Ok(_) => Ok(messaging(MessagingResponse::new())),
        Err(error) => {
            tracing::error!(%error, "recording a delivery status failed; Twilio will retry");
            Ok(HttpResponse::ServiceUnavailable().finish())
        }
    }
}
