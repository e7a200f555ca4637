//! Report benchmark on a year of contacts: seeds one helpline with `--contacts` contacts
//! spread over the 365 days before 2026-11-22 (with offers, answer times and flags),
//! serves the API on it in-process, and times each report and supervision query through
//! HTTP, as a supervisor would run them: first counting every report from the contacts,
//! then again once the settled days' tallies are kept. A database seeded by an earlier
//! run is reused.
//!
//!   cargo run --release --example report_load -- --database-url URL [--contacts 1000000]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use peerline::config::Settings;
use peerline::domain::access::Role;
use peerline::domain::contact::Outcome;
use peerline::domain::helpline::{HelplineSettings, RoutingSettings, TopicSettings};
use peerline::domain::ids::{ContactId, HelplineId, TopicId, VolunteerId};
use peerline::domain::phone::E164;
use peerline::domain::rota::Channel;
use peerline::domain::routing::Tier;
use peerline::domain::supervision::{Flag, ReviewState};
use peerline::domain::timezone::TimeZone;
use peerline::domain::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};
use peerline::jobs::report_days::tally_settled_days;
use peerline::startup::Application;
use peerline::storage::contacts::{OfferOutcome, Stage};
use peerline::storage::entities::{contact, contact_flag, offer};
use peerline::storage::report_days::PLANTED_FOR;
use peerline::storage::{self, helplines, users, volunteers};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};
use secrecy::ExposeSecret;

const VOLUNTEERS: usize = 60;
const BATCH: usize = 500;

/// A small deterministic generator, so that runs seed the same data.
struct Mix(u64);

