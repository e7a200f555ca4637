//! The rota as coordinators use it: volunteers in three time zones, on-shift answers with
//! local times, and coverage gaps per topic across the London spring-forward night.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{id_of, on_shift_ids, spawn_app, spawn_app_at};

use peerline::domain::ids::VolunteerId;

#[tokio::test]
async fn three_time_zones_on_shift_and_coverage_across_a_dst_change() {
    // The rota is set up before the night it is asked about.
    let app = spawn_app_at("2026-03-01T00:00:00Z").await;
    let helpline = app.helpline("NICU parents line", "Europe/London").await;
    let neonatal = app.topic(helpline, "neonatal", 1).await;
    let bereavement = app.topic(helpline, "bereavement", 2).await;

    let alice = app
        .volunteer("Alice", "+12025550101", "Europe/London", &[helpline])
        .await;
    let bob = app
        .volunteer("Bob", "+12025550102", "America/New_York", &[helpline])
        .await;
    let chloe = app
        .volunteer("Chloe", "+61491570156", "Australia/Sydney", &[helpline])
        .await;
    // Alice: Saturday 22:00-02:00 London, the night clocks go forward (2026-03-29 01:00Z).
    assert_eq!(
        app.shift(alice, "saturday", "22:00", "02:00").await.status,
        StatusCode::CREATED
    );
    // Bob: Saturday 18:00-21:00 New York (EDT, UTC-4) = 22:00Z-01:00Z.
    assert_eq!(
        app.shift(bob, "saturday", "18:00", "21:00").await.status,
        StatusCode::CREATED
    );
    // Chloe: Sunday 09:00-17:00 Sydney (AEDT, UTC+11) = Saturday 22:00Z-Sunday 06:00Z.
    assert_eq!(
        app.shift(chloe, "sunday", "09:00", "17:00").await.status,
        StatusCode::CREATED
    );
    // Dan is still in training: on the rota, but never counted as taking contacts.
    let dan = app
        .post(
            "/api/v1/volunteers",
            &app.admin,
            json!({"name": "Dan", "phone": "+12025550104", "time_zone": "Europe/London", "languages": ["en"],
                   "helplines": [helpline]}),
        )
        .await;
    let dan = id_of(&dan);
    assert_eq!(
        app.shift(dan, "saturday", "20:00", "23:00").await.status,
        StatusCode::CREATED
    );

    // Only a supervisor signs off: Alice is ready for neonatal.
    let supervisor = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"name": "Sam", "role": "supervisor", "helplines": [helpline],
                   "phone": "+12025550199", "time_zone": "Europe/London"}),
        )
        .await;
    assert_eq!(
        supervisor.status,
        StatusCode::CREATED,
        "{:?}",
        supervisor.body
    );
    let sam = id_of(&supervisor);
    let sam_token = app
        .post(
            &format!("/api/v1/users/{sam}/tokens"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(sam_token.status, StatusCode::CREATED);
    let sam_token = sam_token.body["token"].as_str().expect("token").to_owned();
    let signoff_path = format!("/api/v1/volunteers/{alice}/signoffs/{neonatal}");
    let by_admin = app
        .call(reqwest::Method::PUT, &signoff_path, Some(&app.admin), None)
        .await;
    assert_eq!(
        by_admin.status,
        StatusCode::FORBIDDEN,
        "only a supervisor can sign off"
    );
    let signed = app
        .call(reqwest::Method::PUT, &signoff_path, Some(&sam_token), None)
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{:?}", signed.body);
    assert_eq!(signed.body["status"], "ready");
    assert_eq!(signed.body["signed_off_by"], sam);

    // Sam is on call on Saturday evenings.
    let on_call = app
        .post(
            &format!("/api/v1/helplines/{helpline}/on-call"),
            &sam_token,
            json!({"user_id": sam, "weekday": "saturday", "start": "18:00", "end": "23:59"}),
        )
        .await;
    assert_eq!(on_call.status, StatusCode::CREATED, "{:?}", on_call.body);

    // 00:30Z: Alice (00:30 GMT), Bob (20:30 EDT) and Chloe (11:30 AEDT) are on shift.
    let early = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-03-29T00:30:00Z"),
            &sam_token,
        )
        .await;
    assert_eq!(early.status, StatusCode::OK, "{:?}", early.body);
    assert_eq!(
        on_shift_ids(&early),
        vec![alice as i64, bob as i64, chloe as i64]
    );
    let locals: Vec<&str> = early.body["volunteers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["local_time"].as_str().unwrap())
        .collect();
    assert_eq!(
        locals,
        vec![
            "2026-03-29T00:30:00+00:00",
            "2026-03-28T20:30:00-04:00",
            "2026-03-29T11:30:00+11:00"
        ]
    );
    assert_eq!(
        early.body["volunteers"][0]["ready_topics"],
        json!([neonatal])
    );

    // 01:30Z is 02:30 BST: Alice's shift ended at 02:00 on the clock, an hour early in UTC.
    let late = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-03-29T01:30:00Z"),
            &sam_token,
        )
        .await;
    assert_eq!(on_shift_ids(&late), vec![chloe as i64]);

    // 21:30Z on Saturday: only Dan (in training) is on the rota; Sam is on call.
    let evening = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-03-28T21:30:00Z"),
            &sam_token,
        )
        .await;
    assert_eq!(on_shift_ids(&evening), vec![dan as i64]);
    assert_eq!(evening.body["volunteers"][0]["takes_contacts"], false);
    assert_eq!(
        evening.body["volunteers"][0]["not_taking_contacts"],
        "in_training"
    );
    assert_eq!(evening.body["on_call"][0]["user_id"], sam);

    let coverage = app
        .get(
            &format!("/api/v1/helplines/{helpline}/coverage?from=2026-03-28T21:00:00Z&to=2026-03-29T07:00:00Z&channel=voice"),
            &sam_token,
        )
        .await;
    assert_eq!(coverage.status, StatusCode::OK, "{:?}", coverage.body);
    assert_eq!(
        coverage.body["gaps"],
        json!([
            {"start": "2026-03-28T21:00:00Z", "end": "2026-03-28T22:00:00Z"},
            {"start": "2026-03-29T06:00:00Z", "end": "2026-03-29T07:00:00Z"}
        ]),
        "Dan, in training, does not close the 21:00Z gap"
    );
    let topics = coverage.body["topics"].as_array().expect("topics");
    assert_eq!(topics[0]["topic_id"], neonatal);
    assert_eq!(
        topics[0]["gaps"],
        json!([
            {"start": "2026-03-28T21:00:00Z", "end": "2026-03-28T22:00:00Z"},
            {"start": "2026-03-29T01:00:00Z", "end": "2026-03-29T07:00:00Z"}
        ]),
        "only Alice is ready for neonatal, and her shift ends at 01:00Z that night"
    );
    assert_eq!(topics[1]["topic_id"], bereavement);
    assert_eq!(
        topics[1]["gaps"],
        json!([{"start": "2026-03-28T21:00:00Z", "end": "2026-03-29T07:00:00Z"}])
    );
    assert_eq!(
        coverage.body["on_call_gaps"],
        json!([{"start": "2026-03-28T23:59:00Z", "end": "2026-03-29T07:00:00Z"}]),
        "Sam is on call until 23:59 on Saturday, and nobody after"
    );

    // The same night asked as people type it: an offset whose `+` arrived as a space,
    // and whole days on the helpline's clock (Sunday 29 March is 23 hours long).
    let typed = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-03-29T01:30:00+01:00"),
            &sam_token,
        )
        .await;
    assert_eq!(typed.status, StatusCode::OK, "{:?}", typed.body);
    assert_eq!(typed.body["at"], "2026-03-29T00:30:00Z");
    assert_eq!(on_shift_ids(&typed), on_shift_ids(&early));
    let days = app
        .get(
            &format!("/api/v1/helplines/{helpline}/coverage?from=2026-03-29&to=2026-03-29"),
            &sam_token,
        )
        .await;
    assert_eq!(days.status, StatusCode::OK, "{:?}", days.body);
    assert_eq!(days.body["from"], "2026-03-29T00:00:00Z");
    assert_eq!(days.body["to"], "2026-03-29T23:00:00Z");
    let nonsense = app
        .get(
            &format!("/api/v1/helplines/{helpline}/coverage?from=yesterday&to=2026-03-29"),
            &sam_token,
        )
        .await;
    assert_eq!(nonsense.status, StatusCode::BAD_REQUEST);
    assert_eq!(nonsense.body["field"], "from", "{:?}", nonsense.body);
}

