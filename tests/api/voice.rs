//! Whole calls driven as Twilio drives them: signed webhooks, each callback, retries.

use peerline::clock::Clock;
use peerline::domain::access::Role;
use peerline::domain::contact::Outcome;
use peerline::domain::ids::{ContactId, TopicId, VolunteerId};
use peerline::domain::routing::Tier;
use peerline::storage::contacts::{self, OfferOutcome};
use std::collections::HashSet;

use peerline::simulator::{self, Answer, CallScript, Transcript};
use peerline::storage::entities::{contact, contact_event, offer, outbox_message, reservation};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use futures::future::join_all;

use crate::helpers::{
    TestApp, attr_values, borrowed, deliver, id_of, opened, spawn_app_at, spawn_app_with,
};

const LINE: &str = "+12025550100";
const CALLER: &str = "+12025550142";
const ALICE: &str = "+12025550111";
const BOB: &str = "+12025550122";
const SAM: &str = "+12025550199";
const PARTNER: &str = "+12025550188";
const NOW: &str = "2026-11-22T12:00:00Z";

struct Line {
    helpline: i32,
    neonatal: i32,
    supervisor: String,
}

/// A helpline with two topics on the keypad and a supervisor, at `NOW`.
async fn line(app: &TestApp) -> Line {
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    let neonatal = app.topic(helpline, "neonatal-care", 1).await;
    app.topic(helpline, "bereavement", 2).await;
    let sam = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"name": "Sam", "role": "supervisor", "helplines": [helpline],
                   "phone": SAM, "time_zone": "Europe/London"}),
        )
        .await;
    let sam = id_of(&sam);
    let token = app
        .post(
            &format!("/api/v1/users/{sam}/tokens"),
            &app.admin,
            json!({}),
        )
        .await;
    Line {
        helpline,
        neonatal,
        supervisor: token.body["token"].as_str().unwrap().to_owned(),
    }
}

async fn on_shift_volunteer(app: &TestApp, line: &Line, name: &str, phone: &str) -> i32 {
    let id = app
        .volunteer(name, phone, "Europe/London", &[line.helpline])
        .await;
    app.on_shift_around(id, NOW).await;
    id
}

async fn sign_off(app: &TestApp, line: &Line, volunteer: i32, topic: i32) {
    let reply = app
        .call(
            Method::PUT,
            &format!("/api/v1/volunteers/{volunteer}/signoffs/{topic}"),
            Some(&line.supervisor),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

async fn set_fallback(app: &TestApp, line: &Line, number: &str) {
    put_settings(app, line, &["en"], json!({}), Some(number)).await;
}

async fn play(app: &TestApp, digits: &[&str], answer: Answer) -> Transcript {
    let script = CallScript {
        to: LINE.into(),
        from: CALLER.into(),
        digits: digits.iter().map(|d| (*d).to_owned()).collect(),
        answer,
        talk_secs: 300,
    };
    simulator::play_call(&app.twilio(), &script).await.unwrap()
}

async fn contact_of(app: &TestApp, t: &Transcript) -> contact::Model {
    contact_with_sid(app, &t.call_sid).await
}

async fn contact_with_sid(app: &TestApp, call_sid: &str) -> contact::Model {
    contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(call_sid))
        .one(&app.db)
        .await
        .unwrap()
        .expect("one contact for the call")
}

async fn events_of(app: &TestApp, contact_id: ContactId) -> Vec<contact_event::Model> {
    contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(contact_id))
        .all(&app.db)
        .await
        .unwrap()
}

async fn offers_of(app: &TestApp, contact_id: ContactId) -> Vec<offer::Model> {
    offer::Entity::find()
        .filter(offer::Column::ContactId.eq(contact_id))
        .all(&app.db)
        .await
        .unwrap()
}

fn trace(events: &[contact_event::Model], round: i32) -> Value {
    let routed = events
        .iter()
        .find(|e| e.dedupe_key == format!("route:{round}"))
        .unwrap_or_else(|| panic!("no routing trace for round {round}"));
    serde_json::from_str(routed.detail.as_deref().unwrap()).unwrap()
}

#[tokio::test]
async fn a_peer_match_is_rung_before_an_idle_volunteer_without_the_sign_off() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let bob = on_shift_volunteer(&app, &line, "Bob", BOB).await;
    let alice = on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    sign_off(&app, &line, alice, line.neonatal).await;

    let call = play(&app, &["1"], Answer::First).await;

    assert_eq!(call.rung, vec![vec![ALICE.to_owned()]]);
    assert_eq!(call.connected_to.as_deref(), Some(ALICE));
    assert!(
        call.lines
            .iter()
            .any(|l| l
                == "+12025550111 hears: Peerline call about neonatal care. Press 1 to accept."),
        "{:#?}",
        call.lines
    );
    let contact = contact_of(&app, &call).await;
    assert_eq!(contact.outcome, Some(Outcome::Answered));
    assert_eq!(contact.answered_by, Some(VolunteerId(alice)));
    assert_eq!(contact.peer_match_tier, Some(Tier::PeerMatch));
    assert_eq!(contact.topic_id, Some(TopicId(line.neonatal)));
    assert_eq!(contact.talk_secs, Some(300));
    assert!(contact.ended_at.is_some());
    assert!(!contact.caller_hash.contains("2025550142"));
    assert_eq!(contact.caller_hint, "...42");
    assert!(
        !contact
            .caller_encrypted
            .as_deref()
            .unwrap()
            .contains("2025550142")
    );
    let plan = trace(&events_of(&app, contact.id).await, 1);
    assert_eq!(
        plan["eligible"],
        json!([{"tier": "peer_match", "volunteer_ids": [alice]},
               {"tier": "trained", "volunteer_ids": [bob]}])
    );
    let offered: Vec<Option<i32>> = events_of(&app, contact.id)
        .await
        .into_iter()
        .filter(|e| e.kind.to_value() == "offered")
        .map(|e| e.volunteer_id.map(|v| v.0))
        .collect();
    assert_eq!(offered, vec![Some(alice)]);
    // Alice is free again once the call is over.
    let held = reservation::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(held, 0);
}

#[tokio::test]
async fn a_strict_topic_without_a_signed_off_volunteer_goes_to_voicemail() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let strict = app
        .call(
            Method::PUT,
            &format!("/api/v1/helplines/{}/topics/{}", line.helpline, line.neonatal),
            Some(&app.admin),
            Some(json!({"key": "neonatal-care", "label": "neonatal care", "digit": 1, "strict": true})),
        )
        .await;
    assert_eq!(strict.status, StatusCode::OK, "{:?}", strict.body);
    let bob = on_shift_volunteer(&app, &line, "Bob", BOB).await;

    let call = play(&app, &["1"], Answer::First).await;

    assert!(call.rung.is_empty(), "nobody may be rung: {:?}", call.rung);
    assert!(call.left_voicemail);
    let contact = contact_of(&app, &call).await;
    assert_eq!(contact.outcome, Some(Outcome::Voicemail));
    assert!(contact.recording_url.is_some());
    let plan = trace(&events_of(&app, contact.id).await, 1);
    assert_eq!(
        plan["passed_over"]["not_signed_off_for_topic"],
        json!([bob])
    );
}

