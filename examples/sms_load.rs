//! Load benchmark for inbound texts, against a running server whose outbox sends to this
//! program's stand-in for Twilio's REST API.
//!
//! Each of N texters sends a first message (opening a conversation, acknowledged and
//! offered to a volunteer) and then a second one; the program measures the inbound
//! webhook's latency and throughput, and the relay latency: from posting the second
//! message to the outbox's REST request carrying it to the volunteer. With `--idle`, the
//! second messages go one at a time, each once the outbox has sent everything before it:
//! the relay latency of a single text on an idle server. Seed the database with
//! `voice_load seed`; `scripts/sms-load.sh` runs everything around a server.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use peerline::simulator::TwilioPeer;
use peerline::simulator::text::Text;

const LINE: &str = "+12025550100";

/// When each probe body reached the stand-in.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// Every message the stand-in received.
type Received = Arc<AtomicUsize>;

/// How long the stand-in takes to answer a request, as Twilio's API does.
#[derive(Clone, Copy)]
struct AnswersAfter(Duration);

async fn messages(
    body: web::Bytes,
    arrivals: web::Data<Arrivals>,
    received: web::Data<Received>,
    answers_after: web::Data<AnswersAfter>,
) -> HttpResponse {
    let now = Instant::now();
    let n = received.fetch_add(1, Ordering::SeqCst);
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    if let Some(probe) = form.get("Body").and_then(|b| b.split("probe-").nth(1)) {
        arrivals.lock().unwrap().insert(probe.to_owned(), now);
    }
    tokio::time::sleep(answers_after.0).await;
    HttpResponse::Created()
        .json(serde_json::json!({"sid": format!("SM{n:032}"), "status": "queued"}))
}

/// Waits until the stand-in has received no message for half a second: the outbox has
/// sent everything queued so far.
async fn until_the_outbox_is_quiet(received: &Received) {
    let mut seen = received.load(Ordering::SeqCst);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = received.load(Ordering::SeqCst);
        if now == seen {
            return;
        }
        seen = now;
    }
}

/// Drives inbound texts against a running server.
#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// The server's TWILIO_AUTH_TOKEN, to sign the webhooks.
    #[arg(long, default_value = "load-test-token")]
    auth_token: String,
    #[arg(long, default_value_t = 500)]
    texters: usize,
    /// Texters sending at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Where this program's stand-in for Twilio's REST API listens.
    #[arg(long, default_value_t = 18091)]
    rest_port: u16,
    /// Send the second messages one at a time, each once the outbox has sent everything
    /// before it.
    #[arg(long)]
    idle: bool,
    /// How long the stand-in takes to answer each request, in milliseconds: Twilio's API
    /// answers a new message in a few hundred, and a sender waits for the answer.
    #[arg(long, default_value_t = 0)]
    rest_latency_ms: u64,
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Args {
        base_url,
        auth_token: token,
        texters,
        concurrency,
        rest_port,
        idle,
        rest_latency_ms,
    } = clap::Parser::parse();

    let arrivals: Arrivals = Arc::default();
    let received: Received = Arc::default();
    let shared = web::Data::new(arrivals.clone());
    let shared_count = web::Data::new(received.clone());
    let answers_after = web::Data::new(AnswersAfter(Duration::from_millis(rest_latency_ms)));
    let listener = TcpListener::bind(("127.0.0.1", rest_port)).expect("bind the REST stand-in");
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .app_data(shared_count.clone())
            .app_data(answers_after.clone())
            .default_service(web::to(messages))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);

    let peer = TwilioPeer::new(&base_url, &token);
    let from = |i: usize| format!("+1303555{:04}", i % 10_000);
    let mut first = Vec::new();
    let started = Instant::now();
    for chunk in (0..texters).collect::<Vec<_>>().chunks(concurrency) {
        let mut sends = tokio::task::JoinSet::new();
        for i in chunk {
            let text = Text::new(&from(*i), LINE, "Hello, is anyone there?");
            let peer = peer.clone();
            sends.spawn(async move {
                let start = Instant::now();
                let (status, twiml) = peer.text(&text).await.expect("post");
                assert!(
                    status == 200 && !twiml.contains("<Message>"),
                    "{status} {twiml}"
                );
                start.elapsed()
            });
        }
        first.extend(sends.join_all().await);
    }
    let first_secs = started.elapsed().as_secs_f64();

    let mut sent_at = HashMap::new();
    let mut second = Vec::new();
    let started = Instant::now();
    if idle {
        until_the_outbox_is_quiet(&received).await;
    }
    let at_once = if idle { 1 } else { concurrency };
    for chunk in (0..texters).collect::<Vec<_>>().chunks(at_once) {
        let mut sends = tokio::task::JoinSet::new();
        for i in chunk {
            let i = *i;
            let text = Text::new(&from(i), LINE, &format!("still here probe-{i}"));
            let peer = peer.clone();
            sends.spawn(async move {
                let start = Instant::now();
                let (status, _) = peer.text(&text).await.expect("post");
                assert_eq!(status, 200);
                (i, start, start.elapsed())
            });
        }
        for (i, start, took) in sends.join_all().await {
            sent_at.insert(i.to_string(), start);
            second.push(took);
        }
        if idle {
            until_the_outbox_is_quiet(&received).await;
        }
    }
    let second_secs = started.elapsed().as_secs_f64();

    // Wait for the outbox to pass every relay on (or give up after a minute).
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().unwrap().len() < texters && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let arrived = arrivals.lock().unwrap().clone();
    let mut relay: Vec<Duration> = arrived
        .iter()
        .filter_map(|(probe, at)| Some(at.duration_since(*sent_at.get(probe)?)))
        .collect();

    println!(
        "{texters} texters, concurrency {concurrency}, Twilio's API answering in {rest_latency_ms} ms"
    );
    println!(
        "first texts (open, acknowledge, offer): {:.0}/s; {}",
        texters as f64 / first_secs,
        percentiles(&mut first)
    );
    let rate = if idle {
        "one at a time on an idle server".to_owned()
    } else {
        format!("{:.0}/s", texters as f64 / second_secs)
    };
    println!(
        "second texts (relay to the volunteer):   {rate}; {}",
        percentiles(&mut second)
    );
    println!(
        "relay latency, webhook to Twilio REST request: {} of {texters} relayed; {}",
        relay.len(),
        percentiles(&mut relay)
    );
}

fn percentiles(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "no samples".to_owned();
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "p50 {:.1} ms, p99 {:.1} ms",
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    )
}