#[tokio::test]
async fn leave_removes_and_extra_shifts_add_cover() {
    let app = spawn_app_at("2026-11-16T00:00:00Z").await;
    let helpline = app.helpline("Bereavement line", "Asia/Kathmandu").await;
    let volunteer = app
        .volunteer("Mira", "+12025550105", "Asia/Kathmandu", &[helpline])
        .await;
    app.shift(volunteer, "monday", "09:00", "17:00").await;
    let path = format!("/api/v1/volunteers/{volunteer}/exceptions");
    let leave = app
        .post(&path, &app.admin, json!({"kind": "leave", "starts_at": "2026-11-23T00:00:00Z", "ends_at": "2026-11-24T00:00:00Z"}))
        .await;
    assert_eq!(leave.status, StatusCode::CREATED, "{:?}", leave.body);
    let extra = app
        .post(
            &path,
            &app.admin,
            json!({"kind": "extra_shift", "starts_at": "2026-11-22T10:00:00Z", "ends_at": "2026-11-22T11:00:00Z", "channels": "sms"}),
        )
        .await;
    assert_eq!(extra.status, StatusCode::CREATED);

    // Monday 2026-11-23 10:00 Kathmandu (+05:45) = 04:15Z: on leave.
    let on_leave = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-23T04:15:00Z"),
            &app.admin,
        )
        .await;
    assert!(on_shift_ids(&on_leave).is_empty());
    let next_week = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-30T04:15:00Z"),
            &app.admin,
        )
        .await;
    assert_eq!(on_shift_ids(&next_week), vec![volunteer as i64]);
    assert_eq!(
        next_week.body["volunteers"][0]["local_time"],
        "2026-11-30T10:00:00+05:45"
    );
    let extra_sms = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-22T10:30:00Z&channel=sms"),
            &app.admin,
        )
        .await;
    assert_eq!(on_shift_ids(&extra_sms), vec![volunteer as i64]);
    let extra_voice = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-22T10:30:00Z&channel=voice"),
            &app.admin,
        )
        .await;
    assert!(on_shift_ids(&extra_voice).is_empty());

    let listed = app.get(&path, &app.admin).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(2));
    let leave_id = id_of(&leave);
    let removed = app
        .call(
            reqwest::Method::DELETE,
            &format!("{path}/{leave_id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let back = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-23T04:15:00Z"),
            &app.admin,
        )
        .await;
    assert_eq!(on_shift_ids(&back), vec![volunteer as i64]);
}

