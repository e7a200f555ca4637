//! Kept day tallies: a report over settled days adds up what was kept of each day, and
//! says exactly what counting every contact says, across a clock change, across
//! midnights and across a week's end; a change to a kept day (a flag raised, an outcome
//! corrected, a volunteer's long-contact limit) shows at once, before the day is
//! tallied again.

use chrono::Duration;
use peerline::domain::access::Role;
use peerline::domain::contact::Outcome;
use peerline::domain::ids::{ContactId, VolunteerId};
use peerline::domain::supervision::Flag;
use peerline::jobs::report_days::{Pass, tally_settled_days};
use peerline::storage::{after_contact, contacts};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::helpers::{Seed, TestApp, offer_to, seed, spawn_app, utc};

/// The two reports and the contacts report's CSV over the fortnight around the change.
async fn reports(app: &TestApp, line: i32, token: &str) -> (Value, Value, String) {
    let period = "from=2026-03-23&to=2026-04-05";
    let contacts = app
        .get(
            &format!("/api/v1/helplines/{line}/reports/contacts?{period}"),
            token,
        )
        .await;
    let volunteers = app
        .get(
            &format!("/api/v1/helplines/{line}/reports/volunteers?{period}"),
            token,
        )
        .await;
    let csv = app
        .raw_get_csv(
            &format!("/api/v1/helplines/{line}/reports/contacts?{period}"),
            token,
        )
        .await;
    assert!(contacts.status.is_success(), "{:?}", contacts.body);
    assert!(volunteers.status.is_success(), "{:?}", volunteers.body);
    (contacts.body, volunteers.body, csv)
}

fn week<'a>(volunteers: &'a Value, name: &str, starting: &str) -> &'a Value {
    volunteers["volunteers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .and_then(|v| {
            v["weeks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["week_starting"] == starting)
        })
        .unwrap_or_else(|| panic!("{name}'s week of {starting} in {volunteers}"))
}

