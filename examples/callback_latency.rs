//! Callback benchmark: how long from a volunteer freeing up to peerline asking Twilio to
//! ring them for a caller waiting to be called back.
//!
//! Runs a server in this process over its own database and a local stand-in for Twilio's
//! REST API. Each round: a first caller rings the one volunteer on shift, a second caller
//! holds and asks for a callback, then the first caller hangs up; the time is taken from
//! sending that status callback to the stand-in receiving the `Calls.json` request. The
//! callback is then played to its end (volunteer accepts, caller answers) for the next
//! round. The roster holds `--volunteers` volunteers, all but one off shift.
//!
//!   cargo run --release --example callback_latency -- [--database-url URL] [--volunteers 1000] [--rounds 40]

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use peerline::config::Settings;
use peerline::domain::calendar::{LocalTime, Weekday};
use peerline::domain::helpline::{HelplineSettings, RoutingSettings};
use peerline::domain::phone::E164;
use peerline::domain::rota::{ShiftChannels, WeeklyShift};
use peerline::domain::timezone::TimeZone;
use peerline::domain::volunteer::{VolunteerProfile, WellbeingLimits};
use peerline::simulator::TwilioPeer;
use peerline::simulator::twiml_reader::{self, Element};
use peerline::startup::Application;
use peerline::storage::{self, helplines, rota, volunteers};
use tokio::sync::Notify;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::method};

const LINE: &str = "+12025550100";
const ON_SHIFT: &str = "+12025550111";
const TOKEN: &str = "callback-latency-token";

#[derive(clap::Parser)]
struct Args {
    /// A fresh database; a temporary SQLite file when not given.
    #[arg(long)]
    database_url: Option<String>,
    /// Volunteers in the roster (one of them on shift).
    #[arg(long, default_value_t = 1000)]
    volunteers: usize,
    #[arg(long, default_value_t = 40)]
    rounds: usize,
}

/// The REST stand-in: accepts every request and notes when each call request arrived.
#[derive(Clone, Default)]
struct Calls {
    arrived: Arc<Mutex<Vec<(Instant, String)>>>,
    notify: Arc<Notify>,
}

