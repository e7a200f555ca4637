//! `/twilio/sms/*`: delivery status callbacks for the messages peerline sends.

use actix_web::{HttpResponse, post, web};

use crate::state::AppState;
use crate::telephony::twiml::MessagingResponse;
use crate::telephony::webhook::{SignedForm, WebhookError};

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
    match crate::storage::outbox::record_delivery(&state.db, sid, delivery, error_code, now).await {
        Ok(_) => Ok(HttpResponse::Ok()
            .content_type("text/xml; charset=utf-8")
            .body(MessagingResponse::new().to_xml())),
        Err(error) => {
            tracing::error!(%error, "recording a delivery status failed; Twilio will retry");
            Ok(HttpResponse::ServiceUnavailable().finish())
        }
    }
}