async fn run(app: &TestApp, sql: &str) {
    app.db.execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn a_report_over_kept_days_says_what_counting_every_contact_says() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    let topic = app.topic(line, "neonatal-care", 1).await;
    let alice = app
        .volunteer("Alice", "+12025550111", "Europe/London", &[line])
        .await;
    let bob = app
        .volunteer("Bob", "+12025550122", "Europe/London", &[line])
        .await;
    let supervisor = app.token_for(Role::Supervisor, None, vec![line]).await;

    let answered = |at, channel, by, wait, talk| Seed {
        at,
        channel,
        topic: Some(topic),
        outcome: "answered",
        tier: Some("peer_match"),
        answered_by: Some(by),
        wait,
        talk: Some(talk),
        ..Seed::default()
    };
    let missed = |at, outcome| Seed {
        at,
        channel: "voice",
        outcome,
        wait: 40,
        ..Seed::default()
    };
    let rows = [
        // Friday 23:50 GMT, and Alice's next contact five minutes after it ended, on
        // Saturday: back to back across midnight.
        answered("2026-03-27T23:50:00Z", "voice", alice, 10, 600),
        answered("2026-03-28T00:05:00Z", "sms", alice, 5, 900),
        // Sunday 00:30 GMT, a long call; 02:30 BST, after the clocks went forward.
        answered("2026-03-29T00:30:00Z", "voice", bob, 30, 3000),
        missed("2026-03-29T01:30:00Z", "abandoned"),
        // Sunday 23:59 BST: offered to Alice at 00:00:30 on Monday, in the next week.
        missed("2026-03-29T22:59:00Z", "voicemail"),
        answered("2026-03-30T08:00:00Z", "voice", alice, 20, 1200),
        answered("2026-04-02T12:00:00Z", "sms", bob, 60, 1800),
        missed("2026-04-05T22:30:00Z", "abandoned"),
    ];
    let mut ids = Vec::new();
    for (n, row) in rows.into_iter().enumerate() {
        ids.push(seed(&app, line, n, row).await);
    }
    offer_to(&app, ids[0], alice, "2026-03-27T23:50:00Z", "accepted").await;
    offer_to(&app, ids[1], alice, "2026-03-28T00:05:00Z", "accepted").await;
    offer_to(&app, ids[2], alice, "2026-03-29T00:30:00Z", "no_answer").await;
    offer_to(&app, ids[2], bob, "2026-03-29T00:30:20Z", "accepted").await;
    offer_to(&app, ids[4], alice, "2026-03-29T23:00:30Z", "no_answer").await;
    offer_to(&app, ids[5], alice, "2026-03-30T08:00:00Z", "accepted").await;
    offer_to(&app, ids[6], bob, "2026-04-02T12:00:00Z", "accepted").await;

    let counted = reports(&app, line, &supervisor).await;
    let (contacts_report, volunteers_report, _) = &counted;
    assert_eq!(contacts_report["total"], 8);
    assert_eq!(
        week(volunteers_report, "Alice", "2026-03-23")["back_to_back"],
        1
    );
    assert_eq!(
        week(volunteers_report, "Alice", "2026-03-30")["missed_offers"],
        1
    );

    // Days are planted once settled, and tallied once planted for a while.
    let now = utc("2026-12-01T09:00:00Z");
    let planted = tally_settled_days(&app.db, now, 1000).await.unwrap();
    assert_eq!(planted.tallied, 0, "nothing is tallied as it is planted");
    assert_eq!(
        planted.planted, 247,
        "every day from the first contact's, 2026-03-27, to 2026-11-28"
    );
    let first = tally_settled_days(&app.db, now + Duration::minutes(11), 200)
        .await
        .unwrap();
    assert_eq!(
        first,
        Pass {
            planted: 0,
            looked_at: 200,
            tallied: 200,
            left: 47
        }
    );
    assert_eq!(
        reports(&app, line, &supervisor).await,
        counted,
        "part kept, part counted"
    );
    let rest = tally_settled_days(&app.db, now + Duration::minutes(12), 200)
        .await
        .unwrap();
    assert_eq!((rest.tallied, rest.left), (47, 0));
    assert_eq!(reports(&app, line, &supervisor).await, counted);

    // The report reads what was kept of a day, and nothing kept once the day changed.
    run(
        &app,
        "UPDATE report_days SET contacts_tally = \
         '{\"groups\":[],\"hours\":[],\"waits\":[],\"talks\":[],\"offers_for_answered\":0}' \
         WHERE day = '2026-03-30'",
    )
    .await;
    assert_eq!(reports(&app, line, &supervisor).await.0["total"], 7);
    run(
        &app,
        "UPDATE report_days SET generation = generation + 1 WHERE day = '2026-03-30'",
    )
    .await;
    assert_eq!(reports(&app, line, &supervisor).await, counted);
    // A kept tally that cannot be read is counted again, not an error.
    run(
        &app,
        "UPDATE report_days SET contacts_tally = '{\"groups\": 7}' WHERE day = '2026-03-29'",
    )
    .await;
    assert_eq!(reports(&app, line, &supervisor).await, counted);

    // Changes to kept days show at once, and only the days changed are tallied again.
    let later = now + Duration::minutes(20);
    after_contact::raise_flag(
        &app.db,
        ContactId(ids[1]),
        Flag::NeedsDebrief,
        Some(VolunteerId(alice)),
        later,
    )
    .await
    .unwrap();
    assert!(
        contacts::correct_outcome(
            &app.db,
            ContactId(ids[7]),
            Outcome::Abandoned,
            Outcome::Voicemail,
            later
        )
        .await
        .unwrap()
    );
    let changed = reports(&app, line, &supervisor).await;
    assert_eq!(
        week(&changed.1, "Alice", "2026-03-23")["flagged_contacts"],
        1
    );
    assert_eq!(
        (
            changed.0["abandoned"].clone(),
            changed.0["voicemails"].clone()
        ),
        (1.into(), 2.into())
    );
    let again = tally_settled_days(&app.db, later, 1000).await.unwrap();
    assert_eq!(again.tallied, 3, "2026-03-28, 2026-03-30 and 2026-04-05");
    assert_eq!(reports(&app, line, &supervisor).await, changed);

    // A volunteer's long-contact limit counts in every kept day.
    run(
        &app,
        &format!("UPDATE volunteers SET long_contact_minutes = 10 WHERE id = {alice}"),
    )
    .await;
    let limited = reports(&app, line, &supervisor).await;
    assert_eq!(week(&limited.1, "Alice", "2026-03-23")["long_contacts"], 2);
    assert_eq!(week(&limited.1, "Alice", "2026-03-30")["long_contacts"], 1);
    let again = tally_settled_days(&app.db, later, 1000).await.unwrap();
    assert_eq!(again.tallied, 247);
    assert_eq!(reports(&app, line, &supervisor).await, limited);
}

