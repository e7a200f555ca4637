//! How long sealing takes on a large database: the first start of a version that seals
//! at rest (sealing the message bodies an earlier version kept in the clear), then
//! `peerline rotate-key` moving the same data, and every caller's number, to a new key.
//!
//! `cargo run --release --example key_rotation -- --database-url URL --messages 100000`
//! (a fresh database: SQLite `sqlite://file.db?mode=rwc`, or an empty PostgreSQL one).

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Instant;

use clap::Parser;
use peerline::domain::contact::Outcome;
use peerline::domain::helpline::HelplineSettings;
use peerline::domain::ids::ContactId;
use peerline::domain::phone::E164;
use peerline::domain::rota::Channel;
use peerline::domain::supervision::ReviewState;
use peerline::domain::timezone::TimeZone;
use peerline::secrets::Vault;
use peerline::storage::contacts::Stage;
use peerline::storage::entities::{Sealed, contact, message};
use peerline::storage::{self, secrets};
use sea_orm::{ActiveValue::Set, EntityTrait};

const OLD_KEY: &str = "the-old-secret-key-0123456789abcdefghij";
const NEW_KEY: &str = "the-new-secret-key-0123456789abcdefghij";
/// Messages in one conversation.
const PER_CONVERSATION: usize = 10;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let db = storage::connect(&args.database_url).await.unwrap();
    storage::migrate(&db).await.unwrap();
    let now = peerline::clock::Clock::system().now();
    let old = Vault::new(OLD_KEY.to_owned().into());
    seed(&db, &old, args.messages, now).await;
    secrets::set(&db, secrets::KEY_CHECK, &old.key_check(), now)
        .await
        .unwrap();

    let started = Instant::now();
    storage::sealing::seal_what_was_kept_in_the_clear(&db, &old, now)
        .await
        .unwrap();
    println!(
        "first start, sealing {} message bodies kept in the clear: {:.1} s",
        args.messages,
        started.elapsed().as_secs_f64()
    );

    let vars: HashMap<String, String> = [
        ("DATABASE_URL", args.database_url.as_str()),
        ("PEERLINE_SECRET_KEY", NEW_KEY),
        ("PEERLINE_PREVIOUS_SECRET_KEY", OLD_KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let settings = peerline::config::Settings::from_vars(&vars).unwrap();
    let started = Instant::now();
    let rotation = peerline::key_rotation::rotate(&db, &settings, false, now)
        .await
        .unwrap();
    println!(
        "rotate-key, {} bodies and {} numbers moved: {:.1} s",
        rotation.text.changed,
        rotation.numbers.changed,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let again = peerline::key_rotation::rotate(&db, &settings, false, now)
        .await
        .unwrap();
    println!(
        "rotate-key again, nothing left to move ({} changed): {:.1} s",
        again.text.changed + again.numbers.changed,
        started.elapsed().as_secs_f64()
    );
}

/// One helpline, a conversation per `PER_CONVERSATION` messages (its texter's number
/// sealed under `old`), and the messages' bodies in the clear, as an earlier version
/// kept them.
async fn seed(
    db: &sea_orm::DatabaseConnection,
    old: &Vault,
    messages: usize,
    now: chrono::DateTime<chrono::Utc>,
) {
    let line = peerline::storage::helplines::create(
        db,
        &HelplineSettings {
            name: "Rotation".into(),
            time_zone: TimeZone::parse("Europe/London").unwrap(),
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
        now,
    )
    .await
    .unwrap()
    .id;
    let conversations = messages.div_ceil(PER_CONVERSATION);
    for chunk in (0..conversations).collect::<Vec<_>>().chunks(1000) {
        let rows = chunk.iter().map(|&i| {
            let texter = E164::parse(&format!("+1202{:07}", 5_000_000 + i)).unwrap();
            contact::ActiveModel {
                id: Set(ContactId(i32::try_from(i + 1).unwrap())),
                helpline_id: Set(line),
                channel: Set(Channel::Sms),
                provider_sid: Set(format!("SM{i:032}")),
                dialed_number: Set("+12025550100".into()),
                caller_hash: Set(old.hash(&texter)),
                caller_encrypted: Set(Some(old.seal(&texter))),
                caller_hint: Set(texter.masked()),
                stage: Set(Stage::Ended),
                round: Set(1),
                outcome: Set(Some(Outcome::Answered)),
                received_at: Set(now),
                route_deadline: Set(now),
                ended_at: Set(Some(now)),
                updated_at: Set(now),
                review_state: Set(ReviewState::Unreviewed),
                ..Default::default()
            }
        });
        contact::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    for chunk in (0..messages).collect::<Vec<_>>().chunks(1000) {
        let rows = chunk.iter().map(|&i| message::ActiveModel {
            contact_id: Set(ContactId(i32::try_from(i / PER_CONVERSATION + 1).unwrap())),
            at: Set(now),
            direction: Set("inbound".into()),
            sender_role: Set("texter".into()),
            recipient_role: Set("volunteer".into()),
            provider_sid: Set(Some(format!("SM{:032}", 10_000_000 + i))),
            body: Set(Some(Sealed(format!(
                "Message {i}: it has been a long week on the ward."
            )))),
            media_count: Set(0),
            relayed: Set(true),
            ..Default::default()
        });
        message::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .unwrap();
    }
}
