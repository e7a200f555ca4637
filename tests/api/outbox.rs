//! The SMS outbox against a local stand-in for Twilio's REST API.

use chrono::Duration;
use peerline::clock::Clock;
use peerline::domain::phone::E164;
use peerline::jobs::outbox::{OutboxSender, Pass};
use peerline::storage::entities::outbox_message;
use peerline::storage::outbox::{self, NewMessage, OutboxState};
use peerline::telephony::rest::TwilioClient;
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;

use crate::helpers::{TestApp, opened, spawn_app, vault};
use crate::twilio_standin::{Scripted, StandIn};

const ACCOUNT: &str = "AC00000000000000000000000000000001";

fn sender(app: &TestApp, twilio: &StandIn, clock: Clock) -> OutboxSender {
    OutboxSender {
        db: app.db.clone(),
        client: TwilioClient::new(
            twilio.base.parse().unwrap(),
            ACCOUNT.into(),
            "rest-token".to_owned().into(),
        ),
        vault: vault(),
        clock,
        status_callback: Some(format!("{}/twilio/sms/status", app.base)),
    }
}

async fn queue(app: &TestApp, body: &str) -> i32 {
    queue_to(app, "+12025550199", body).await
}

async fn queue_to(app: &TestApp, to: &str, body: &str) -> i32 {
    let to = E164::parse(to).unwrap();
    let message = NewMessage::to_phone(&vault(), &to, "+12025550100", "test", body.into());
    outbox::enqueue(&app.db, &vault(), message, Clock::system().now())
        .await
        .unwrap()
        .id
}

async fn row(app: &TestApp, id: i32) -> outbox_message::Model {
    outbox_message::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_queued_message_is_sent_once_as_twilio_expects() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    let id = queue(&app, "Peerline: voicemail on Peerline (#12).").await;

    let first = sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();
    let second = sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();

    assert_eq!(first.sent, 1);
    assert_eq!(second, Pass::default());
    let received = twilio.received().await;
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
    );
    // Basic auth: base64 of "AC...:rest-token".
    use base64::Engine;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:rest-token"));
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(request.field("To"), Some("+12025550199"));
    assert_eq!(request.field("From"), Some("+12025550100"));
    assert_eq!(
        request.field("Body"),
        Some("Peerline: voicemail on Peerline (#12).")
    );
    let stored = row(&app, id).await;
    assert_eq!(stored.status, OutboxState::Sent);
    assert!(stored.provider_sid.unwrap().starts_with("SM"));
    assert!(!stored.to_encrypted.contains("2025550199"));
}

#[tokio::test]
async fn a_429_waits_for_retry_after_and_then_sends() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    twilio
        .script(&[Scripted::TooManyRequests {
            retry_after_secs: 30,
        }])
        .await;
    let id = queue(&app, "hello").await;

    let first = sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();
    assert_eq!(first.retrying, 1);
    let waiting = row(&app, id).await;
    assert_eq!(waiting.status, OutboxState::Pending);
    assert!(waiting.next_attempt_at >= Clock::system().now() + Duration::seconds(29));
    // Not due yet: nothing is sent.
    let early = sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();
    assert_eq!(early, Pass::default());

    let later = Clock::starting_at(Clock::system().now() + Duration::seconds(60));
    let retried = sender(&app, &twilio, later).send_due().await.unwrap();

    assert_eq!(retried.sent, 1);
    assert_eq!(twilio.received().await.len(), 2);
    let sent = row(&app, id).await;
    assert_eq!((sent.status, sent.attempts), (OutboxState::Sent, 2));
}

#[tokio::test]
async fn a_send_that_may_have_gone_is_never_sent_again() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    twilio.script(&[Scripted::ServerError]).await;
    let id = queue(&app, "hello").await;

    let first = sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();
    let later = Clock::starting_at(Clock::system().now() + Duration::hours(1));
    let again = sender(&app, &twilio, later).send_due().await.unwrap();

    assert_eq!(first.uncertain, 1);
    assert_eq!(again, Pass::default());
    assert_eq!(twilio.received().await.len(), 1);
    assert_eq!(row(&app, id).await.status, OutboxState::Uncertain);
}

