//! Per-source limits on the JSON API: each bearer token (or, without one, each client
//! address) gets `PEERLINE_API_RATE_LIMIT` requests a minute, with short bursts; beyond
//! that the API answers 429 with `Retry-After`. Webhooks are never limited here: a caller
//! must always get through (texts have their own per-texter flood limit).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};

use crate::domain::rate_limit::{Rate, TokenBucket};
use crate::error::ApiError;
use crate::secrets::hash_token;

/// Forget full buckets once this many sources are tracked.
const PRUNE_AT: usize = 10_000;

pub struct ApiRateLimiter {
    rate: Option<Rate>,
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl ApiRateLimiter {
    /// `per_minute` requests a minute per source; 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            rate: (per_minute > 0).then(|| Rate::per_minute(per_minute)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `source`, or the seconds to wait.
    fn admit(&self, source: String, now: Instant) -> Result<(), u64> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, bucket| !bucket.is_full(rate, now));
        }
        buckets
            .entry(source)
            .or_insert_with(|| TokenBucket::full(rate, now))
            .take(rate, now)
            .map_err(|wait| wait.as_secs().max(1))
    }
}

/// Who a request counts against: its token, else its client address.
fn source_of(req: &ServiceRequest) -> String {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(token) => format!("token:{}", hash_token(token.trim())),
        None => format!(
            "addr:{}",
            req.peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default()
        ),
    }
}

/// The middleware: applies the limiter to `/api/v1` only.
pub async fn limit_api(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limiter = req.app_data::<web::Data<ApiRateLimiter>>().cloned();
    if let Some(limiter) = limiter
        && req.path().starts_with("/api/v1/")
        && let Err(wait) = limiter.admit(source_of(&req), Instant::now())
    {
        let response = ApiError::RateLimited(wait).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