#[tokio::test]
async fn an_unanswered_offer_hunts_to_the_next_volunteer() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let alice = on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let bob = on_shift_volunteer(&app, &line, "Bob", BOB).await;

    let call = play(&app, &[], Answer::Number(BOB.into())).await;

    assert_eq!(
        call.rung,
        vec![vec![ALICE.to_owned()], vec![BOB.to_owned()]]
    );
    assert_eq!(call.connected_to.as_deref(), Some(BOB));
    let contact = contact_of(&app, &call).await;
    assert_eq!(contact.answered_by, Some(VolunteerId(bob)));
    assert_eq!(contact.peer_match_tier, Some(Tier::AnyTopic));
    let offers = offers_of(&app, contact.id).await;
    let outcome_of = |v: i32| {
        offers
            .iter()
            .find(|o| o.volunteer_id == VolunteerId(v))
            .and_then(|o| o.outcome)
    };
    assert_eq!(outcome_of(alice), Some(OfferOutcome::NoAnswer));
    assert_eq!(outcome_of(bob), Some(OfferOutcome::Accepted));
    // A missed offer never pauses anyone.
    let alice_now = app
        .get(&format!("/api/v1/volunteers/{alice}"), &app.admin)
        .await;
    assert_eq!(alice_now.body["active"], true);
}

fn inbound_params(call_sid: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CallSid", call_sid.to_owned()),
        ("AccountSid", "AC00000000000000000000000000000000".into()),
        ("From", CALLER.into()),
        ("To", LINE.into()),
        ("CallStatus", "ringing".into()),
        ("Direction", "inbound".into()),
    ]
}

#[tokio::test]
async fn a_whisper_not_accepted_moves_on_and_repeated_callbacks_change_nothing() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let alice = on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let bob = on_shift_volunteer(&app, &line, "Bob", BOB).await;
    let base = app.base.clone();
    let call_sid = "CA91f7e803ffed662e4ab37063e1663a2a";
    let params = inbound_params(call_sid);

    // Twilio delivers the inbound webhook twice.
    let first = deliver(&app, &format!("{base}/twilio/voice"), &borrowed(&params)).await;
    let again = deliver(&app, &format!("{base}/twilio/voice"), &borrowed(&params)).await;
    assert_eq!(first, again);
    let menu = attr_values(&first, "Gather", "action")[0].clone();
    let mut pressed = params.clone();
    pressed.push(("Digits", String::new()));
    let ring = deliver(&app, &menu, &borrowed(&pressed)).await;
    assert_eq!(ring, deliver(&app, &menu, &borrowed(&pressed)).await);
    // Volunteers see the helpline's number, never the caller's.
    assert_eq!(
        attr_values(&ring, "Dial", "callerId"),
        vec![LINE.to_owned()]
    );
    assert!(!ring.contains(CALLER));
    let whisper_url = attr_values(&ring, "Number", "url")[0].clone();
    let dial_action = attr_values(&ring, "Dial", "action")[0].clone();

    // Alice's voicemail picks up: nobody presses a key.
    let leg = [
        ("CallSid", "CA2a41ae611cf80c15651856a3a9752d9e"),
        ("To", ALICE),
        ("CallStatus", "in-progress"),
    ];
    let whisper = deliver(&app, &whisper_url, &leg).await;
    assert!(whisper.contains("Press 1 to accept"));
    let answer_url = attr_values(&whisper, "Gather", "action")[0].clone();
    let mut no_key = leg.to_vec();
    no_key.push(("Digits", ""));
    let declined = deliver(&app, &answer_url, &no_key).await;
    assert!(declined.contains("<Hangup/>"));

    // The dial ends without a bridge; delivered twice, it starts one next round.
    let mut ended = params.clone();
    ended.push(("DialCallStatus", "completed".into()));
    ended.push(("CallStatus", "in-progress".into()));
    let next = deliver(&app, &dial_action, &borrowed(&ended)).await;
    let repeat = deliver(&app, &dial_action, &borrowed(&ended)).await;
    assert_eq!(next, repeat);
    let numbers: Vec<String> = {
        let root = simulator::twiml_reader::parse(&next).unwrap();
        let mut found = Vec::new();
        root.find_all("Number", &mut found);
        found.iter().map(|n| n.text.clone()).collect()
    };
    assert_eq!(numbers, vec![BOB.to_owned()]);

    let contact = contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(call_sid))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(contact.len(), 1, "one contact per CallSid");
    let offers = offers_of(&app, contact[0].id).await;
    assert_eq!(offers.len(), 2);
    let alice_offer = offers
        .iter()
        .find(|o| o.volunteer_id == VolunteerId(alice))
        .unwrap();
    assert_eq!(alice_offer.outcome, Some(OfferOutcome::Declined));
    assert!(
        offers
            .iter()
            .any(|o| o.volunteer_id == VolunteerId(bob) && o.round == 2)
    );
    let events = events_of(&app, contact[0].id).await;
    let keys: Vec<&str> = events.iter().map(|e| e.dedupe_key.as_str()).collect();
    let unique: HashSet<&&str> = keys.iter().collect();
    assert_eq!(keys.len(), unique.len());
    assert_eq!(keys.iter().filter(|k| **k == "received").count(), 1);
    // Alice is no longer held; Bob is.
    let held: Vec<i32> = reservation::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.volunteer_id.0)
        .collect();
    assert_eq!(held, vec![bob]);
}

#[tokio::test]
async fn nobody_answering_falls_back_to_the_on_call_supervisor_the_partner_line_then_voicemail() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    set_fallback(&app, &line, PARTNER).await;
    let users = app.get("/api/v1/users", &app.admin).await;
    let sam = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "Sam")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    for weekday in [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ] {
        let on_call = app
            .post(
                &format!("/api/v1/helplines/{}/on-call", line.helpline),
                &line.supervisor,
                json!({"user_id": sam, "weekday": weekday, "start": "00:00", "end": "23:59"}),
            )
            .await;
        assert_eq!(on_call.status, StatusCode::CREATED, "{:?}", on_call.body);
    }

    let call = play(&app, &[], Answer::Nobody).await;

    assert_eq!(
        call.rung,
        vec![
            vec![ALICE.to_owned()],
            vec![SAM.to_owned()],
            vec![PARTNER.to_owned()]
        ]
    );
    assert!(call.left_voicemail);
    assert!(call.lines.iter().any(|l| l.contains("leave a message")));
    let contact = contact_of(&app, &call).await;
    assert_eq!(contact.outcome, Some(Outcome::Voicemail));
    assert!(contact.recording_sid.is_some());
    let kinds: Vec<String> = events_of(&app, contact.id)
        .await
        .into_iter()
        .map(|e| e.kind.to_value())
        .collect();
    for expected in [
        "fallback_on_call",
        "fallback_number",
        "voicemail_offered",
        "voicemail_recorded",
        "ended",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "{expected} missing from {kinds:?}"
        );
    }
    // The on-call supervisor is alerted by SMS, from the helpline's number, with the
    // contact's reference and never the caller's number.
    let alerts = outbox_message::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert.purpose, "voicemail_alert");
    assert_eq!(alert.contact_id, Some(contact.id));
    assert_eq!(alert.to_hint, "...99");
    assert_eq!(alert.from_number, LINE);
    let body = opened(&alert.body);
    assert!(body.contains(&format!("#{}", contact.id)));
    assert!(!body.contains("0142"));
}

