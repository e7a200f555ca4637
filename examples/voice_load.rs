//! Load benchmark for the voice webhooks, against a running server.
//!
//! `seed` fills an empty database with one helpline and N volunteers (three weekly shifts
//! each, across many time zones) and, optionally, days of answered contacts before now.
//! `run` drives complete inbound calls, signed as Twilio signs them (inbound webhook,
//! whisper, key press, dial action, status callback), then the same server's `/healthz`
//! as the framework floor, and prints calls per second and p50/p99 latency per webhook.
//! Every request answered is in the percentiles, whatever it answered; a caller sent to
//! the fallback number or a webhook that failed counts as a failure.
//! `scripts/voice-load.sh` runs both around a server.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use peerline::domain::calendar::{LocalTime, Weekday};
use peerline::domain::contact::Outcome;
use peerline::domain::helpline::{HelplineSettings, RoutingSettings};
use peerline::domain::ids::{HelplineId, VolunteerId};
use peerline::domain::phone::E164;
use peerline::domain::rota::Channel;
use peerline::domain::rota::{ShiftChannels, WeeklyShift};
use peerline::domain::routing::Tier;
use peerline::domain::supervision::ReviewState;
use peerline::domain::timezone::TimeZone;
use peerline::domain::volunteer::{VolunteerProfile, WellbeingLimits};
use peerline::simulator::TwilioPeer;
use peerline::simulator::twiml_reader::{self, Element};
use peerline::storage::contacts::Stage;
use peerline::storage::entities::contact;
use peerline::storage::{self, helplines, rota, volunteers};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

const LINE: &str = "+12025550100";
/// The helpline's fallback number: a caller put through to it was not routed.
const FALLBACK: &str = "+12025550188";
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
        /// Days of answered contacts before now (365 for a year).
        #[arg(long, default_value_t = 0)]
        history_days: usize,
        /// Answered contacts a day in that history (2,740 a day is a million a year).
        #[arg(long, default_value_t = 2740)]
        contacts_per_day: usize,
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
            history_days,
            contacts_per_day,
        } => {
            let (db, line, ids) = seed(&database_url, volunteers).await;
            seed_history(
                &db,
                line,
                &ids,
                history_days * contacts_per_day,
                history_days,
            )
            .await;
        }
        Args::Run {
            base_url,
            auth_token,
            calls,
            concurrency,
        } => run(&base_url, &auth_token, calls, concurrency).await,
    }
}

