//! Helpline reports over a period that spans the spring clock change in London: the
//! figures a supervisor reads, as JSON and as CSV, and who may read them.

use peerline::domain::access::Role;
use peerline::domain::ids::{ContactId, HelplineId, VolunteerId};
use peerline::storage::entities::{contact_flag, debrief};
use reqwest::StatusCode;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;

use crate::helpers::{Seed, offer_to, parsed, seed, spawn_app, utc};

#[tokio::test]
async fn a_supervisor_reads_the_helplines_figures_across_the_clock_change() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    let other = app.helpline("Elsewhere", "Europe/London").await;
    let topic = app.topic(line, "neonatal-care", 1).await;
    let alice = app
        .volunteer("Alice", "+12025550111", "Europe/London", &[line])
        .await;
    let bob = app
        .volunteer("Bob", "+12025550122", "Europe/London", &[line])
        .await;
    let supervisor = app.token_for(Role::Supervisor, None, vec![line]).await;
    let outsider = app.token_for(Role::Supervisor, None, vec![other]).await;
    let volunteer = app.token_for(Role::Volunteer, Some(alice), vec![]).await;

    let answered = |at, channel, topic, tier, by, wait, talk| Seed {
        at,
        channel,
        topic,
        outcome: "answered",
        tier: Some(tier),
        answered_by: Some(by),
        wait,
        talk: Some(talk),
        ..Seed::default()
    };
    let missed = |at, topic, outcome, wait| Seed {
        at,
        channel: "voice",
        topic,
        outcome,
        tier: None,
        answered_by: None,
        wait,
        talk: None,
        ..Seed::default()
    };
    let rows = [
        // Saturday 23:30 GMT.
        answered(
            "2026-03-28T23:30:00Z",
            "voice",
            Some(topic),
            "peer_match",
            alice,
            10,
            600,
        ),
        // Sunday 13:30 BST, after the clocks went forward; a long call.
        answered(
            "2026-03-29T12:30:00Z",
            "voice",
            Some(topic),
            "trained",
            bob,
            30,
            3000,
        ),
        missed("2026-03-29T12:45:00Z", None, "abandoned", 50),
        // Monday 09:00 and 09:25 BST: back to back for Alice.
        answered(
            "2026-03-30T08:00:00Z",
            "sms",
            Some(topic),
            "peer_match",
            alice,
            100,
            1200,
        ),
        answered(
            "2026-03-30T08:25:00Z",
            "voice",
            None,
            "any_topic",
            alice,
            5,
            300,
        ),
        missed("2026-03-30T10:00:00Z", Some(topic), "voicemail", 60),
        // Outside the period: Friday 23:30 GMT and Tuesday 01:30 BST.
        missed("2026-03-27T23:30:00Z", None, "abandoned", 5),
        missed("2026-03-31T00:30:00Z", None, "abandoned", 5),
    ];
    let mut ids = Vec::new();
    for (n, row) in rows.into_iter().enumerate() {
        ids.push(seed(&app, line, n, row).await);
    }
    offer_to(&app, ids[0], alice, "2026-03-28T23:30:00Z", "accepted").await;
    offer_to(&app, ids[1], alice, "2026-03-29T12:30:00Z", "no_answer").await;
    offer_to(&app, ids[1], bob, "2026-03-29T12:30:20Z", "accepted").await;
    offer_to(&app, ids[3], alice, "2026-03-30T08:00:00Z", "accepted").await;
    offer_to(&app, ids[4], alice, "2026-03-30T08:25:00Z", "accepted").await;
    contact_flag::Entity::insert(contact_flag::ActiveModel {
        contact_id: Set(ContactId(ids[3])),
        flag: Set(parsed("needs_debrief")),
        raised_at: Set(utc("2026-03-30T08:30:00Z")),
        raised_by: Set(Some(VolunteerId(alice))),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    debrief::Entity::insert(debrief::ActiveModel {
        helpline_id: Set(HelplineId(line)),
        volunteer_id: Set(VolunteerId(alice)),
        contact_id: Set(Some(ContactId(ids[3]))),
        requested_at: Set(utc("2026-03-30T08:30:00Z")),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();

    let period = "from=2026-03-28&to=2026-03-30";
    let path = format!("/api/v1/helplines/{line}/reports/contacts?{period}");
    let report = app.get(&path, &supervisor).await;
    assert_eq!(report.status, StatusCode::OK, "{:?}", report.body);
    let r = &report.body;
    assert_eq!(r["time_zone"], "Europe/London");
    assert_eq!(
        (r["total"].clone(), r["answered"].clone()),
        (json!(6), json!(4))
    );
    assert_eq!(
        (r["missed"].clone(), r["abandoned"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(r["voicemails"], 1);
    assert_eq!(r["answer_rate"], 0.6667);
    assert_eq!(r["wait_secs"], json!({"median": 10, "p90": 100}));
    assert_eq!(r["talk_secs"], json!({"median": 600, "p90": 3000}));
    assert_eq!(
        (r["chose_a_topic"].clone(), r["peer_matched"].clone()),
        (json!(4), json!(2))
    );
    assert_eq!(r["peer_match_rate"], 0.5);
    assert_eq!(r["offers_per_answered"], 1.25);
    let hour = |h: usize| r["by_hour"][h]["contacts"].as_i64().unwrap();
    assert_eq!(
        (hour(23), hour(13), hour(9), hour(11), hour(12)),
        (1, 2, 2, 1, 0)
    );
    let day = |d: usize| r["by_weekday"][d]["contacts"].as_i64().unwrap();
    assert_eq!(
        (day(0), day(5), day(6)),
        (3, 1, 2),
        "monday, saturday, sunday"
    );

    let csv = app
        .call(
            reqwest::Method::GET,
            &format!("{path}&format=csv"),
            Some(&supervisor),
            None,
        )
        .await;
    let text = csv.body.as_str().unwrap();
    assert!(text.contains("summary,answered,4,\n"), "{text}");
    assert!(text.contains("summary,peer_match_rate,0.5,\n"), "{text}");
    assert!(text.contains("weekday,monday,3,2\n"), "{text}");
    assert!(text.contains("hour,13,2,1\n"), "{text}");

    let load = app
        .get(
            &format!("/api/v1/helplines/{line}/reports/volunteers?{period}"),
            &supervisor,
        )
        .await;
    assert_eq!(load.status, StatusCode::OK, "{:?}", load.body);
    let alice_load = &load.body["volunteers"][0];
    assert_eq!(alice_load["name"], "Alice");
    assert_eq!(alice_load["open_debriefs"], 1);
    assert_eq!(
        alice_load["weeks"],
        json!([
            {"week_starting": "2026-03-23", "contacts": 1, "talk_secs": 600, "long_contacts": 0,
             "flagged_contacts": 0, "back_to_back": 0, "missed_offers": 1},
            {"week_starting": "2026-03-30", "contacts": 2, "talk_secs": 1500, "long_contacts": 0,
             "flagged_contacts": 1, "back_to_back": 1, "missed_offers": 0}
        ])
    );
    assert_eq!(load.body["volunteers"][1]["weeks"][0]["long_contacts"], 1);
    let load_csv = app
        .raw_get_csv(
            &format!("/api/v1/helplines/{line}/reports/volunteers?{period}"),
            &supervisor,
        )
        .await;
    assert!(
        load_csv.contains(&format!("{alice},Alice,2026-03-30,2,1500,0,1,1,0,1\n")),
        "{load_csv}"
    );

    let coverage = app
        .get(
            &format!("/api/v1/helplines/{line}/reports/coverage?{period}"),
            &supervisor,
        )
        .await;
    assert_eq!(coverage.status, StatusCode::OK, "{:?}", coverage.body);
    assert_eq!(
        coverage.body["period_hours"], 71.0,
        "the clocks went forward"
    );
    assert_eq!(coverage.body["uncovered_hours"], 71.0, "nobody has shifts");
    assert_eq!(coverage.body["topics"][0]["uncovered_hours"], 71.0);

    // Scope: another helpline's supervisor does not see it; a volunteer may not read it.
    let outside = app.get(&path, &outsider).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    let mine = app.get(&path, &volunteer).await;
    assert_eq!(mine.status, StatusCode::FORBIDDEN);
    let backwards = app
        .get(
            &format!("/api/v1/helplines/{line}/reports/contacts?from=2026-03-30&to=2026-03-01"),
            &supervisor,
        )
        .await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);
    assert_eq!(backwards.body["field"], "to");
    let no_period = app
        .get(
            &format!("/api/v1/helplines/{line}/reports/contacts"),
            &supervisor,
        )
        .await;
    assert_eq!(no_period.status, StatusCode::BAD_REQUEST);

    // Each export is audited.
    let audit = app
        .get("/api/v1/audit?action=export_report", &supervisor)
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(audit.body["items"][0]["detail"]["report"], "coverage");
}