#[tokio::test]
async fn a_blocked_caller_is_rejected_and_a_conflicted_volunteer_is_never_rung() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let alice = on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    on_shift_volunteer(&app, &line, "Bob", BOB).await;
    let conflict = app
        .post(
            &format!("/api/v1/volunteers/{alice}/conflicts"),
            &app.admin,
            json!({"number": CALLER, "note": "neighbour"}),
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CREATED);

    let call = play(&app, &[], Answer::First).await;
    assert_eq!(call.rung, vec![vec![BOB.to_owned()]]);
    let contact = contact_of(&app, &call).await;
    let plan = trace(&events_of(&app, contact.id).await, 1);
    assert_eq!(plan["passed_over"]["conflict"], json!([alice]));

    let block = app
        .post(
            &format!("/api/v1/helplines/{}/blocked-callers", line.helpline),
            &line.supervisor,
            json!({"number": CALLER, "reason": "abusive to volunteers"}),
        )
        .await;
    assert_eq!(block.status, StatusCode::CREATED, "{:?}", block.body);
    assert_eq!(block.body["number_hint"], "...42");
    let blocked = play(&app, &[], Answer::First).await;
    assert!(blocked.rejected);
    assert!(blocked.rung.is_empty());
    let contact = contact_of(&app, &blocked).await;
    assert_eq!(contact.outcome, Some(Outcome::RejectedBlocked));
    assert!(offers_of(&app, contact.id).await.is_empty());
}

#[tokio::test]
async fn on_the_spring_forward_night_the_rota_is_read_on_each_volunteers_clock() {
    // 01:30Z on 29 March 2026: 02:30 BST in London, just after the clocks went forward;
    // 21:30 EDT on Saturday in New York.
    let app = spawn_app_at("2026-03-29T01:30:00Z").await;
    let line = line(&app).await;
    let london = app
        .volunteer("Alice", ALICE, "Europe/London", &[line.helpline])
        .await;
    // 01:00-04:00 on the wall clock: the first hour never happens that night.
    assert_eq!(
        app.shift(london, "sunday", "01:00", "04:00").await.status,
        StatusCode::CREATED
    );
    let new_york = app
        .volunteer("Bob", BOB, "America/New_York", &[line.helpline])
        .await;
    assert_eq!(
        app.shift(new_york, "saturday", "09:00", "17:00")
            .await
            .status,
        StatusCode::CREATED
    );

    let call = play(&app, &[], Answer::First).await;

    assert_eq!(call.rung, vec![vec![ALICE.to_owned()]]);
    let contact = contact_of(&app, &call).await;
    let plan = trace(&events_of(&app, contact.id).await, 1);
    assert_eq!(plan["passed_over"]["off_shift"], json!([new_york]));
}

// Two runtime threads, so the 200 callers' side is not one thread queueing behind itself
// on a loaded machine while the servers wait for their requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_simultaneous_calls_across_two_servers_never_ring_one_volunteer_twice() {
    // What is tested is the routing under contention, so no call may give up on the
    // database early and go to the fallback path (as it would on a saturated test machine).
    let patient = [("PEERLINE_ANSWER_DEADLINE_MS", "14000")];
    let app = spawn_app_with(&patient).await;
    let second = app.instance_with(&patient).await;
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    let now = Clock::system().now().to_rfc3339();
    let mut phones = Vec::new();
    for i in 0..20 {
        let phone = format!("+120255501{:02}", 10 + i);
        let id = app
            .volunteer(&format!("V{i}"), &phone, "Europe/London", &[helpline])
            .await;
        app.on_shift_around(id, &now).await;
        phones.push(phone);
    }
    let bases = [app.base.clone(), second];
    let calls = (0..200).map(|i| {
        let app = &app;
        // Alternate calls between the two servers.
        let url = format!("{}/twilio/voice", bases[i % 2]);
        async move {
            let sid = format!("CA{:032}", i);
            let params = inbound_params(&sid);
            let from = format!("+1202555{:04}", 2000 + i);
            let mut params = borrowed(&params);
            params[2] = ("From", from.as_str());
            let xml = deliver(app, &url, &params).await;
            let root = simulator::twiml_reader::parse(&xml).unwrap();
            let mut numbers = Vec::new();
            root.find_all("Number", &mut numbers);
            numbers.iter().map(|n| n.text.clone()).collect::<Vec<_>>()
        }
    });
    let rung: Vec<Vec<String>> = join_all(calls).await;

    let all: Vec<&String> = rung.iter().flatten().collect();
    let distinct: HashSet<&&String> = all.iter().collect();
    assert_eq!(
        all.len(),
        distinct.len(),
        "a volunteer was rung for two calls: {rung:?}"
    );
    assert_eq!(all.len(), 20, "every free volunteer rings for one call");
    assert!(rung.iter().all(|r| r.len() <= 1));
    let held = reservation::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(held, 20);
    assert_eq!(contact::Entity::find().count(&app.db).await.unwrap(), 200);
}

#[tokio::test]
async fn forged_and_tampered_webhooks_are_refused_and_write_nothing() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let url = format!("{}/twilio/voice", app.base);
    let params = inbound_params("CA89cad21c039cc313d09529942f104119");
    let form: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let client = reqwest::Client::new();

    let unsigned = client.post(&url).form(&form).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);

    let wrong_key = peerline::telephony::signature::compute(b"not-the-token", &url, &form);
    let forged = client
        .post(&url)
        .header("X-Twilio-Signature", wrong_key)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let genuine = peerline::telephony::signature::compute(b"test-auth-token", &url, &form);
    let mut tampered = form.clone();
    tampered[2].1 = "+12025550143".into();
    let replayed = client
        .post(&url)
        .header("X-Twilio-Signature", genuine)
        .form(&tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::FORBIDDEN);
    assert_eq!(contact::Entity::find().count(&app.db).await.unwrap(), 0);

    // Signed but without From: a withheld caller, answered like any other.
    let missing: Vec<(String, String)> =
        form.iter().filter(|(k, _)| k != "From").cloned().collect();
    let (status, body) = app.twilio().post(&url, &missing).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("<Gather"), "{body}");
    // Parameters Twilio adds later do not break anything.
    let mut extra = form.clone();
    extra.push(("CallerCountry".into(), "US".into()));
    extra.push(("SomethingNew".into(), "é ✓".into()));
    let (status, body) = app.twilio().post(&url, &extra).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Gather"));
}

