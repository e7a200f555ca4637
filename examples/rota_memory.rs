//! What the rota's memory costs: seeds one helpline with `--volunteers` volunteers (three
//! weekly shifts each, in one of 12 time zones, signed off for one of two topics) on
//! 2 November 2026, then `--changes` rota changes spread over the week of 9 November, and
//! times the coverage questions a coordinator asks on 20 November: a past week (answered
//! from the records, cut at each change), the console's fortnight from the start of today
//! (a few hours of it from the records) and the week ahead (today's rota only).
//!
//!   cargo run --release --example rota_memory -- [--database-url URL] [--volunteers 10000]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use peerline::domain::calendar::{LocalTime, Weekday};
use peerline::domain::helpline::{HelplineSettings, TopicSettings};
use peerline::domain::ids::HelplineId;
use peerline::domain::phone::E164;
use peerline::domain::rota::{Interval, ShiftChannels, WeeklyShift};
use peerline::domain::timezone::TimeZone;
use peerline::domain::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};
use peerline::storage::entities::{rota_record, shift, topic_signoff};
use peerline::storage::{self, helplines, rota, rota_history, volunteers};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

const ZONES: [&str; 12] = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Africa/Johannesburg",
    "Pacific/Auckland",
    "America/Sao_Paulo",
];

#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value = "sqlite://rota-memory.db?mode=rwc")]
    database_url: String,
    #[arg(long, default_value_t = 10_000)]
    volunteers: usize,
    /// Rota changes made during the week of 9 November.
    #[arg(long, default_value_t = 1_000)]
    changes: usize,
    /// Times each question is asked.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn weekly(day: usize, start_hour: u32) -> WeeklyShift {
    let t = |h: u32| LocalTime::hm(h % 24, 0).unwrap();
    WeeklyShift::new(
        Weekday::ALL[day % 7],
        t(start_hour),
        t(start_hour + 3),
        ShiftChannels::Both,
        None,
        None,
    )
    .unwrap()
}

async fn seed(db: &DatabaseConnection, count: usize, changes: usize) -> HelplineId {
    let seeded_at = at("2026-11-02T00:00:00Z");
    // Nothing here is read back by a server: any key seals the phones.
    let vault = peerline::secrets::Vault::new("rota-memory-example-key".to_owned().into());
    let zone = TimeZone::parse("Europe/London").unwrap();
    let line = helplines::create(
        db,
        &HelplineSettings {
            name: "Rota memory".into(),
            time_zone: zone,
            greeting: "Hello.".into(),
            voice_language: "en-GB".into(),
            languages: vec!["en".into()],
            fallback_number: None,
            routing: Default::default(),
            texting: Default::default(),
            supervision: Default::default(),
            rota: Default::default(),
            callers: Default::default(),
        },
        seeded_at,
    )
    .await
    .unwrap();
    let mut topics = Vec::new();
    for (key, digit) in [("neonatal", 1), ("bereavement", 2)] {
        let settings = TopicSettings {
            key: key.into(),
            label: key.into(),
            digit: Some(digit),
            strict: false,
        };
        topics.push(
            helplines::create_topic(db, line.id, &settings, seeded_at)
                .await
                .unwrap()
                .id,
        );
    }
    let started = Instant::now();
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let profile = VolunteerProfile {
            name: format!("Volunteer {i}"),
            time_zone: TimeZone::parse(ZONES[i % ZONES.len()]).unwrap(),
            languages: vec!["en".into()],
            training_status: TrainingStatus::Trained,
            training_completed_on: None,
            refresher_due_on: None,
            trained_voice: true,
            trained_sms: true,
            active: true,
            limits: WellbeingLimits::default(),
        };
        let phone = E164::parse(&format!("+1202{:07}", 5_000_000 + i)).unwrap();
        let row = volunteers::create(db, &vault, &profile, &phone, &[line.id], seeded_at)
            .await
            .unwrap();
        ids.push(row.id);
    }
    // Shifts and sign-offs in bulk, then one first record each (as on an upgrade).
    for chunk in ids.chunks(300) {
        let mut shifts = Vec::new();
        let mut signoffs = Vec::new();
        for id in chunk {
            let n = id.0 as usize;
            for k in 0..3 {
                let s = weekly(n + 2 * k, 6 + (n % 12) as u32);
                shifts.push(shift::ActiveModel {
                    volunteer_id: Set(*id),
                    weekday: Set(s.weekday().as_str().into()),
                    start_time: Set(s.start().to_string()),
                    end_time: Set(s.end().to_string()),
                    channels: Set(s.channels().as_str().into()),
                    valid_from: Set(None),
                    valid_until: Set(None),
                    created_at: Set(seeded_at),
                    ..Default::default()
                });
            }
            signoffs.push(topic_signoff::ActiveModel {
                volunteer_id: Set(*id),
                topic_id: Set(topics[n % 2]),
                signed_off_by: Set(None),
                signed_off_at: Set(seeded_at),
                ..Default::default()
            });
        }
        shift::Entity::insert_many(shifts)
            .exec_without_returning(db)
            .await
            .unwrap();
        topic_signoff::Entity::insert_many(signoffs)
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    rota_record::Entity::delete_many().exec(db).await.unwrap();
    rota_history::record_unrecorded(db).await.unwrap();
    // Changes spread over the week of 9 November.
    let week = Duration::days(7).num_seconds();
    for c in 0..changes {
        let when = at("2026-11-09T00:00:00Z") + Duration::seconds(week * c as i64 / changes as i64);
        let id = ids[(c * 7919) % ids.len()];
        rota::create_shift(db, id, &weekly(c, 20), when)
            .await
            .unwrap();
    }
    println!(
        "seeded {count} volunteers and {changes} changes in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    line.id
}

#[tokio::main]
async fn main() {
    let args: Args = clap::Parser::parse();
    let db = storage::connect(&args.database_url).await.unwrap();
    storage::migrate(&db).await.unwrap();
    let line = match helplines::all_settings(&db, &storage::Scope::All)
        .await
        .unwrap()
        .first()
    {
        Some((id, _)) => {
            println!("reusing the helpline already in the database");
            *id
        }
        None => seed(&db, args.volunteers, args.changes).await,
    };
    let now = at("2026-11-20T12:00:00Z");
    let today = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let questions = [
        (
            "a past week (9-16 Nov), from the records",
            Interval::new(at("2026-11-09T00:00:00Z"), at("2026-11-16T00:00:00Z")).unwrap(),
        ),
        (
            "the console's fortnight from the start of today",
            Interval::new(today, today + Duration::days(14)).unwrap(),
        ),
        (
            "the week ahead, today's rota only",
            Interval::new(now, now + Duration::days(7)).unwrap(),
        ),
    ];
    println!("| question | median ms | max ms |");
    println!("|---|---:|---:|");
    for (name, span) in questions {
        let mut times = Vec::with_capacity(args.rounds);
        for _ in 0..args.rounds {
            let started = Instant::now();
            let (gaps, _) = rota::coverage_of(&db, line, span, None, now).await.unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(gaps);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.0} | {:.0} |",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}
