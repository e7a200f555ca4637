//! Sealing at rest and moving a database to a new secret key: what an earlier version
//! kept in the clear is sealed when a server starts; `rotate-key` moves every sealed
//! value and hash to the new key while servers that hold both keys keep working, and
//! no block, conflict, number or message is lost on the way.

use std::collections::HashMap;

use peerline::clock::Clock;
use peerline::config::Settings;
use peerline::domain::ids::VolunteerId;
use peerline::key_rotation;
use peerline::secrets::Vault;
use peerline::simulator::text::Text;
use peerline::simulator::{Answer, CallScript, Transcript, TwilioPeer, play_call};
use peerline::storage::entities::{
    Sealed, conflict, contact, contact_event, message, outbox_message, server_secret, volunteer,
};
use reqwest::StatusCode;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{AUTH_TOKEN, SECRET_KEY, TestApp, spawn_app_at, utc};

const NOW: &str = "2026-11-23T20:00:00Z";
const LINE: &str = "+12025550100";
const ADA: &str = "+12025550141";
const BLOCKED: &str = "+12025550166";
const CONFLICTED: &str = "+12025550167";
const TEXTER: &str = "+12025550177";
const NEW_KEY: &str = "the-new-secret-key-0123456789abcdefghij";
/// The settings of servers (and the command) while the data moves to `NEW_KEY`.
const BOTH_KEYS: [(&str, &str); 2] = [
    ("PEERLINE_SECRET_KEY", NEW_KEY),
    ("PEERLINE_PREVIOUS_SECRET_KEY", SECRET_KEY),
];

