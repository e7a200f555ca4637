//! Supervision through HTTP: volunteers' own contacts and reports, supervisors' list,
//! record, review, queues, reveal and block, the audit log, and who may see what.

use peerline::domain::access::Role;
use peerline::domain::ids::{HelplineId, UserId, VolunteerId};
use peerline::simulator::{self, Answer, CallScript, Transcript};
use peerline::storage::entities::{contact, outbox_message};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, down_to_before, id_of, opened, spawn_app, spawn_app_at};

const LINE_A: &str = "+12025550100";
const LINE_B: &str = "+12025550101";
const CALLER: &str = "+12025550142";
const ALICE: &str = "+12025550111";
const BOB: &str = "+12025550122";
const CAROL: &str = "+12025550133";
const SAM: &str = "+12025550199";
const NOW: &str = "2026-11-22T12:00:00Z";

/// Two helplines, each with its own supervisor and an on-shift volunteer who has a
/// volunteer login; helpline A's supervisor is on call with a phone.
struct Scene {
    app: TestApp,
    a: i32,
    b: i32,
    supervisor_a: String,
    supervisor_b: String,
    alice: i32,
    alice_token: String,
    bob_token: String,
}

async fn supervisor(app: &TestApp, helpline: i32, phone: &str) -> (i32, String) {
    let user = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"name": "Supervisor", "role": "supervisor", "helplines": [helpline],
                   "phone": phone, "time_zone": "Europe/London"}),
        )
        .await;
    let id = id_of(&user);
    let token = app
        .post(&format!("/api/v1/users/{id}/tokens"), &app.admin, json!({}))
        .await;
    (id, token.body["token"].as_str().unwrap().to_owned())
}

async fn scene() -> Scene {
    let app = spawn_app_at(NOW).await;
    let a = app.helpline("Peerline A", "Europe/London").await;
    let b = app.helpline("Peerline B", "Europe/London").await;
    app.number(a, LINE_A).await;
    app.number(b, LINE_B).await;
    let neonatal = app.topic(a, "neonatal-care", 1).await;
    app.topic(a, "bereavement", 2).await;
    let (sam, supervisor_a) = supervisor(&app, a, SAM).await;
    let (_, supervisor_b) = supervisor(&app, b, "+12025550198").await;
    let on_call = app
        .post(
            &format!("/api/v1/helplines/{a}/on-call"),
            &app.admin,
            json!({"user_id": sam, "weekday": "sunday", "start": "00:00", "end": "23:59"}),
        )
        .await;
    assert_eq!(on_call.status, StatusCode::CREATED, "{:?}", on_call.body);
    let alice = app.volunteer("Alice", ALICE, "Europe/London", &[a]).await;
    let bob = app.volunteer("Bob", BOB, "Europe/London", &[b]).await;
    for v in [alice, bob] {
        app.on_shift_around(v, NOW).await;
    }
    let signed = app
        .call(
            Method::PUT,
            &format!("/api/v1/volunteers/{alice}/signoffs/{neonatal}"),
            Some(&supervisor_a),
            None,
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{:?}", signed.body);
    let alice_token = app.token_for(Role::Volunteer, Some(alice), vec![]).await;
    let bob_token = app.token_for(Role::Volunteer, Some(bob), vec![]).await;
    Scene {
        app,
        a,
        b,
        supervisor_a,
        supervisor_b,
        alice,
        alice_token,
        bob_token,
    }
}

async fn call(app: &TestApp, line: &str, digits: &[&str]) -> (Transcript, contact::Model) {
    let script = CallScript {
        to: line.into(),
        from: CALLER.into(),
        digits: digits.iter().map(|d| (*d).to_owned()).collect(),
        answer: Answer::First,
        talk_secs: 300,
    };
    let transcript = simulator::play_call(&app.twilio(), &script).await.unwrap();
    let stored = contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(&transcript.call_sid))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the call is in the log");
    (transcript, stored)
}

/// The caller's number in any of the forms it could leak in.
fn leaks_caller(body: &Value) -> bool {
    let text = body.to_string();
    text.contains(CALLER) || text.contains(&CALLER[1..]) || text.contains("555-0142")
}

/// The actions of an audit page, newest first.
fn audit_actions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(reply: &Value) -> Vec<i64> {
    ids_of(&reply["items"])
}