async fn seed(url: &str, n: usize) -> (DatabaseConnection, HelplineId, Vec<VolunteerId>) {
    let db = storage::connect(url).await.expect("database");
    storage::migrate(&db).await.expect("migrations");
    // The servers started on this database find the key generated here (beside a SQLite
    // file, or in PostgreSQL) and open the phones sealed under it.
    let vars = std::collections::HashMap::from([("DATABASE_URL".to_owned(), url.to_owned())]);
    let settings = peerline::config::Settings::from_vars(&vars).expect("settings");
    let vault = peerline::secret_key::vault(&db, &settings, peerline::clock::Clock::system().now())
        .await
        .expect("secret key");
    let line = helplines::create(
        &db,
        &HelplineSettings {
            name: "Load test".into(),
            time_zone: TimeZone::parse("Europe/London").unwrap(),
            greeting: "Hello.".into(),
            voice_language: "en-GB".into(),
            languages: vec!["en".into()],
            fallback_number: Some(E164::parse(FALLBACK).unwrap()),
            routing: RoutingSettings::default(),
            texting: Default::default(),
            supervision: Default::default(),
            rota: Default::default(),
            callers: Default::default(),
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
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let zone = TimeZone::parse(ZONES[i % ZONES.len()]).unwrap();
        let phone = E164::parse(&format!(
            "+1{}555{:04}",
            [202, 212, 303, 312, 415, 503][i / 5000 % 6],
            1000 + i % 5000
        ))
        .unwrap();
        let volunteer = volunteers::create(
            &db,
            &vault,
            &VolunteerProfile {
                name: format!("Volunteer {i}"),
                limits: WellbeingLimits {
                    max_contacts_per_shift: 50,
                    ..WellbeingLimits::default()
                },
                ..VolunteerProfile::trained_in(zone)
            },
            &phone,
            &[line.id],
            peerline::clock::Clock::system().now(),
        )
        .await
        .expect("volunteer");
        ids.push(volunteer.id);
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
    (db, line.id, ids)
}

/// `count` answered calls spread evenly over the `days` before now, each with a
/// volunteer taken in turn, lasting 1 to 50 minutes.
async fn seed_history(
    db: &DatabaseConnection,
    line: HelplineId,
    volunteers: &[VolunteerId],
    count: usize,
    days: usize,
) {
    if count == 0 {
        return;
    }
    let now = peerline::clock::Clock::system().now();
    let span = i64::try_from(days * 24 * 3600).unwrap();
    let mut done = 0;
    while done < count {
        let n = 1000.min(count - done);
        let rows = (done..done + n).map(|k| {
            let offset = span * i64::try_from(k).unwrap() / i64::try_from(count).unwrap();
            let received = now - chrono::Duration::seconds(span - offset);
            let answered = received + chrono::Duration::seconds(20);
            let talk = i32::try_from(60 + k * 7919 % 2940).unwrap();
            contact::ActiveModel {
                helpline_id: Set(line),
                channel: Set(Channel::Voice),
                provider_sid: Set(format!("CA{:032}", 900_000_000 + k)),
                dialed_number: Set(LINE.into()),
                caller_hash: Set(format!("{:064x}", k % 150_000)),
                caller_hint: Set("...42".into()),
                stage: Set(Stage::Ended),
                round: Set(1),
                outcome: Set(Some(Outcome::Answered)),
                peer_match_tier: Set(Some(Tier::AnyTopic)),
                answered_by: Set(Some(volunteers[k * 31 % volunteers.len()])),
                received_at: Set(received),
                route_deadline: Set(received),
                answered_at: Set(Some(answered)),
                ended_at: Set(Some(answered + chrono::Duration::seconds(talk.into()))),
                wait_secs: Set(Some(20)),
                talk_secs: Set(Some(talk)),
                updated_at: Set(answered),
                review_state: Set(ReviewState::Unreviewed),
                ..Default::default()
            }
        });
        contact::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .expect("contacts");
        done += n;
    }
    println!("seeded {count} answered calls over the last {days} days");
}

/// Each webhook's answer times, and how the calls ended.
#[derive(Default)]
struct Timings {
    by_webhook: Vec<Vec<Duration>>,
    connected: usize,
    /// Nobody was free, and the caller was told so (held or to voicemail).
    held: usize,
    /// Sent to the fallback number: the answer deadline passed, or the database failed.
    fallback: usize,
    /// A webhook answered an error or not at all.
    failed: usize,
}

/// How one call went.
enum CallEnd {
    Connected,
    Held,
    Fallback,
    Failed,
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

/// The first element named `tag` in the document.
fn first<'a>(root: &'a Element, tag: &str) -> Option<&'a Element> {
    let mut found = Vec::new();
    root.find_all(tag, &mut found);
    found.first().copied()
}

fn first_attr(root: &Element, tag: &str, attr: &str) -> Option<String> {
    first(root, tag)?.attr(attr).map(str::to_owned)
}

fn first_text<'a>(root: &'a Element, tag: &str) -> Option<&'a str> {
    first(root, tag).map(|e| e.text.trim())
}

