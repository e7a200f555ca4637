//! Per-source limits on the JSON API: each bearer token (or, without one, each client
//! address) gets `PEERLINE_API_RATE_LIMIT` requests a minute, with short bursts; beyond
//! that the API answers 429 with `Retry-After`. An address that keeps presenting tokens
//! that are refused (a new made-up token each time would otherwise escape the limit) is
//! held back too. The path is judged decoded, as the router reads it. Webhooks are never
//! limited here: a caller must always get through (texts have their own per-texter flood
//! limit).

use std::collections::HashMap;
use std::net::IpAddr;
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

/// Refused tokens an address may present: a burst of 10, then one every 2 seconds.
const FAILED_AUTHENTICATIONS: Rate = Rate {
    per_minute: 30,
    burst: 10,
};

pub struct ApiRateLimiter {
    rate: Option<Rate>,
    buckets: Mutex<HashMap<String, TokenBucket>>,
    /// Refused tokens, per client address.
    refusals: Mutex<HashMap<String, TokenBucket>>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    trusted_proxies: Vec<IpAddr>,
}

impl ApiRateLimiter {
    /// `per_minute` requests a minute per source; 0 turns the limit off.
    pub fn new(per_minute: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            rate: (per_minute > 0).then(|| Rate::per_minute(per_minute)),
            buckets: Mutex::new(HashMap::new()),
            refusals: Mutex::new(HashMap::new()),
            trusted_proxies,
        }
    }

    /// Takes a token for `source`, or the seconds to wait.
    fn admit(&self, source: String, now: Instant) -> Result<(), u64> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        take(&self.buckets, rate, source, now)
    }

    /// Whether `address` has presented too many refused tokens lately.
    fn refusing(&self, address: &str, now: Instant) -> bool {
        self.rate.is_some()
            && self
                .refusals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(address)
                .is_some_and(|bucket| !bucket.has_token(FAILED_AUTHENTICATIONS, now))
    }

    /// Counts a refused token against `address`.
    fn refused(&self, address: String, now: Instant) {
        let _ = take(&self.refusals, FAILED_AUTHENTICATIONS, address, now);
    }
}

/// Takes a token from `source`'s bucket, or says how many seconds to wait.
fn take(
    buckets: &Mutex<HashMap<String, TokenBucket>>,
    rate: Rate,
    source: String,
    now: Instant,
) -> Result<(), u64> {
    let mut buckets = buckets
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

/// The path as the router reads it: percent-escapes decoded (`/api/v%31/` is `/api/v1/`).
fn decoded_path(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
/// address in `X-Forwarded-For` that is not itself a trusted proxy (addresses further left
/// were written by the client and prove nothing).
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        let Ok(address) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = address;
        if !trusted.contains(&address) {
            break;
        }
    }
    Some(client)
}

/// The client's address, as `addr:...`.
fn address_of(req: &ServiceRequest, trusted: &[IpAddr]) -> String {
    let forwarded = req
        .headers()
        .get("X-Forwarded-For")
        .and_then(|v| v.to_str().ok());
    let peer = req.peer_addr().map(|a| a.ip());
    let client = client_address(peer, forwarded, trusted);
    format!("addr:{}", client.map(|a| a.to_string()).unwrap_or_default())
}

/// Who a request counts against: its token, else its client address.
fn source_of(req: &ServiceRequest, trusted: &[IpAddr]) -> String {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(token) => format!("token:{}", hash_token(token.trim())),
        None => address_of(req, trusted),
    }
}

/// The middleware: applies the limiter to `/api/v1` only.
pub async fn limit_api(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limiter = req
        .app_data::<web::Data<ApiRateLimiter>>()
        .cloned()
        .filter(|_| decoded_path(req.path()).starts_with("/api/v1/"));
    let Some(limiter) = limiter else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let now = Instant::now();
    let address = address_of(&req, &limiter.trusted_proxies);
    let admitted = if limiter.refusing(&address, now) {
        Err(FAILED_AUTHENTICATIONS_WAIT)
    } else {
        limiter.admit(source_of(&req, &limiter.trusted_proxies), now)
    };
    if let Err(wait) = admitted {
        let response = ApiError::RateLimited(wait).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    let response = next.call(req).await?;
    if response.status() == actix_web::http::StatusCode::UNAUTHORIZED {
        limiter.refused(address, Instant::now());
    }
    Ok(response.map_into_left_body())
}

/// Seconds an address that presented too many refused tokens is asked to wait.
const FAILED_AUTHENTICATIONS_WAIT: u64 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn paths_are_judged_as_the_router_reads_them() {
        assert_eq!(decoded_path("/api/v%31/helplines"), "/api/v1/helplines");
        assert_eq!(decoded_path("/api/%76%31/me"), "/api/v1/me");
        assert_eq!(decoded_path("/api/v1/100%"), "/api/v1/100%");
        assert_eq!(decoded_path("/api/v1/%zz"), "/api/v1/%zz");
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy];
        let forwarded = Some("198.51.100.9, 203.0.113.7");
        // Straight from a client: its own address, whatever the header claims.
        assert_eq!(
            client_address(Some(ip("203.0.113.50")), forwarded, &trusted),
            Some(ip("203.0.113.50"))
        );
        // Through the proxy: the address the proxy saw, not what the client wrote.
        assert_eq!(
            client_address(Some(proxy), forwarded, &trusted),
            Some(ip("203.0.113.7"))
        );
        // Through two trusted proxies.
        let both = [proxy, ip("10.0.0.3")];
        assert_eq!(
            client_address(Some(proxy), Some("203.0.113.7, 10.0.0.3"), &both),
            Some(ip("203.0.113.7"))
        );
        // A proxy that sent no header: the proxy itself.
        assert_eq!(client_address(Some(proxy), None, &trusted), Some(proxy));
        assert_eq!(
            client_address(Some(proxy), Some("garbage"), &trusted),
            Some(proxy)
        );
    }
}