#[tokio::test]
async fn coverage_rejects_reversed_and_overlong_periods() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let reversed = app
        .get(&format!("/api/v1/helplines/{helpline}/coverage?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z"), &app.admin)
        .await;
    assert_eq!(reversed.status, StatusCode::BAD_REQUEST);
    assert_eq!(reversed.body["field"], "to");
    let long = app
        .get(&format!("/api/v1/helplines/{helpline}/coverage?from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z"), &app.admin)
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    let bad_at = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=yesterday"),
            &app.admin,
        )
        .await;
    assert_eq!(bad_at.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_at.body["field"], "at");
}

#[tokio::test]
async fn the_roster_version_moves_with_each_committed_change_and_never_with_one_rolled_back() {
    use peerline::clock::Clock;
    use peerline::storage::entities::shift;
    use peerline::storage::roster;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};

    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let before = roster::version(&app.db).await.unwrap();
    let alice = app
        .volunteer("Alice", "+12025550101", "Europe/London", &[helpline])
        .await;
    let after_create = roster::version(&app.db).await.unwrap();
    assert!(
        after_create > before,
        "creating a volunteer moves the roster"
    );

    let shift_row = || shift::ActiveModel {
        volunteer_id: Set(VolunteerId(alice)),
        weekday: Set("monday".into()),
        start_time: Set("09:00".into()),
        end_time: Set("12:00".into()),
        channels: Set("voice".into()),
        created_at: Set(Clock::system().now()),
        ..Default::default()
    };
    let txn = app.db.begin().await.unwrap();
    shift_row().insert(&txn).await.unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(
        roster::version(&app.db).await.unwrap(),
        after_create,
        "a change that rolled back leaves every server's roster as it was"
    );

    let txn = app.db.begin().await.unwrap();
    shift_row().insert(&txn).await.unwrap();
    txn.commit().await.unwrap();
    assert!(roster::version(&app.db).await.unwrap() > after_create);
}