/// One complete call: the time each webhook that answered took, and how it ended.
async fn one_call(peer: &TwilioPeer, i: usize) -> (Vec<(usize, Duration)>, CallEnd) {
    let mut times = Vec::new();
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
    let Some((took, doc)) = timed(
        peer,
        &peer.url("/twilio/voice"),
        &base(&[("CallStatus", "ringing")]),
    )
    .await
    else {
        return (times, CallEnd::Failed);
    };
    times.push((0, took));
    if first_text(&doc, "Number") == Some(FALLBACK) {
        return (times, CallEnd::Fallback);
    }
    let (Some(whisper), Some(action)) = (
        first_attr(&doc, "Number", "url"),
        first_attr(&doc, "Dial", "action"),
    ) else {
        let end = base(&[("CallStatus", "completed")]);
        let _ = peer.post(&peer.url("/twilio/voice/status"), &end).await;
        return (times, CallEnd::Held);
    };
    let leg_sid = format!("CL{i:032}");
    let leg: Vec<(String, String)> = [("CallSid", leg_sid.as_str()), ("CallStatus", "in-progress")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut pressed = leg.clone();
    pressed.push(("Digits".into(), "1".into()));
    let ended = base(&[
        ("CallStatus", "in-progress"),
        ("DialCallStatus", "completed"),
        ("DialCallDuration", "60"),
    ]);
    let Some((took, gather)) = timed(peer, &whisper, &leg).await else {
        return (times, CallEnd::Failed);
    };
    times.push((1, took));
    let Some(accept_url) = first_attr(&gather, "Gather", "action") else {
        return (times, CallEnd::Failed);
    };
    let status = base(&[("CallStatus", "completed"), ("CallDuration", "75")]);
    let rest = [
        (accept_url.as_str(), &pressed),
        (action.as_str(), &ended),
        (&peer.url("/twilio/voice/status"), &status),
    ];
    for (k, (url, params)) in rest.into_iter().enumerate() {
        let Some((took, doc)) = timed(peer, url, params).await else {
            return (times, CallEnd::Failed);
        };
        times.push((k + 2, took));
        if first_text(&doc, "Number") == Some(FALLBACK) {
            return (times, CallEnd::Fallback);
        }
    }
    (times, CallEnd::Connected)
}

async fn run(base_urls: &str, token: &str, calls: usize, concurrency: usize) {
    let base_url = base_urls.split(',').next().unwrap_or_default().to_owned();
    let peers: Vec<TwilioPeer> = base_urls
        .split(',')
        .map(|base| TwilioPeer::new(base, token))
        .collect();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let peer = peers[worker % peers.len()].clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut t = Timings {
                    by_webhook: vec![Vec::new(); WEBHOOKS.len()],
                    ..Timings::default()
                };
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= calls {
                        break t;
                    }
                    let (times, end) = one_call(&peer, i).await;
                    for (k, took) in times {
                        t.by_webhook[k].push(took);
                    }
                    match end {
                        CallEnd::Connected => t.connected += 1,
                        CallEnd::Held => t.held += 1,
                        CallEnd::Fallback => t.fallback += 1,
                        CallEnd::Failed => t.failed += 1,
                    }
                }
            })
        })
        .collect();
    let mut t = Timings {
        by_webhook: vec![Vec::new(); WEBHOOKS.len()],
        ..Timings::default()
    };
    for w in workers {
        let mine = w.await.expect("worker");
        for (all, some) in t.by_webhook.iter_mut().zip(mine.by_webhook) {
            all.extend(some);
        }
        t.connected += mine.connected;
        t.held += mine.held;
        t.fallback += mine.fallback;
        t.failed += mine.failed;
    }
    let call_secs = started.elapsed().as_secs_f64();

    // The floor: the same server's /healthz, each worker keeping its own samples.
    let health_requests = calls * WEBHOOKS.len();
    let client = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let health_started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, next, url) = (client.clone(), next.clone(), format!("{base_url}/healthz"));
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut failed = 0;
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < health_requests {
                    let start = Instant::now();
                    let ok = client
                        .get(&url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    if ok {
                        samples.push(start.elapsed());
                    } else {
                        failed += 1;
                    }
                }
                (samples, failed)
            })
        })
        .collect();
    let mut health = Vec::new();
    let mut health_failed = 0;
    for w in workers {
        let (samples, failed) = w.await.expect("worker");
        health.extend(samples);
        health_failed += failed;
    }
    let health_secs = health_started.elapsed().as_secs_f64();

    let webhook_requests: usize = t.by_webhook.iter().map(Vec::len).sum();
    println!(
        "{calls} calls, concurrency {concurrency}: {} connected, {} held (nobody free), \
         FAILURES: {} sent to the fallback number, {} with a failed webhook",
        t.connected, t.held, t.fallback, t.failed
    );
    println!(
        "complete calls: {:.0}/s; webhook requests: {:.0}/s",
        t.connected as f64 / call_secs,
        webhook_requests as f64 / call_secs
    );
    for (name, samples) in WEBHOOKS.iter().zip(t.by_webhook.iter_mut()) {
        println!("  {name:<12} {}", percentiles(samples));
    }
    println!(
        "/healthz floor: {:.0} requests/s ({health_failed} failed); {}",
        health.len() as f64 / health_secs,
        percentiles(&mut health)
    );
    println!(
        "webhook requests/s as a share of the floor: {:.1}%",
        100.0 * (webhook_requests as f64 / call_secs) / (health.len() as f64 / health_secs)
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
