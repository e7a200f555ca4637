//! Permissions, enforced in the queries: supervisors see only their helplines and the
//! volunteers serving them; volunteers see and edit only their own records.

use peerline::domain::access::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    let none = app.call(Method::GET, "/api/v1/helplines", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.body["error"], "unauthorized");
    let wrong = app.get("/api/v1/helplines", "pl_not-a-real-token").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn supervisors_see_only_their_helplines_and_volunteers() {
    let app = spawn_app().await;
    let mine = app.helpline("Mine", "Europe/London").await;
    let theirs = app.helpline("Theirs", "Europe/London").await;
    let ours = app
        .volunteer("Ours", "+12025550120", "Europe/London", &[mine])
        .await;
    let other = app
        .volunteer("Other", "+12025550121", "Europe/London", &[theirs])
        .await;
    let supervisor = app.token_for(Role::Supervisor, None, vec![mine]).await;

    let helplines = app.get("/api/v1/helplines", &supervisor).await;
    let ids: Vec<i64> = helplines.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![mine as i64]);
    assert_eq!(
        app.get(&format!("/api/v1/helplines/{theirs}"), &supervisor)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/helplines/{theirs}/on-shift"), &supervisor)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let volunteers = app.get("/api/v1/volunteers", &supervisor).await;
    let ids: Vec<i64> = volunteers.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![ours as i64]);
    assert_eq!(
        app.get(&format!("/api/v1/volunteers/{other}"), &supervisor)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let edit_other = app.shift(other, "monday", "09:00", "10:00").await;
    assert_eq!(edit_other.status, StatusCode::CREATED, "admin may");
    let as_supervisor = app
        .post(
            &format!("/api/v1/volunteers/{other}/shifts"),
            &supervisor,
            json!({"weekday": "monday", "start": "09:00", "end": "10:00"}),
        )
        .await;
    assert_eq!(as_supervisor.status, StatusCode::NOT_FOUND);

    // A supervisor may add volunteers to their own helpline, not to another.
    let new = json!({"name": "New", "phone": "+12025550122", "time_zone": "Europe/London", "languages": ["en"]});
    let mut to_theirs = new.clone();
    to_theirs["helplines"] = json!([theirs]);
    assert_eq!(
        app.post("/api/v1/volunteers", &supervisor, to_theirs)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let mut to_mine = new;
    to_mine["helplines"] = json!([mine]);
    assert_eq!(
        app.post("/api/v1/volunteers", &supervisor, to_mine)
            .await
            .status,
        StatusCode::CREATED
    );

    // Admin-only actions.
    let create = app
        .post(
            "/api/v1/helplines",
            &supervisor,
            json!({"name": "X", "time_zone": "UTC",
        "greeting": "Hi", "voice_language": "en", "languages": ["en"]}),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/users", &supervisor).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn volunteers_edit_only_their_own_profile_shifts_and_pause() {
    let app = spawn_app().await;
    let helpline = app.helpline("Line", "Europe/London").await;
    let me = app
        .volunteer("Me", "+12025550130", "Europe/London", &[helpline])
        .await;
    let colleague = app
        .volunteer("Colleague", "+12025550131", "Europe/London", &[helpline])
        .await;
    let token = app.token_for(Role::Volunteer, Some(me), vec![]).await;

    let listed = app.get("/api/v1/volunteers", &token).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed.body["items"][0]["id"], me);
    assert_eq!(
        app.get(&format!("/api/v1/volunteers/{colleague}"), &token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let mine = app
        .post(
            &format!("/api/v1/volunteers/{me}/shifts"),
            &token,
            json!({"weekday": "friday", "start": "19:00", "end": "23:00"}),
        )
        .await;
    assert_eq!(mine.status, StatusCode::CREATED);
    let theirs = app
        .post(
            &format!("/api/v1/volunteers/{colleague}/shifts"),
            &token,
            json!({"weekday": "friday", "start": "19:00", "end": "23:00"}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    let pause = app
        .call(
            Method::PATCH,
            &format!("/api/v1/volunteers/{me}"),
            Some(&token),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(pause.status, StatusCode::OK);
    assert_eq!(pause.body["active"], false);
    let promote = app
        .call(Method::PATCH, &format!("/api/v1/volunteers/{me}"), Some(&token), Some(json!({"limits": {
            "max_contacts_per_shift": 50, "long_contact_minutes": 60, "rest_minutes_after_long": 0}})))
        .await;
    assert_eq!(promote.status, StatusCode::FORBIDDEN);
    assert!(promote.body["message"].as_str().unwrap().contains("limits"));
    let unchanged = app.get(&format!("/api/v1/volunteers/{me}"), &token).await;
    assert_eq!(unchanged.body["limits"]["max_contacts_per_shift"], 6);

    // Volunteers cannot ask rota questions about the whole helpline, nor sign off.
    assert_eq!(
        app.get(&format!("/api/v1/helplines/{helpline}/on-shift"), &token)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let topic = app.topic(helpline, "neonatal", 1).await;
    let signoff = app
        .call(
            Method::PUT,
            &format!("/api/v1/volunteers/{me}/signoffs/{topic}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(signoff.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_supervisor_of_one_helpline_cannot_redirect_a_shared_volunteers_calls() {
    let app = spawn_app().await;
    let a = app.helpline("Peerline A", "Europe/London").await;
    let b = app.helpline("Peerline B", "Europe/London").await;
    let shared = app
        .volunteer("Sam", "+12025550111", "Europe/London", &[a, b])
        .await;
    let only_b = app.token_for(Role::Supervisor, None, vec![b]).await;
    let both = app.token_for(Role::Supervisor, None, vec![a, b]).await;
    let patch = |token: &str, body: serde_json::Value| {
        let path = format!("/api/v1/volunteers/{shared}");
        let token = token.to_owned();
        let app = &app;
        async move {
            app.call(Method::PATCH, &path, Some(&token), Some(body))
                .await
        }
    };
    // Helpline B's supervisor cannot send helpline A's calls to another phone...
    let redirect = patch(&only_b, json!({"phone": "+12025550199"})).await;
    assert_eq!(
        redirect.status,
        StatusCode::FORBIDDEN,
        "{:?}",
        redirect.body
    );
    assert!(
        redirect.body["message"]
            .as_str()
            .unwrap()
            .contains("a supervisor of every helpline they serve"),
        "{:?}",
        redirect.body
    );
    for change in [
        json!({"active": false}),
        json!({"training_status": "lapsed"}),
        json!({"limits": {"max_contacts_per_shift": 1, "long_contact_minutes": 40,
                          "rest_minutes_after_long": 15}}),
    ] {
        let refused = patch(&only_b, change.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{change}: {:?}",
            refused.body
        );
    }
    // ...but may correct their name; a supervisor of both helplines may do all of it.
    assert_eq!(
        patch(&only_b, json!({"name": "Samira"})).await.status,
        StatusCode::OK
    );
    let moved = patch(&both, json!({"phone": "+12025550199"})).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.body["phone"], "+12025550199");
}

#[tokio::test]
async fn a_topic_of_another_helpline_does_not_exist_for_a_supervisor() {
    let app = spawn_app().await;
    let a = app.helpline("Peerline A", "Europe/London").await;
    let b = app.helpline("Peerline B", "Europe/London").await;
    let topic_of_a = app.topic(a, "neonatal", 1).await;
    let volunteer = app
        .volunteer("Sam", "+12025550111", "Europe/London", &[b])
        .await;
    let supervisor_b = app.token_for(Role::Supervisor, None, vec![b]).await;
    let reply = app
        .call(
            Method::PUT,
            &format!("/api/v1/volunteers/{volunteer}/signoffs/{topic_of_a}"),
            Some(&supervisor_b),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
}

#[tokio::test]
async fn tokens_are_named_expire_list_without_secrets_and_are_revoked_one_by_one() {
    let app = spawn_app().await;
    let me = app.get("/api/v1/me", &app.admin).await;
    let admin_id = me.body["user_id"].as_i64().unwrap();
    let tokens = format!("/api/v1/users/{admin_id}/tokens");
    let script = app
        .post(&tokens, &app.admin, json!({"name": "reporting script"}))
        .await;
    assert_eq!(script.status, StatusCode::CREATED, "{:?}", script.body);
    let script_token = script.body["token"].as_str().unwrap().to_owned();
    let script_id = script.body["id"].as_i64().unwrap();
    assert_eq!(
        app.get("/api/v1/me", &script_token).await.status,
        StatusCode::OK
    );
    let past = app
        .post(
            &tokens,
            &app.admin,
            json!({"expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST);
    assert_eq!(past.body["field"], "expires_at");

    // Listed without secrets, with their last use.
    let listed = app.get(&tokens, &app.admin).await;
    let items = listed.body.as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(!listed.body.to_string().contains(&script_token));
    let entry = items.iter().find(|t| t["id"] == script_id).unwrap();
    assert_eq!(entry["name"], "reporting script");
    assert!(entry["last_used_at"].is_string(), "{entry}");

    // Revoking one leaves the other working.
    let revoked = app
        .call(
            Method::DELETE,
            &format!("{tokens}/{script_id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &script_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/me", &app.admin).await.status,
        StatusCode::OK
    );
    let again = app
        .call(
            Method::DELETE,
            &format!("{tokens}/{script_id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // A token past its expiry is refused.
    let soon = (peerline::clock::Clock::system().now() + chrono::Duration::seconds(1)).to_rfc3339();
    let brief = app
        .post(&tokens, &app.admin, json!({"expires_at": soon}))
        .await;
    assert_eq!(brief.status, StatusCode::CREATED, "{:?}", brief.body);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let expired = app
        .get("/api/v1/me", brief.body["token"].as_str().unwrap())
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
}