#[tokio::test]
async fn a_rota_change_reaches_the_very_next_call() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let alice = app
        .volunteer("Alice", ALICE, "Europe/London", &[line.helpline])
        .await;
    let before = play(&app, &[], Answer::First).await;
    assert!(
        before.rung.is_empty(),
        "Alice is off shift: {:?}",
        before.rung
    );

    app.on_shift_around(alice, NOW).await;
    let after = play(&app, &[], Answer::First).await;

    assert_eq!(after.rung, vec![vec![ALICE.to_owned()]]);
}

async fn put_settings(
    app: &TestApp,
    line: &Line,
    languages: &[&str],
    routing: Value,
    fallback_number: Option<&str>,
) {
    let settings = json!({"name": "Peerline", "time_zone": "Europe/London",
        "greeting": "Hello, you've reached a peer supporter.", "voice_language": "en-GB",
        "languages": languages, "routing": routing, "fallback_number": fallback_number});
    let reply = app
        .call(
            Method::PUT,
            &format!("/api/v1/helplines/{}", line.helpline),
            Some(&app.admin),
            Some(settings),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

#[tokio::test]
async fn the_language_menu_routes_to_a_volunteer_who_speaks_the_chosen_language() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    put_settings(&app, &line, &["en", "cy"], json!({}), None).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let welsh = app
        .post(
            "/api/v1/volunteers",
            &app.admin,
            json!({"name": "Bethan", "phone": BOB, "time_zone": "Europe/London", "languages": ["cy", "en"],
                   "training_status": "trained", "training_completed_on": "2026-01-10",
                   "trained_voice": true, "trained_sms": true, "helplines": [line.helpline]}),
        )
        .await;
    assert_eq!(welsh.status, StatusCode::CREATED, "{:?}", welsh.body);
    app.on_shift_around(id_of(&welsh), NOW).await;

    let call = play(&app, &["1", "2"], Answer::First).await;

    assert!(
        call.lines
            .iter()
            .any(|l| l
                == "caller hears: For English, press 1. For Welsh, press 2. Or stay on the line."),
        "{:#?}",
        call.lines
    );
    assert_eq!(call.rung, vec![vec![BOB.to_owned()]]);
    let contact = contact_of(&app, &call).await;
    assert_eq!(contact.language.as_deref(), Some("cy"));
    assert_eq!(contact.topic_id, Some(TopicId(line.neonatal)));
}

#[tokio::test]
async fn a_ring_group_rings_several_volunteers_at_once_and_one_takes_the_call() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    put_settings(&app, &line, &["en"], json!({"ring_group_size": 2}), None).await;
    let alice = on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let bob = on_shift_volunteer(&app, &line, "Bob", BOB).await;
    on_shift_volunteer(&app, &line, "Carol", "+12025550133").await;

    let call = play(&app, &[], Answer::Number(BOB.into())).await;

    assert_eq!(call.rung, vec![vec![ALICE.to_owned(), BOB.to_owned()]]);
    let contact = contact_of(&app, &call).await;
    assert_eq!(contact.answered_by, Some(VolunteerId(bob)));
    let offers = offers_of(&app, contact.id).await;
    assert_eq!(offers.len(), 2, "Carol is never rung");
    let alice_offer = offers
        .iter()
        .find(|o| o.volunteer_id == VolunteerId(alice))
        .unwrap();
    assert_eq!(alice_offer.outcome, Some(OfferOutcome::NoAnswer));
    assert_eq!(reservation::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_returning_caller_reaches_their_last_volunteer_first_but_not_for_ever() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    put_settings(
        &app,
        &line,
        &["en"],
        json!({"continuity_enabled": true, "continuity_days": 30, "continuity_max_repeats": 2}),
        None,
    )
    .await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let bob = on_shift_volunteer(&app, &line, "Bob", BOB).await;

    // First call: Alice (longest idle, first by id) does not pick up; Bob does.
    let first = play(&app, &[], Answer::Number(BOB.into())).await;
    assert_eq!(
        first.rung,
        vec![vec![ALICE.to_owned()], vec![BOB.to_owned()]]
    );
    // Second call: Bob first, although Alice has been idle longer.
    let second = play(&app, &[], Answer::First).await;
    assert_eq!(second.rung, vec![vec![BOB.to_owned()]]);
    let contact = contact_of(&app, &second).await;
    assert_eq!(contact.answered_by, Some(VolunteerId(bob)));
    let plan = trace(&events_of(&app, contact.id).await, 1);
    assert_eq!(plan["continuity"], json!(bob));
    // Third call: two in a row with Bob is the limit; Alice is offered first.
    let third = play(&app, &[], Answer::First).await;
    assert_eq!(third.rung, vec![vec![ALICE.to_owned()]]);
}

#[tokio::test]
async fn a_fault_mid_call_still_puts_the_caller_through_to_the_fallback_number() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    set_fallback(&app, &line, PARTNER).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    // A first call teaches the server the helpline's fallback number.
    play(&app, &[], Answer::First).await;

    // The contact log becomes unwritable.
    sea_orm::ConnectionTrait::execute_unprepared(&app.db, "DROP TABLE contact_events")
        .await
        .unwrap();
    let url = format!("{}/twilio/voice", app.base);
    let params = inbound_params("CAa47870c16acbe849b8e145c979d2d92e");
    let xml = deliver(&app, &url, &borrowed(&params)).await;

    let root = simulator::twiml_reader::parse(&xml).unwrap();
    let mut numbers = Vec::new();
    root.find_all("Number", &mut numbers);
    assert_eq!(numbers.len(), 1, "{xml}");
    assert_eq!(numbers[0].text, PARTNER);
    assert!(xml.contains("having trouble connecting your call"));
}

/// A helpline with no topics (calls are routed as soon as they arrive) and Alice on shift.
async fn line_without_menus_with_alice(app: &TestApp) {
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    let alice = app
        .volunteer("Alice", ALICE, "Europe/London", &[helpline])
        .await;
    app.on_shift_around(alice, NOW).await;
}