fn ids_of(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {items}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_supervisor_takes_a_contact_from_arrival_to_reviewed() {
    let s = scene().await;
    let app = &s.app;
    let (transcript, taken) = call(app, LINE_A, &["1"]).await;
    assert_eq!(transcript.connected_to.as_deref(), Some(ALICE));
    let id = taken.id;

    // The volunteer sees their contact, masked.
    let mine = app.get("/api/v1/me/contacts", &s.alice_token).await;
    assert_eq!(mine.status, StatusCode::OK, "{:?}", mine.body);
    assert_eq!(ids(&mine.body), vec![i64::from(id.0)]);
    assert_eq!(mine.body["items"][0]["caller"], "caller ...42");
    assert_eq!(mine.body["items"][0]["taken"], true);
    assert_eq!(mine.body["items"][0]["talk_secs"], 300);
    assert!(!leaks_caller(&mine.body), "{}", mine.body);

    // Their report, then an addition: two versions, history kept.
    let report = json!({"notes": "Talked about the first night home.",
        "outcome_tags": ["listened"], "flags": ["safeguarding", "needs_debrief"]});
    let first = app
        .post(
            &format!("/api/v1/me/contacts/{id}/report"),
            &s.alice_token,
            report,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["version"], 1);
    assert_eq!(first.body["supervisors_alerted"], 1);
    let alerts = outbox_message::Entity::find()
        .filter(outbox_message::Column::Purpose.eq("safeguarding_alert"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].to_hint, "...99");
    let body = opened(&alerts[0].body);
    assert!(body.contains(&format!("#{id}")) && !body.contains("night"));
    let second = app
        .post(
            &format!("/api/v1/me/contacts/{id}/report"),
            &s.alice_token,
            json!({"notes": "Agreed they would call back tomorrow.", "outcome_tags": ["follow-up agreed"],
                   "flags": ["safeguarding"]}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);
    assert_eq!(second.body["version"], 2);
    assert_eq!(second.body["newly_raised"], json!([]));
    let detail = app
        .get(&format!("/api/v1/me/contacts/{id}"), &s.alice_token)
        .await;
    let versions: Vec<&str> = detail.body["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["notes"].as_str().unwrap())
        .collect();
    assert_eq!(
        versions,
        [
            "Talked about the first night home.",
            "Agreed they would call back tomorrow."
        ]
    );
    assert!(!leaks_caller(&detail.body));
    let bad_tag = app
        .post(
            &format!("/api/v1/me/contacts/{id}/report"),
            &s.alice_token,
            json!({"outcome_tags": ["fixed"]}),
        )
        .await;
    assert_eq!(bad_tag.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_tag.body["field"], "outcome_tags");

    // The debrief flag puts Alice at rest: the next call goes to Carol, though only
    // Alice is signed off for the topic.
    let carol = app.volunteer("Carol", CAROL, "Europe/London", &[s.a]).await;
    app.on_shift_around(carol, NOW).await;
    let (next, _) = call(app, LINE_A, &["1"]).await;
    assert_eq!(next.connected_to.as_deref(), Some(CAROL));
    assert!(
        !next.rung.iter().flatten().any(|n| n == ALICE),
        "{:?}",
        next.rung
    );

    // The supervisor's queues.
    let queue = app.get("/api/v1/review-queue", &s.supervisor_a).await;
    assert_eq!(queue.status, StatusCode::OK, "{:?}", queue.body);
    assert_eq!(queue.body["flagged"][0]["id"], id.0);
    assert_eq!(
        queue.body["flagged"][0]["open_flags"],
        json!(["safeguarding", "needs_debrief"])
    );
    let debriefs = app.get("/api/v1/debriefs", &s.supervisor_a).await;
    assert_eq!(debriefs.body[0]["volunteer_id"], s.alice);
    assert_eq!(debriefs.body[0]["contact_id"], id.0);
    let flagged = app
        .get("/api/v1/contacts?flag=safeguarding", &s.supervisor_a)
        .await;
    assert_eq!(ids(&flagged.body), vec![i64::from(id.0)]);

    // The full record: what happened and why.
    let record = app
        .get(&format!("/api/v1/contacts/{id}"), &s.supervisor_a)
        .await;
    assert_eq!(record.status, StatusCode::OK, "{:?}", record.body);
    assert_eq!(record.body["peer_match_tier"], "peer_match");
    assert_eq!(record.body["answered_by"], s.alice);
    let routed = record.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "routed")
        .expect("a routing trace");
    assert!(routed["detail"].is_object(), "{routed}");
    assert_eq!(record.body["offers"][0]["volunteer_id"], s.alice);
    assert_eq!(record.body["reports"].as_array().unwrap().len(), 2);
    assert!(!leaks_caller(&record.body), "no number without reveal");

    // Review: flags must be resolved before it is complete.
    let path = format!("/api/v1/contacts/{id}/reviews");
    let early = app
        .post(&path, &s.supervisor_a, json!({"action": "complete"}))
        .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST, "{:?}", early.body);
    for (flag, done) in [
        ("safeguarding", "Called the caller's GP with consent."),
        ("needs_debrief", "Debrief booked for Monday."),
    ] {
        let resolved = app
            .post(
                &path,
                &s.supervisor_a,
                json!({"action": "resolve_flag", "flag": flag, "action_taken": done}),
            )
            .await;
        assert_eq!(resolved.status, StatusCode::CREATED, "{:?}", resolved.body);
        assert_eq!(resolved.body["review_state"], "in_review");
    }
    let follow_up = app
        .post(
            &path,
            &s.supervisor_a,
            json!({"action": "request_follow_up", "comment": "Check in with Alice next shift."}),
        )
        .await;
    assert_eq!(follow_up.status, StatusCode::CREATED);
    let complete = app
        .post(
            &path,
            &s.supervisor_a,
            json!({"action": "complete", "comment": "Handled well."}),
        )
        .await;
    assert_eq!(complete.body["review_state"], "reviewed");
    let again = app
        .post(
            &path,
            &s.supervisor_a,
            json!({"action": "comment", "comment": "late"}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::BAD_REQUEST,
        "reviewed is final until reopened"
    );
    let reviewed = app
        .get("/api/v1/contacts?review_state=reviewed", &s.supervisor_a)
        .await;
    assert_eq!(ids(&reviewed.body), vec![i64::from(id.0)]);
    let queue = app.get("/api/v1/review-queue", &s.supervisor_a).await;
    assert_eq!(queue.body["flagged"], json!([]));

    let debrief_id = debriefs.body[0]["id"].as_i64().unwrap();
    let done = app
        .post(
            &format!("/api/v1/debriefs/{debrief_id}/done"),
            &s.supervisor_a,
            json!({"notes": "Talked it through."}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(
        app.get("/api/v1/debriefs", &s.supervisor_a).await.body,
        json!([])
    );

    // Everything the supervisor did is audited, with the token used.
    let audit = app
        .get(&format!("/api/v1/audit?contact_id={id}"), &s.supervisor_a)
        .await;
    let actions = audit_actions(&audit.body);
    assert_eq!(
        actions,
        [
            "debrief_done",
            "review",
            "review",
            "review",
            "review",
            "view_contact",
            "view_own_contact"
        ]
    );
    assert!(audit.body["items"][0]["token_id"].is_i64());
}

#[tokio::test]
async fn revealing_and_blocking_a_caller_are_explicit_and_audited() {
    let s = scene().await;
    let app = &s.app;
    let (_, taken) = call(app, LINE_A, &["1"]).await;
    let id = taken.id;
    let reveal = format!("/api/v1/contacts/{id}/reveal-caller");

    let no_reason = app
        .post(&reveal, &s.supervisor_a, json!({"reason": " "}))
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_reason.body["field"], "reason");
    let other_helpline = app
        .post(&reveal, &s.supervisor_b, json!({"reason": "curious"}))
        .await;
    assert_eq!(other_helpline.status, StatusCode::NOT_FOUND);
    let volunteer = app
        .post(&reveal, &s.alice_token, json!({"reason": "curious"}))
        .await;
    assert_eq!(volunteer.status, StatusCode::FORBIDDEN);
    let revealed = app
        .post(
            &reveal,
            &s.supervisor_a,
            json!({"reason": "Risk to life: passing to emergency services."}),
        )
        .await;
    assert_eq!(revealed.status, StatusCode::OK, "{:?}", revealed.body);
    assert_eq!(revealed.body["number"], CALLER);
    let audit = app
        .get("/api/v1/audit?action=reveal_caller", &s.supervisor_a)
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        audit.body["items"][0]["detail"]["reason"],
        "Risk to life: passing to emergency services."
    );
    let not_theirs = app
        .get("/api/v1/audit?action=reveal_caller", &s.supervisor_b)
        .await;
    assert_eq!(not_theirs.body["items"], json!([]));

    // Block from the contact: the caller's next call is refused; unblock lets them in.
    let block = format!("/api/v1/contacts/{id}/block");
    let past = app
        .post(
            &block,
            &s.supervisor_a,
            json!({"reason": "abusive", "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST);
    assert_eq!(past.body["field"], "expires_at");
    let blocked = app
        .post(
            &block,
            &s.supervisor_a,
            json!({"reason": "Abusive to volunteers, three times.", "expires_at": "2027-05-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::CREATED, "{:?}", blocked.body);
    assert_eq!(blocked.body["number_hint"], "...42");
    assert!(!leaks_caller(&blocked.body));
    let (refused, _) = call(app, LINE_A, &["1"]).await;
    assert!(refused.rejected, "{:?}", refused.lines);
    let unblock = app
        .call(Method::DELETE, &block, Some(&s.supervisor_a), None)
        .await;
    assert_eq!(unblock.status, StatusCode::NO_CONTENT);
    let twice = app
        .call(Method::DELETE, &block, Some(&s.supervisor_a), None)
        .await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
    let (welcome, _) = call(app, LINE_A, &["1"]).await;
    assert!(!welcome.rejected);
    let audit = app
        .get(&format!("/api/v1/audit?contact_id={id}"), &s.supervisor_a)
        .await;
    let actions = audit_actions(&audit.body);
    assert_eq!(actions, ["unblock_caller", "block_caller", "reveal_caller"]);
}

/// Every supervision endpoint, for one contact of helpline A (taken by Alice).
fn endpoints(contact: i32, debrief: i64) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/api/v1/contacts".into(), None),
        (Method::GET, format!("/api/v1/contacts/{contact}"), None),
        (
            Method::POST,
            format!("/api/v1/contacts/{contact}/reveal-caller"),
            Some(json!({"reason": "checking"})),
        ),
        (
            Method::POST,
            format!("/api/v1/contacts/{contact}/block"),
            Some(json!({"reason": "x", "expires_at": "2027-01-01T00:00:00Z"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/contacts/{contact}/block"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/contacts/{contact}/reviews"),
            Some(json!({"action": "comment", "comment": "seen"})),
        ),
        (Method::GET, "/api/v1/review-queue".into(), None),
        (Method::GET, "/api/v1/debriefs".into(), None),
        (
            Method::POST,
            format!("/api/v1/debriefs/{debrief}/done"),
            Some(json!({})),
        ),
        (Method::GET, "/api/v1/audit".into(), None),
        (Method::GET, format!("/api/v1/me/contacts/{contact}"), None),
        (
            Method::POST,
            format!("/api/v1/me/contacts/{contact}/report"),
            Some(json!({"notes": "not mine"})),
        ),
    ]
}

#[tokio::test]
async fn nobody_reaches_a_contact_outside_their_scope() {
    let s = scene().await;
    let app = &s.app;
    let (_, taken) = call(app, LINE_A, &["1"]).await;
    let reported = app
        .post(
            &format!("/api/v1/me/contacts/{}/report", taken.id),
            &s.alice_token,
            json!({"flags": ["needs_debrief"]}),
        )
        .await;
    assert_eq!(reported.status, StatusCode::CREATED, "{:?}", reported.body);
    let debrief = app.get("/api/v1/debriefs", &s.supervisor_a).await.body[0]["id"]
        .as_i64()
        .unwrap();
    let (_, bobs) = call(app, LINE_B, &[]).await;
    assert!(bobs.answered_by.is_some());

    // Helpline B's supervisor and volunteer, and helpline A's volunteer on supervisor
    // endpoints: each gets 403 or 404, or an empty list, and never the contact.
    for (who, token) in [
        ("supervisor of B", &s.supervisor_b),
        ("volunteer of B", &s.bob_token),
        ("volunteer of A", &s.alice_token),
    ] {
        for (method, path, body) in endpoints(taken.id.0, debrief) {
            let own_volunteer_path = who == "volunteer of A" && path.contains("/me/");
            if own_volunteer_path {
                continue;
            }
            let reply = app.call(method.clone(), &path, Some(token), body).await;
            let refused = [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&reply.status);
            // (An audit entry's own id is no contact's.)
            let names_it_by_id = !path.contains("/audit")
                && reply
                    .body
                    .to_string()
                    .contains(&format!("\"id\":{}", taken.id));
            let empty = reply.status == StatusCode::OK
                && !names_it_by_id
                && !reply
                    .body
                    .to_string()
                    .contains(&format!("\"contact_id\":{}", taken.id));
            assert!(
                refused || empty,
                "{who} {method} {path}: {} {}",
                reply.status,
                reply.body
            );
            assert!(!leaks_caller(&reply.body), "{who} {path}: {}", reply.body);
        }
    }
    // Bob's unflagged contact is in B's weekly review sample, and nowhere else.
    let queue_b = app.get("/api/v1/review-queue", &s.supervisor_b).await;
    assert_eq!(ids_of(&queue_b.body["sampled"]), vec![i64::from(bobs.id.0)]);
    let queue_a = app.get("/api/v1/review-queue", &s.supervisor_a).await;
    assert_eq!(ids_of(&queue_a.body["sampled"]), Vec::<i64>::new());
    // Supervisor B's own list holds only B's contact.
    let list = app.get("/api/v1/contacts", &s.supervisor_b).await;
    assert_eq!(ids(&list.body), vec![i64::from(bobs.id.0)]);
    let filtered = app
        .get(
            &format!("/api/v1/contacts?helpline_id={}", s.a),
            &s.supervisor_b,
        )
        .await;
    assert_eq!(ids(&filtered.body), Vec::<i64>::new());
    // Admins see both helplines.
    let all = app.get("/api/v1/contacts", &app.admin).await;
    assert_eq!(
        ids(&all.body),
        vec![i64::from(bobs.id.0), i64::from(taken.id.0)]
    );
    // A volunteer's own list holds only their contacts, and no number anywhere.
    let bob_list = app.get("/api/v1/me/contacts", &s.bob_token).await;
    assert_eq!(ids(&bob_list.body), vec![i64::from(bobs.id.0)]);
    assert!(!leaks_caller(&bob_list.body));
    // Supervisors and admins have no "own contacts".
    let sup_me = app.get("/api/v1/me/contacts", &s.supervisor_a).await;
    assert_eq!(sup_me.status, StatusCode::FORBIDDEN);
    // Nothing the refused requests tried was written.
    let unchanged = contact::Entity::find_by_id(taken.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        unchanged.review_state,
        peerline::domain::supervision::ReviewState::Unreviewed
    );
    // Filtering by their own helpline finds its contact.
    let own = app
        .get(
            &format!("/api/v1/contacts?helpline_id={}", s.b),
            &s.supervisor_b,
        )
        .await;
    assert_eq!(ids(&own.body), vec![i64::from(bobs.id.0)]);
}

#[tokio::test]
async fn a_volunteer_never_sees_the_callers_number() {
    let s = scene().await;
    let app = &s.app;
    let (_, taken) = call(app, LINE_A, &["1"]).await;
    let (id, a, alice) = (taken.id, s.a, s.alice);
    let reported = app
        .post(
            &format!("/api/v1/me/contacts/{id}/report"),
            &s.alice_token,
            json!({"notes": "Listened.", "flags": ["abusive"]}),
        )
        .await;
    assert_eq!(reported.status, StatusCode::CREATED);
    for path in [
        "/api/v1/me".to_owned(),
        "/api/v1/me/contacts".to_owned(),
        format!("/api/v1/me/contacts/{id}"),
        "/api/v1/helplines".to_owned(),
        format!("/api/v1/helplines/{a}"),
        format!("/api/v1/helplines/{a}/topics"),
        format!("/api/v1/volunteers/{alice}"),
        format!("/api/v1/volunteers/{alice}/shifts"),
        format!("/api/v1/volunteers/{alice}/exceptions"),
        format!("/api/v1/volunteers/{alice}/conflicts"),
        format!("/api/v1/volunteers/{alice}/signoffs"),
    ] {
        let reply = app.get(&path, &s.alice_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert!(!leaks_caller(&reply.body), "{path}: {}", reply.body);
    }
    // Reading their own contact is audited for the helpline's supervisors.
    let audit = app
        .get(&format!("/api/v1/audit?contact_id={id}"), &s.supervisor_a)
        .await;
    assert_eq!(audit_actions(&audit.body), ["view_own_contact"]);
}

#[tokio::test]
async fn the_audit_log_cannot_be_changed() {
    let s = scene().await;
    let app = &s.app;
    let (_, taken) = call(app, LINE_A, &[]).await;
    app.get(&format!("/api/v1/contacts/{}", taken.id), &s.supervisor_a)
        .await;
    for statement in [
        "UPDATE audit_log SET action = 'nothing'",
        "DELETE FROM audit_log",
    ] {
        let refused = app.db.execute_unprepared(statement).await;
        assert!(refused.is_err(), "{statement} must be refused");
    }
    let audit = app.get("/api/v1/audit", &app.admin).await;
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "view_contact")
    );
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let reply = app
            .call(method, "/api/v1/audit", Some(&app.admin), None)
            .await;
        assert!(reply.status.is_client_error(), "{}", reply.status);
    }
}

#[tokio::test]
async fn sign_offs_and_access_changes_are_audited_for_whom_they_concern() {
    let s = scene().await;
    let app = &s.app;
    // The scene signed Alice off (supervisor A) and created the supervisors (admin).
    let signed = app
        .get("/api/v1/audit?action=sign_off", &s.supervisor_a)
        .await;
    let items = signed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", signed.body);
    assert_eq!(items[0]["helpline_id"], s.a);
    assert_eq!(items[0]["detail"]["volunteer_id"], s.alice);
    assert!(items[0]["token_id"].is_i64());
    let elsewhere = app
        .get("/api/v1/audit?action=sign_off", &s.supervisor_b)
        .await;
    assert_eq!(elsewhere.body["items"], serde_json::json!([]));
    let access = app.get("/api/v1/audit", &app.admin).await;
    let actions = audit_actions(&access.body);
    assert_eq!(
        actions.iter().filter(|a| *a == "create_user").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| *a == "issue_token").count(), 2);
}

#[tokio::test]
async fn the_list_pages_newest_first_and_dates_are_the_helplines_own() {
    let s = scene().await;
    let app = &s.app;
    let auckland = app.helpline("Kiwi line", "Pacific/Auckland").await;
    // 01:00 on 22 November in Auckland is still 21 November in UTC.
    let received = [
        "2026-11-19T12:00:00Z",
        "2026-11-20T12:00:00Z",
        "2026-11-21T12:00:00Z",
    ];
    let mut made = Vec::new();
    for (i, at) in received.iter().enumerate() {
        let at = chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc();
        let (row, _) = peerline::storage::contacts::open_call(
            &app.db,
            peerline::storage::contacts::NewCall {
                channel: peerline::domain::rota::Channel::Voice,
                helpline_id: HelplineId(auckland),
                call_sid: format!("CA{i:032}"),
                dialed_number: "+6491234567".into(),
                caller_hash: format!("hash{i}"),
                caller_encrypted: None,
                caller_hint: "...0{i}".into(),
                stage: peerline::storage::contacts::Stage::Ended,
                outcome: Some(peerline::storage::contacts::Outcome::Abandoned),
                received_at: at,
                route_deadline: at,
            },
        )
        .await
        .unwrap();
        made.push(i64::from(row.id.0));
    }
    let day = app
        .get(
            &format!("/api/v1/contacts?helpline_id={auckland}&from=2026-11-22&to=2026-11-22"),
            &app.admin,
        )
        .await;
    assert_eq!(ids(&day.body), vec![made[2]]);
    let two_days = app
        .get(
            &format!("/api/v1/contacts?helpline_id={auckland}&from=2026-11-20&to=2026-11-21"),
            &app.admin,
        )
        .await;
    assert_eq!(ids(&two_days.body), vec![made[1], made[0]]);
    let backwards = app
        .get("/api/v1/contacts?from=2026-11-22&to=2026-11-20", &app.admin)
        .await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);
    let bad = app.get("/api/v1/contacts?flag=sad", &app.admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "flag");

    let mut seen = Vec::new();
    let mut path = format!("/api/v1/contacts?helpline_id={auckland}&limit=2");
    loop {
        let page = app.get(&path, &app.admin).await;
        seen.extend(ids(&page.body));
        match page.body["next_before"].as_i64() {
            Some(before) => {
                path = format!("/api/v1/contacts?helpline_id={auckland}&limit=2&before={before}")
            }
            None => break,
        }
    }
    made.reverse();
    assert_eq!(seen, made, "every contact once, newest first");
}

#[tokio::test]
async fn a_safeguarding_flag_with_nobody_on_call_reaches_the_helplines_supervisors() {
    // Helpline B has no on-call rota: its supervisor (phone ...98) must still hear of it.
    let s = scene().await;
    let app = &s.app;
    let (transcript, taken) = call(app, LINE_B, &[]).await;
    assert_eq!(transcript.connected_to.as_deref(), Some(BOB));

    let report = app
        .post(
            &format!("/api/v1/me/contacts/{}/report", taken.id),
            &s.bob_token,
            json!({"notes": "Spoke of ending it.", "outcome_tags": [], "flags": ["safeguarding"]}),
        )
        .await;

    assert_eq!(report.status, StatusCode::CREATED, "{:?}", report.body);
    assert_eq!(report.body["supervisors_alerted"], 1);
    let alerts = outbox_message::Entity::find()
        .filter(outbox_message::Column::Purpose.eq("safeguarding_alert"))
        .all(&app.db)
        .await
        .unwrap();
    let hints: Vec<&str> = alerts.iter().map(|a| a.to_hint.as_str()).collect();
    assert_eq!(
        hints,
        vec!["...98"],
        "only helpline B's supervisor, not A's"
    );
    let record = app
        .get(&format!("/api/v1/contacts/{}", taken.id), &s.supervisor_b)
        .await;
    let escalated = record.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "safeguarding_escalated");
    assert!(
        escalated,
        "the record says the alert was escalated: {}",
        record.body
    );
}

#[tokio::test]
async fn removing_the_last_on_call_shift_says_nobody_is_on_call() {
    let s = scene().await;
    let app = &s.app;
    let rota = app
        .get(
            &format!("/api/v1/helplines/{}/on-call", s.a),
            &s.supervisor_a,
        )
        .await;
    let shift = rota.body[0]["id"].as_i64().unwrap();

    let removed = app
        .call(
            Method::DELETE,
            &format!("/api/v1/helplines/{}/on-call/{shift}", s.a),
            Some(&s.supervisor_a),
            None,
        )
        .await;

    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    assert_eq!(removed.body["remaining_shifts"], 0);
    let warning = removed.body["warning"].as_str().unwrap();
    assert!(warning.contains("Nobody is on call"), "{warning}");
}

#[tokio::test]
async fn the_step_back_migrations_undo_and_redo() {
    use migration::{Migrator, MigratorTrait};
    use peerline::storage::entities::debrief;
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    let ada = app
        .volunteer("Ada", "+12025550141", "Europe/London", &[line])
        .await;
    let at = peerline::clock::Clock::system().now();
    peerline::storage::after_contact::suggest_check_in(
        &app.db,
        HelplineId(line),
        VolunteerId(ada),
        at,
    )
    .await
    .unwrap();
    // Every migration since step-backs goes (the audit's own entries, rota records, gap
    // alerts, check-ins about no contact, step-backs); the schema before them comes back.
    down_to_before(&app, "m20261201_000020_step_backs").await;
    assert_eq!(debrief::Entity::find().count(&app.db).await.unwrap(), 0);
    Migrator::up(&app.db, None).await.unwrap();
    assert!(
        peerline::storage::after_contact::suggest_check_in(
            &app.db,
            HelplineId(line),
            VolunteerId(ada),
            at
        )
        .await
        .unwrap()
    );
}

#[tokio::test]
async fn entries_peerline_wrote_itself_name_no_user_and_the_log_stays_append_only() {
    use migration::{Migrator, MigratorTrait};
    use peerline::storage::audit::{self, Audited};
    use peerline::storage::entities::audit_entry;
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let at = peerline::clock::Clock::system().now();
    audit::record_by_peerline(&app.db, Audited::new("retention_purge"), "a test", at)
        .await
        .unwrap();
    let users_of = async |app: &crate::helpers::TestApp| {
        audit_entry::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.user_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(users_of(&app).await, vec![None]);
    // The schema before: the entry reads as user 0; after, as no user again.
    down_to_before(&app, "m20261201_000024_audit_by_peerline").await;
    assert_eq!(users_of(&app).await, vec![Some(UserId(0))]);
    Migrator::up(&app.db, None).await.unwrap();
    assert_eq!(users_of(&app).await, vec![None]);
    // The guard came back with the rebuilt table.
    let changed = app
        .db
        .execute_unprepared("UPDATE audit_log SET action = 'nothing'")
        .await;
    assert!(changed.is_err(), "the audit log took a change");
    let removed = app.db.execute_unprepared("DELETE FROM audit_log").await;
    assert!(removed.is_err(), "the audit log lost an entry");
}
