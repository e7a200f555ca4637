//! A local stand-in for Twilio's REST API: records each request and answers from a script.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One scripted answer.
#[derive(Clone)]
pub enum Scripted {
    TooManyRequests { retry_after_secs: u64 },
    Refused { code: i64 },
    ServerError,
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

#[derive(Default)]
struct Inner {
    script: VecDeque<Scripted>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct StandIn {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    pub fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let shared = web::Data::new(inner.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { base, inner }
    }

    /// Queues answers for the next requests; after them every request is accepted.
    pub fn script(&self, answers: &[Scripted]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .extend(answers.iter().cloned());
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    inner: web::Data<Arc<Mutex<Inner>>>,
) -> HttpResponse {
    let form = form_urlencoded::parse(&body).into_owned().collect();
    let next = {
        let mut inner = inner.lock().unwrap();
        inner.received.push(Received {
            path: req.path().to_owned(),
            authorization: req
                .headers()
                .get("authorization")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned),
            form,
        });
        inner.script.pop_front().map(|s| (s, inner.received.len()))
    };
    match next {
        None => {
            let n = inner.lock().unwrap().received.len();
            HttpResponse::Created().json(serde_json::json!({"sid": format!("SM{n:032}"), "status": "queued"}))
        }
        Some((Scripted::TooManyRequests { retry_after_secs }, _)) => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", retry_after_secs.to_string()))
            .json(serde_json::json!({"code": 20429, "message": "Too Many Requests", "status": 429})),
        Some((Scripted::Refused { code }, _)) => HttpResponse::BadRequest()
            .json(serde_json::json!({"code": code, "message": "The 'To' number is not valid.", "status": 400})),
        Some((Scripted::ServerError, _)) => {
            tokio::time::sleep(Duration::from_millis(10)).await;
            HttpResponse::InternalServerError().finish()
        }
    }
}