#[tokio::test]
async fn a_refusal_is_recorded_with_twilios_code() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    twilio.script(&[Scripted::Refused { code: 21211 }]).await;
    let id = queue(&app, "hello").await;

    let pass = sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();

    assert_eq!(pass.failed, 1);
    let failed = row(&app, id).await;
    assert_eq!(
        (failed.status, failed.error_code),
        (OutboxState::Failed, Some(21211))
    );
    assert!(failed.error.unwrap().contains("not valid"));
}

#[tokio::test]
async fn a_message_claimed_by_a_server_that_stopped_is_not_sent_again() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    let id = queue(&app, "hello").await;
    // A worker claims the message, then its process dies before Twilio answers.
    outbox::claim_next(&app.db, Clock::system().now())
        .await
        .unwrap()
        .unwrap();

    let later = Clock::starting_at(Clock::system().now() + outbox::CLAIM + Duration::seconds(1));
    let pass = sender(&app, &twilio, later).send_due().await.unwrap();

    assert_eq!(pass.uncertain, 1);
    assert!(twilio.received().await.is_empty());
    assert_eq!(row(&app, id).await.status, OutboxState::Uncertain);
}

#[tokio::test]
async fn two_workers_on_one_database_never_send_the_same_message() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    for i in 0..40 {
        queue(&app, &format!("message {i}")).await;
    }
    let (one, two) = (
        sender(&app, &twilio, Clock::system()),
        sender(&app, &twilio, Clock::system()),
    );

    let (a, b) = tokio::join!(one.send_due(), two.send_due());

    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 40);
    let mut bodies: Vec<String> = twilio
        .received()
        .await
        .iter()
        .map(|r| r.field("Body").unwrap().to_owned())
        .collect();
    assert_eq!(bodies.len(), 40, "each message exactly once");
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 40);
}

