//! Wakes this server's outbox when a request queued a message, once the request is done
//! (and so its transaction committed): a text reaches Twilio in milliseconds instead of
//! waiting for the outbox's next look at the table.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::state::AppState;
use crate::storage::outbox;

pub async fn wake_outbox_after(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (response, queued) = outbox::noting_queued(next.call(req)).await;
    if queued && let Some(state) = state {
        state.outbox_wake.notify_one();
    }
    response
}
