//! When the database does not answer, callers and texters still hear back: a call goes to
//! the helpline's fallback number and a text gets the helpline's crisis text, both
//! remembered while the database was up; both wait in the spool and reach the database
//! once, when it answers again.

use peerline::clock::Clock;
use peerline::domain::contact::Outcome;
use peerline::simulator::text::Text;
use peerline::simulator::{self, Answer, CallScript};
use peerline::storage::entities::{contact, contact_event, message};
use reqwest::Method;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};
use serde_json::{Value, json};

use futures::future::join_all;

use crate::helpers::{
    AUTH_TOKEN, TestApp, spawn_app_at, spawn_app_at_with, start_server_with, utc,
};

const LINE: &str = "+12025550100";
const PARTNER: &str = "+12025550188";
const ALICE: &str = "+12025550111";
const NOW: &str = "2026-11-22T12:00:00Z";

async fn call(app: &TestApp, from: &str) -> simulator::Transcript {
    call_via(&app.twilio(), from).await
}

async fn call_via(twilio: &simulator::TwilioPeer, from: &str) -> simulator::Transcript {
    let script = CallScript {
        to: LINE.into(),
        from: from.into(),
        digits: vec![],
        answer: Answer::First,
        talk_secs: 60,
    };
    match simulator::play_call(twilio, &script).await {
        Ok(t) => t,
        Err(e) => panic!("{e:#}"),
    }
}

/// A helpline on `LINE` with a fallback number and its own crisis text.
async fn line_with_fallback(app: &TestApp) -> i32 {
    let line = app.helpline("Peerline", "Europe/London").await;
    app.number(line, LINE).await;
    let settings = json!({"name": "Peerline", "time_zone": "Europe/London",
        "greeting": "Hello, you've reached a peer supporter.", "voice_language": "en-GB",
        "languages": ["en"], "fallback_number": PARTNER,
        "texting": {"crisis_text": "In danger now? Call 999."}});
    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/helplines/{line}"),
            Some(&app.admin),
            Some(settings),
        )
        .await;
    assert!(put.status.is_success(), "{:?}", put.body);
    line
}