#[tokio::test]
async fn the_same_hours_on_several_weekdays_in_one_request_all_or_none() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let alice = app
        .volunteer("Alice", "+12025550101", "Europe/London", &[helpline])
        .await;
    let path = format!("/api/v1/volunteers/{alice}/shifts/weekdays");

    let made = app
        .post(
            &path,
            &app.admin,
            json!({"weekdays": ["monday", "wednesday", "friday"], "start": "19:00", "end": "22:00"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let days: Vec<&str> = made
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["weekday"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["monday", "wednesday", "friday"]);

    let repeated = app
        .post(
            &path,
            &app.admin,
            json!({"weekdays": ["tuesday", "tuesday"], "start": "19:00", "end": "22:00"}),
        )
        .await;
    assert_eq!(repeated.status, StatusCode::BAD_REQUEST);
    assert_eq!(repeated.body["field"], "weekdays[1]");
    let all = app
        .get(&format!("/api/v1/volunteers/{alice}/shifts"), &app.admin)
        .await;
    assert_eq!(
        all.body.as_array().unwrap().len(),
        3,
        "nothing of the refused request"
    );
}

#[tokio::test]
async fn someone_on_a_text_shift_trained_only_for_calls_takes_no_contacts_and_covers_nothing() {
    let app = spawn_app_at("2026-11-16T00:00:00Z").await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let vi = app
        .post(
            "/api/v1/volunteers",
            &app.admin,
            json!({"name": "Vi", "phone": "+12025550163", "time_zone": "Europe/London",
                   "languages": ["en"], "training_status": "trained",
                   "training_completed_on": "2026-01-10", "trained_voice": true,
                   "trained_sms": false, "helplines": [helpline]}),
        )
        .await;
    let vi = id_of(&vi);
    let shift = app
        .post(
            &format!("/api/v1/volunteers/{vi}/shifts"),
            &app.admin,
            json!({"weekday": "monday", "start": "09:00", "end": "17:00", "channels": "sms"}),
        )
        .await;
    assert_eq!(shift.status, StatusCode::CREATED, "{:?}", shift.body);

    let now = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-23T12:00:00Z"),
            &app.admin,
        )
        .await;
    assert_eq!(
        now.body["volunteers"][0]["takes_contacts"], false,
        "{:?}",
        now.body
    );
    assert_eq!(
        now.body["volunteers"][0]["not_taking_contacts"],
        "not_trained_for_channel"
    );
    let coverage = app
        .get(
            &format!("/api/v1/helplines/{helpline}/coverage?from=2026-11-23T00:00:00Z&to=2026-11-24T00:00:00Z"),
            &app.admin,
        )
        .await;
    assert_eq!(
        coverage.body["gaps"],
        json!([{"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"}])
    );
}

/// `PUT`s `csv` as the helpline's rota, with `token`; a dry run unless `apply`.
async fn import_rota(
    app: &crate::helpers::TestApp,
    helpline: i32,
    token: &str,
    csv: &str,
    apply: bool,
) -> crate::helpers::Reply {
    let response = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/helplines/{helpline}/rota.csv?dry_run={}",
            app.base, !apply
        ))
        .bearer_auth(token)
        .header("Content-Type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    crate::helpers::Reply {
        status: response.status(),
        body: response.json().await.unwrap(),
    }
}