#[tokio::test]
async fn delivery_reports_only_move_a_message_forward() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    let id = queue(&app, "hello").await;
    sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();
    let request = &twilio.received().await[0];
    let callback = request.field("StatusCallback").unwrap().to_owned();
    assert_eq!(callback, format!("{}/twilio/sms/status", app.base));
    let sid = row(&app, id).await.provider_sid.unwrap();

    let report = |status: &str| {
        vec![
            ("MessageSid".to_owned(), sid.clone()),
            ("MessageStatus".to_owned(), status.to_owned()),
            ("AccountSid".to_owned(), ACCOUNT.to_owned()),
        ]
    };
    for status in ["sent", "delivered", "sent", "queued", "delivered"] {
        let (code, _) = app.twilio().post(&callback, &report(status)).await.unwrap();
        assert_eq!(code, 200);
    }

    assert_eq!(
        row(&app, id).await.delivery_status.as_deref(),
        Some("delivered")
    );
    // Unsigned reports change nothing.
    let forged = reqwest::Client::new()
        .post(&callback)
        .form(&report("failed"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

#[tokio::test]
async fn readiness_shows_each_background_job_and_the_messages_waiting_to_go() {
    let app = spawn_app().await;
    queue(&app, "waiting").await;

    // The jobs' first passes run at start; give a loaded machine time to get to them.
    let mut ready = app.call(Method::GET, "/readyz", None, None).await;
    for _ in 0..100 {
        if ready.body["jobs"]["spool"]["last_success"].is_string()
            && ready.body["jobs"]["sweeper"]["last_success"].is_string()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ready = app.call(Method::GET, "/readyz", None, None).await;
    }

    assert_eq!(ready.status, StatusCode::OK);
    let jobs = ready.body["jobs"].as_object().unwrap();
    for job in [
        "conversations",
        "offline_answers",
        "retention",
        "spool",
        "sweeper",
    ] {
        assert!(jobs.contains_key(job), "{job} missing from {jobs:?}");
        assert_eq!(jobs[job]["failures"], 0, "{job}: {:?}", jobs[job]);
    }
    assert!(jobs["spool"]["last_success"].is_string(), "{jobs:?}");
    // No Twilio account is configured, so the message waits and readiness says so.
    assert_eq!(ready.body["outbox"]["due"], 1);
    assert!(ready.body["outbox"]["oldest_queued_at"].is_string());
}

#[tokio::test]
async fn an_opt_out_reported_later_is_recorded_as_one_reported_at_once() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    let id = queue(&app, "hello").await;
    sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();
    let sid = row(&app, id).await.provider_sid.unwrap();
    let to = E164::parse("+12025550199").unwrap();
    let hashes = vault().hashes(&to);
    let opted_out = || peerline::storage::opt_outs::is_opted_out(&app.db, &hashes, "+12025550100");
    assert!(!opted_out().await.unwrap());
    let report = vec![
        ("MessageSid".to_owned(), sid),
        ("MessageStatus".to_owned(), "undelivered".to_owned()),
        ("ErrorCode".to_owned(), "21610".to_owned()),
        ("AccountSid".to_owned(), ACCOUNT.to_owned()),
    ];
    let callback = format!("{}/twilio/sms/status", app.base);
    let (code, _) = app.twilio().post(&callback, &report).await.unwrap();
    assert_eq!(code, 200);
    assert!(opted_out().await.unwrap(), "nothing more is queued to them");
    assert_eq!(row(&app, id).await.error_code, Some(21610));
}

#[tokio::test]
async fn a_sign_in_code_is_forgotten_once_it_has_been_sent() {
    let app = spawn_app().await;
    let twilio = StandIn::start().await;
    let to = E164::parse("+12025550199").unwrap();
    let code = outbox::enqueue(
        &app.db,
        &vault(),
        NewMessage {
            contact_id: None,
            purpose: "sign_in_code",
            to_sealed: vault().seal(&to),
            to_hint: to.masked(),
            to_hash: vault().hash(&to),
            from: "+12025550100".into(),
            body: "Your Peerline sign-in code is 123456.".into(),
        },
        Clock::system().now(),
    )
    .await
    .unwrap()
    .id;
    let other = queue(&app, "an ordinary text").await;
    sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();
    let sent: Vec<String> = twilio
        .received()
        .await
        .iter()
        .map(|r| r.field("Body").unwrap().to_owned())
        .collect();
    assert!(sent.contains(&"Your Peerline sign-in code is 123456.".to_owned()));
    assert_eq!(row(&app, code).await.status, OutboxState::Sent);
    assert_eq!(row(&app, code).await.body.0, "", "the code is not kept");
    assert_eq!(opened(&row(&app, other).await.body), "an ordinary text");
}

#[tokio::test]
async fn messages_to_one_person_go_one_after_another_in_the_order_queued() {
    let app = spawn_app().await;
    let first = queue(&app, "first to her").await;
    let second = queue(&app, "second to her").await;
    let elsewhere = queue_to(&app, "+12025550188", "to him").await;
    let now = Clock::system().now();

    // While her first message is being sent, a second sender takes his, not her second.
    let taken = outbox::claim_next(&app.db, now).await.unwrap().unwrap();
    assert_eq!(taken.id, first);
    let next = outbox::claim_next(&app.db, now).await.unwrap().unwrap();
    assert_eq!(next.id, elsewhere);
    assert!(outbox::claim_next(&app.db, now).await.unwrap().is_none());

    // Once it has gone, her second is next.
    outbox::mark_sent(&app.db, &taken, "SM00000000000000000000000000000001", now)
        .await
        .unwrap();
    let then = outbox::claim_next(&app.db, now).await.unwrap().unwrap();
    assert_eq!(then.id, second);
}

#[tokio::test]
async fn while_twilio_is_slow_to_answer_messages_to_different_people_go_side_by_side() {
    let app = spawn_app().await;
    let answer_after = std::time::Duration::from_millis(700);
    let twilio = StandIn::answering_after(answer_after).await;
    let first = queue(&app, "first to her").await;
    let second = queue(&app, "second to her").await;
    for i in 0..6 {
        queue_to(
            &app,
            &format!("+120255501{:02}", 60 + i),
            &format!("to {i}"),
        )
        .await;
    }

    let pass = sender(&app, &twilio, Clock::system())
        .send_due()
        .await
        .unwrap();

    assert_eq!(pass.sent, 8);
    let arrivals = twilio.arrivals();
    let at = |body: &str| arrivals.iter().find(|(b, _)| b == body).unwrap().1;
    // Everyone else's message reached Twilio before the first one was answered: none
    // waited for another person's.
    for i in 0..6 {
        assert!(
            at(&format!("to {i}")) < at("first to her") + answer_after,
            "to {i}"
        );
    }
    // Her second waited until Twilio had answered for her first.
    assert!(at("second to her") >= at("first to her") + answer_after);
    assert_eq!(row(&app, first).await.status, OutboxState::Sent);
    assert_eq!(row(&app, second).await.status, OutboxState::Sent);
}
