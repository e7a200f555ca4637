//! Bad input gets a 4xx naming what is wrong, and writes nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn invalid_volunteer_fields_are_named_and_nothing_is_written() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let valid = json!({"name": "Ann", "phone": "+12025550110", "time_zone": "Europe/London", "languages": ["en"],
                       "helplines": [helpline]});
    let cases = [
        (
            "phone",
            json!("12345"),
            "not a valid international phone number",
        ),
        (
            "time_zone",
            json!("Europe/Atlantis"),
            "not a known IANA time zone",
        ),
        ("languages", json!(["English"]), "not a language tag"),
        ("training_status", json!("expert"), "unknown variant"),
        ("helplines", json!([999]), "no helpline 999"),
    ];
    for (field, value, expected) in cases {
        let mut body = valid.clone();
        body[field] = value;
        let reply = app.post("/api/v1/volunteers", &app.admin, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{field}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["error"], "invalid_field");
        assert!(
            reply.body["field"]
                .as_str()
                .unwrap_or("")
                .starts_with(field),
            "{:?}",
            reply.body
        );
        assert!(
            reply.body["message"]
                .as_str()
                .unwrap_or("")
                .contains(expected),
            "{:?}",
            reply.body
        );
    }
    let listed = app.get("/api/v1/volunteers", &app.admin).await;
    assert_eq!(
        listed.body["items"],
        json!([]),
        "no partial volunteer was written"
    );
}

#[tokio::test]
async fn invalid_shifts_are_rejected() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let volunteer = app
        .volunteer("Ann", "+12025550110", "Europe/London", &[helpline])
        .await;
    let zero = app.shift(volunteer, "monday", "09:00", "09:00").await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    assert_eq!(zero.body["field"], "end");
    assert!(
        zero.body["message"]
            .as_str()
            .unwrap()
            .contains("zero length")
    );
    let weekday = app.shift(volunteer, "funday", "09:00", "10:00").await;
    assert_eq!(weekday.status, StatusCode::BAD_REQUEST);
    assert_eq!(weekday.body["field"], "weekday");
    let time = app.shift(volunteer, "monday", "25:00", "10:00").await;
    assert_eq!(time.body["field"], "start");
    let shifts = app
        .get(
            &format!("/api/v1/volunteers/{volunteer}/shifts"),
            &app.admin,
        )
        .await;
    assert_eq!(shifts.body, json!([]));
}