#[tokio::test]
async fn servers_tallying_at_once_keep_each_day_once() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    for (n, at) in [
        "2026-10-24T12:00:00Z",
        "2026-10-25T12:00:00Z",
        "2026-11-20T12:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        let abandoned = Seed {
            at,
            channel: "voice",
            outcome: "abandoned",
            wait: 30,
            ..Seed::default()
        };
        seed(&app, line, n, abandoned).await;
    }
    let now = utc("2026-12-01T09:00:00Z");
    let planted = tally_settled_days(&app.db, now, 0).await.unwrap();
    assert_eq!(planted.planted, 36, "2026-10-24 to 2026-11-28");
    let later = now + Duration::minutes(11);
    let (one, other) = tokio::join!(
        tally_settled_days(&app.db, later, 1000),
        tally_settled_days(&app.db, later, 1000)
    );
    let (one, other) = (one.unwrap(), other.unwrap());
    assert_eq!(one.tallied + other.tallied, 36, "{one:?} {other:?}");
    let again = tally_settled_days(&app.db, later, 1000).await.unwrap();
    assert_eq!(again, Pass::default(), "nothing is left to tally");
}

#[tokio::test]
async fn a_helpline_that_changes_its_time_zone_has_its_days_counted_on_the_new_clock() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    let supervisor = app.token_for(Role::Supervisor, None, vec![line]).await;
    // Friday 23:30 in London, Saturday 08:30 in Tokyo.
    let late = Seed {
        at: "2026-11-20T23:30:00Z",
        channel: "voice",
        outcome: "abandoned",
        wait: 30,
        ..Seed::default()
    };
    seed(&app, line, 0, late).await;
    let saturday =
        format!("/api/v1/helplines/{line}/reports/contacts?from=2026-11-21&to=2026-11-21");
    let now = utc("2026-12-01T09:00:00Z");
    tally_settled_days(&app.db, now, 0).await.unwrap();
    let kept = tally_settled_days(&app.db, now + Duration::minutes(11), 1000)
        .await
        .unwrap();
    assert_eq!(kept.tallied, 9, "2026-11-20 to 2026-11-28 in London");
    assert_eq!(app.get(&saturday, &supervisor).await.body["total"], 0);

    let moved = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/helplines/{line}"),
            Some(&app.admin),
            Some(serde_json::json!({"time_zone": "Asia/Tokyo"})),
        )
        .await;
    assert!(moved.status.is_success(), "{:?}", moved.body);
    assert_eq!(
        app.get(&saturday, &supervisor).await.body["total"],
        1,
        "London's kept days are not read on Tokyo's clock"
    );
    let replanted = tally_settled_days(&app.db, now + Duration::minutes(20), 1000)
        .await
        .unwrap();
    assert_eq!(
        (replanted.planted, replanted.tallied),
        (8, 0),
        "2026-11-21 to 2026-11-28 in Tokyo, planted anew"
    );
    let kept = tally_settled_days(&app.db, now + Duration::minutes(31), 1000)
        .await
        .unwrap();
    assert_eq!(kept.tallied, 8);
    assert_eq!(app.get(&saturday, &supervisor).await.body["total"], 1);
}
