//! Load benchmark for the voice webhooks, against a running server.
//!
//! `seed` fills an empty database with one helpline and N volunteers (three weekly shifts
//! each, across many time zones). `run` drives complete inbound calls, signed as Twilio
//! signs them (inbound webhook, whisper, key press, dial action, status callback), then
//! the same server's `/healthz` as the framework floor, and prints calls per second and
//! p50/p99 latency per webhook. `scripts/voice-load.sh` runs both around a server.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use peerline::domain::calendar::{LocalTime, Weekday};
use peerline::domain::helpline::{HelplineSettings, RoutingSettings};
use peerline::domain::phone::E164;
use peerline::domain::rota::{ShiftChannels, WeeklyShift};
use peerline::domain::timezone::TimeZone;
use peerline::domain::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};
use peerline::simulator::TwilioPeer;
use peerline::simulator::twiml_reader::{self, Element};
use peerline::storage::{self, helplines, rota, volunteers};
use tokio::sync::Mutex;

const LINE: &str = "+12025550100";
const ZONES: [&str; 12] = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Auckland",
    "Africa/Johannesburg",
    "America/Sao_Paulo",
    "Asia/Tokyo",
];
const DAYS: [Weekday; 7] = Weekday::ALL;
const WEBHOOKS: [&str; 5] = ["inbound", "whisper", "accept", "dial action", "status"];

#[derive(clap::Parser)]
enum Args {
    /// Fills an empty database with one helpline and its volunteers.
    Seed {
        #[arg(long, default_value = "sqlite://load.db?mode=rwc")]
        database_url: String,
        #[arg(long, default_value_t = 10_000)]
        volunteers: usize,
    },
    /// Drives complete calls against running servers.
    Run {
        /// One or more servers, comma-separated: calls are spread over them, each call
        /// staying with the server that answered it, as behind a load balancer.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
        /// The servers' TWILIO_AUTH_TOKEN, to sign the webhooks.
        #[arg(long, default_value = "load-test-token")]
        auth_token: String,
        #[arg(long, default_value_t = 2000)]
        calls: usize,
        /// Calls in progress at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match clap::Parser::parse() {
        Args::Seed {
            database_url,
            volunteers,
        } => seed(&database_url, volunteers).await,
        Args::Run {
            base_url,
            auth_token,
            calls,
            concurrency,
        } => run(&base_url, &auth_token, calls, concurrency).await,
    }
}

async fn seed(url: &str, n: usize) {
    let db = storage::connect(url).await.expect("database");
    storage::migrate(&db).await.expect("migrations");
    let line = helplines::create(
        &db,
        &HelplineSettings {
            name: "Load test".into(),
            time_zone: TimeZone::parse("Europe/London").unwrap(),
            greeting: "Hello.".into(),
            voice_language: "en-GB".into(),
            languages: vec!["en".into()],
            fallback_number: Some(E164::parse("+12025550188").unwrap()),
            routing: RoutingSettings::default(),
            texting: Default::default(),
            supervision: Default::default(),
            rota: Default::default(),
        },
        peerline::clock::Clock::system().now(),
    )
    .await
    .expect("helpline");
    helplines::add_number(
        &db,
        line.id,
        &E164::parse(LINE).unwrap(),
        peerline::clock::Clock::system().now(),
    )
    .await
    .expect("number");
    for i in 0..n {
        let zone = TimeZone::parse(ZONES[i % ZONES.len()]).unwrap();
        let volunteer = volunteers::create(
            &db,
            &VolunteerProfile {
                name: format!("Volunteer {i}"),
                phone: E164::parse(&format!(
                    "+1{}555{:04}",
                    [202, 212, 303, 312, 415, 503][i / 5000 % 6],
                    1000 + i % 5000
                ))
                .unwrap(),
                time_zone: zone,
                languages: vec!["en".into()],
                training_status: TrainingStatus::Trained,
                training_completed_on: NaiveDate::from_ymd_opt(2026, 1, 1),
                refresher_due_on: None,
                trained_voice: true,
                trained_sms: true,
                active: true,
                limits: WellbeingLimits {
                    max_contacts_per_shift: 50,
                    ..WellbeingLimits::default()
                },
            },
            &[line.id],
            peerline::clock::Clock::system().now(),
        )
        .await
        .expect("volunteer");
        for k in 0..3 {
            let start = u32::try_from((i * 7 + k * 8) % 24).unwrap();
            let shift = WeeklyShift::new(
                DAYS[(i + k * 2) % 7],
                LocalTime::hm(start, 0).unwrap(),
                LocalTime::hm((start + 8) % 24, 0).unwrap(),
                ShiftChannels::Both,
                None,
                None,
            )
            .unwrap();
            rota::create_shift(
                &db,
                volunteer.id,
                &shift,
                peerline::clock::Clock::system().now(),
            )
            .await
            .expect("shift");
        }
    }
    println!("seeded 1 helpline ({LINE}) and {n} volunteers");
}

#[derive(Default)]
struct Timings {
    by_webhook: Vec<Vec<Duration>>,
    health: Vec<Duration>,
    held: usize,
    failures: usize,
}