#[tokio::test]
async fn malformed_oversized_and_non_json_bodies() {
    let app = spawn_app().await;
    let malformed = app
        .raw_post(
            "/api/v1/helplines",
            &app.admin,
            "application/json",
            b"{\"name\":".to_vec(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.body["error"], "invalid_body");
    let huge = format!("{{\"name\":\"{}\"}}", "x".repeat(200 * 1024));
    let oversized = app
        .raw_post(
            "/api/v1/helplines",
            &app.admin,
            "application/json",
            huge.into_bytes(),
        )
        .await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversized.body["error"], "payload_too_large");
    let form = app
        .raw_post(
            "/api/v1/helplines",
            &app.admin,
            "application/x-www-form-urlencoded",
            b"name=x".to_vec(),
        )
        .await;
    assert_eq!(form.status, StatusCode::BAD_REQUEST);
    let unknown = app
        .post(
            "/api/v1/helplines",
            &app.admin,
            json!({"name": "A", "time_zone": "UTC", "greeting": "Hi",
              "voice_language": "en", "languages": ["en"], "colour": "blue"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body["message"].as_str().unwrap().contains("colour"));
    let listed = app.get("/api/v1/helplines", &app.admin).await;
    assert_eq!(listed.body["items"], json!([]));
}

#[tokio::test]
async fn helpline_routing_bounds_and_duplicates() {
    let app = spawn_app().await;
    let too_many = app
        .post(
            "/api/v1/helplines",
            &app.admin,
            json!({"name": "A", "time_zone": "UTC", "greeting": "Hi",
              "voice_language": "en", "languages": ["en"], "routing": {"ring_group_size": 11}}),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_many.body["field"], "routing.ring_group_size");

    let helpline = app.helpline("Line", "Europe/London").await;
    app.topic(helpline, "neonatal", 1).await;
    let same_digit = app
        .post(
            &format!("/api/v1/helplines/{helpline}/topics"),
            &app.admin,
            json!({"key": "loss", "label": "loss", "digit": 1}),
        )
        .await;
    assert_eq!(same_digit.status, StatusCode::CONFLICT);
    assert_eq!(same_digit.body["field"], "digit", "{:?}", same_digit.body);
    let number = json!({"number": "+1 202 555 0150"});
    let added = app
        .post(
            &format!("/api/v1/helplines/{helpline}/numbers"),
            &app.admin,
            number.clone(),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    assert_eq!(added.body["number"], "+12025550150");
    let again = app
        .post(
            &format!("/api/v1/helplines/{helpline}/numbers"),
            &app.admin,
            number,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["field"], "number", "{:?}", again.body);
    app.volunteer("Alice", "+12025550101", "Europe/London", &[helpline])
        .await;
    let same_phone = app
        .post(
            "/api/v1/volunteers",
            &app.admin,
            json!({"name": "Al", "phone": "+12025550101", "time_zone": "Europe/London",
                   "languages": ["en"], "helplines": [helpline]}),
        )
        .await;
    assert_eq!(same_phone.status, StatusCode::CONFLICT);
    assert_eq!(same_phone.body["field"], "phone", "{:?}", same_phone.body);
}

#[tokio::test]
async fn a_flood_from_one_token_is_slowed_and_nobody_else_is() {
    let app = spawn_app().await;
    let limited = app
        .instance_with(&[("PEERLINE_API_RATE_LIMIT", "60")])
        .await;
    let client = reqwest::Client::new();
    let get = |token: &str| {
        client
            .get(format!("{limited}/api/v1/me"))
            .bearer_auth(token)
            .send()
    };
    let other = app
        .token_for(peerline::domain::access::Role::Admin, None, vec![])
        .await;
    // A burst of 12 (a fifth of a minute's 60, at least 10) passes; the next waits.
    for _ in 0..12 {
        assert_eq!(get(&app.admin).await.unwrap().status(), StatusCode::OK);
    }
    let refused = get(&app.admin).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    // Another token, and Twilio's webhooks, are not held back by it.
    assert_eq!(get(&other).await.unwrap().status(), StatusCode::OK);
    // More webhooks from one address than a burst allows: each is judged on its
    // signature (these are unsigned), none is turned away for volume.
    for _ in 0..20 {
        let webhook = client
            .post(format!("{limited}/twilio/voice"))
            .form(&[("CallSid", "CA1")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            webhook.status(),
            StatusCode::FORBIDDEN,
            "unsigned, not rate limited"
        );
    }
    let health = client
        .get(format!("{limited}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_sends_its_body_too_slowly_gets_408_and_nothing_is_written() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/helplines HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"name\": \"Sl",
        app.admin
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // ...and the rest never comes.
    let mut answer = vec![0u8; 512];
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut answer))
        .await
        .expect("the server answers a stalled body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    let list = app.get("/api/v1/helplines", &app.admin).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_by_name() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/volunteers?helpline=1",
        "/api/v1/helplines?limit=5&afterr=3",
        "/api/v1/contacts?helpline=1",
    ] {
        let reply = app.get(path, &app.admin).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            reply.body
        );
        let said = reply.body.to_string();
        assert!(
            said.contains("unknown field `helpline`") || said.contains("unknown field `afterr`"),
            "{path}: {said}"
        );
    }
    let named = app
        .get("/api/v1/volunteers?helpline_id=1", &app.admin)
        .await;
    assert_eq!(named.status, StatusCode::OK, "{:?}", named.body);
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_by_field_and_never_a_500() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/api/v1/helplines",
            &app.admin,
            json!({"name": "Line\u{0}", "time_zone": "UTC", "greeting": "Hi",
                   "voice_language": "en", "languages": ["en"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert_eq!(reply.body["field"], "name");
    let list = app.get("/api/v1/helplines", &app.admin).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn a_volunteers_phone_must_be_a_persons_and_never_the_helplines_own() {
    let app = spawn_app().await;
    let line = app.helpline("Peerline", "Europe/London").await;
    app.number(line, "+12025550100").await;
    let volunteer = |phone: &str| {
        json!({"name": "Ann", "phone": phone, "time_zone": "Europe/London", "languages": ["en"],
               "training_status": "in_training", "helplines": [line]})
    };
    // A premium-rate number, and the helpline's own number (it would ring itself).
    for (phone, says) in [
        ("+449098790000", "mobile or landline"),
        ("+12025550100", "helplines' own"),
    ] {
        let refused = app
            .post("/api/v1/volunteers", &app.admin, volunteer(phone))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{phone}: {:?}",
            refused.body
        );
        assert_eq!(refused.body["field"], "phone");
        assert!(
            refused.body["message"].as_str().unwrap().contains(says),
            "{:?}",
            refused.body
        );
    }
    let listed = app.get("/api/v1/volunteers", &app.admin).await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(0),
        "nothing written"
    );
    // Nor may an existing volunteer's phone become the helpline's fallback number.
    let ann = app
        .volunteer("Ann", "+12025550111", "Europe/London", &[line])
        .await;
    let fallback = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/helplines/{line}"),
            Some(&app.admin),
            Some(json!({"fallback_number": "+12025550188"})),
        )
        .await;
    assert_eq!(fallback.status, StatusCode::OK, "{:?}", fallback.body);
    let moved = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/volunteers/{ann}"),
            Some(&app.admin),
            Some(json!({"phone": "+12025550188"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST, "{:?}", moved.body);
    assert_eq!(moved.body["field"], "phone");
}

#[tokio::test]
async fn neither_an_escaped_path_nor_made_up_tokens_escape_the_rate_limit() {
    let app = spawn_app().await;
    let limited = app
        .instance_with(&[("PEERLINE_API_RATE_LIMIT", "60")])
        .await;
    let client = reqwest::Client::new();
    // `/api/v%31/` is `/api/v1/` to the router, and counts as such.
    let escaped = || {
        client
            .get(format!("{limited}/api/v%31/me"))
            .bearer_auth(&app.admin)
            .send()
    };
    for _ in 0..12 {
        assert_eq!(escaped().await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        escaped().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A new made-up token on every request: after ten refusals the address waits.
    let mut answers = Vec::new();
    for n in 0..12 {
        let reply = client
            .get(format!("{limited}/api/v1/helplines"))
            .bearer_auth(format!("pl_made-up-{n}"))
            .send()
            .await
            .unwrap();
        answers.push(reply.status());
    }
    assert_eq!(&answers[..10], &[StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(&answers[10..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
}

#[tokio::test]
async fn an_id_that_is_no_number_is_a_404_in_the_apis_own_shape() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/contacts/abc", &app.admin).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["error"], "not_found", "{:?}", reply.body);
}
