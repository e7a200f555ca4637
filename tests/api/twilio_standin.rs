//! A local stand-in for Twilio's REST API (wiremock): records each request and answers
//! from a script, then accepts every message with a new `SM...` sid.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::method;
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

impl Received {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Accepts a message as Twilio does: 201 with a new sid.
struct Accept(AtomicUsize);

impl Respond for Accept {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(201)
            .set_body_json(json!({"sid": format!("SM{n:032}"), "status": "queued"}))
    }
}

/// Scripted answers take precedence over accepting.
const SCRIPTED: u8 = 1;
const ACCEPTING: u8 = 10;

pub struct StandIn {
    pub base: String,
    server: MockServer,
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
        }
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
