//! Asking callers afterwards whether they felt understood: keypad questions once the
//! volunteer hangs up, recorded per contact, seen by supervisors per contact and by
//! volunteers only as the helpline's figures.

use peerline::domain::access::Role;
use peerline::domain::survey::SurveyAnswer;
use peerline::simulator::{Answer, CallScript, Transcript, play_call};
use peerline::storage::entities::{contact, survey_answer};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_at};

const LINE: &str = "+12025550100";
const ALICE: &str = "+12025550111";
const NOW: &str = "2026-11-22T12:00:00Z";

struct Line {
    app: TestApp,
    helpline: i32,
    alice: i32,
}

async fn line() -> Line {
    let app = spawn_app_at(NOW).await;
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    let alice = app
        .volunteer("Alice", ALICE, "Europe/London", &[helpline])
        .await;
    app.on_shift_around(alice, NOW).await;
    Line {
        app,
        helpline,
        alice,
    }
}

impl Line {
    async fn ask_afterwards(&self, questions: &[&str]) {
        let settings = json!({"name": "Peerline", "time_zone": "Europe/London",
            "greeting": "Hello.", "voice_language": "en-GB", "languages": ["en"],
            "fallback_number": null,
            "callers": {"survey_enabled": true, "survey_questions": questions}});
        let reply = self
            .app
            .call(
                Method::PUT,
                &format!("/api/v1/helplines/{}", self.helpline),
                Some(&self.app.admin),
                Some(settings),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }

    /// A call Alice answers and then hangs up on, the caller pressing `digits` after.
    async fn call(&self, from: &str, digits: &[&str]) -> Transcript {
        let script = CallScript {
            to: LINE.into(),
            from: from.into(),
            digits: digits.iter().map(|d| (*d).to_owned()).collect(),
            answer: Answer::First,
            talk_secs: 600,
        };
        play_call(&self.app.twilio(), &script).await.unwrap()
    }

    async fn contact_id(&self, call: &Transcript) -> i32 {
        contact::Entity::find()
            .filter(contact::Column::ProviderSid.eq(&call.call_sid))
            .one(&self.app.db)
            .await
            .unwrap()
            .unwrap()
            .id
            .0
    }
}

#[tokio::test]
async fn a_caller_answers_the_questions_after_the_volunteer_hangs_up() {
    let line = line().await;
    // Off by default: the caller only hears goodbye.
    let quiet = line.call("+12025550141", &["1"]).await;
    assert!(
        !quiet.lines.iter().any(|l| l.contains("feel understood")),
        "{:#?}",
        quiet.lines
    );

    line.ask_afterwards(&["Would you call us again?"]).await;
    let call = line.call("+12025550142", &["1", "3"]).await;
    assert_eq!(call.connected_to.as_deref(), Some(ALICE));
    let heard = call.lines.join("\n");
    assert!(
        heard.contains("Did you feel understood by someone who had been through something similar? Press 1 for yes, 2 for somewhat, or 3 for no."),
        "{heard}"
    );
    assert!(heard.contains("Would you call us again?"), "{heard}");
    let id = line.contact_id(&call).await;
    let answers: Vec<(i32, SurveyAnswer)> = survey_answer::Entity::find()
        .filter(survey_answer::Column::ContactId.eq(id))
        .order_by_asc(survey_answer::Column::Question)
        .all(&line.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.question, a.answer))
        .collect();
    assert_eq!(answers, [(1, SurveyAnswer::Yes), (2, SurveyAnswer::No)]);

    // A caller who presses nothing is simply thanked: nothing is recorded.
    let silent = line.call("+12025550143", &[]).await;
    let silent_id = line.contact_id(&silent).await;
    let none = survey_answer::Entity::find()
        .filter(survey_answer::Column::ContactId.eq(silent_id))
        .all(&line.app.db)
        .await
        .unwrap();
    assert!(none.is_empty());

    // The supervisor sees the answers on the contact.
    let supervisor = line
        .app
        .token_for(Role::Supervisor, None, vec![line.helpline])
        .await;
    let record = line
        .app
        .get(&format!("/api/v1/contacts/{id}"), &supervisor)
        .await;
    assert_eq!(record.status, 200);
    assert_eq!(record.body["survey"][0]["answer"], "yes");
    assert_eq!(
        record.body["survey"][1]["question"],
        "Would you call us again?"
    );

    // Alice sees her contact without the caller's answers, and the helpline's figures.
    let volunteer = line
        .app
        .token_for(Role::Volunteer, Some(line.alice), vec![line.helpline])
        .await;
    let mine = line
        .app
        .get(&format!("/api/v1/me/contacts/{id}"), &volunteer)
        .await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert!(mine.body.get("survey").is_none(), "{:?}", mine.body);
    assert!(
        !mine.body.to_string().contains("\"yes\""),
        "{:?}",
        mine.body
    );
    let figures_path = format!(
        "/api/v1/helplines/{}/reports/survey?from=2026-11-22&to=2026-11-22",
        line.helpline
    );
    let figures = line.app.get(&figures_path, &volunteer).await;
    assert_eq!(figures.status, 200, "{:?}", figures.body);
    assert_eq!(figures.body["understood"]["all"]["yes"], 1);
    assert_eq!(figures.body["understood"]["all"]["yes_rate"], 1.0);
    assert_eq!(figures.body["understood"]["by_tier"][0]["yes"], 1);

    // A volunteer of another helpline sees nothing of it.
    let other_line = line.app.helpline("Other", "Europe/London").await;
    let bob = line
        .app
        .volunteer("Bob", "+12025550122", "Europe/London", &[other_line])
        .await;
    let outsider = line
        .app
        .token_for(Role::Volunteer, Some(bob), vec![other_line])
        .await;
    assert_eq!(line.app.get(&figures_path, &outsider).await.status, 404);
}
