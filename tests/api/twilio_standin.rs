//! A local stand-in for Twilio's REST API (wiremock): records each request and answers
//! from a script, then accepts every message with a new `SM...` sid.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// One scripted answer.
#[derive(Clone)]
pub enum Scripted {
    TooManyRequests { retry_after_secs: u64 },
    Refused { code: i64 },
    ServerError,
}

impl Scripted {
    fn response(&self) -> ResponseTemplate {
        match self {
            Scripted::TooManyRequests { retry_after_secs } => ResponseTemplate::new(429)
                .insert_header("Retry-After", retry_after_secs.to_string().as_str())
                .set_body_json(
                    json!({"code": 20429, "message": "Too Many Requests", "status": 429}),
                ),
            Scripted::Refused { code } => ResponseTemplate::new(400).set_body_json(
                json!({"code": code, "message": "The 'To' number is not valid.", "status": 400}),
            ),
            Scripted::ServerError => {
                ResponseTemplate::new(500).set_delay(Duration::from_millis(10))
            }
        }
    }
}

/// A request the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub form: Vec<(String, String)>,
}

/// The parameters Twilio's API description lists for creating a call.
const CALL_PARAMETERS: [&str; 35] = [
    "To",
    "From",
    "Url",
    "Twiml",
    "ApplicationSid",
    "Method",
    "FallbackUrl",
    "FallbackMethod",
    "StatusCallback",
    "StatusCallbackEvent",
    "StatusCallbackMethod",
    "SendDigits",
    "Timeout",
    "Record",
    "RecordingChannels",
    "RecordingStatusCallback",
    "RecordingStatusCallbackMethod",
    "SipAuthUsername",
    "SipAuthPassword",
    "MachineDetection",
    "MachineDetectionTimeout",
    "RecordingStatusCallbackEvent",
    "Trim",
    "CallerId",
    "MachineDetectionSpeechThreshold",
    "MachineDetectionSpeechEndThreshold",
    "MachineDetectionSilenceTimeout",
    "AsyncAmd",
    "AsyncAmdStatusCallback",
    "AsyncAmdStatusCallbackMethod",
    "Byoc",
    "CallReason",
    "CallToken",
    "RecordingTrack",
    "TimeLimit",
];

impl Received {
    /// Whether this is a request to place a call.
    pub fn is_call(&self) -> bool {
        self.path.ends_with("/Calls.json")
    }

    /// Checks a request to place a call against the Calls resource of Twilio's API
    /// description: the account path, Basic auth, `To` and `From`, exactly one of `Url`,
    /// `Twiml` or `ApplicationSid`, absolute callback URLs, known parameters only.
    pub fn assert_valid_call(&self) {
        let account = self
            .path
            .strip_prefix("/2010-04-01/Accounts/")
            .and_then(|rest| rest.strip_suffix("/Calls.json"))
            .unwrap_or_else(|| panic!("not the Calls resource: {}", self.path));
        assert!(
            account.starts_with("AC") && account.len() == 34,
            "{account}"
        );
        assert!(
            self.authorization
                .as_deref()
                .is_some_and(|a| a.starts_with("Basic ")),
            "no Basic auth"
        );
        for (name, _) in &self.form {
            assert!(
                CALL_PARAMETERS.contains(&name.as_str()),
                "unknown parameter {name}"
            );
        }
        for required in ["To", "From"] {
            assert!(
                self.field(required).is_some_and(|v| !v.is_empty()),
                "{required}"
            );
        }
        let sources = ["Url", "Twiml", "ApplicationSid"]
            .iter()
            .filter(|name| self.field(name).is_some())
            .count();
        assert_eq!(sources, 1, "exactly one of Url, Twiml, ApplicationSid");
        for url in ["Url", "StatusCallback", "FallbackUrl"] {
            if let Some(value) = self.field(url) {
                assert!(
                    value.starts_with("http://") || value.starts_with("https://"),
                    "{url}"
                );
            }
        }
        if let Some(events) = self.field("StatusCallbackEvent") {
            for event in events.split(' ') {
                assert!(
                    ["initiated", "ringing", "answered", "completed"].contains(&event),
                    "StatusCallbackEvent {event}"
                );
            }
        }
        if let Some(timeout) = self.field("Timeout") {
            let secs: u32 = timeout.parse().expect("Timeout is a whole number");
            assert!((1..=600).contains(&secs), "Timeout {secs}");
        }
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Accepts a message or a call as Twilio does: 201 with a new sid.
struct Accept(AtomicUsize);

impl Respond for Accept {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        let prefix = if request.url.path().ends_with("/Calls.json") {
            "CA"
        } else {
            "SM"
        };
        ResponseTemplate::new(201)
            .set_body_json(json!({"sid": format!("{prefix}{n:032}"), "status": "queued"}))
    }
}

/// [`Accept`] after `delay`, as Twilio's API takes a while to answer, noting when each
/// request's body arrived.
struct AcceptAfter {
    accept: Accept,
    delay: Duration,
    arrivals: Arrivals,
}

/// Each request's `Body` and when it arrived, in the order they arrived.
pub type Arrivals = Arc<Mutex<Vec<(String, Instant)>>>;

impl Respond for AcceptAfter {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "Body")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.push((body, Instant::now()));
        }
        self.accept.respond(request).set_delay(self.delay)
    }
}

