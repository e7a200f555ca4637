//! Wakes this server's outbox when a request queued a message, once the request is done
//! (and so its transaction committed): a text reaches Twilio in milliseconds instead of
//! waiting for the outbox's next look at the table.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::state::AppState;

pub async fn wake_outbox_after(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match req.app_data::<web::Data<AppState>>().cloned() {
        Some(state) => state.waking_outbox(next.call(req)).await,
        None => next.call(req).await,
    }
}
