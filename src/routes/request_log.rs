//! One span per request carrying its request id (the caller's `X-Request-Id` when it
//! sends a sane one, else a new one), so every line logged while serving it says which
//! request it belongs to; the id is echoed in the response. Twilio's webhooks are logged
//! at info and timed for `/metrics` (by route), API and probe hits logged at debug.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use rand::Rng;
use tracing::Instrument;

use crate::telemetry::WEBHOOK_SECONDS;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The caller's request id if it is short and plain, else a new random one.
fn request_id(given: Option<&HeaderValue>) -> String {
    given
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(
            || format!("{:016x}", rand::rng().random::<u64>()),
            str::to_owned,
        )
}

pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id(req.headers().get(&REQUEST_ID));
    let span = tracing::info_span!("request", request_id = %id);
    let (method, path) = (req.method().clone(), req.path().to_owned());
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_millis();
    if path.starts_with("/twilio/") {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        metrics::histogram!(WEBHOOK_SECONDS, "route" => route)
            .record(started.elapsed().as_secs_f64());
        span.in_scope(|| tracing::info!(%method, %path, status, ms, "webhook"));
    } else {
        span.in_scope(|| tracing::debug!(%method, %path, status, ms, "request"));
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_request_id_is_kept_and_anything_else_replaced() {
        let kept = HeaderValue::from_static("lb-7f3a_01");
        assert_eq!(request_id(Some(&kept)), "lb-7f3a_01");
        let odd = HeaderValue::from_static("a b\"c");
        let new = request_id(Some(&odd));
        assert_eq!(new.len(), 16);
        assert!(new.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(request_id(None).len(), 16);
    }
}
