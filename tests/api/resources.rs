//! Create, read, update, delete and paginate the admin resources.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{id_of, spawn_app};

#[tokio::test]
async fn health_probes_answer() {
    let app = spawn_app().await;
    let alive = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(alive.status, StatusCode::OK);
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["database"], true);
}

#[tokio::test]
async fn lists_are_paginated_in_id_order() {
    let app = spawn_app().await;
    let ids = [
        app.helpline("A", "UTC").await,
        app.helpline("B", "UTC").await,
        app.helpline("C", "UTC").await,
    ];
    let first = app.get("/api/v1/helplines?limit=2", &app.admin).await;
    let names: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["A", "B"]);
    assert_eq!(first.body["next_after"], ids[1]);
    let second = app
        .get(
            &format!("/api/v1/helplines?limit=2&after={}", ids[1]),
            &app.admin,
        )
        .await;
    assert_eq!(second.body["items"][0]["name"], "C");
    assert_eq!(second.body["next_after"], json!(null));
    let bad = app.get("/api/v1/helplines?limit=lots", &app.admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "limit");
}

#[tokio::test]
async fn helpline_topic_and_volunteer_updates_persist() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let updated = app
        .call(Method::PUT, &format!("/api/v1/helplines/{helpline}"), Some(&app.admin), Some(json!({
            "name": "Perinatal line", "time_zone": "Australia/Sydney", "greeting": "Hello & welcome",
            "voice_language": "en-AU", "languages": ["en", "cy"], "fallback_number": "+61491570110",
            "routing": {"ring_group_size": 3, "continuity_enabled": true}})))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    let fetched = app
        .get(&format!("/api/v1/helplines/{helpline}"), &app.admin)
        .await;
    assert_eq!(fetched.body["time_zone"], "Australia/Sydney");
    assert_eq!(fetched.body["fallback_number"], "+61491570110");
    assert_eq!(fetched.body["routing"]["ring_group_size"], 3);
    assert_eq!(
        fetched.body["routing"]["ring_timeout_secs"], 20,
        "defaults fill what is left out"
    );

    let topic = app.topic(helpline, "loss", 2).await;
    let strict = app
        .call(
            Method::PUT,
            &format!("/api/v1/helplines/{helpline}/topics/{topic}"),
            Some(&app.admin),
            Some(json!({"key": "loss", "label": "baby loss", "digit": 2, "strict": true})),
        )
        .await;
    assert_eq!(strict.body["strict"], true);
    assert_eq!(strict.body["label"], "baby loss");

    let volunteer = app
        .volunteer("Vee", "+12025550140", "Europe/London", &[helpline])
        .await;
    let changed = app
        .call(
            Method::PATCH,
            &format!("/api/v1/volunteers/{volunteer}"),
            Some(&app.admin),
            Some(json!({"training_status": "lapsed", "languages": ["en", "cy"]})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let fetched = app
        .get(&format!("/api/v1/volunteers/{volunteer}"), &app.admin)
        .await;
    assert_eq!(fetched.body["training_status"], "lapsed");
    assert_eq!(fetched.body["languages"], json!(["en", "cy"]));
    assert_eq!(
        fetched.body["phone"], "+12025550140",
        "untouched fields stay"
    );

    let removed = app
        .call(
            Method::DELETE,
            &format!("/api/v1/volunteers/{volunteer}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/volunteers/{volunteer}"), &app.admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/v1/helplines/{helpline}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/helplines/{helpline}/topics"), &app.admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn conflicts_never_show_their_number_and_refuse_duplicates() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let volunteer = app
        .volunteer("Vee", "+12025550140", "Europe/London", &[helpline])
        .await;
    let path = format!("/api/v1/volunteers/{volunteer}/conflicts");
    let declared = app
        .post(
            &path,
            &app.admin,
            json!({"number": "+12025550187", "note": "neighbour"}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{:?}", declared.body);
    assert_eq!(declared.body["number_hint"], "...87");
    assert!(
        !declared.body.to_string().contains("2025550187"),
        "the number is never returned"
    );
    let again = app
        .post(&path, &app.admin, json!({"number": "+1 202-555-0187"}))
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "same number, differently written"
    );
    let listed = app.get(&path, &app.admin).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    let removed = app
        .call(
            Method::DELETE,
            &format!("{path}/{}", id_of(&declared)),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_new_volunteer_says_why_they_will_get_no_contacts_until_trained() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let new = app
        .post(
            "/api/v1/volunteers",
            &app.admin,
            json!({"name": "Nia", "phone": "+12025550161", "time_zone": "Europe/London",
                   "languages": ["en"], "helplines": [helpline]}),
        )
        .await;
    assert_eq!(new.status, StatusCode::CREATED, "{:?}", new.body);
    assert_eq!(new.body["not_taking_contacts"], "in_training");

    let id = id_of(&new);
    let trained = app
        .call(
            Method::PATCH,
            &format!("/api/v1/volunteers/{id}"),
            Some(&app.admin),
            Some(json!({"training_status": "trained", "training_completed_on": "2026-11-01"})),
        )
        .await;
    assert_eq!(
        trained.body["not_taking_contacts"], "not_trained_for_channel",
        "trained, but for neither voice nor texts: {:?}",
        trained.body
    );
    let ready = app
        .call(
            Method::PATCH,
            &format!("/api/v1/volunteers/{id}"),
            Some(&app.admin),
            Some(json!({"trained_voice": true})),
        )
        .await;
    assert!(
        ready.body["not_taking_contacts"].is_null(),
        "{:?}",
        ready.body
    );
}

#[tokio::test]
async fn a_helpline_is_changed_by_a_merge_patch_or_by_sending_back_what_was_read() {
    let app = spawn_app().await;
    let id = app.helpline("Line", "Europe/London").await;
    let path = format!("/api/v1/helplines/{id}");

    let patched = app
        .call(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(json!({"routing": {"max_wait_secs": 120}, "greeting": "Hello, friend."})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["routing"]["max_wait_secs"], 120);
    assert_eq!(patched.body["greeting"], "Hello, friend.");
    assert_eq!(
        patched.body["name"], "Line",
        "what the patch left out stays"
    );

    let bad = app
        .call(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(json!({"routing": {"ring_group_size": 11}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "routing.ring_group_size");

    // What a GET returns can be edited and sent back as it is.
    let mut read = app.get(&path, &app.admin).await.body;
    read["name"] = json!("Line two");
    let put = app
        .call(Method::PUT, &path, Some(&app.admin), Some(read))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    assert_eq!(put.body["name"], "Line two");
    assert_eq!(put.body["routing"]["max_wait_secs"], 120);
}

#[tokio::test]
async fn a_volunteer_edits_their_profile_from_what_they_read() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let id = app
        .volunteer("Vi", "+12025550162", "Europe/London", &[helpline])
        .await;
    let token = app
        .token_for(peerline::domain::access::Role::Volunteer, Some(id), vec![])
        .await;
    let path = format!("/api/v1/volunteers/{id}");

    let mut mine = app.get(&path, &token).await.body;
    mine["name"] = json!("Vienna");
    mine["active"] = json!(false);
    let saved = app
        .call(Method::PATCH, &path, Some(&token), Some(mine))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    assert_eq!(saved.body["name"], "Vienna");
    assert_eq!(saved.body["not_taking_contacts"], "paused");

    let promoted = app
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            Some(
                json!({"trained_sms": false, "limits": {"max_contacts_per_shift": 50,
                "long_contact_minutes": 40, "rest_minutes_after_long": 0,
                "max_text_conversations": 3}}),
            ),
        )
        .await;
    assert_eq!(
        promoted.status,
        StatusCode::FORBIDDEN,
        "{:?}",
        promoted.body
    );
}

#[tokio::test]
async fn every_answer_carries_its_request_id() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let url = format!("{}/healthz", app.base);

    let given = client
        .get(&url)
        .header("X-Request-Id", "lb-7f3a")
        .send()
        .await
        .unwrap();
    let fresh = client.get(&url).send().await.unwrap();

    assert_eq!(given.headers()["x-request-id"], "lb-7f3a");
    let id = fresh.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
}

#[tokio::test]
async fn every_change_to_where_calls_go_is_in_the_audit_log_with_numbers_masked() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    app.number(line, "+12025550100").await;
    let ann = app
        .volunteer("Ann", "+12025550111", "Europe/London", &[line])
        .await;
    let patch = |path: String, body: serde_json::Value| {
        let app = &app;
        async move {
            app.call(reqwest::Method::PATCH, &path, Some(&app.admin), Some(body))
                .await
        }
    };
    let moved = patch(
        format!("/api/v1/volunteers/{ann}"),
        json!({"phone": "+12025550199"}),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let fallback = patch(
        format!("/api/v1/helplines/{line}"),
        json!({"fallback_number": "+12025550188", "routing": {"max_wait_secs": 150}}),
    )
    .await;
    assert_eq!(fallback.status, StatusCode::OK, "{:?}", fallback.body);
    let topic = app.topic(line, "neonatal", 1).await;
    let removed = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/helplines/{line}/topics/{topic}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);

    let log = app
        .get(
            &format!("/api/v1/audit?helpline_id={line}&limit=200"),
            &app.admin,
        )
        .await;
    let entries = log.body["items"].as_array().unwrap();
    let entry = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {entries:?}"))
            .clone()
    };
    assert_eq!(
        entry("change_volunteer")["detail"]["changes"]["phone"],
        json!({"before": "...11", "after": "...99"})
    );
    let helpline = entry("change_helpline")["detail"]["changes"].clone();
    assert_eq!(
        helpline["fallback_number"],
        json!({"before": null, "after": "...88"})
    );
    assert_eq!(helpline["routing.max_wait_secs"]["after"], 150);
    assert_eq!(
        entry("add_number")["detail"]["changes"]["number"]["after"],
        "...00"
    );
    assert!(entry("create_volunteer")["detail"]["changes"]["phone"].is_object());
    assert_eq!(entry("add_topic")["detail"]["changes"]["digit"]["after"], 1);
    assert_eq!(
        entry("remove_topic")["detail"]["changes"]["key"]["before"],
        "neonatal"
    );
    let text = log.body.to_string();
    for number in ["2025550111", "2025550199", "2025550188"] {
        assert!(!text.contains(number), "{number} appears in the audit log");
    }
}