#[tokio::test]
async fn a_reservation_whose_callbacks_were_lost_expires_by_itself() {
    let app = spawn_app_at(NOW).await;
    line_without_menus_with_alice(&app).await;
    let url = format!("{}/twilio/voice", app.base);
    let lost = inbound_params("CA7f6e67c61f82b7f3750995aacf699d1f");
    // Twilio rings Alice, then every later callback of that call is lost.
    let first = deliver(&app, &url, &borrowed(&lost)).await;
    assert!(first.contains(ALICE), "{first}");

    let mut next = inbound_params("CA3e039d7761bb458b3bfd1ead1bf1db9b");
    next[2].1 = "+12025550143".into();
    let while_held = deliver(&app, &url, &borrowed(&next)).await;
    assert!(
        !while_held.contains(ALICE),
        "Alice is still reserved: {while_held}"
    );

    // Two minutes later (a server whose clock reads then), the reservation has lapsed.
    let later = app.second_instance_at("2026-11-22T12:02:00Z").await;
    let mut third = inbound_params("CA5d698245892d346134306f95b43a0599");
    third[2].1 = "+12025550144".into();
    let after = deliver(&app, &format!("{later}/twilio/voice"), &borrowed(&third)).await;
    assert!(after.contains(ALICE), "{after}");
}

/// A helpline without menus where the call `sid` has come in and Alice is rung for it.
async fn alice_rung_for(sid: &str) -> TestApp {
    let app = spawn_app_at(NOW).await;
    line_without_menus_with_alice(&app).await;
    let rung = deliver(
        &app,
        &format!("{}/twilio/voice", app.base),
        &borrowed(&inbound_params(sid)),
    )
    .await;
    assert!(rung.contains(ALICE), "{rung}");
    app
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_a_volunteer_is_rung_frees_them_at_once() {
    let sid = "CA6b0c1d2e3f405162738495a6b7c8d9e0";
    let app = alice_rung_for(sid).await;

    // The caller hangs up before Alice picks up: Twilio reports the call completed.
    let mut hung_up = inbound_params(sid);
    hung_up[4].1 = "completed".into();
    deliver(
        &app,
        &format!("{}/twilio/voice/status", app.base),
        &borrowed(&hung_up),
    )
    .await;

    let contact = contact_with_sid(&app, sid).await;
    assert_eq!(contact.outcome, Some(Outcome::Abandoned));
    assert!(contact.ended_at.is_some());
    let offers = offers_of(&app, contact.id).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].outcome, Some(OfferOutcome::Canceled));
    assert!(offers[0].ended_at.is_some());
    // Alice is free for the next caller straight away.
    let mut next = inbound_params("CA1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f");
    next[2].1 = "+12025550143".into();
    let next = deliver(
        &app,
        &format!("{}/twilio/voice", app.base),
        &borrowed(&next),
    )
    .await;
    assert!(next.contains(ALICE), "{next}");
}

#[tokio::test]
async fn a_volunteer_in_the_contact_log_cannot_be_deleted_and_their_calls_stay() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let alice = on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let call = play(&app, &[], Answer::First).await;

    let delete = app
        .call(
            Method::DELETE,
            &format!("/api/v1/volunteers/{alice}"),
            Some(&app.admin),
            None,
        )
        .await;

    assert_eq!(delete.status, StatusCode::CONFLICT, "{:?}", delete.body);
    assert!(
        delete.body["message"]
            .as_str()
            .unwrap()
            .contains("pause them")
    );
    assert_eq!(
        contact_of(&app, &call).await.answered_by,
        Some(VolunteerId(alice))
    );
}

#[tokio::test]
async fn a_call_whose_last_callback_never_came_is_closed_once_and_frees_its_volunteer() {
    let app = spawn_app_at(NOW).await;
    line_without_menus_with_alice(&app).await;
    let url = format!("{}/twilio/voice", app.base);
    let sid = "CA18fb0cd552abdb067e2d0f5a5dba2a3f";
    let rung = deliver(&app, &url, &borrowed(&inbound_params(sid))).await;
    assert!(rung.contains(ALICE));

    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let too_soon = peerline::jobs::sweeper::sweep(&app.db, at("2026-11-22T12:05:00Z"))
        .await
        .unwrap();
    assert_eq!(too_soon, 0, "the caller may still be waiting");
    let later = at("2026-11-22T13:00:00Z");
    assert_eq!(
        peerline::jobs::sweeper::sweep(&app.db, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        peerline::jobs::sweeper::sweep(&app.db, later)
            .await
            .unwrap(),
        0
    );

    let contact = contact_with_sid(&app, sid).await;
    assert_eq!(contact.outcome, Some(Outcome::Abandoned));
    assert!(contact.ended_at.is_some());
    let kinds: Vec<String> = events_of(&app, contact.id)
        .await
        .into_iter()
        .map(|e| e.kind.to_value())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "closed_unfinished").count(),
        1
    );
    assert_eq!(reservation::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_caller_holds_while_everyone_is_busy_then_reaches_the_fallback_when_the_wait_is_spent() {
    let app = spawn_app_at(NOW).await;
    line_without_menus_with_alice(&app).await;
    let url = format!("{}/twilio/voice", app.base);
    // A first caller is ringing Alice.
    let first = deliver(
        &app,
        &url,
        &borrowed(&inbound_params("CAce5fee06f424cdbf28f348e819de09e8")),
    )
    .await;
    assert!(first.contains(ALICE));

    let mut second = inbound_params("CAc4bcc5c90cfde5ba616dc8b14d20ed3c");
    second[2].1 = "+12025550143".into();
    let held = deliver(&app, &url, &borrowed(&second)).await;
    assert!(held.contains("Please stay on the line"), "{held}");
    let redirect = simulator::twiml_reader::parse(&held).unwrap();
    let mut redirects = Vec::new();
    redirect.find_all("Redirect", &mut redirects);
    let next_round = redirects[0].text.clone();

    // Three minutes later (past the two-minute wait) the same redirect goes to the fallback path.
    let later = app.second_instance_at("2026-11-22T12:03:00Z").await;
    let next_round = next_round.replace(&app.base, &later);
    let fallback = deliver(&app, &next_round, &borrowed(&second)).await;

    assert!(fallback.contains("<Record"), "{fallback}");
    assert!(!fallback.contains(ALICE));
}

#[tokio::test]
async fn a_number_calling_over_and_over_reaches_the_fallback_and_others_still_reach_volunteers() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    set_fallback(&app, &line, PARTNER).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    on_shift_volunteer(&app, &line, "Bob", BOB).await;

    // Eight calls in ten minutes still reach volunteers: a caller redialling is answered.
    for _ in 0..8 {
        let call = play(&app, &["1"], Answer::First).await;
        assert!(
            [Some(ALICE), Some(BOB)].contains(&call.connected_to.as_deref()),
            "{:#?}",
            call.lines
        );
    }
    // The ninth goes to the fallback path, never turned away.
    let ninth = play(&app, &["1"], Answer::First).await;
    assert_eq!(
        ninth.connected_to.as_deref(),
        Some(PARTNER),
        "{:#?}",
        ninth.lines
    );
    let contact = contact_of(&app, &ninth).await;
    assert!(
        events_of(&app, contact.id)
            .await
            .iter()
            .any(|e| e.kind.to_value() == "repeat_calls_to_fallback")
    );
    assert!(
        offers_of(&app, contact.id).await.is_empty(),
        "no volunteer was rung"
    );
    // Another caller is not affected.
    let script = CallScript {
        to: LINE.into(),
        from: "+12025550177".into(),
        digits: vec!["1".into()],
        answer: Answer::First,
        talk_secs: 60,
    };
    let other = simulator::play_call(&app.twilio(), &script).await.unwrap();
    assert!([Some(ALICE), Some(BOB)].contains(&other.connected_to.as_deref()));
}

