//! The edge of every Twilio webhook: the signature is checked over the raw request before
//! anything is parsed or written, then the form is kept as received (Twilio adds
//! parameters without notice; all of them are signed, none of them break parsing).

use std::future::Future;
use std::pin::Pin;

use actix_web::{
    FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, http::StatusCode, web,
};
use secrecy::ExposeSecret;

use super::signature;
use crate::routes::extract::BODY_TIMEOUT;
use crate::state::AppState;

/// The largest webhook body accepted; Twilio's are a few kilobytes.
pub const MAX_WEBHOOK_BODY: usize = 64 * 1024;

/// A webhook request whose signature checked out.
#[derive(Debug, Clone)]
pub struct SignedForm {
    params: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("missing or invalid X-Twilio-Signature")]
    BadSignature,
    #[error("the request body is larger than {MAX_WEBHOOK_BODY} bytes")]
    TooLarge,
    #[error("the request body did not arrive in time")]
    SlowBody,
    #[error("missing required parameter {0}")]
    Missing(&'static str),
    #[error("invalid parameter {0}")]
    Invalid(&'static str),
}

impl ResponseError for WebhookError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebhookError::BadSignature => StatusCode::FORBIDDEN,
            WebhookError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::SlowBody => StatusCode::REQUEST_TIMEOUT,
            WebhookError::Missing(_) | WebhookError::Invalid(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string())
    }
}

impl SignedForm {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn require(&self, name: &'static str) -> Result<&str, WebhookError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or(WebhookError::Missing(name))
    }

    /// A Twilio id parameter: one of `prefixes` and 32 hex digits, nothing else. (Twilio
    /// signs names and values run together, so a captured request re-cut at another
    /// boundary, `CallSid=CA...CallStatusringing`, still verifies: its ids must not.)
    pub fn sid(&self, name: &'static str, prefixes: &[&str]) -> Result<&str, WebhookError> {
        let value = self.require(name)?;
        if is_twilio_sid(value, prefixes) {
            Ok(value)
        } else {
            Err(WebhookError::Invalid(name))
        }
    }
}

/// Whether `value` is one of `prefixes` followed by 32 hex digits.
pub fn is_twilio_sid(value: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|prefix| {
        value
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

/// Whether `url` is where Twilio keeps recordings: https on its API host.
pub fn is_twilio_recording_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.scheme() == "https" && u.host_str() == Some("api.twilio.com") && u.username().is_empty()
    })
}

/// The URLs Twilio may have requested: the configured public base, as written and as
/// normalised (a lower-case host: the form peerline writes into its own callback URLs),
/// plus the raw path and query.
pub fn requested_urls(public_url: &url::Url, as_written: &str, req: &HttpRequest) -> Vec<String> {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let normalised = public_url.as_str().trim_end_matches('/');
    let mut urls = vec![format!("{normalised}{path_and_query}")];
    if as_written != normalised {
        urls.push(format!("{as_written}{path_and_query}"));
    }
    urls
}

impl FromRequest for SignedForm {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or(WebhookError::BadSignature)?
                .clone();
            let body = tokio::time::timeout(BODY_TIMEOUT, body)
                .await
                .map_err(|_| WebhookError::SlowBody)?
                .map_err(|_| WebhookError::TooLarge)?;
            let Some(auth_token) = state.settings.twilio.auth_token.as_ref() else {
                tracing::warn!(
                    "webhook refused: TWILIO_AUTH_TOKEN is not set, so no signature can be checked"
                );
                return Err(WebhookError::BadSignature);
            };
            let header = req
                .headers()
                .get("X-Twilio-Signature")
                .and_then(|h| h.to_str().ok())
                .ok_or(WebhookError::BadSignature)?;
            let params: Vec<(String, String)> =
                form_urlencoded::parse(&body).into_owned().collect();
            let settings = &state.settings;
            let urls = requested_urls(&settings.public_url, &settings.public_url_as_written, &req);
            let signed = urls.iter().any(|url| {
                signature::is_valid(
                    auth_token.expose_secret().as_bytes(),
                    url,
                    &params,
                    &body,
                    header,
                )
            });
            if !signed {
                tracing::warn!(
                    path = req.path(),
                    "webhook refused: signature does not match"
                );
                return Err(WebhookError::BadSignature);
            }
            Ok(SignedForm { params })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_twilios_id_formats_and_recording_host_are_accepted() {
        let call = "CA0123456789abcdef0123456789abcdef";
        assert!(is_twilio_sid(call, &["CA"]));
        assert!(!is_twilio_sid(call, &["SM", "MM"]));
        assert!(!is_twilio_sid(&format!("{call}CallStatusringing"), &["CA"]));
        assert!(!is_twilio_sid(
            "CA0123456789abcdef0123456789abcdeg",
            &["CA"]
        ));
        assert!(!is_twilio_sid("CA1", &["CA"]));
        assert!(is_twilio_recording_url(
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
        ));
        for bad in [
            "javascript:alert(1)",
            "http://api.twilio.com/Recordings/RE1",
            "https://api.twilio.com.evil.example/RE1",
            "https://user@api.twilio.com/RE1",
        ] {
            assert!(!is_twilio_recording_url(bad), "{bad}");
        }
    }
}