async fn export_rota(app: &crate::helpers::TestApp, helpline: i32) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/helplines/{helpline}/rota.csv", app.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_coordinator_exports_the_rota_edits_it_in_a_spreadsheet_and_imports_it_after_a_dry_run() {
    use peerline::domain::access::Role;
    let app = spawn_app_at("2026-12-01T00:00:00Z").await;
    let helpline = app.helpline("NICU parents line", "Europe/London").await;
    let elsewhere = app.helpline("Elsewhere", "Europe/London").await;
    let ada = app
        .volunteer("Ada", "+12025550101", "Europe/London", &[helpline])
        .await;
    let ben = app
        .volunteer("=Ben", "+12025550102", "America/New_York", &[helpline])
        .await;
    let cat = app
        .volunteer("Cat", "+12025550103", "Europe/London", &[helpline])
        .await;
    app.volunteer("Zed", "+12025550104", "Europe/London", &[elsewhere])
        .await;
    for (who, day, start, end) in [
        (ada, "tuesday", "19:00", "22:00"),
        (ada, "friday", "19:00", "22:00"),
        (ben, "saturday", "22:00", "02:00"),
    ] {
        assert_eq!(
            app.shift(who, day, start, end).await.status,
            StatusCode::CREATED
        );
    }

    let exported = export_rota(&app, helpline).await;
    assert_eq!(
        exported,
        format!(
            "volunteer_id,volunteer,weekday,start,end,channels,valid_from,valid_until\n\
             {ben},'=Ben,saturday,22:00,02:00,both,,\n\
             {ada},Ada,tuesday,19:00,22:00,both,,\n\
             {ada},Ada,friday,19:00,22:00,both,,\n"
        )
    );

    // Friday goes, Sunday comes, Cat gets a Monday; two lines are wrong.
    let edited = format!(
        "\u{feff}volunteer_id,volunteer,weekday,start,end,channels,valid_from,valid_until\n\
         {ada},Ada,tuesday,19:00,22:00,both,,\n\
         {ada},Ada,Sunday,10:00,14:00,voice,,\n\
         ,Cat,monday,09:00,12:00,,2026-01-05,\n\
         ,Cat,tusday,13:00,15:00,,,\n\
         ,Zed,monday,09:00,12:00,,,\n"
    );
    let dry = import_rota(&app, helpline, &app.admin, &edited, false).await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.body);
    assert_eq!(dry.body["applied"], false);
    assert_eq!(
        dry.body["errors"],
        json!([
            {"line": 5, "column": "weekday", "message": "'tusday' is not a weekday (monday to sunday)"},
            {"line": 6, "column": "volunteer", "message": "no volunteer of this helpline is called Zed"},
        ])
    );
    assert_eq!(dry.body["unchanged"], 1);
    let added: Vec<(i64, &str, &str)> = dry.body["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["line"].as_i64().unwrap(),
                a["volunteer"].as_str().unwrap(),
                a["weekday"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(added, vec![(3, "Ada", "sunday"), (4, "Cat", "monday")]);
    assert_eq!(dry.body["removed"][0]["weekday"], "friday");
    assert_eq!(dry.body["removed"][0]["volunteer_id"], ada);
    assert_eq!(
        export_rota(&app, helpline).await,
        exported,
        "a dry run changes nothing"
    );

    // Imported with the errors still in it: refused whole, each line named.
    let refused = import_rota(&app, helpline, &app.admin, &edited, true).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "2 lines of the file cannot be used, so nothing was changed: line 5 (weekday)"
        ),
        "{message}"
    );
    assert_eq!(export_rota(&app, helpline).await, exported);

    // Mended and imported: Ada's and Cat's shifts are the file's; Ben, not named, keeps his.
    let mended = edited
        .replace("tusday", "tuesday")
        .replace(",Zed,monday,09:00,12:00,,,\n", "");
    let done = import_rota(&app, helpline, &app.admin, &mended, true).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["applied"], true);
    assert_eq!(
        export_rota(&app, helpline).await,
        format!(
            "volunteer_id,volunteer,weekday,start,end,channels,valid_from,valid_until\n\
             {ben},'=Ben,saturday,22:00,02:00,both,,\n\
             {ada},Ada,tuesday,19:00,22:00,both,,\n\
             {ada},Ada,sunday,10:00,14:00,voice,,\n\
             {cat},Cat,monday,09:00,12:00,both,2026-01-05,\n\
             {cat},Cat,tuesday,13:00,15:00,both,,\n"
        )
    );
    // Routing sees it at once: Ada is on shift on a Sunday morning in London.
    let on_sunday = app
        .get(
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-12-06T11:00:00Z"),
            &app.admin,
        )
        .await;
    assert_eq!(on_shift_ids(&on_sunday), vec![i64::from(ada)]);

    // Only those who manage the helpline may read or write its rota file.
    let other = app.token_for(Role::Supervisor, None, vec![elsewhere]).await;
    let hidden = import_rota(&app, helpline, &other, &mended, false).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let own = app
        .token_for(Role::Volunteer, Some(ada), vec![helpline])
        .await;
    let forbidden = import_rota(&app, helpline, &own, &mended, true).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_past_weeks_coverage_and_who_was_on_shift_stay_as_they_were_after_todays_rota_changes() {
    use peerline::clock::Clock;
    use peerline::domain::access::Role;
    use reqwest::Method;

    // The rota is set up on Sunday 1 November 2026.
    let app = spawn_app_at("2026-11-01T00:00:00Z").await;
    let helpline = app.helpline("NICU parents line", "Europe/London").await;
    let neonatal = app.topic(helpline, "neonatal", 1).await;
    let ada = app
        .volunteer("Ada", "+12025550101", "Europe/London", &[helpline])
        .await;
    let elsewhere = app.helpline("Elsewhere", "Europe/London").await;
    let ben = app
        .volunteer("Ben", "+12025550102", "Europe/London", &[helpline])
        .await;
    let supervisor = app.token_for(Role::Supervisor, None, vec![helpline]).await;
    let signed = app
        .call(
            Method::PUT,
            &format!("/api/v1/volunteers/{ada}/signoffs/{neonatal}"),
            Some(&supervisor),
            None,
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{:?}", signed.body);
    let tuesday = app.shift(ada, "tuesday", "09:00", "17:00").await;
    assert_eq!(tuesday.status, StatusCode::CREATED);
    let tuesday = id_of(&tuesday);
    assert_eq!(
        app.shift(ada, "thursday", "09:00", "17:00").await.status,
        StatusCode::CREATED
    );

    // Three weeks later, on another server, the coordinator looks back at the week of
    // 9 November: 16 of its 168 hours were covered.
    let later = crate::helpers::start_server_with(
        app.database_url(),
        Clock::starting_at(crate::helpers::utc("2026-11-20T12:00:00Z")),
        &[],
    )
    .await;
    let at_later = async |method: Method, path: String, body: Option<serde_json::Value>| {
        app.call_on(&later.base, method, &path, Some(&app.admin), body)
            .await
    };
    let report_path =
        format!("/api/v1/helplines/{helpline}/reports/coverage?from=2026-11-09&to=2026-11-15");
    let before = at_later(Method::GET, report_path.clone(), None).await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    assert_eq!(before.body["uncovered_hours"], 152.0);
    assert_eq!(before.body["topics"][0]["uncovered_hours"], 152.0);
    let past_tuesday = format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-10T10:00:00Z");
    assert_eq!(
        on_shift_ids(&at_later(Method::GET, past_tuesday.clone(), None).await),
        vec![i64::from(ada)]
    );

    // Today Ada gives up Tuesdays, loses her neonatal sign-off, and pauses.
    let removed = at_later(
        Method::DELETE,
        format!("/api/v1/volunteers/{ada}/shifts/{tuesday}"),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let revoked = app
        .call_on(
            &later.base,
            Method::DELETE,
            &format!("/api/v1/volunteers/{ada}/signoffs/{neonatal}"),
            Some(&supervisor),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{:?}", revoked.body);
    let paused = at_later(
        Method::PATCH,
        format!("/api/v1/volunteers/{ada}"),
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{:?}", paused.body);
    // And Ben moves to another helpline.
    let moved = at_later(
        Method::PATCH,
        format!("/api/v1/volunteers/{ben}"),
        Some(json!({"helplines": [elsewhere]})),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);

    // The week of 9 November reads as it did; so does who was on shift then, and who
    // served the helpline (Ben, though he serves another now).
    let after = at_later(Method::GET, report_path, None).await;
    assert_eq!(after.body, before.body);
    let load_path =
        format!("/api/v1/helplines/{helpline}/reports/volunteers?from=2026-11-09&to=2026-11-15");
    let load = at_later(Method::GET, load_path, None).await;
    let named: Vec<&str> = load.body["volunteers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["Ada", "Ben"], "{:?}", load.body);
    let this_week = at_later(
        Method::GET,
        format!("/api/v1/helplines/{helpline}/reports/volunteers?from=2026-11-23&to=2026-11-29"),
        None,
    )
    .await;
    assert_eq!(this_week.body["volunteers"].as_array().unwrap().len(), 1);
    assert_eq!(
        on_shift_ids(&at_later(Method::GET, past_tuesday, None).await),
        vec![i64::from(ada)]
    );
    // From now on the rota is as planned now: no Tuesday, and Thursday's shift is held
    // by someone paused, who takes no contacts.
    let next_tuesday = at_later(
        Method::GET,
        format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-24T10:00:00Z"),
        None,
    )
    .await;
    assert!(on_shift_ids(&next_tuesday).is_empty());
    let next_thursday = at_later(
        Method::GET,
        format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-26T10:00:00Z"),
        None,
    )
    .await;
    assert_eq!(next_thursday.body["volunteers"][0]["takes_contacts"], false);
    // A week straddling today: covered Tuesday and Thursday before today, nothing after.
    let straddling = at_later(
        Method::GET,
        format!(
            "/api/v1/helplines/{helpline}/coverage?from=2026-11-16T00:00:00Z&to=2026-11-27T00:00:00Z"
        ),
        None,
    )
    .await;
    assert_eq!(
        straddling.body["gaps"],
        json!([
            {"start": "2026-11-16T00:00:00Z", "end": "2026-11-17T09:00:00Z"},
            {"start": "2026-11-17T17:00:00Z", "end": "2026-11-19T09:00:00Z"},
            {"start": "2026-11-19T17:00:00Z", "end": "2026-11-27T00:00:00Z"},
        ])
    );
    // Before Ada joined, nobody was on the rota.
    let before_joining = at_later(
        Method::GET,
        format!("/api/v1/helplines/{helpline}/on-shift?at=2026-10-27T10:00:00Z"),
        None,
    )
    .await;
    assert!(on_shift_ids(&before_joining).is_empty());
    later.stop().await;
}

#[tokio::test]
async fn volunteers_from_before_the_rota_kept_records_are_recorded_as_they_stand_when_it_first_migrates()
 {
    use peerline::clock::Clock;
    use peerline::storage::entities::rota_record;
    use sea_orm::EntityTrait;

    let app = spawn_app_at("2026-11-01T00:00:00Z").await;
    let helpline = app.helpline("NICU parents line", "Europe/London").await;
    let ada = app
        .volunteer("Ada", "+12025550101", "Europe/London", &[helpline])
        .await;
    assert_eq!(
        app.shift(ada, "tuesday", "09:00", "17:00").await.status,
        StatusCode::CREATED
    );
    // A database from before records were kept: none, until the next server to start
    // migrates it and writes them.
    rota_record::Entity::delete_many()
        .exec(&app.db)
        .await
        .unwrap();

    let later = crate::helpers::start_server_with(
        app.database_url(),
        Clock::starting_at(crate::helpers::utc("2026-11-20T12:00:00Z")),
        &[],
    )
    .await;
    let past_tuesday = app
        .call_on(
            &later.base,
            reqwest::Method::GET,
            &format!("/api/v1/helplines/{helpline}/on-shift?at=2026-11-10T10:00:00Z"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(on_shift_ids(&past_tuesday), vec![i64::from(ada)]);
    later.stop().await;
}
