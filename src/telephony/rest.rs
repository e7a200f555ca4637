//! Twilio's REST API for outbound messages and calls: one form-encoded POST to
//! `Messages.json` or `Calls.json` with HTTP Basic auth, and a classification of every way
//! it can end that tells the caller whether sending again is safe.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// How long one send may take before its outcome is unknown.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    api_base: Url,
    account_sid: String,
    auth_token: SecretString,
}

/// A message or call Twilio accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Accepted {
    pub sid: String,
    pub status: String,
}

/// A call to place.
pub struct OutboundCall<'a> {
    pub to: &'a str,
    /// A number on the account: the helpline's.
    pub from: &'a str,
    /// Where Twilio fetches the call's TwiML once it is answered.
    pub url: &'a str,
    /// Where Twilio reports that the call has ended.
    pub status_callback: &'a str,
    /// How long the phone rings before Twilio gives up.
    pub ring_secs: u32,
}

/// Why a send did not succeed, and what that allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Twilio did not process the request (429, or no connection was made): safe to retry,
    /// after `retry_after` when Twilio said so.
    #[error("not processed, retry later: {reason}")]
    RetryLater {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Twilio refused the message for good (invalid number, opted out, not SMS-capable...).
    #[error("refused by Twilio ({code}): {message}")]
    Permanent { code: i64, message: String },
    /// The message may or may not have been sent (a timeout, a 5xx): never re-send blindly.
    #[error("outcome unknown: {reason}")]
    Uncertain { reason: String },
}

#[derive(Deserialize)]
struct TwilioErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioClient {
    pub fn new(api_base: Url, account_sid: String, auth_token: SecretString) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            http,
            api_base,
            account_sid,
            auth_token,
        }
    }

    fn resource_url(&self, resource: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/{resource}.json",
            self.api_base.as_str().trim_end_matches('/'),
            self.account_sid
        )
    }

    /// Sends one SMS from a helpline number.
    pub async fn send_sms(
        &self,
        to: &str,
        from: &str,
        body: &str,
        status_callback: Option<&str>,
    ) -> Result<Accepted, SendError> {
        let mut form = vec![("To", to), ("From", from), ("Body", body)];
        if let Some(url) = status_callback {
            form.push(("StatusCallback", url));
        }
        self.create("Messages", &form).await
    }

    /// Places a call from a helpline number; Twilio fetches the TwiML for it from `call.url`
    /// once it is answered.
    pub async fn place_call(&self, call: &OutboundCall<'_>) -> Result<Accepted, SendError> {
        let timeout = call.ring_secs.to_string();
        let form = [
            ("To", call.to),
            ("From", call.from),
            ("Url", call.url),
            ("StatusCallback", call.status_callback),
            ("StatusCallbackEvent", "completed"),
            ("Timeout", timeout.as_str()),
        ];
        self.create("Calls", &form).await
    }

    /// Creates one resource (a message, a call) and classifies the answer.
    async fn create(&self, resource: &str, form: &[(&str, &str)]) -> Result<Accepted, SendError> {
        let response = self
            .http
            .post(self.resource_url(resource))
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(form)
            .send()
            .await
            .map_err(classify_transport_error)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.map_err(|e| SendError::Uncertain {
            reason: format!("reading Twilio's answer failed: {e}"),
        })?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|_| SendError::Uncertain {
                reason: format!("Twilio answered {status} with an unreadable body"),
            });
        }
        let error: Option<TwilioErrorBody> = serde_json::from_str(&text).ok();
        let code = error.as_ref().and_then(|e| e.code).unwrap_or(0);
        let message = error
            .and_then(|e| e.message)
            .unwrap_or_else(|| format!("HTTP {status}"));
        if status.as_u16() == 429 || code == 20429 {
            return Err(SendError::RetryLater {
                reason: message,
                retry_after,
            });
        }
        if status.is_server_error() {
            return Err(SendError::Uncertain {
                reason: format!("Twilio answered {status}: {message}"),
            });
        }
        Err(SendError::Permanent { code, message })
    }
}

/// A request that never reached Twilio may be retried; one that timed out may have been
/// processed.
fn classify_transport_error(error: reqwest::Error) -> SendError {
    if error.is_connect() {
        SendError::RetryLater {
            reason: format!("could not connect to Twilio: {error}"),
            retry_after: None,
        }
    } else {
        SendError::Uncertain {
            reason: format!("the request to Twilio did not complete: {error}"),
        }
    }
}