#[tokio::test]
async fn a_call_with_odd_or_missing_parameters_still_reaches_a_human() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    set_fallback(&app, &line, PARTNER).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let url = format!("{}/twilio/voice", app.base);
    // One ordinary call, so that this server remembers the line's fallback number.
    play(&app, &["1"], Answer::First).await;

    // A withheld caller, as some carriers send one: no From at all.
    let mut withheld = inbound_params("CA2e61d7e9f7d5982592363b6ee5862f65");
    withheld.retain(|(k, _)| *k != "From");
    let xml = deliver(&app, &url, &borrowed(&withheld)).await;
    assert!(xml.contains("<Gather"), "the caller hears the menu: {xml}");

    // No CallSid: nothing can be logged, but the caller reaches the fallback number.
    let mut no_sid = inbound_params("CA222c741c1226aa746f3c60e6af4a5ce8");
    no_sid.retain(|(k, _)| *k != "CallSid");
    let xml = deliver(&app, &url, &borrowed(&no_sid)).await;
    assert!(
        xml.contains(&format!("<Number>{PARTNER}</Number>")),
        "{xml}"
    );

    // A SIP address instead of a number: no helpline is known, so an apology and where
    // to turn, never Twilio's "application error".
    let mut sip = inbound_params("CAc7b8caa2fb48796d22b5b51bed798e22");
    for (k, v) in sip.iter_mut() {
        if *k == "To" {
            *v = "sip:helpline@example.org".into();
        }
    }
    let xml = deliver(&app, &url, &borrowed(&sip)).await;
    assert!(xml.contains("local emergency number"), "{xml}");

    // A captured request re-cut at another boundary (Twilio signs names and values run
    // together): the id it yields is no Twilio id, so no second contact is opened.
    let recut = inbound_params("CA0123456789abcdef0123456789abcdefCallStatusringing");
    let before = contact::Entity::find().count(&app.db).await.unwrap();
    let xml = deliver(&app, &url, &borrowed(&recut)).await;
    assert!(
        xml.contains(&format!("<Number>{PARTNER}</Number>")),
        "{xml}"
    );
    assert_eq!(
        contact::Entity::find().count(&app.db).await.unwrap(),
        before
    );

    // A menu callback whose query string was mangled.
    let mangled = format!("{}/twilio/voice/menu?contact=x", app.base);
    let xml = deliver(
        &app,
        &mangled,
        &borrowed(&inbound_params("CAb71abfe64cfb98f5d5022b522d0af609")),
    )
    .await;
    assert!(
        xml.contains(&format!("<Number>{PARTNER}</Number>")),
        "{xml}"
    );
}

#[tokio::test]
async fn a_public_url_with_capitals_in_its_host_checks_signatures_as_twilio_signs_them() {
    let public = "https://Helpline.Example.org";
    let app = spawn_app_with(&[("PEERLINE_PUBLIC_URL", public)]).await;
    let form: Vec<(String, String)> = inbound_params("CAfb542be541d812809aa8246299900f71")
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let client = reqwest::Client::new();
    let post = |signed_for: String| {
        let signature =
            peerline::telephony::signature::compute(b"test-auth-token", &signed_for, &form);
        client
            .post(format!("{}/twilio/voice", app.base))
            .header("X-Twilio-Signature", signature)
            .form(&form)
            .send()
    };

    let as_typed = post(format!("{public}/twilio/voice")).await.unwrap();
    let lower = post("https://helpline.example.org/twilio/voice".to_owned())
        .await
        .unwrap();
    let other = post("https://elsewhere.example.org/twilio/voice".to_owned())
        .await
        .unwrap();

    assert_eq!(
        as_typed.status(),
        StatusCode::OK,
        "signed for the URL as configured"
    );
    assert_eq!(
        lower.status(),
        StatusCode::OK,
        "signed for the callback URLs peerline writes"
    );
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn withheld_numbers_count_together_for_the_repeat_call_limit() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    set_fallback(&app, &line, PARTNER).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    on_shift_volunteer(&app, &line, "Bob", BOB).await;
    // Twilio sends "anonymous" for a withheld number; each call gets its own identity.
    let withheld = CallScript {
        to: LINE.into(),
        from: "anonymous".into(),
        digits: vec!["1".into()],
        answer: Answer::First,
        talk_secs: 30,
    };
    for _ in 0..8 {
        let call = simulator::play_call(&app.twilio(), &withheld)
            .await
            .unwrap();
        assert!(
            [Some(ALICE), Some(BOB)].contains(&call.connected_to.as_deref()),
            "{:#?}",
            call.lines
        );
    }
    let ninth = simulator::play_call(&app.twilio(), &withheld)
        .await
        .unwrap();
    assert_eq!(
        ninth.connected_to.as_deref(),
        Some(PARTNER),
        "{:#?}",
        ninth.lines
    );
}

#[tokio::test]
async fn a_late_or_out_of_place_recording_changes_nothing() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    let answered = play(&app, &["1"], Answer::First).await;
    let row = contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(&answered.call_sid))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let recording = [
        ("CallSid", answered.call_sid.as_str()),
        ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
        (
            "RecordingUrl",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0123456789abcdef0123456789abcdef",
        ),
        ("RecordingDuration", "12"),
    ];
    // The <Record> action and the recording status callback, for a call a volunteer took.
    let xml = deliver(
        &app,
        &format!("{}/twilio/voice/voicemail?contact={}", app.base, row.id),
        &recording,
    )
    .await;
    assert!(xml.contains("<Hangup"), "{xml}");
    deliver(
        &app,
        &format!("{}/twilio/voice/recording?contact={}", app.base, row.id),
        &recording,
    )
    .await;
    let after = contact::Entity::find_by_id(row.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.outcome, row.outcome, "still answered");
    assert!(after.recording_url.is_none() && after.recording_sid.is_none());
}