impl Mix {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

/// The key the server under test runs with, which the seeded phones are sealed under.
const SECRET_KEY: &str = "report-load-secret-key-0123456789abcdef";

fn vault() -> peerline::secrets::Vault {
    peerline::secrets::Vault::new(SECRET_KEY.to_owned().into())
}

async fn seed(db: &DatabaseConnection, contacts: usize) -> (HelplineId, Vec<TopicId>) {
    let zone = TimeZone::parse("Europe/London").expect("zone");
    let line = helplines::create(
        db,
        &HelplineSettings {
            name: "Report load".into(),
            time_zone: zone,
            greeting: "Hello.".into(),
            voice_language: "en-GB".into(),
            languages: vec!["en".into()],
            fallback_number: None,
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
    let mut topics = Vec::new();
    for (key, digit) in [("neonatal", 1), ("bereavement", 2), ("perinatal", 3)] {
        let topic = helplines::create_topic(
            db,
            line.id,
            &TopicSettings {
                key: key.into(),
                label: key.into(),
                digit: Some(digit),
                strict: false,
            },
            peerline::clock::Clock::system().now(),
        )
        .await
        .expect("topic");
        topics.push(topic.id);
    }
    let mut people = Vec::new();
    for i in 0..VOLUNTEERS {
        let volunteer = volunteers::create(
            db,
            &vault(),
            &VolunteerProfile {
                name: format!("Volunteer {i}"),
                time_zone: zone,
                languages: vec!["en".into()],
                training_status: TrainingStatus::Trained,
                training_completed_on: None,
                refresher_due_on: None,
                trained_voice: true,
                trained_sms: true,
                active: true,
                limits: WellbeingLimits::default(),
            },
            &E164::parse(&format!("+1202555{:04}", 2000 + i)).expect("phone"),
            &[line.id],
            peerline::clock::Clock::system().now(),
        )
        .await
        .expect("volunteer");
        people.push(volunteer.id);
    }
    let end = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
    let year = 365 * 24 * 3600;
    let mut mix = Mix(7);
    let started = Instant::now();
    let mut next_id = 1;
    let mut done = 0;
    while done < contacts {
        let n = BATCH.min(contacts - done);
        let mut rows = Vec::with_capacity(n);
        let mut offers = Vec::new();
        let mut flags = Vec::new();
        for k in 0..n {
            let id = ContactId(next_id + k as i32);
            // Contacts arrive evenly over the year, in order.
            let offset = year * (done + k) as i64 / contacts as i64;
            let received: DateTime<Utc> = end - Duration::seconds(year) + Duration::seconds(offset);
            let roll = mix.next(100);
            let outcome = match roll {
                0..=79 => Outcome::Answered,
                80..=87 => Outcome::Abandoned,
                88..=93 => Outcome::Voicemail,
                94..=97 => Outcome::Unanswered,
                _ => Outcome::FallbackNumber,
            };
            let answered = outcome == Outcome::Answered;
            let volunteer = people[mix.next(VOLUNTEERS as u64) as usize];
            let wait = 5 + mix.next(120) as i32;
            let talk = answered.then(|| 60 + mix.next(3000) as i32);
            let topic = (mix.next(4) > 0).then(|| topics[mix.next(3) as usize]);
            let tier = answered.then(|| match (topic, mix.next(10)) {
                (None, _) => Tier::AnyTopic,
                (Some(_), 0..=6) => Tier::PeerMatch,
                _ => Tier::Trained,
            });
            let answered_at = answered.then(|| received + Duration::seconds(wait.into()));
            let ended =
                answered_at.unwrap_or(received) + Duration::seconds(talk.unwrap_or(wait).into());
            rows.push(contact::ActiveModel {
                id: Set(id),
                helpline_id: Set(line.id),
                channel: Set(if roll.is_multiple_of(5) {
                    Channel::Sms
                } else {
                    Channel::Voice
                }),
                provider_sid: Set(format!("CA{id:032}")),
                dialed_number: Set("+12025550100".into()),
                caller_hash: Set(format!("{:064x}", mix.next(200_000))),
                caller_encrypted: Set(None),
                caller_hint: Set("...42".into()),
                topic_id: Set(topic),
                stage: Set(Stage::Ended),
                round: Set(1),
                outcome: Set(Some(outcome)),
                peer_match_tier: Set(tier),
                answered_by: Set(answered.then_some(volunteer)),
                received_at: Set(received),
                route_deadline: Set(received),
                answered_at: Set(answered_at),
                ended_at: Set(Some(ended)),
                wait_secs: Set(Some(wait)),
                talk_secs: Set(talk),
                updated_at: Set(ended),
                review_state: Set(ReviewState::Unreviewed),
                ..Default::default()
            });
            let missed_first = mix.next(4) == 0;
            if missed_first {
                let other = people[mix.next(VOLUNTEERS as u64) as usize];
                if other != volunteer {
                    offers.push(offer_row(id, other, received, OfferOutcome::NoAnswer));
                }
            }
            offers.push(offer_row(
                id,
                volunteer,
                received,
                if answered {
                    OfferOutcome::Accepted
                } else {
                    OfferOutcome::NoAnswer
                },
            ));
            if answered && mix.next(100) == 0 {
                flags.push(contact_flag::ActiveModel {
                    contact_id: Set(id),
                    flag: Set(Flag::NeedsDebrief),
                    raised_at: Set(ended),
                    raised_by: Set(Some(volunteer)),
                    ..Default::default()
                });
            }
        }
        contact::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .expect("contacts");
        offer::Entity::insert_many(offers)
            .exec_without_returning(db)
            .await
            .expect("offers");
        if !flags.is_empty() {
            contact_flag::Entity::insert_many(flags)
                .exec_without_returning(db)
                .await
                .expect("flags");
        }
        done += n;
        next_id += n as i32;
    }
    println!(
        "seeded {contacts} contacts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (line.id, topics)
}

fn offer_row(
    contact_id: ContactId,
    volunteer_id: VolunteerId,
    at: DateTime<Utc>,
    outcome: OfferOutcome,
) -> offer::ActiveModel {
    offer::ActiveModel {
        contact_id: Set(contact_id),
        volunteer_id: Set(volunteer_id),
        round: Set(1),
        tier: Set(Tier::Trained),
        offered_at: Set(at),
        outcome: Set(Some(outcome)),
        ..Default::default()
    }
}

/// Times each report on a year of contacts.
#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value = "sqlite://report-load.db?mode=rwc")]
    database_url: String,
    /// Contacts to seed into an empty database.
    #[arg(long, default_value_t = 1_000_000)]
    contacts: usize,
    /// Times each report is run.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Args {
        database_url: url,
        contacts,
        rounds,
    } = clap::Parser::parse();
    let db = storage::connect(&url).await.expect("database");
    storage::migrate(&db).await.expect("migrations");
    // A database seeded by an earlier run is measured again as it is.
    let (line, topics) = match contact::Entity::find().one(&db).await.expect("read") {
        Some(existing) => {
            let topics = helplines::topics(&db, existing.helpline_id)
                .await
                .expect("topics");
            println!("reusing the contacts already in the database");
            (
                existing.helpline_id,
                topics.into_iter().map(|t| t.id).collect(),
            )
        }
        None => seed(&db, contacts).await,
    };
    // After the seeding: SQLite's log copied back before the server opens the file;
    // PostgreSQL's statistics gathered, as autovacuum would.
    let settle = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
        _ => "ANALYZE",
    };
    db.execute_unprepared(settle).await.expect("settle");
    db.execute_unprepared("DELETE FROM report_days")
        .await
        .expect("clear the kept days");
    let admin = users::create(
        &db,
        &vault(),
        users::NewUser {
            name: "Supervisor".into(),
            role: Role::Supervisor,
            volunteer_id: None,
            phone: None,
            time_zone: None,
            helplines: vec![line],
        },
        peerline::clock::Clock::system().now(),
    )
    .await
    .expect("user");
    let token = users::issue_token(&db, admin.id, peerline::clock::Clock::system().now())
        .await
        .expect("token");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let vars = [
        ("DATABASE_URL", url.as_str()),
        ("PEERLINE_PUBLIC_URL", base.as_str()),
        ("PEERLINE_SECRET_KEY", SECRET_KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let settings = Settings::from_vars(&vars).expect("settings");
    let app = Application::build_with_listener(settings, listener)
        .await
        .expect("server");
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::new();
    let year = "from=2025-11-22&to=2026-11-21";
    let week = "from=2026-11-09&to=2026-11-15";
    let queries = [
        (
            "contacts report, year",
            format!("/api/v1/helplines/{line}/reports/contacts?{year}"),
        ),
        (
            "contacts report, year, CSV",
            format!("/api/v1/helplines/{line}/reports/contacts?{year}&format=csv"),
        ),
        (
            "contacts report, week",
            format!("/api/v1/helplines/{line}/reports/contacts?{week}"),
        ),
        (
            "volunteer load, year",
            format!("/api/v1/helplines/{line}/reports/volunteers?{year}"),
        ),
        (
            "volunteer load, week",
            format!("/api/v1/helplines/{line}/reports/volunteers?{week}"),
        ),
        (
            "coverage, year",
            format!("/api/v1/helplines/{line}/reports/coverage?{year}"),
        ),
        ("contact list, first page", "/api/v1/contacts".to_owned()),
        (
            "contact list, topic + week",
            format!("/api/v1/contacts?topic_id={}&{week}", topics[0]),
        ),
        (
            "contact list, flagged",
            "/api/v1/contacts?flag=needs_debrief".to_owned(),
        ),
        ("review queue", "/api/v1/review-queue".to_owned()),
    ];
    // First with every report counted from the contacts, then with the settled days'
    // tallies kept, as the server keeps them.
    println!("Counted from the contacts:\n");
    measure(&client, &base, &token, &queries, rounds).await;
    let now = peerline::clock::Clock::system().now();
    let started = Instant::now();
    tally_settled_days(&db, now, 0).await.expect("plant");
    let pass = tally_settled_days(&db, now + PLANTED_FOR, usize::MAX)
        .await
        .expect("tally");
    println!(
        "\nTallied {} settled days in {:.1} s. With the kept days:\n",
        pass.tallied,
        started.elapsed().as_secs_f64()
    );
    measure(&client, &base, &token, &queries, rounds).await;
}

/// Times each query `rounds` times and prints its median and slowest.
async fn measure(
    client: &reqwest::Client,
    base: &str,
    token: &secrecy::SecretString,
    queries: &[(&str, String)],
    rounds: usize,
) {
    println!("| query | median ms | max ms |");
    println!("|---|---:|---:|");
    for (name, path) in queries {
        let mut times = Vec::new();
        for _ in 0..rounds {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .bearer_auth(token.expose_secret())
                .send()
                .await
                .expect("request");
            assert!(
                response.status().is_success(),
                "{name}: {}",
                response.status()
            );
            response.bytes().await.expect("body");
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.0} | {:.0} |",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}