/// Scripted answers take precedence over accepting.
const SCRIPTED: u8 = 1;
const ACCEPTING: u8 = 10;

pub struct StandIn {
    pub base: String,
    server: MockServer,
    arrivals: Arrivals,
}

impl StandIn {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(Accept(AtomicUsize::new(0)))
            .with_priority(ACCEPTING)
            .mount(&server)
            .await;
        Self {
            base: server.uri(),
            server,
            arrivals: Arrivals::default(),
        }
    }

    /// A stand-in that accepts every request, answering each `delay` after it arrives.
    pub async fn answering_after(delay: Duration) -> Self {
        let server = MockServer::start().await;
        let arrivals = Arrivals::default();
        let accept = AcceptAfter {
            accept: Accept(AtomicUsize::new(0)),
            delay,
            arrivals: arrivals.clone(),
        };
        Mock::given(method("POST"))
            .respond_with(accept)
            .mount(&server)
            .await;
        Self {
            base: server.uri(),
            server,
            arrivals,
        }
    }

    /// For a stand-in [`answering_after`](Self::answering_after) a delay: each request's
    /// `Body` and when it arrived, in the order they arrived.
    pub fn arrivals(&self) -> Vec<(String, Instant)> {
        self.arrivals.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Queues answers for the next requests, in order; after them every request is
    /// accepted.
    pub async fn script(&self, answers: &[Scripted]) {
        for answer in answers {
            Mock::given(method("POST"))
                .respond_with(answer.response())
                .up_to_n_times(1)
                .with_priority(SCRIPTED)
                .mount(&self.server)
                .await;
        }
    }

    /// Queues answers for the next requests to `number` alone, in order: requests to
    /// others are accepted whatever order they arrive in.
    pub async fn script_to(&self, number: &str, answers: &[Scripted]) {
        let to: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("To", number)
            .finish();
        for answer in answers {
            Mock::given(method("POST"))
                .and(body_string_contains(to.as_str()))
                .respond_with(answer.response())
                .up_to_n_times(1)
                .with_priority(SCRIPTED)
                .mount(&self.server)
                .await;
        }
    }

    pub async fn received(&self) -> Vec<Received> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|request| Received {
                path: request.url.path().to_owned(),
                authorization: request
                    .headers
                    .get("authorization")
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_owned),
                form: form_urlencoded::parse(&request.body).into_owned().collect(),
            })
            .collect()
    }
}
