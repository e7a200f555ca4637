//! `/metrics`: behind its token, with webhook latency, ended contacts and live figures.

use peerline::simulator::{self, Answer, CallScript};
use reqwest::StatusCode;

use crate::helpers::spawn_app_with;

const TOKEN: &str = "metrics-token-0123456789";

#[tokio::test]
async fn metrics_are_behind_their_token_and_show_calls_as_they_happen() {
    let app = spawn_app_with(&[("PEERLINE_METRICS_TOKEN", TOKEN)]).await;
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, "+12025550100").await;
    // A volunteer who is paused: nobody takes the call, and the metrics say why.
    let ann = app
        .volunteer("Ann", "+12025550111", "Europe/London", &[helpline])
        .await;
    let paused = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/volunteers/{ann}"),
            Some(&app.admin),
            Some(serde_json::json!({"active": false})),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{:?}", paused.body);
    // Nobody is on shift: the caller is offered voicemail and the call ends.
    let script = CallScript {
        to: "+12025550100".into(),
        from: "+12025550142".into(),
        digits: vec![],
        answer: Answer::Nobody,
        talk_secs: 0,
    };
    simulator::play_call(&app.twilio(), &script).await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/metrics", app.base);

    let anonymous = client.get(&url).send().await.unwrap();
    let wrong = client.get(&url).bearer_auth("nope").send().await.unwrap();
    let scraped = client.get(&url).bearer_auth(TOKEN).send().await.unwrap();

    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = scraped.text().await.unwrap();
    for expected in [
        "peerline_webhook_seconds_bucket{route=\"/twilio/voice\"",
        "peerline_contacts_ended_total{channel=\"voice\"",
        "peerline_callers_holding ",
        "peerline_outbox_due ",
        "peerline_spool_records ",
        &format!("peerline_volunteers{{helpline=\"{helpline}\",state=\"paused\"}} 1"),
        &format!("peerline_volunteers{{helpline=\"{helpline}\",state=\"free\"}} 0"),
        "peerline_job_passes_total{job=\"sweeper\"}",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}