impl Respond for Calls {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut arrived = self.arrived.lock().unwrap();
        let n = arrived.len() + 1;
        if request.url.path().ends_with("/Calls.json") {
            let form: HashMap<String, String> =
                form_urlencoded::parse(&request.body).into_owned().collect();
            arrived.push((Instant::now(), form["Url"].clone()));
            self.notify.notify_one();
        }
        ResponseTemplate::new(201)
            .set_body_json(serde_json::json!({"sid": format!("CA{n:032}"), "status": "queued"}))
    }
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Args = clap::Parser::parse();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = args.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}/callbacks.db?mode=rwc",
            dir.path().to_str().unwrap()
        )
    });
    let calls = Calls::default();
    let rest = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(calls.clone())
        .mount(&rest)
        .await;
    seed(&url, args.volunteers).await;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let spool = dir.path().join("spool");
    let vars: HashMap<String, String> = [
        ("DATABASE_URL", url.as_str()),
        ("PEERLINE_PUBLIC_URL", base.as_str()),
        ("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000001"),
        ("TWILIO_AUTH_TOKEN", TOKEN),
        ("TWILIO_API_BASE", rest.uri().as_str()),
        ("PEERLINE_SECRET_KEY", SECRET_KEY),
        ("PEERLINE_SPOOL_DIR", spool.to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let settings = Settings::from_vars(&vars).expect("settings");
    let app = Application::build_with_listener(settings, listener)
        .await
        .expect("server");
    tokio::spawn(app.run_until_stopped());
    let peer = TwilioPeer::new(&base, TOKEN);

    let mut latencies = Vec::with_capacity(args.rounds);
    for round in 0..args.rounds {
        latencies.push(one_round(&peer, &calls, round).await);
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "{} rounds, {} volunteers in the roster: volunteer free -> callback leg requested: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        args.volunteers,
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*latencies.last().unwrap())
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn params(call_sid: &str, from: &str, to: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = vec![
        ("CallSid".to_owned(), call_sid.to_owned()),
        (
            "AccountSid".to_owned(),
            "AC00000000000000000000000000000001".to_owned(),
        ),
        ("From".to_owned(), from.to_owned()),
        ("To".to_owned(), to.to_owned()),
    ];
    all.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    if !extra.iter().any(|(k, _)| *k == "CallStatus") {
        all.push(("CallStatus".to_owned(), "in-progress".to_owned()));
    }
    all
}

async fn post(peer: &TwilioPeer, url: &str, params: &[(String, String)]) -> Element {
    let (status, body) = peer.post(url, params).await.expect("webhook");
    assert_eq!(status, 200, "{url}: {body}");
    twiml_reader::parse(&body).expect("TwiML")
}

fn first_attr(root: &Element, tag: &str, attr: &str) -> String {
    let mut found = Vec::new();
    root.find_all(tag, &mut found);
    found
        .first()
        .and_then(|e| e.attr(attr))
        .unwrap_or_else(|| panic!("no {tag} {attr}"))
        .to_owned()
}

/// One round; returns the time from the volunteer freeing up to their phone being rung.
async fn one_round(peer: &TwilioPeer, calls: &Calls, round: usize) -> Duration {
    let first = format!("CA{:032x}", 2 * round + 1);
    let second = format!("CA{:032x}", 2 * round + 2);
    // Distinct numbers: a number calling over and over skips the volunteers.
    let first_caller = format!("+1202555{:04}", 6000 + round);
    let caller = format!("+1202555{:04}", 2000 + round);
    let inbound = peer.url("/twilio/voice");
    post(peer, &inbound, &params(&first, &first_caller, LINE, &[])).await;
    let held = post(peer, &inbound, &params(&second, &caller, LINE, &[])).await;
    // Press 2 for a callback, 1: the number is safe, 2: no texts.
    let mut step = first_attr(&held, "Gather", "action");
    for digits in ["2", "1"] {
        let asked = post(
            peer,
            &step,
            &params(&second, &caller, LINE, &[("Digits", digits)]),
        )
        .await;
        step = first_attr(&asked, "Gather", "action");
    }
    post(
        peer,
        &step,
        &params(&second, &caller, LINE, &[("Digits", "2")]),
    )
    .await;
    let status = peer.url("/twilio/voice/status");
    post(
        peer,
        &status,
        &params(&second, &caller, LINE, &[("CallStatus", "completed")]),
    )
    .await;

    let before = calls.arrived.lock().unwrap().len();
    let freed = Instant::now();
    post(
        peer,
        &status,
        &params(&first, &first_caller, LINE, &[("CallStatus", "completed")]),
    )
    .await;
    let (rung, url) = loop {
        if let Some(found) = calls.arrived.lock().unwrap().get(before).cloned() {
            break found;
        }
        tokio::time::timeout(Duration::from_secs(5), calls.notify.notified())
            .await
            .expect("the callback was never rung");
    };
    let latency = rung.duration_since(freed);

    // The callback to its end, so the volunteer is free for the next round.
    let leg = format!("CA{:032x}", 1_000_000 + round);
    let whisper = post(peer, &url, &params(&leg, LINE, ON_SHIFT, &[])).await;
    let accept = first_attr(&whisper, "Gather", "action");
    let dialling = post(
        peer,
        &accept,
        &params(&leg, LINE, ON_SHIFT, &[("Digits", "1")]),
    )
    .await;
    let dialled = first_attr(&dialling, "Dial", "action");
    let caller_url = first_attr(&dialling, "Number", "url");
    let caller_leg = format!("CA{:032x}", 2_000_000 + round);
    let greeting = post(peer, &caller_url, &params(&caller_leg, LINE, &caller, &[])).await;
    let answer = first_attr(&greeting, "Gather", "action");
    post(
        peer,
        &answer,
        &params(&caller_leg, LINE, &caller, &[("Digits", "1")]),
    )
    .await;
    let ended = [("DialCallStatus", "completed"), ("DialCallDuration", "60")];
    post(peer, &dialled, &params(&leg, LINE, ON_SHIFT, &ended)).await;
    latency
}

/// The key the server under test runs with, which the seeded phones are sealed under.
const SECRET_KEY: &str = "callback-latency-secret-key-0123456789";

async fn seed(url: &str, n: usize) {
    let db = storage::connect(url).await.expect("database");
    storage::migrate(&db).await.expect("migrations");
    let now = peerline::clock::Clock::system().now();
    let vault = peerline::secrets::Vault::new(SECRET_KEY.to_owned().into());
    let line = helplines::create(
        &db,
        &HelplineSettings {
            name: "Callbacks".into(),
            time_zone: TimeZone::parse("Europe/London").unwrap(),
            greeting: "Hello.".into(),
            voice_language: "en-GB".into(),
            languages: vec!["en".into()],
            fallback_number: None,
            routing: RoutingSettings {
                max_wait_secs: 1800,
                ..RoutingSettings::default()
            },
            texting: Default::default(),
            supervision: Default::default(),
            rota: Default::default(),
            callers: Default::default(),
        },
        now,
    )
    .await
    .expect("helpline");
    helplines::add_number(&db, line.id, &E164::parse(LINE).unwrap(), now)
        .await
        .expect("number");
    for i in 0..n {
        let phone = if i == 0 {
            ON_SHIFT.to_owned()
        } else {
            format!("+1303555{:04}", i % 10_000)
        };
        let volunteer = volunteers::create(
            &db,
            &vault,
            &VolunteerProfile {
                name: format!("Volunteer {i}"),
                limits: WellbeingLimits {
                    max_contacts_per_shift: 50,
                    ..WellbeingLimits::default()
                },
                ..VolunteerProfile::trained_in(TimeZone::parse("Europe/London").unwrap())
            },
            &E164::parse(&phone).unwrap(),
            &[line.id],
            now,
        )
        .await
        .expect("volunteer");
        if i > 0 {
            continue;
        }
        // On shift all day, every day.
        for day in Weekday::ALL {
            let shift = WeeklyShift::new(
                day,
                LocalTime::hm(0, 0).unwrap(),
                LocalTime::hm(23, 59).unwrap(),
                ShiftChannels::Both,
                None,
                None,
            )
            .unwrap();
            rota::create_shift(&db, volunteer.id, &shift, now)
                .await
                .expect("shift");
        }
    }
}