#[tokio::test]
async fn while_the_database_is_stuck_callers_reach_the_fallback_and_texters_the_crisis_text() {
    let app = spawn_app_at(NOW).await;
    let line = line_with_fallback(&app).await;
    let alice = app
        .volunteer("Alice", ALICE, "Europe/London", &[line])
        .await;
    app.on_shift_around(alice, NOW).await;

    // While the database answers: a call reaches Alice, a text is taken in quietly.
    let before = call(&app, "+12025550142").await;
    assert_eq!(before.connected_to.as_deref(), Some(ALICE));
    let (_, quiet) = app
        .twilio()
        .text(&Text::new("+12025550143", LINE, "hi"))
        .await
        .unwrap();
    assert!(!quiet.contains("<Message>"), "{quiet}");

    // A call already ringing Alice when the database stops.
    let peer = app.twilio();
    let mid_call = "CA000000000000000000000000000000a1";
    let form = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        [
            ("CallSid", mid_call),
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("From", "+12025550150"),
            ("To", LINE),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    };
    let (_, ringing) = peer
        .post(
            &peer.url("/twilio/voice"),
            &form(&[("CallStatus", "ringing")]),
        )
        .await
        .unwrap();
    let ringing = simulator::twiml_reader::parse(&ringing).unwrap();
    let mut dials = Vec::new();
    ringing.find_all("Dial", &mut dials);
    let dial_action = dials[0].attr("action").expect("a dial action").to_owned();

    // The database stops answering: another connection holds the tables the webhooks need.
    let lock = app.db.begin().await.unwrap();
    let statement = match app.db.get_database_backend() {
        DatabaseBackend::Postgres => {
            "LOCK TABLE helpline_numbers, contacts, volunteers IN ACCESS EXCLUSIVE MODE"
        }
        _ => "UPDATE helplines SET name = name",
    };
    lock.execute_unprepared(statement).await.unwrap();

    // Alice does not pick up; the dial action comes in during the outage.
    let (_, after_ring) = peer
        .post(
            &dial_action,
            &form(&[
                ("CallStatus", "in-progress"),
                ("DialCallStatus", "no-answer"),
            ]),
        )
        .await
        .unwrap();
    assert!(after_ring.contains(PARTNER), "{after_ring}");

    let during = call(&app, "+12025550144").await;
    assert_eq!(
        during.connected_to.as_deref(),
        Some(PARTNER),
        "{:#?}",
        during.lines
    );
    assert!(
        during
            .lines
            .iter()
            .any(|l| l.contains("having trouble connecting your call")),
        "{:#?}",
        during.lines
    );
    let text = Text::new("+12025550145", LINE, "please help");
    let (status, reply) = app.twilio().text(&text).await.unwrap();
    assert_eq!(status, 200);
    assert!(
        reply.contains("we have your message") && reply.contains("Call 999"),
        "{reply}"
    );
    // A burst of calls during the outage: every caller reaches the fallback.
    let burst = join_all((0..6).map(|i| {
        let app = &app;
        async move { call(app, &format!("+120255501{}", 60 + i)).await }
    }))
    .await;
    for answered in &burst {
        assert_eq!(
            answered.connected_to.as_deref(),
            Some(PARTNER),
            "{:#?}",
            answered.lines
        );
    }
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        ready.body["spooled"], 9,
        "the calls, the hand-off of the call cut in the middle and the text wait in the spool"
    );

    // Back again: what was spooled reaches the log once, and calls reach volunteers.
    lock.rollback().await.unwrap();
    let mut written = None;
    for _ in 0..100 {
        written = contact::Entity::find()
            .filter(contact::Column::ProviderSid.eq(&during.call_sid))
            .one(&app.db)
            .await
            .unwrap();
        if written.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let written = written.expect("the spooled call reaches the contact log");
    assert_eq!(written.outcome, Some(Outcome::FallbackNumber));
    assert_eq!(written.caller_hint, "...44");
    let kinds: Vec<String> = contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(written.id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.to_value())
        .collect();
    assert!(
        kinds.contains(&"answered_from_memory".to_owned()),
        "{kinds:?}"
    );
    assert!(written.ended_at.is_some());
    let mut taken_in = 0;
    for _ in 0..100 {
        taken_in = message::Entity::find()
            .filter(message::Column::ProviderSid.eq(&text.message_sid))
            .count(&app.db)
            .await
            .unwrap();
        if taken_in > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(taken_in, 1, "the spooled text is taken in once");
    let mut ready = app.call(Method::GET, "/readyz", None, None).await;
    for _ in 0..50 {
        if ready.body["spooled"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        ready = app.call(Method::GET, "/readyz", None, None).await;
    }
    assert_eq!(ready.body["spooled"], 0, "{:?}", ready.body);
    for answered in &burst {
        let logged = contact::Entity::find()
            .filter(contact::Column::ProviderSid.eq(&answered.call_sid))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(logged, 1, "every call of the burst is in the log once");
    }
    let calls = contact::Entity::find()
        .filter(contact::Column::Channel.eq("voice"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        calls, 9,
        "the call before, the one cut in the middle and the seven during the outage, each once"
    );

    // The call handed to the fallback number in the middle is logged as such, and Alice,
    // whom it was ringing, is free again; its final callback, arriving once the database
    // is back, changes nothing.
    let handed_over = contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(mid_call))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the call cut in the middle is in the log");
    assert_eq!(handed_over.outcome, Some(Outcome::FallbackNumber));
    assert!(handed_over.ended_at.is_some());
    let (ended, _) = peer
        .post(
            &peer.url("/twilio/voice/status"),
            &form(&[("CallStatus", "completed"), ("CallDuration", "200")]),
        )
        .await
        .unwrap();
    assert_eq!(ended, 200);
    let still = contact::Entity::find_by_id(handed_over.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.outcome, Some(Outcome::FallbackNumber));
    let after = call(&app, "+12025550146").await;
    assert_eq!(
        after.connected_to.as_deref(),
        Some(ALICE),
        "{:#?}",
        after.lines
    );
}

#[tokio::test]
async fn the_offline_answers_are_read_from_the_database_before_any_call() {
    let app = spawn_app_at(NOW).await;
    line_with_fallback(&app).await;
    // A server that has taken no call on this number yet.
    let state = app.state_at(Clock::system().now());
    assert_eq!(state.fallbacks.for_number(LINE), None);
    let remembered = peerline::jobs::offline_answers::refresh(&state)
        .await
        .unwrap();
    assert_eq!(remembered, 1);
    assert_eq!(state.fallbacks.for_number(LINE).as_deref(), Some(PARTNER));
    assert_eq!(
        state.fallbacks.crisis_text_for(LINE).as_deref(),
        Some("In danger now? Call 999.")
    );
}

#[tokio::test]
async fn the_api_asks_to_retry_while_the_database_is_held_and_writes_nothing() {
    let app = spawn_app_at(NOW).await;
    let lock = app.db.begin().await.unwrap();
    let statement = match app.db.get_database_backend() {
        DatabaseBackend::Postgres => "LOCK TABLE helplines IN ACCESS EXCLUSIVE MODE",
        _ => "INSERT INTO roster_versions (id, version) VALUES (2, 0)",
    };
    lock.execute_unprepared(statement).await.unwrap();

    let settings = json!({"name": "Line", "time_zone": "UTC", "greeting": "Hi",
                          "voice_language": "en", "languages": ["en"]});
    let reply = app
        .post("/api/v1/helplines", &app.admin, settings.clone())
        .await;

    assert_eq!(
        reply.status,
        reqwest::StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["error"], "unavailable");
    lock.rollback().await.unwrap();
    let helplines = app.get("/api/v1/helplines", &app.admin).await;
    assert_eq!(helplines.body["items"], json!([]), "nothing was written");
    let retried = app.post("/api/v1/helplines", &app.admin, settings).await;
    assert_eq!(retried.status, reqwest::StatusCode::CREATED);
}

#[tokio::test]
async fn a_spooled_record_the_database_will_never_take_is_set_aside_and_the_rest_go_on() {
    let app = spawn_app_at(NOW).await;
    line_with_fallback(&app).await;
    const POISON: &str = "CA5a1d47623a7508a76d53f348f8db1ea3";
    // Any permanent refusal will do: a trigger that refuses this one call.
    let refuse = match app.db.get_database_backend() {
        DatabaseBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN \
                 IF NEW.provider_sid = '{POISON}' THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON contacts FOR EACH ROW \
             EXECUTE FUNCTION refuse_poison()"
                .to_owned(),
        ],
        _ => vec![format!(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON contacts \
             WHEN NEW.provider_sid = '{POISON}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )],
    };
    for statement in refuse {
        app.db.execute_unprepared(&statement).await.unwrap();
    }
    let state = app.state_at(Clock::system().now());
    let call = |sid: &str| peerline::spool::Spooled::Call {
        call_sid: sid.to_owned(),
        dialed: LINE.to_owned(),
        caller_sealed: None,
        at: Clock::system().now(),
        to_fallback: true,
        reason: "the database did not answer".to_owned(),
    };
    for sid in [
        "CAdadf4e369f44dd28f7b4eecc53366b55",
        POISON,
        "CA5e27b3ff8129f557e9e09999ccb6d734",
    ] {
        state.spool.append(&call(sid)).unwrap();
    }

    let written = peerline::jobs::spool_replay::drain(&state).await.unwrap();

    assert_eq!(written, 3);
    assert_eq!(state.spool.pending(), 0, "the spool is not stuck behind it");
    assert_eq!(state.spool.dead_letters(), 1);
    let stored: Vec<String> = contact::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.provider_sid)
        .collect();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(!stored.contains(&POISON.to_owned()));
}

#[tokio::test]
async fn readiness_answers_within_a_second_that_a_held_database_is_not_ready() {
    let app = spawn_app_at(NOW).await;
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.body["writable"], true, "{:?}", ready.body);

    let lock = app.db.begin().await.unwrap();
    let statement = match app.db.get_database_backend() {
        DatabaseBackend::Postgres => "LOCK TABLE outbox_messages IN ACCESS EXCLUSIVE MODE",
        _ => "INSERT INTO roster_versions (id, version) VALUES (2, 0)",
    };
    lock.execute_unprepared(statement).await.unwrap();
    let asked = std::time::Instant::now();
    let held = app.call(Method::GET, "/readyz", None, None).await;
    let took = asked.elapsed();
    lock.rollback().await.unwrap();

    assert_eq!(
        held.status,
        reqwest::StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        held.body
    );
    assert_eq!(held.body["status"], "unavailable");
    assert!(
        held.body["writable"] == false || held.body["database"] == false,
        "{:?}",
        held.body
    );
    // Generous for a loaded machine; the server gives each question one second.
    assert!(took < std::time::Duration::from_secs(4), "took {took:?}");
}

/// Polls `/readyz` on `base` until it answers ready with nothing left in the spool.
async fn until_ready_with_an_empty_spool(base: &str) -> Value {
    let client = reqwest::Client::new();
    let mut last = Value::Null;
    for _ in 0..150 {
        let reply = client.get(format!("{base}/readyz")).send().await.unwrap();
        let ready = reply.status() == 200;
        last = reply.json().await.unwrap();
        if ready && last["spooled"] == 0 {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the restarted server never caught up: {last}");
}

#[tokio::test]
async fn a_server_restarted_while_the_database_is_out_of_reach_answers_and_catches_up() {
    let spool = tempfile::tempdir().unwrap();
    let spool_dir = spool.path().display().to_string();
    let app = spawn_app_at_with(NOW, &[("PEERLINE_SPOOL_DIR", &spool_dir)]).await;
    line_with_fallback(&app).await;
    // A call while the database answers: nobody is on shift, and the server keeps what
    // the number answers offline beside its spool.
    let before = call(&app, "+12025550142").await;
    assert_eq!(before.connected_to.as_deref(), Some(PARTNER));
    app.stop().await;

    // The server restarts while its database is out of reach.
    let away = app.database_out_of_reach().await;
    let restarted = start_server_with(
        &away.url,
        Clock::starting_at(utc(NOW) + chrono::Duration::minutes(5)),
        &[("PEERLINE_SPOOL_DIR", &spool_dir)],
    )
    .await;
    let twilio = simulator::TwilioPeer::new(&restarted.base, AUTH_TOKEN);
    let during = call_via(&twilio, "+12025550144").await;
    assert_eq!(
        during.connected_to.as_deref(),
        Some(PARTNER),
        "{:#?}",
        during.lines
    );
    let text = Text::new("+12025550145", LINE, "is anyone there");
    let (status, reply) = twilio.text(&text).await.unwrap();
    assert_eq!(status, 200);
    assert!(
        reply.contains("we have your message") && reply.contains("Call 999"),
        "{reply}"
    );
    let client = reqwest::Client::new();
    let unready = client
        .get(format!("{}/readyz", restarted.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unready.status(), 503);
    let unready: Value = unready.json().await.unwrap();
    assert_eq!(unready["database"], false);
    assert_eq!(unready["spooled"], 2, "{unready}");
    // Any other request that needs the database is asked to come back later.
    let api = client
        .get(format!("{}/api/v1/helplines", restarted.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 503);

    // The database answers again: the server migrates it, starts its jobs and writes
    // what it answered meanwhile, once.
    let db = away.bring_back().await;
    until_ready_with_an_empty_spool(&restarted.base).await;
    let logged = contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(&during.call_sid))
        .one(&db)
        .await
        .unwrap()
        .expect("the call answered from memory is in the log");
    assert_eq!(logged.outcome, Some(Outcome::FallbackNumber));
    let texts = message::Entity::find()
        .filter(message::Column::ProviderSid.eq(&text.message_sid))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(texts, 1, "the text is taken in once");
    // And it takes calls from the database as usual.
    let after = call_via(&twilio, "+12025550146").await;
    assert_eq!(after.connected_to.as_deref(), Some(PARTNER));
    let after = contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(&after.call_sid))
        .one(&db)
        .await
        .unwrap()
        .expect("a call after the outage is logged as it happens");
    assert!(after.ended_at.is_some());
    restarted.stop().await;
}