async fn timed(
    peer: &TwilioPeer,
    url: &str,
    params: &[(String, String)],
) -> Option<(Duration, Element)> {
    let start = Instant::now();
    let (status, body) = peer.post(url, params).await.ok()?;
    let took = start.elapsed();
    if status != 200 {
        return None;
    }
    Some((took, twiml_reader::parse(&body).ok()?))
}

fn first_attr(root: &Element, tag: &str, attr: &str) -> Option<String> {
    let mut found = Vec::new();
    root.find_all(tag, &mut found);
    found.first()?.attr(attr).map(str::to_owned)
}

/// One complete call; returns the time each webhook took, or `None` if the call did not
/// reach a volunteer (everyone busy) or a webhook failed.
async fn one_call(peer: &TwilioPeer, i: usize) -> Result<[Duration; 5], bool> {
    let call_sid = format!("CA{i:032}");
    let from = format!("+1202555{:04}", 2000 + i % 7000);
    let base = |extra: &[(&str, &str)]| {
        let mut p: Vec<(String, String)> = [
            ("CallSid", call_sid.as_str()),
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("From", from.as_str()),
            ("To", LINE),
            ("Direction", "inbound"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        p.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        p
    };
    let (t_in, doc) = timed(
        peer,
        &peer.url("/twilio/voice"),
        &base(&[("CallStatus", "ringing")]),
    )
    .await
    .ok_or(true)?;
    let (Some(whisper), Some(action)) = (
        first_attr(&doc, "Number", "url"),
        first_attr(&doc, "Dial", "action"),
    ) else {
        let end = base(&[("CallStatus", "completed")]);
        let _ = peer.post(&peer.url("/twilio/voice/status"), &end).await;
        return Err(false);
    };
    let leg_sid = format!("CL{i:032}");
    let leg: Vec<(String, String)> = [("CallSid", leg_sid.as_str()), ("CallStatus", "in-progress")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let (t_whisper, gather) = timed(peer, &whisper, &leg).await.ok_or(true)?;
    let accept_url = first_attr(&gather, "Gather", "action").ok_or(true)?;
    let mut pressed = leg.clone();
    pressed.push(("Digits".into(), "1".into()));
    let (t_accept, _) = timed(peer, &accept_url, &pressed).await.ok_or(true)?;
    let ended = base(&[
        ("CallStatus", "in-progress"),
        ("DialCallStatus", "completed"),
        ("DialCallDuration", "60"),
    ]);
    let (t_dial, _) = timed(peer, &action, &ended).await.ok_or(true)?;
    let (t_status, _) = timed(
        peer,
        &peer.url("/twilio/voice/status"),
        &base(&[("CallStatus", "completed"), ("CallDuration", "75")]),
    )
    .await
    .ok_or(true)?;
    Ok([t_in, t_whisper, t_accept, t_dial, t_status])
}

async fn run(base_urls: &str, token: &str, calls: usize, concurrency: usize) {
    let base_url = base_urls.split(',').next().unwrap_or_default().to_owned();
    let peers: Vec<TwilioPeer> = base_urls
        .split(',')
        .map(|base| TwilioPeer::new(base, token))
        .collect();
    let timings = Arc::new(Mutex::new(Timings {
        by_webhook: vec![Vec::new(); WEBHOOKS.len()],
        ..Timings::default()
    }));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let peer = peers[worker % peers.len()].clone();
            let (timings, next) = (timings.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= calls {
                        break;
                    }
                    let result = one_call(&peer, i).await;
                    let mut t = timings.lock().await;
                    match result {
                        Ok(each) => {
                            for (k, d) in each.into_iter().enumerate() {
                                t.by_webhook[k].push(d);
                            }
                        }
                        Err(true) => t.failures += 1,
                        Err(false) => t.held += 1,
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let call_secs = started.elapsed().as_secs_f64();

    let health_requests = calls * WEBHOOKS.len();
    let client = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let health_started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, timings, next, url) = (
                client.clone(),
                timings.clone(),
                next.clone(),
                format!("{base_url}/healthz"),
            );
            tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < health_requests {
                    let start = Instant::now();
                    let ok = client
                        .get(&url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    let took = start.elapsed();
                    let mut t = timings.lock().await;
                    if ok {
                        t.health.push(took);
                    } else {
                        t.failures += 1;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let health_secs = health_started.elapsed().as_secs_f64();

    let mut t = timings.lock().await;
    let completed = t.by_webhook[0].len();
    let webhook_requests: usize = t.by_webhook.iter().map(Vec::len).sum();
    println!(
        "{calls} calls, concurrency {concurrency}: {completed} connected, {} held (nobody free), {} failed",
        t.held, t.failures
    );
    println!(
        "complete calls: {:.0}/s; webhook requests: {:.0}/s",
        completed as f64 / call_secs,
        webhook_requests as f64 / call_secs
    );
    for (name, samples) in WEBHOOKS.iter().zip(t.by_webhook.iter_mut()) {
        println!("  {name:<12} {}", percentiles(samples));
    }
    println!(
        "/healthz floor: {:.0} requests/s; {}",
        t.health.len() as f64 / health_secs,
        percentiles(&mut t.health)
    );
}

fn percentiles(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "no samples".to_owned();
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.2} ms, p99 {:.2} ms",
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    )
}