/// A call between the two servers' calls: each server keeps volunteers' recent contacts
/// in memory, and must learn of a contact the other server connected.
#[tokio::test]
async fn a_server_routes_on_the_contacts_another_server_connected_since_it_last_looked() {
    let app = spawn_app_at(NOW).await;
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    for (name, phone) in [("Alice", ALICE), ("Bob", BOB)] {
        let id = app
            .volunteer(name, phone, "Europe/London", &[helpline])
            .await;
        app.on_shift_around(id, NOW).await;
    }
    let second = app.second_instance_at(NOW).await;
    let via_second = simulator::TwilioPeer::new(&second, crate::helpers::AUTH_TOKEN);
    let call = |from: &str, talk_secs: u32| CallScript {
        to: LINE.into(),
        from: from.into(),
        digits: vec![],
        answer: Answer::First,
        talk_secs,
    };

    // The second server routes a call nobody answers, so it holds volunteers' recent
    // contacts (none yet) from here on.
    let unanswered = CallScript {
        answer: Answer::Nobody,
        ..call("+12025550161", 0)
    };
    let first = simulator::play_call(&via_second, &unanswered)
        .await
        .unwrap();
    assert_eq!(first.connected_to, None);
    // The first server gives the next call to Alice (first by id); it lasts an hour,
    // so she rests afterwards.
    let long_call = simulator::play_call(&app.twilio(), &call("+12025550162", 3600))
        .await
        .unwrap();
    assert_eq!(long_call.connected_to.as_deref(), Some(ALICE));

    // Back on the second server, Alice would still come first had it not learnt of that
    // call.
    let next = simulator::play_call(&via_second, &call("+12025550163", 60))
        .await
        .unwrap();
    assert_eq!(next.connected_to.as_deref(), Some(BOB));
    assert!(
        next.rung.iter().flatten().all(|number| number != ALICE),
        "Alice is resting after her hour-long call: {:?}",
        next.rung
    );
}

#[tokio::test]
async fn twenty_simultaneous_deliveries_of_a_menu_answer_all_get_the_same_twiml() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    on_shift_volunteer(&app, &line, "Bob", BOB).await;
    let params = inbound_params("CA5e1d2c3b4a5968778695a4b3c2d1e0f9");
    let menu = deliver(
        &app,
        &format!("{}/twilio/voice", app.base),
        &borrowed(&params),
    )
    .await;
    let action = attr_values(&menu, "Gather", "action")[0].clone();
    let mut pressed = params.clone();
    pressed.push(("Digits", "1".to_owned()));
    let pressed = borrowed(&pressed);
    let answers = join_all((0..20).map(|_| deliver(&app, &action, &pressed))).await;
    assert!(answers[0].contains("<Dial"), "{}", answers[0]);
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    // And once the round has moved on, a late repeat still gets the same answer.
    assert_eq!(deliver(&app, &action, &pressed).await, answers[0]);
}

#[tokio::test]
async fn a_repeated_delivery_of_a_hold_hears_the_same_words() {
    let app = spawn_app_at(NOW).await;
    line_without_menus_with_alice(&app).await;
    let url = format!("{}/twilio/voice", app.base);
    deliver(
        &app,
        &url,
        &borrowed(&inbound_params("CA0f1e2d3c4b5a69788796a5b4c3d2e1f0")),
    )
    .await;
    let mut held = inbound_params("CA1f1e2d3c4b5a69788796a5b4c3d2e1f0");
    held[2].1 = "+12025550143".into();
    let first = deliver(&app, &url, &borrowed(&held)).await;
    assert!(first.contains("You are next in the queue."), "{first}");
    assert_eq!(deliver(&app, &url, &borrowed(&held)).await, first);
}

#[tokio::test]
async fn each_call_records_whether_a_volunteer_signed_off_for_its_topic_was_free() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let alice = on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    sign_off(&app, &line, alice, line.neonatal).await;
    on_shift_volunteer(&app, &line, "Bob", BOB).await;

    // Neonatal care: Alice, signed off for it, is free. She does not pick up, and the
    // second round (with nobody signed off left to try) rings Bob: what the first round
    // found is what is kept.
    let neonatal = play(&app, &["1"], Answer::Number(BOB.into())).await;
    let contact = contact_of(&app, &neonatal).await;
    assert_eq!(contact.round, 2);
    assert_eq!(contact.peer_match_free, Some(true));
    // Bereavement: nobody is signed off for it.
    let bereavement = play(&app, &["2"], Answer::First).await;
    assert_eq!(
        contact_of(&app, &bereavement).await.peer_match_free,
        Some(false)
    );
    // No topic chosen: nothing to match.
    let any = play(&app, &[""], Answer::First).await;
    assert_eq!(contact_of(&app, &any).await.peer_match_free, None);

    let report = app
        .get(
            &format!(
                "/api/v1/helplines/{}/reports/contacts?from=2026-11-22&to=2026-11-22",
                line.helpline
            ),
            &line.supervisor,
        )
        .await;
    assert_eq!(report.body["chose_a_topic"], 2, "{:?}", report.body);
    assert_eq!(report.body["peer_match_free"], 1);
    assert_eq!(report.body["peer_match_free_rate"], 0.5);
}

