//! Retention: old contacts lose what identifies the caller and keep their figures; a
//! caller can be erased on request; purging twice, or on two servers at once, erases
//! each contact once.

use peerline::clock::Clock;
use peerline::domain::ids::{ContactId, VolunteerId};
use std::process::Command;

use chrono::Duration;
use peerline::jobs::retention;
use peerline::storage::entities::{Sealed, contact, contact_report, message, outbox_message};
use peerline::storage::outbox::OutboxState;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveValue::Set, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{SECRET_KEY, Seed, TestApp, sealed, seed, spawn_app};

const CALLER: &str = "+12025550142";
const OTHER: &str = "+12025550143";

/// A contact `days_ago`, ended, with a message, a report note and a sent SMS.
async fn contact_days_ago(
    app: &TestApp,
    helpline: i32,
    n: usize,
    days_ago: i64,
    caller: &str,
) -> i32 {
    let at = (Clock::system().now() - Duration::days(days_ago)).to_rfc3339();
    let id = seed(
        app,
        helpline,
        n,
        Seed {
            at: &at,
            channel: "sms",
            outcome: "answered",
            tier: Some("any_topic"),
            wait: 20,
            talk: Some(900),
            caller: Some(caller),
            recording: Some("RE0123"),
            ..Seed::default()
        },
    )
    .await;
    message::Entity::insert(message::ActiveModel {
        contact_id: Set(ContactId(id)),
        at: Set(Clock::system().now() - Duration::days(days_ago)),
        direction: Set("inbound".into()),
        sender_role: Set("texter".into()),
        recipient_role: Set("volunteer".into()),
        provider_sid: Set(Some(format!("SM{n:032}"))),
        body: Set(Some(sealed("My baby is in the NICU at St Mary's"))),
        media_count: Set(0),
        relayed: Set(true),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    contact_report::Entity::insert(contact_report::ActiveModel {
        contact_id: Set(ContactId(id)),
        volunteer_id: Set(VolunteerId(app_volunteer(app).await)),
        version: Set(1),
        notes: Set(Some(sealed("Mother of twins, lives near the hospital"))),
        outcome_tags: Set("[\"listened\"]".into()),
        flags: Set("[]".into()),
        created_at: Set(Clock::system().now()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        contact_id: Set(Some(ContactId(id))),
        purpose: Set("relay_to_texter".into()),
        to_encrypted: Set(
            crate::helpers::vault().seal(&peerline::domain::phone::E164::parse(caller).unwrap())
        ),
        to_hint: Set("...42".into()),
        from_number: Set("+12025550100".into()),
        body: Set(sealed("We're here for you.")),
        status: Set(peerline::storage::outbox::OutboxState::Sent),
        attempts: Set(1),
        next_attempt_at: Set(Clock::system().now()),
        created_at: Set(Clock::system().now()),
        updated_at: Set(Clock::system().now()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    id
}

async fn app_volunteer(app: &TestApp) -> i32 {
    peerline::storage::entities::volunteer::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("a volunteer")
        .id
        .0
}

async fn erased(app: &TestApp, id: i32) -> bool {
    let row = contact::Entity::find_by_id(ContactId(id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let messages = message::Entity::find().all(&app.db).await.unwrap();
    let body_gone = messages
        .iter()
        .filter(|m| m.contact_id == ContactId(id))
        .all(|m| m.body.is_none());
    let gone = row.caller_encrypted.is_none()
        && row.caller_hash == "erased"
        && row.recording_sid.is_none()
        && row.recording_url.is_none()
        && row.erased_at.is_some();
    if gone {
        // What reports need stays.
        assert_eq!(
            (row.outcome, row.talk_secs, row.wait_secs),
            (
                Some(peerline::domain::contact::Outcome::Answered),
                Some(900),
                Some(20)
            )
        );
        assert!(body_gone, "message bodies are erased with the caller");
    }
    gone
}

#[tokio::test]
async fn old_contacts_lose_the_callers_identity_and_keep_their_figures() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    app.volunteer("Alice", "+12025550111", "Europe/London", &[line])
        .await;
    let settings = json!({"name": "Peerline", "time_zone": "Europe/London",
        "greeting": "Hello, you've reached a peer supporter.", "voice_language": "en-GB",
        "languages": ["en"], "supervision": {"retention_days": 30}});
    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/helplines/{line}"),
            Some(&app.admin),
            Some(settings),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    assert_eq!(put.body["supervision"]["retention_days"], 30);
    let too_short = app
        .call(
            Method::PUT,
            &format!("/api/v1/helplines/{line}"),
            Some(&app.admin),
            Some(json!({"name": "Peerline", "time_zone": "Europe/London", "greeting": "Hello",
                "voice_language": "en-GB", "languages": ["en"], "supervision": {"retention_days": 3}})),
        )
        .await;
    assert_eq!(too_short.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_short.body["field"], "supervision.retention_days");

    let mut old = Vec::new();
    for n in 0..3 {
        old.push(contact_days_ago(&app, line, n, 40, CALLER).await);
    }
    let recent = contact_days_ago(&app, line, 10, 5, CALLER).await;

    // Two servers purge at once: each old contact is erased exactly once.
    let (a, b) = tokio::join!(
        retention::purge(&app.db, "a test", Clock::system().now()),
        retention::purge(&app.db, "a test", Clock::system().now())
    );
    let total: u64 = a
        .unwrap()
        .iter()
        .chain(b.unwrap().iter())
        .map(|(_, n)| n)
        .sum();
    assert_eq!(total, 3);
    // The purge is in the audit log, once, with what it erased and what ran it.
    let log = app
        .get(
            &format!("/api/v1/audit?action=retention_purge&helpline_id={line}"),
            &app.admin,
        )
        .await;
    let entries = log.body["items"].as_array().unwrap();
    let erased_in_log: i64 = entries
        .iter()
        .map(|e| e["detail"]["contacts"].as_i64().unwrap())
        .sum();
    assert_eq!(erased_in_log, 3, "{entries:?}");
    assert_eq!(entries[0]["detail"]["by"], "a test");
    assert_eq!(
        entries[0]["user_id"],
        serde_json::Value::Null,
        "done by peerline itself"
    );
    for id in &old {
        assert!(erased(&app, *id).await, "contact {id} erased");
    }
    assert!(
        !erased(&app, recent).await,
        "a recent contact is kept whole"
    );
    let notes: Vec<Option<Sealed>> = contact_report::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.notes)
        .collect();
    assert_eq!(notes.iter().filter(|n| n.is_none()).count(), 3);
    let sent = outbox_message::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(
        sent.iter()
            .filter(|m| m.body.0.is_empty() && m.to_encrypted.is_empty())
            .count(),
        3
    );

    // A rerun finds nothing more; the figures still count every contact.
    let again: u64 = retention::purge(&app.db, "a test", Clock::system().now())
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(again, 0);
    let from = (Clock::system().now() - Duration::days(60)).date_naive();
    let to = Clock::system().now().date_naive();
    let report = app
        .get(
            &format!("/api/v1/helplines/{line}/reports/contacts?from={from}&to={to}"),
            &app.admin,
        )
        .await;
    assert_eq!(report.body["answered"], 4, "{:?}", report.body);

    // Revealing an erased caller is refused, clearly.
    let reveal = app
        .post(
            &format!("/api/v1/contacts/{}/reveal-caller", old[0]),
            &app.admin,
            json!({"reason": "safeguarding"}),
        )
        .await;
    assert_eq!(reveal.status, StatusCode::CONFLICT);
    assert!(reveal.body["message"].as_str().unwrap().contains("erased"));
}

#[tokio::test]
async fn a_caller_is_erased_on_request_from_the_command_line() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    app.volunteer("Alice", "+12025550111", "Europe/London", &[line])
        .await;
    let theirs = contact_days_ago(&app, line, 0, 2, CALLER).await;
    let someone_else = contact_days_ago(&app, line, 1, 2, OTHER).await;

    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_peerline"))
            .args(args)
            .env("DATABASE_URL", app.database_url())
            .env("PEERLINE_SECRET_KEY", SECRET_KEY)
            .output()
            .expect("run peerline")
    };
    let output = run(&["erase-caller", "--number", CALLER]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "erased 1 contacts"
    );
    assert!(erased(&app, theirs).await);
    assert!(!erased(&app, someone_else).await);
    let log = app
        .get("/api/v1/audit?action=erase_caller", &app.admin)
        .await;
    assert_eq!(
        log.body["items"][0]["detail"]["contacts"], 1,
        "{:?}",
        log.body
    );
    assert_eq!(
        log.body["items"][0]["detail"]["by"],
        "command line (erase-caller)"
    );

    let again = run(&["erase-caller", "--number", CALLER]);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "no contact of this number is held: the number is unknown here, or was already erased"
    );
    let bad = run(&["erase-caller", "--number", "12"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--number"));
    let purge = run(&["purge"]);
    assert!(
        purge.status.success(),
        "{}",
        String::from_utf8_lossy(&purge.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&purge.stdout).trim(),
        format!("helpline {line}: erased 0 contacts")
    );
}

/// A message to `caller` about contact `id`, queued and not yet sent.
async fn pending_message(app: &TestApp, id: i32, purpose: &str, caller: &str) -> i32 {
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        contact_id: Set(Some(ContactId(id))),
        purpose: Set(purpose.into()),
        to_encrypted: Set(
            crate::helpers::vault().seal(&peerline::domain::phone::E164::parse(caller).unwrap())
        ),
        to_hint: Set("...42".into()),
        from_number: Set("+12025550100".into()),
        body: Set(sealed("Are you still there?")),
        status: Set(OutboxState::Pending),
        attempts: Set(0),
        next_attempt_at: Set(Clock::system().now()),
        created_at: Set(Clock::system().now()),
        updated_at: Set(Clock::system().now()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap()
    .last_insert_id
}

async fn outbox_row(app: &TestApp, id: i32) -> outbox_message::Model {
    outbox_message::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn erasure_cancels_every_message_not_yet_sent_to_the_erased_person() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    app.volunteer("Alice", "+12025550111", "Europe/London", &[line])
        .await;
    // An old contact whose last message to the texter never went: the purge erases the
    // contact and cancels the message, which is then never sent.
    let old = contact_days_ago(&app, line, 0, 400, CALLER).await;
    let waiting = pending_message(&app, old, "texter_relay", CALLER).await;
    retention::purge(&app.db, "a test", Clock::system().now())
        .await
        .unwrap();
    assert!(erased(&app, old).await);
    let row = outbox_row(&app, waiting).await;
    assert_eq!(row.status, OutboxState::Cancelled);
    assert!(row.body.0.is_empty() && row.to_encrypted.is_empty());
    let due = peerline::storage::outbox::claim_next(&app.db, Clock::system().now())
        .await
        .unwrap();
    assert!(due.is_none(), "nothing is left to send: {due:?}");

    // A conversation still open when the texter asks to be forgotten: what was about to
    // be sent to them is cancelled; a message to the volunteer is not theirs to cancel.
    let open = contact_days_ago(&app, line, 1, 0, CALLER).await;
    contact::Entity::update_many()
        .col_expr(
            contact::Column::EndedAt,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(sea_orm::ColumnTrait::eq(&contact::Column::Id, open))
        .exec(&app.db)
        .await
        .unwrap();
    let to_texter = pending_message(&app, open, "texter_acknowledgement", CALLER).await;
    let to_volunteer = pending_message(&app, open, "volunteer_relay", "+12025550111").await;
    let done = retention::erase_caller(
        &app.db,
        &crate::helpers::vault(),
        &peerline::domain::phone::E164::parse(CALLER).unwrap(),
        Clock::system().now(),
    )
    .await
    .unwrap();
    assert_eq!((done.still_open, done.messages_cancelled), (1, 1));
    assert_eq!(
        outbox_row(&app, to_texter).await.status,
        OutboxState::Cancelled
    );
    assert_eq!(
        outbox_row(&app, to_volunteer).await.status,
        OutboxState::Pending
    );
}
