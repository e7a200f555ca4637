//! Spool recovery benchmark: spools `--records` calls answered from memory and as many
//! texts, as a server does while its database is out, then times how long the spool job
//! takes to write them all once the database answers.
//!
//!   cargo run --release --example spool_drain -- --database-url URL [--records 1000]

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Instant;

use peerline::clock::Clock;
use peerline::config::Settings;
use peerline::domain::helpline::{HelplineSettings, RoutingSettings};
use peerline::domain::phone::E164;
use peerline::domain::timezone::TimeZone;
use peerline::jobs::spool_replay::drain;
use peerline::secrets::Vault;
use peerline::spool::{Spool, Spooled};
use peerline::state::AppState;
use peerline::storage::{self, helplines};

const LINE: &str = "+12025550100";

/// Times writing back what was spooled during an outage.
#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value = "sqlite://spool-drain.db?mode=rwc")]
    database_url: String,
    /// Calls spooled, and as many texts.
    #[arg(long, default_value_t = 1000)]
    records: usize,
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Args {
        database_url: url,
        records,
    } = clap::Parser::parse();
    let spool_dir = tempfile::tempdir().expect("spool dir");
    let vars: HashMap<String, String> = [
        ("DATABASE_URL", url.as_str()),
        (
            "PEERLINE_SECRET_KEY",
            "spool-drain-secret-key-0123456789abcdef",
        ),
        ("PEERLINE_SPOOL_DIR", spool_dir.path().to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let settings = Settings::from_vars(&vars).expect("settings");
    let db = storage::connect(&url).await.expect("database");
    storage::migrate(&db).await.expect("migrations");
    let line = helplines::create(
        &db,
        &HelplineSettings {
            name: "Spool drain".into(),
            time_zone: TimeZone::parse("Europe/London").unwrap(),
            greeting: "Hello.".into(),
            voice_language: "en-GB".into(),
            languages: vec!["en".into()],
            fallback_number: Some(E164::parse("+12025550188").unwrap()),
            routing: RoutingSettings::default(),
            texting: Default::default(),
            supervision: Default::default(),
            rota: Default::default(),
            callers: Default::default(),
        },
        Clock::system().now(),
    )
    .await
    .expect("helpline");
    helplines::add_number(
        &db,
        line.id,
        &E164::parse(LINE).unwrap(),
        Clock::system().now(),
    )
    .await
    .expect("number");
    let numbers = Vault::new(
        settings
            .secret_key
            .clone()
            .expect("the benchmark sets a key"),
    );
    let spool = Spool::open(&settings.spool_dir).expect("spool");
    let state = AppState::new(db, settings, numbers, Clock::system(), spool);

    for (kind, make) in [
        ("calls", make_call as fn(&AppState, usize) -> Spooled),
        ("texts", make_text),
    ] {
        let started = Instant::now();
        for i in 0..records {
            state.spool.append(&make(&state, i)).expect("append");
        }
        let spooled = started.elapsed();
        let started = Instant::now();
        let mut written = 0;
        while written < records {
            written += drain(&state).await.expect("drain");
        }
        let drained = started.elapsed();
        println!(
            "{records} {kind}: spooled (fsync each) in {:.2} s ({:.1} ms each); drained in {:.2} s ({:.0}/s)",
            spooled.as_secs_f64(),
            spooled.as_secs_f64() * 1000.0 / records as f64,
            drained.as_secs_f64(),
            records as f64 / drained.as_secs_f64()
        );
    }
}

fn make_call(state: &AppState, i: usize) -> Spooled {
    let caller = E164::parse(&format!("+1202555{:04}", 3000 + i % 5000)).unwrap();
    Spooled::Call {
        call_sid: format!("CA{i:032}"),
        dialed: LINE.into(),
        caller_sealed: Some(state.vault.seal(&caller)),
        at: Clock::system().now(),
        to_fallback: true,
        reason: "the database did not answer within 1800 ms".into(),
    }
}

fn make_text(state: &AppState, i: usize) -> Spooled {
    let texter = E164::parse(&format!("+1303555{:04}", 3000 + i % 5000)).unwrap();
    Spooled::Text {
        message_sid: format!("SM{i:032}"),
        from_sealed: state.vault.seal(&texter),
        to: LINE.into(),
        body_sealed: state.vault.seal_text("Is anyone there? I need to talk."),
        media_count: 0,
        at: Clock::system().now(),
    }
}