#[tokio::test]
async fn a_volunteer_who_steps_back_from_a_topic_is_not_rung_about_it_until_they_end_it() {
    let app = spawn_app_at(NOW).await;
    let line = line(&app).await;
    let bob = on_shift_volunteer(&app, &line, "Bob", BOB).await;
    let alice = on_shift_volunteer(&app, &line, "Alice", ALICE).await;
    sign_off(&app, &line, alice, line.neonatal).await;
    let alice_token = app
        .token_for(Role::Volunteer, Some(alice), vec![line.helpline])
        .await;
    let step_backs = format!("/api/v1/volunteers/{alice}/step-backs");

    // What cannot be kept is refused, naming the field.
    let other = app.helpline("Another line", "Europe/London").await;
    let elsewhere = app.topic(other, "recovery", 1).await;
    for (body, field) in [
        (json!({"topic_id": line.neonatal, "shifts": 5}), "shifts"),
        (
            json!({"topic_id": line.neonatal, "until": "2026-11-22T11:00:00Z"}),
            "until",
        ),
        (json!({"topic_id": elsewhere, "shifts": 1}), "topic_id"),
    ] {
        let refused = app.post(&step_backs, &alice_token, body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{:?}",
            refused.body
        );
        assert_eq!(refused.body["field"], field, "{:?}", refused.body);
    }
    let both = json!({"topic_id": line.neonatal, "shifts": 1, "until": "2026-11-23T00:00:00Z"});
    let both = app.post(&step_backs, &alice_token, both).await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let bob = app
        .token_for(Role::Volunteer, Some(bob), vec![line.helpline])
        .await;
    let not_hers = json!({"topic_id": line.neonatal, "shifts": 1});
    let not_hers = app.post(&step_backs, &bob, not_hers).await;
    assert_eq!(
        not_hers.status,
        StatusCode::NOT_FOUND,
        "another volunteer does not see her"
    );

    // Alice steps back from neonatal care for her next shift (the one under way).
    let stepped = json!({"topic_id": line.neonatal, "shifts": 1});
    let stepped = app.post(&step_backs, &alice_token, stepped).await;
    assert_eq!(stepped.status, StatusCode::CREATED, "{:?}", stepped.body);
    assert_eq!(stepped.body["until"], "2026-11-23T12:00:00Z");
    let seen = app.get(&step_backs, &line.supervisor).await;
    assert_eq!(seen.body.as_array().unwrap().len(), 1, "{:?}", seen.body);
    assert_eq!(seen.body[0]["until"], "2026-11-23T12:00:00Z");

    // A neonatal caller reaches Bob; the trace says why not Alice.
    let about_it = play(&app, &["1"], Answer::First).await;
    assert_eq!(about_it.rung, vec![vec![BOB.to_owned()]]);
    let contact = contact_of(&app, &about_it).await;
    let plan = trace(&events_of(&app, contact.id).await, 1);
    assert_eq!(plan["passed_over"]["stepped_back"], json!([alice]));
    // Coverage no longer counts her for neonatal care, while she covers overall.
    let coverage = app
        .get(
            &format!(
                "/api/v1/helplines/{}/coverage?from=2026-11-22T13:00:00Z&to=2026-11-22T14:00:00Z",
                line.helpline
            ),
            &line.supervisor,
        )
        .await;
    assert_eq!(coverage.body["gaps"], json!([]), "{:?}", coverage.body);
    let neonatal = coverage.body["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic_id"] == line.neonatal)
        .unwrap();
    assert_eq!(
        neonatal["gaps"],
        json!([{"start": "2026-11-22T13:00:00Z", "end": "2026-11-22T14:00:00Z"}])
    );
    // A caller about bereavement reaches her.
    let other_topic = play(&app, &["2"], Answer::First).await;
    assert_eq!(other_topic.rung[0], vec![ALICE.to_owned()]);

    // She ends it early: the next neonatal caller reaches her first again.
    let id = stepped.body["id"].as_i64().unwrap();
    let ended = app
        .call(
            Method::DELETE,
            &format!("{step_backs}/{id}"),
            Some(&alice_token),
            None,
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    let seen = app.get(&step_backs, &line.supervisor).await;
    assert_eq!(seen.body, json!([]));
    let again = play(&app, &["1"], Answer::First).await;
    assert_eq!(again.rung[0], vec![ALICE.to_owned()]);

    // A third step-back within a month suggests a supervisor's check-in, once.
    assert_eq!(
        app.get("/api/v1/debriefs", &line.supervisor).await.body,
        json!([])
    );
    for _ in 0..3 {
        let all = app
            .post(&step_backs, &alice_token, json!({"shifts": 1}))
            .await;
        assert_eq!(all.status, StatusCode::CREATED, "{:?}", all.body);
    }
    let queue = app.get("/api/v1/debriefs", &line.supervisor).await;
    let queue = queue.body.as_array().unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["volunteer_id"], alice);
    assert_eq!(queue[0]["contact_id"], Value::Null);
}

#[tokio::test]
async fn a_second_server_answers_with_the_numbers_and_settings_changed_on_the_first() {
    let app = spawn_app_at(NOW).await;
    let second = app.second_instance_at(NOW).await;
    let second_url = format!("{second}/twilio/voice");
    let call = |n: u32| inbound_params(&format!("CA{n:032}"));
    let helpline = app.helpline("Peerline", "Europe/London").await;
    // The second server answers before the number is the helpline's, so it holds a
    // directory without it.
    let before = deliver(&app, &second_url, &borrowed(&call(1))).await;
    assert!(
        before.contains(peerline::voice::prompts::NOT_IN_SERVICE),
        "{before}"
    );

    app.number(helpline, LINE).await;
    for (n, greeting) in [
        (2, "Welcome to Peerline, first version."),
        (3, "Welcome to Peerline, second version."),
    ] {
        let changed = app
            .call(
                Method::PATCH,
                &format!("/api/v1/helplines/{helpline}"),
                Some(&app.admin),
                Some(json!({ "greeting": greeting })),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
        let answer = deliver(&app, &second_url, &borrowed(&call(n))).await;
        assert!(answer.contains(greeting), "{answer}");
    }
}

#[tokio::test]
async fn a_second_server_offers_the_topics_added_on_the_first() {
    let app = spawn_app_at(NOW).await;
    let second = app.second_instance_at(NOW).await;
    let second_url = format!("{second}/twilio/voice");
    let call = |n: u32| inbound_params(&format!("CA{n:032}"));
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    // The second server has read the helpline while it had no topics: no menu.
    let before = deliver(&app, &second_url, &borrowed(&call(1))).await;
    assert!(!before.contains("press 1"), "{before}");

    app.topic(helpline, "neonatal-care", 1).await;
    app.topic(helpline, "bereavement", 2).await;
    let menu = deliver(&app, &second_url, &borrowed(&call(2))).await;
    assert!(
        menu.contains("For neonatal care, press 1. For bereavement, press 2."),
        "{menu}"
    );

    app.topic(helpline, "twins", 3).await;
    let longer = deliver(&app, &second_url, &borrowed(&call(3))).await;
    assert!(longer.contains("For twins, press 3."), "{longer}");
}

#[tokio::test]
async fn a_call_answered_after_its_contact_was_read_ends_as_answered_with_its_talk_time() {
    let sid = "CA0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let app = alice_rung_for(sid).await;
    // A webhook reads the contact while it rings; Alice answers before it ends the call.
    let read_while_ringing = contact_with_sid(&app, sid).await;
    let alice = offers_of(&app, read_while_ringing.id).await[0].volunteer_id;
    let answered_at = read_while_ringing.received_at + chrono::Duration::seconds(20);
    let answered = contacts::mark_answered(
        &app.db,
        &read_while_ringing,
        Some(alice),
        Outcome::Answered,
        Some(Tier::AnyTopic),
        answered_at,
    )
    .await
    .unwrap();
    assert!(answered);

    let ended_at = answered_at + chrono::Duration::seconds(90);
    let ended = contacts::finish_read(
        &app.db,
        &read_while_ringing,
        Outcome::Abandoned,
        contacts::TalkTime::UntilNow,
        ended_at,
    )
    .await
    .unwrap()
    .expect("the call is ended by this delivery");
    // Worked out from the contact as it is, not as it was read.
    assert_eq!(ended.outcome, Some(Outcome::Answered));
    assert_eq!(ended.talk_secs, Some(90));
    assert_eq!(ended.wait_secs, Some(20));
    let stored = contact_with_sid(&app, sid).await;
    assert_eq!(
        (stored.outcome, stored.talk_secs, stored.ended_at),
        (Some(Outcome::Answered), Some(90), Some(ended_at))
    );
    // A second delivery with the same old read ends nothing.
    let again = contacts::finish_read(
        &app.db,
        &read_while_ringing,
        Outcome::Abandoned,
        contacts::TalkTime::UntilNow,
        ended_at + chrono::Duration::seconds(5),
    )
    .await
    .unwrap();
    assert!(again.is_none());
    assert_eq!(contact_with_sid(&app, sid).await.ended_at, Some(ended_at));
}