/// The settings of a server, or of the command line, on the test's database.
fn settings(app: &TestApp, keys: &[(&str, &str)]) -> Settings {
    let spool = tempfile::tempdir().unwrap().keep();
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", app.database_url()),
        ("PEERLINE_PUBLIC_URL", "http://127.0.0.1:9"),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("PEERLINE_SPOOL_DIR", spool.to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    vars.extend(keys.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Settings::from_vars(&vars).unwrap()
}

/// Whether a server with these keys starts on the test's database, and if not, why.
async fn start_with(app: &TestApp, keys: &[(&str, &str)]) -> Result<(), String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let clock = Clock::starting_at(utc(NOW));
    match peerline::startup::Application::build_with_clock(settings(app, keys), listener, clock)
        .await
    {
        Ok(server) => {
            let handle = server.handle();
            let running = tokio::spawn(server.run_until_stopped());
            handle.stop(true).await;
            running.await.unwrap().unwrap();
            Ok(())
        }
        Err(error) => Err(format!("{error:#}")),
    }
}

/// A volunteer's phone as the database keeps it.
async fn stored_phone(app: &TestApp, volunteer_id: i32) -> Sealed {
    volunteer::Entity::find_by_id(VolunteerId(volunteer_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .phone
}

async fn call(base: &str, from: &str) -> Transcript {
    let peer = TwilioPeer::new(base, AUTH_TOKEN);
    let script = CallScript {
        to: LINE.into(),
        from: from.into(),
        digits: Vec::new(),
        answer: Answer::First,
        talk_secs: 60,
    };
    play_call(&peer, &script).await.unwrap()
}

/// The volunteers the first routing round of `call` passed over for a declared conflict.
async fn passed_over_for_conflict(app: &TestApp, call: &Transcript) -> Vec<i32> {
    let contact = contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(&call.call_sid))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let routed = contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(contact.id))
        .filter(contact_event::Column::DedupeKey.eq("route:1"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a first routing round");
    let trace: serde_json::Value = serde_json::from_str(routed.detail.as_deref().unwrap()).unwrap();
    serde_json::from_value(trace["passed_over"]["conflict"].clone()).unwrap_or_default()
}

/// A helpline with Ada on shift, a conflict she declared, a blocked caller and a texter's
/// conversation, all sealed under the test's first key.
async fn helpline_with_history() -> (TestApp, i32) {
    let app = spawn_app_at(NOW).await;
    let line = app.helpline("NICU Line", "Europe/London").await;
    app.number(line, LINE).await;
    let ada = app.volunteer("Ada", ADA, "Europe/London", &[line]).await;
    app.on_shift_around(ada, NOW).await;
    let conflict = app
        .post(
            &format!("/api/v1/volunteers/{ada}/conflicts"),
            &app.admin,
            json!({"number": CONFLICTED, "note": "my neighbour"}),
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CREATED, "{:?}", conflict.body);
    let block = app
        .post(
            &format!("/api/v1/helplines/{line}/blocked-callers"),
            &app.admin,
            json!({"number": BLOCKED, "reason": "abusive to volunteers"}),
        )
        .await;
    assert_eq!(block.status, StatusCode::CREATED, "{:?}", block.body);
    let (status, _) = app
        .twilio()
        .text(&Text::new(TEXTER, LINE, "My son was born at 27 weeks."))
        .await
        .unwrap();
    assert_eq!(status, 200);
    (app, ada)
}

#[tokio::test]
async fn a_database_moves_to_a_new_key_without_losing_a_block_a_conflict_or_a_word() {
    let (app, ada) = helpline_with_history().await;

    // The new key alone is refused, and the message says what to do.
    let refused = start_with(&app, &[("PEERLINE_SECRET_KEY", NEW_KEY)])
        .await
        .unwrap_err();
    assert!(refused.contains("peerline rotate-key"), "{refused}");
    assert!(
        refused.contains("PEERLINE_PREVIOUS_SECRET_KEY"),
        "{refused}"
    );

    // With both keys a server works while the data moves: it still knows the block
    // and Ada's conflict, and the texter's next message joins their conversation.
    let moving = app.instance_at_with(NOW, &BOTH_KEYS).await;
    assert!(call(&moving, BLOCKED).await.rejected);
    assert!(
        call(&moving, CONFLICTED)
            .await
            .rung
            .iter()
            .flatten()
            .all(|p| p != ADA)
    );
    let peer = TwilioPeer::new(&moving, AUTH_TOKEN);
    let (status, _) = peer
        .text(&Text::new(TEXTER, LINE, "Are you there?"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let conversations: Vec<i32> = message::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|m| m.contact_id.0)
        .collect();
    assert!(
        conversations.windows(2).all(|w| w[0] == w[1]),
        "one conversation: {conversations:?}"
    );

    let rotated = key_rotation::rotate(&app.db, &settings(&app, &BOTH_KEYS), false, utc(NOW))
        .await
        .unwrap();
    assert!(rotated.text.changed >= 3, "{rotated:?}");
    assert!(rotated.numbers.changed >= 4, "{rotated:?}");
    assert_eq!(rotated.text.unreadable + rotated.numbers.unreadable, 0);
    // Run again (as after an interruption), it finds nothing left to move.
    let again = key_rotation::rotate(&app.db, &settings(&app, &BOTH_KEYS), false, utc(NOW))
        .await
        .unwrap();
    assert_eq!((again.text.changed, again.numbers.changed), (0, 0));

    // Nothing is left that the old key alone opens.
    let old = Vault::new(SECRET_KEY.to_owned().into());
    for m in message::Entity::find().all(&app.db).await.unwrap() {
        assert_eq!(Sealed::open_some(&old, m.body.as_ref()), None);
    }
    let phone = stored_phone(&app, ada).await;
    assert_eq!(old.open(&phone.0), None);

    // The new key alone now serves everything: the block, the conflict, the words.
    assert!(
        start_with(&app, &[("PEERLINE_SECRET_KEY", SECRET_KEY)])
            .await
            .is_err_and(|why| why.contains("peerline rotate-key"))
    );
    let new_only = app
        .instance_at_with(NOW, &[("PEERLINE_SECRET_KEY", NEW_KEY)])
        .await;
    assert!(call(&new_only, BLOCKED).await.rejected);
    let conflicted = call(&new_only, CONFLICTED).await;
    assert!(!conflicted.rejected);
    assert_eq!(passed_over_for_conflict(&app, &conflicted).await, vec![ada]);
    let client = reqwest::Client::new();
    let read = |path: String| {
        client
            .get(format!("{new_only}{path}"))
            .bearer_auth(&app.admin)
            .send()
    };
    let volunteer: serde_json::Value = read(format!("/api/v1/volunteers/{ada}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(volunteer["phone"], ADA);
    let conversation = conversations[0];
    let detail = read(format!("/api/v1/contacts/{conversation}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(detail.contains("My son was born at 27 weeks."), "{detail}");
    assert!(detail.contains("Are you there?"), "{detail}");
    let revealed: serde_json::Value = client
        .post(format!(
            "{new_only}/api/v1/contacts/{conversation}/reveal-caller"
        ))
        .bearer_auth(&app.admin)
        .json(&json!({"reason": "safeguarding: police asked"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revealed["number"], TEXTER, "{revealed}");

    let audit = app.get("/api/v1/audit?action=rotate_key", &app.admin).await;
    assert_eq!(
        audit.body["items"].as_array().map(Vec::len),
        Some(2),
        "{:?}",
        audit.body
    );
}

#[tokio::test]
async fn a_conflict_whose_number_was_never_kept_stops_the_rotation_until_it_is_let_go() {
    let (app, ada) = helpline_with_history().await;
    // As an earlier version stored it: the hash alone, of a number peerline saw nowhere else.
    let old = Vault::new(SECRET_KEY.to_owned().into());
    let unseen = peerline::domain::phone::E164::parse("+12025550188").unwrap();
    conflict::Entity::insert(conflict::ActiveModel {
        volunteer_id: Set(VolunteerId(ada)),
        number_hash: Set(old.hash(&unseen)),
        number_hint: Set(unseen.masked()),
        created_at: Set(utc(NOW)),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    let stopped = key_rotation::rotate(&app.db, &settings(&app, &BOTH_KEYS), false, utc(NOW))
        .await
        .unwrap_err()
        .to_string();
    assert!(stopped.contains("1 in conflicts"), "{stopped}");
    assert!(stopped.contains("--forget-unmovable"), "{stopped}");
    // Nothing moved: the old key still starts a server.
    assert_eq!(
        start_with(&app, &[("PEERLINE_SECRET_KEY", SECRET_KEY)]).await,
        Ok(())
    );

    let rotated = key_rotation::rotate(&app.db, &settings(&app, &BOTH_KEYS), true, utc(NOW))
        .await
        .unwrap();
    assert_eq!(rotated.forgotten, 1);
    let left = conflict::Entity::find()
        .filter(conflict::Column::VolunteerId.eq(ada))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(left.len(), 1, "the conflict whose number was kept stays");
    assert_eq!(
        start_with(&app, &[("PEERLINE_SECRET_KEY", NEW_KEY)]).await,
        Ok(())
    );
}

#[tokio::test]
async fn what_an_earlier_version_kept_in_the_clear_is_sealed_when_a_server_starts() {
    let (app, ada) = helpline_with_history().await;
    // As an earlier version left them: a phone and a message body in the clear.
    volunteer::Entity::update_many()
        .col_expr(volunteer::Column::Phone, ADA.into())
        .col_expr(volunteer::Column::PhoneHash, None::<String>.into())
        .filter(volunteer::Column::Id.eq(ada))
        .exec(&app.db)
        .await
        .unwrap();
    let first = message::Entity::find().one(&app.db).await.unwrap().unwrap();
    message::Entity::update_many()
        .col_expr(message::Column::Body, "My son was born at 27 weeks.".into())
        .filter(message::Column::Id.eq(first.id))
        .exec(&app.db)
        .await
        .unwrap();
    server_secret::Entity::delete_by_id("sealed_at_rest".to_owned())
        .exec(&app.db)
        .await
        .unwrap();

    let upgraded = app.instance_at_with(NOW, &[]).await;

    let vault = Vault::new(SECRET_KEY.to_owned().into());
    let phone = stored_phone(&app, ada).await;
    assert_ne!(phone.0, ADA);
    assert_eq!(
        vault.open(&phone.0).map(|p| p.to_string()),
        Some(ADA.into())
    );
    let body = message::Entity::find_by_id(first.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .body
        .unwrap();
    assert_ne!(body.0, "My son was born at 27 weeks.");
    assert_eq!(
        body.open(&vault).as_deref(),
        Some("My son was born at 27 weeks.")
    );
    // Ada is found by her phone again: a call reaches her.
    assert!(
        call(&upgraded, "+12025550199")
            .await
            .rung
            .iter()
            .flatten()
            .any(|p| p == ADA)
    );
}

#[tokio::test]
async fn two_rotations_at_once_move_each_value_once() {
    let (app, _) = helpline_with_history().await;
    let (one, two) = (settings(&app, &BOTH_KEYS), settings(&app, &BOTH_KEYS));
    let (a, b) = futures::join!(
        key_rotation::rotate(&app.db, &one, false, utc(NOW)),
        key_rotation::rotate(&app.db, &two, false, utc(NOW)),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    // Each sealed text moved by one of them, never twice (a second seal would still open,
    // but would mean a row was written over without being read): the messages' and texts'
    // bodies, the block's reason and the conflict's note.
    let messages = message::Entity::find().all(&app.db).await.unwrap().len();
    let texts = outbox_message::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    let sealed = u64::try_from(messages + texts + 2).unwrap();
    assert_eq!(a.text.changed + b.text.changed, sealed, "{a:?} {b:?}");
    let new = Vault::new(NEW_KEY.to_owned().into());
    for m in message::Entity::find().all(&app.db).await.unwrap() {
        let body = m.body.unwrap();
        assert!(new.is_current(&body.0), "{body:?}");
    }
}

#[tokio::test]
async fn a_rotation_cut_short_leaves_the_old_key_in_charge_and_a_second_run_finishes_it() {
    let (app, ada) = helpline_with_history().await;
    // As if the command stopped once the texts had moved, before the numbers.
    let moving = Vault::rotating(NEW_KEY.to_owned().into(), SECRET_KEY.to_owned().into());
    let texts = peerline::storage::sealing::reseal_text(&app.db, &moving)
        .await
        .unwrap();
    assert!(texts.changed > 0);
    // The database is not yet the new key's: it alone is refused, both keys still serve.
    assert!(
        start_with(&app, &[("PEERLINE_SECRET_KEY", NEW_KEY)])
            .await
            .is_err()
    );
    let serving = app.instance_at_with(NOW, &BOTH_KEYS).await;
    assert!(call(&serving, BLOCKED).await.rejected);

    let finished = key_rotation::rotate(&app.db, &settings(&app, &BOTH_KEYS), false, utc(NOW))
        .await
        .unwrap();
    assert_eq!(finished.text.changed, 0, "the texts had moved already");
    assert!(finished.numbers.changed > 0, "{finished:?}");
    let phone = stored_phone(&app, ada).await;
    assert!(Vault::new(NEW_KEY.to_owned().into()).is_current(&phone.0));
    assert_eq!(
        start_with(&app, &[("PEERLINE_SECRET_KEY", NEW_KEY)]).await,
        Ok(())
    );
}
