//! Callbacks instead of holding and the queue a holding caller hears, driven as Twilio
//! drives them: signed webhooks for every leg, and a stand-in for Twilio's REST API that
//! records each call peerline places.

use std::time::Duration as StdDuration;

use chrono::Duration;
use peerline::domain::access::Role;
use peerline::domain::callback::CallbackState;
use peerline::domain::contact::{EventKind, Outcome};
use peerline::domain::ids::{ContactId, HelplineId, VolunteerId};
use peerline::simulator::{Answer, CallScript, play_call};
use peerline::storage::entities::{callback, contact, contact_event, outbox_message, reservation};
use peerline::telephony::rest::TwilioClient;
use peerline::voice::flow;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{
    TestApp, attr_values, borrowed, deliver, opened, spawn_app_at, spawn_app_at_with, utc, vault,
};
use crate::twilio_standin::{Received, StandIn};

const LINE: &str = "+12025550100";
const ALICE: &str = "+12025550111";
const BOB: &str = "+12025550122";
const FIRST_CALLER: &str = "+12025550142";
const SECOND_CALLER: &str = "+12025550143";
const THIRD_CALLER: &str = "+12025550144";
const NOW: &str = "2026-11-22T12:00:00Z";
const ACCOUNT: &str = "AC00000000000000000000000000000001";

struct Line {
    app: TestApp,
    rest: StandIn,
    helpline: i32,
    volunteers: Vec<i32>,
}

/// A helpline on `LINE` that can place calls through the stand-in, with these volunteers
/// on shift around `NOW`.
async fn line(volunteers: &[(&str, &str)]) -> Line {
    let rest = StandIn::start().await;
    let app = spawn_app_at_with(
        NOW,
        &[
            ("TWILIO_ACCOUNT_SID", ACCOUNT),
            ("TWILIO_API_BASE", rest.base.as_str()),
        ],
    )
    .await;
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    let mut ids = Vec::new();
    for (name, phone) in volunteers {
        let id = app
            .volunteer(name, phone, "Europe/London", &[helpline])
            .await;
        app.on_shift_around(id, NOW).await;
        ids.push(id);
    }
    Line {
        app,
        rest,
        helpline,
        volunteers: ids,
    }
}

fn sid(n: u32) -> String {
    format!("CA{n:032x}")
}

fn call_params(call_sid: &str, from: &str, to: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CallSid", call_sid.to_owned()),
        ("AccountSid", "AC00000000000000000000000000000000".into()),
        ("From", from.into()),
        ("To", to.into()),
        ("CallStatus", "in-progress".into()),
        ("Direction", "inbound".into()),
    ]
}

impl Line {
    async fn inbound(&self, call_sid: &str, from: &str) -> String {
        let url = format!("{}/twilio/voice", self.app.base);
        deliver(
            &self.app,
            &url,
            &borrowed(&call_params(call_sid, from, LINE)),
        )
        .await
    }

    /// Delivers `url` for the call `call_sid`, with `extra` parameters.
    async fn post(
        &self,
        url: &str,
        call_sid: &str,
        from: &str,
        extra: &[(&'static str, &str)],
    ) -> String {
        let mut params = call_params(call_sid, from, LINE);
        params.retain(|(name, _)| extra.iter().all(|(k, _)| k != name));
        params.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        deliver(&self.app, url, &borrowed(&params)).await
    }

    /// A caller who holds, asks to be called back, confirms the number and answers the
    /// question about texts.
    async fn ask_for_callback(&self, call_sid: &str, from: &str, texts_ok: bool) -> String {
        let held = self.inbound(call_sid, from).await;
        assert!(held.contains("press 2"), "{held}");
        let offer = attr_values(&held, "Gather", "action")[0].clone();
        assert!(offer.contains("/twilio/voice/hold?"), "{offer}");
        let confirm = self.post(&offer, call_sid, from, &[("Digits", "2")]).await;
        assert!(
            confirm.contains("safe to call you on this number"),
            "{confirm}"
        );
        let action = attr_values(&confirm, "Gather", "action")[0].clone();
        let texts = self.post(&action, call_sid, from, &[("Digits", "1")]).await;
        assert!(texts.contains("may we send you a text"), "{texts}");
        let action = attr_values(&texts, "Gather", "action")[0].clone();
        let answer = if texts_ok { "1" } else { "2" };
        let booked = self
            .post(&action, call_sid, from, &[("Digits", answer)])
            .await;
        assert!(booked.contains("We will call you back"), "{booked}");
        assert!(booked.contains("<Hangup"), "{booked}");
        // The caller hangs up; the callback goes on.
        self.hang_up(call_sid, from).await;
        held
    }

    /// The caller's call ends (Twilio's status callback).
    async fn hang_up(&self, call_sid: &str, from: &str) {
        let url = format!("{}/twilio/voice/status", self.app.base);
        self.post(&url, call_sid, from, &[("CallStatus", "completed")])
            .await;
    }

    /// The calls placed through the REST API so far, each checked against Twilio's
    /// description of the Calls resource.
    async fn placed_calls(&self) -> Vec<Received> {
        let calls: Vec<Received> = self
            .rest
            .received()
            .await
            .into_iter()
            .filter(Received::is_call)
            .collect();
        for call in &calls {
            call.assert_valid_call();
        }
        calls
    }

    /// Waits (up to 10 s) until `count` calls have been placed.
    async fn wait_for_calls(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let calls = self.placed_calls().await;
            if calls.len() >= count {
                return calls;
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        panic!(
            "{count} calls were not placed; got {:?}",
            self.placed_calls().await
        );
    }

    /// The volunteer answers the phone peerline rang: they hear the whisper, press
    /// `digits`, and get the TwiML that follows.
    async fn volunteer_answers(&self, placed: &Received, digits: &str) -> String {
        let leg = sid(900);
        let to = placed.field("To").unwrap();
        let url = placed.field("Url").unwrap();
        let whisper = self.post(url, &leg, to, &[]).await;
        assert!(whisper.contains("callback"), "{whisper}");
        assert!(whisper.contains("Press 1 to call them back"), "{whisper}");
        let accept = attr_values(&whisper, "Gather", "action")[0].clone();
        self.post(&accept, &leg, to, &[("Digits", digits)]).await
    }

    /// A call from `from` that nobody answers: the caller leaves a voicemail.
    async fn voicemail_from(&self, from: &str) -> contact::Model {
        let script = CallScript {
            to: LINE.into(),
            from: from.into(),
            digits: vec![],
            answer: Answer::Nobody,
            talk_secs: 0,
        };
        let missed = play_call(&self.app.twilio(), &script).await.unwrap();
        assert!(missed.left_voicemail, "{:#?}", missed.lines);
        let voicemail = self.contact(&missed.call_sid).await;
        assert_eq!(voicemail.outcome, Some(Outcome::Voicemail));
        voicemail
    }

    async fn contact(&self, call_sid: &str) -> contact::Model {
        contact::Entity::find()
            .filter(contact::Column::ProviderSid.eq(call_sid))
            .one(&self.app.db)
            .await
            .unwrap()
            .unwrap()
    }

    async fn callback_of(&self, contact_id: ContactId) -> callback::Model {
        callback::Entity::find()
            .filter(callback::Column::ContactId.eq(contact_id))
            .one(&self.app.db)
            .await
            .unwrap()
            .expect("a callback")
    }

    async fn event_kinds(&self, contact_id: ContactId) -> Vec<EventKind> {
        contact_event::Entity::find()
            .filter(contact_event::Column::ContactId.eq(contact_id))
            .all(&self.app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    fn client(&self) -> TwilioClient {
        TwilioClient::new(
            self.rest.base.parse().unwrap(),
            ACCOUNT.into(),
            "rest-token".to_owned().into(),
        )
    }
}

/// The volunteer's dial to the caller, as the TwiML after they pressed 1 sets it out:
/// the number rung, the caller id shown and the URL the caller's leg runs on answer.
fn dial_of(twiml: &str) -> (String, String, String, String) {
    let root = peerline::simulator::twiml_reader::parse(twiml).unwrap();
    let mut dials = Vec::new();
    root.find_all("Dial", &mut dials);
    let dial = dials.first().unwrap_or_else(|| panic!("no Dial: {twiml}"));
    let number = &dial.children[0];
    (
        number.text.trim().to_owned(),
        dial.attr("callerId").unwrap().to_owned(),
        number.attr("url").unwrap().to_owned(),
        dial.attr("action").unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_caller_asks_for_a_callback_and_a_volunteer_calls_them_back_from_the_helpline_number() {
    let line = line(&[("Alice", ALICE)]).await;
    // Alice is ringing for a first caller, so the second holds and asks to be called back.
    let first = line.inbound(&sid(1), FIRST_CALLER).await;
    assert!(first.contains(ALICE), "{first}");
    let held = line.ask_for_callback(&sid(2), SECOND_CALLER, true).await;
    assert!(held.contains("You are next in the queue."), "{held}");
    let waiting = line.contact(&sid(2)).await;
    assert_eq!(waiting.stage, peerline::storage::contacts::Stage::Callback);
    assert!(line.placed_calls().await.is_empty(), "nobody is free yet");

    // The first caller hangs up, Alice is free: peerline rings her, from the helpline number.
    line.hang_up(&sid(1), FIRST_CALLER).await;
    let placed = line.wait_for_calls(1).await;
    assert_eq!(placed[0].field("To"), Some(ALICE));
    assert_eq!(placed[0].field("From"), Some(LINE));
    assert!(
        placed[0]
            .field("Url")
            .unwrap()
            .contains("/twilio/voice/callback/volunteer")
    );
    assert!(
        placed[0]
            .field("StatusCallback")
            .unwrap()
            .contains("/twilio/voice/callback/status")
    );
    assert!(
        !placed[0]
            .form
            .iter()
            .any(|(_, v)| v.contains(SECOND_CALLER)),
        "the caller's number never goes to the volunteer's phone"
    );

    // Alice accepts; only now is the caller dialled, showing the helpline's number.
    let dialling = line.volunteer_answers(&placed[0], "1").await;
    let (number, caller_id, caller_url, dialled) = dial_of(&dialling);
    assert_eq!(number, SECOND_CALLER);
    assert_eq!(caller_id, LINE);
    let greeting = line.post(&caller_url, &sid(3), SECOND_CALLER, &[]).await;
    assert!(greeting.contains("calling you back"), "{greeting}");
    let answer = attr_values(&greeting, "Gather", "action")[0].clone();
    let bridged = line
        .post(&answer, &sid(3), SECOND_CALLER, &[("Digits", "1")])
        .await;
    assert!(bridged.ends_with("<Response/>"), "{bridged}");
    let ended = line
        .post(
            &dialled,
            &sid(4),
            ALICE,
            &[("DialCallStatus", "completed"), ("DialCallDuration", "240")],
        )
        .await;
    assert!(ended.contains("<Hangup"), "{ended}");

    let answered = line.contact(&sid(2)).await;
    assert_eq!(answered.outcome, Some(Outcome::Answered));
    assert_eq!(answered.answered_by, Some(VolunteerId(line.volunteers[0])));
    assert_eq!(answered.talk_secs, Some(240));
    assert!(answered.ended_at.is_some());
    let callback = line.callback_of(answered.id).await;
    assert_eq!(callback.state, CallbackState::Connected);
    assert_eq!(callback.caller_attempts, 1);
    assert!(callback.first_ring_at.is_some());
    let kinds = line.event_kinds(answered.id).await;
    for kind in [
        EventKind::CallbackRequested,
        EventKind::Offered,
        EventKind::CallbackDialling,
        EventKind::Answered,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} missing from {kinds:?}");
    }
    assert_eq!(line.placed_calls().await.len(), 1, "one call placed in all");

    // The report counts the callback and how long it took to reach the caller.
    let report = line
        .app
        .get(
            &format!(
                "/api/v1/helplines/{}/reports/contacts?from=2026-11-22&to=2026-11-22",
                line.helpline
            ),
            &line.app.admin,
        )
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    let figures = &report.body["callbacks"];
    assert_eq!(figures["requested"], 1);
    assert_eq!(figures["connected"], 1);
    assert_eq!(figures["failed"], 0);
    assert_eq!(figures["callback_rate"], 0.5, "one of the two calls");
    assert!(
        figures["median_secs_to_callback"].as_i64().is_some(),
        "{figures}"
    );
}

#[tokio::test]
async fn a_volunteer_who_declines_a_callback_passes_it_to_the_next() {
    let line = line(&[("Alice", ALICE), ("Bob", BOB)]).await;
    line.inbound(&sid(1), FIRST_CALLER).await;
    line.inbound(&sid(2), SECOND_CALLER).await;
    line.ask_for_callback(&sid(3), THIRD_CALLER, false).await;
    line.hang_up(&sid(1), FIRST_CALLER).await;
    line.hang_up(&sid(2), SECOND_CALLER).await;

    let first = line.wait_for_calls(1).await;
    let declined = line.volunteer_answers(&first[0], "9").await;
    assert!(declined.contains("<Hangup"), "{declined}");
    let both = line.wait_for_calls(2).await;
    let rung: Vec<&str> = both.iter().map(|c| c.field("To").unwrap()).collect();
    assert_ne!(rung[0], rung[1], "the next volunteer is rung: {rung:?}");
    let accepted = line.volunteer_answers(&both[1], "1").await;
    assert_eq!(dial_of(&accepted).0, THIRD_CALLER);
    // The one who declined cannot take it back.
    let url = both[0].field("Url").unwrap();
    let late = line
        .post(url, &sid(901), both[0].field("To").unwrap(), &[])
        .await;
    assert!(late.contains("already been taken"), "{late}");
}

#[tokio::test]
async fn a_caller_who_does_not_answer_twice_is_texted_and_the_callback_closes_as_failed() {
    let line = line(&[("Alice", ALICE)]).await;
    line.inbound(&sid(1), FIRST_CALLER).await;
    line.ask_for_callback(&sid(2), SECOND_CALLER, true).await;
    line.hang_up(&sid(1), FIRST_CALLER).await;
    let placed = line.wait_for_calls(1).await;
    let dialling = line.volunteer_answers(&placed[0], "1").await;
    let no_answer = [("DialCallStatus", "no-answer"), ("DialCallDuration", "0")];
    let first_try = line
        .post(&dial_of(&dialling).3, &sid(5), ALICE, &no_answer)
        .await;
    let contact = line.contact(&sid(2)).await;
    assert!(
        first_try.contains("try them again in a few minutes"),
        "{first_try} {:?} {contact:?}",
        line.callback_of(contact.id).await
    );
    let callback = line.callback_of(contact.id).await;
    assert_eq!(callback.state, CallbackState::Waiting);
    assert!(callback.due_at >= utc(NOW) + Duration::minutes(3));

    // Three minutes later Alice, free again, is rung once more and the caller is dialled.
    let later = line.app.state_at(utc(NOW) + Duration::minutes(4));
    // The pass assigns her; it or the server's own job rings her phone.
    flow::run_callbacks(&later, &line.client()).await.unwrap();
    let again = line.wait_for_calls(2).await;
    assert_eq!(again[1].field("To"), Some(ALICE));
    let dialling = line.volunteer_answers(&again[1], "1").await;
    let second_try = line
        .post(&dial_of(&dialling).3, &sid(6), ALICE, &no_answer)
        .await;
    assert!(second_try.contains("stop trying"), "{second_try}");

    let failed = line.contact(&sid(2)).await;
    assert_eq!(failed.outcome, Some(Outcome::CallbackFailed));
    assert!(failed.ended_at.is_some());
    assert_eq!(
        line.callback_of(failed.id).await.state,
        CallbackState::Failed
    );
    let texts: Vec<outbox_message::Model> = outbox_message::Entity::find()
        .filter(outbox_message::Column::ContactId.eq(failed.id))
        .filter(outbox_message::Column::Purpose.eq("callback_missed"))
        .all(&line.app.db)
        .await
        .unwrap();
    assert_eq!(texts.len(), 1);
    let to = vault().open(&texts[0].to_encrypted).unwrap();
    assert_eq!(to.as_str(), SECOND_CALLER);
    assert_eq!(texts[0].from_number, LINE);
    let body = opened(&texts[0].body);
    assert!(body.contains(&format!("call us again on {LINE}")), "{body}");
}

#[tokio::test]
async fn two_servers_never_place_the_same_callback() {
    let line = line(&[("Alice", ALICE), ("Bob", BOB)]).await;
    line.inbound(&sid(1), FIRST_CALLER).await;
    line.inbound(&sid(2), SECOND_CALLER).await;
    line.ask_for_callback(&sid(3), THIRD_CALLER, false).await;
    line.ask_for_callback(&sid(4), "+12025550145", false).await;
    line.ask_for_callback(&sid(5), "+12025550146", false).await;
    // Alice and Bob come free without a webhook, so no server has been woken for it:
    // two more servers, whose clocks see every callback due, race for them side by side
    // (with the app's own, which looks every second).
    reservation::Entity::delete_many()
        .exec(&line.app.db)
        .await
        .unwrap();
    let client = line.client();
    let later = utc(NOW) + Duration::minutes(1);
    let (a, b) = (line.app.state_at(later), line.app.state_at(later));
    for _ in 0..5 {
        let (x, y) = tokio::join!(
            flow::run_callbacks(&a, &client),
            flow::run_callbacks(&b, &client)
        );
        x.unwrap();
        y.unwrap();
    }
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    let placed = line.placed_calls().await;
    let mut rung: Vec<&str> = placed.iter().map(|c| c.field("To").unwrap()).collect();
    rung.sort_unstable();
    assert_eq!(rung, [ALICE, BOB], "two volunteers free, each rung once");
    let mut urls: Vec<&str> = placed.iter().map(|c| c.field("Url").unwrap()).collect();
    urls.dedup();
    assert_eq!(urls.len(), 2, "two callbacks, one call each");
    // The first two requested are the two rung; the third waits its turn.
    let third = line.contact(&sid(5)).await;
    assert_eq!(
        line.callback_of(third.id).await.state,
        CallbackState::Waiting
    );
}

#[tokio::test]
async fn holding_callers_hear_their_place_in_the_queue_and_the_likely_wait() {
    let line = line(&[("Alice", ALICE)]).await;
    // Recent callers who held waited 1 to 3 minutes.
    for (n, wait) in [60, 90, 120, 150, 180].into_iter().enumerate() {
        // Three days ago: before Alice's shift, so none of it tires her now.
        let at = utc(NOW) - Duration::days(3);
        contact::ActiveModel {
            helpline_id: Set(HelplineId(line.helpline)),
            channel: Set(peerline::domain::rota::Channel::Voice),
            provider_sid: Set(sid(100 + u32::try_from(n).unwrap())),
            dialed_number: Set(LINE.into()),
            caller_hash: Set(format!("seed-{n}")),
            caller_hint: Set("42".into()),
            stage: Set(peerline::storage::contacts::Stage::Ended),
            outcome: Set(Some(Outcome::Answered)),
            answered_by: Set(Some(VolunteerId(line.volunteers[0]))),
            received_at: Set(at),
            route_deadline: Set(at),
            answered_at: Set(Some(at + Duration::seconds(wait.into()))),
            ended_at: Set(Some(at + Duration::minutes(20))),
            wait_secs: Set(Some(wait)),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(&line.app.db)
        .await
        .unwrap();
    }
    line.inbound(&sid(1), FIRST_CALLER).await;
    let first = line.inbound(&sid(2), SECOND_CALLER).await;
    let second = line.inbound(&sid(3), THIRD_CALLER).await;
    let third = line.inbound(&sid(4), "+12025550145").await;
    // One wait each (the 80th percentile: 150 s) for everyone ahead and for themselves.
    assert!(
        first.contains("You are next in the queue. The wait may be around 3 minutes."),
        "{first}"
    );
    assert!(
        second.contains("There is one caller ahead of you. The wait may be around 5 minutes."),
        "{second}"
    );
    assert!(
        third.contains("There are 2 callers ahead of you. The wait may be around 8 minutes."),
        "{third}"
    );

    // Ten seconds on, nothing has changed: the third caller hears only the hold message.
    let look_again = {
        let root = peerline::simulator::twiml_reader::parse(&third).unwrap();
        let mut redirects = Vec::new();
        root.find_all("Redirect", &mut redirects);
        redirects[0].text.trim().to_owned()
    };
    let unchanged = line.post(&look_again, &sid(4), "+12025550145", &[]).await;
    assert!(!unchanged.contains("ahead of you"), "{unchanged}");
    assert!(!unchanged.contains("The wait may be"), "{unchanged}");
    assert!(unchanged.contains("stay on the line"), "{unchanged}");

    // The first holding caller gives up: the third moves up and hears it.
    line.hang_up(&sid(2), SECOND_CALLER).await;
    let next_round = {
        let root = peerline::simulator::twiml_reader::parse(&unchanged).unwrap();
        let mut redirects = Vec::new();
        root.find_all("Redirect", &mut redirects);
        redirects[0].text.trim().to_owned()
    };
    let moved_up = line.post(&next_round, &sid(4), "+12025550145", &[]).await;
    assert!(
        moved_up.contains("There is one caller ahead of you."),
        "{moved_up}"
    );
}

#[tokio::test]
async fn a_withheld_caller_or_a_server_that_cannot_place_calls_offers_no_callback() {
    let line = line(&[("Alice", ALICE)]).await;
    line.inbound(&sid(1), FIRST_CALLER).await;
    let withheld = line.inbound(&sid(2), "").await;
    assert!(withheld.contains("stay on the line"), "{withheld}");
    assert!(!withheld.contains("press 2"), "{withheld}");

    // Without Twilio credentials, no call can be placed: no callback is offered.
    let app = spawn_app_at(NOW).await;
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    let alice = app
        .volunteer("Alice", ALICE, "Europe/London", &[helpline])
        .await;
    app.on_shift_around(alice, NOW).await;
    let url = format!("{}/twilio/voice", app.base);
    deliver(
        &app,
        &url,
        &borrowed(&call_params(&sid(1), FIRST_CALLER, LINE)),
    )
    .await;
    let held = deliver(
        &app,
        &url,
        &borrowed(&call_params(&sid(2), SECOND_CALLER, LINE)),
    )
    .await;
    assert!(held.contains("stay on the line"), "{held}");
    assert!(!held.contains("press 2"), "{held}");
}

#[tokio::test]
async fn a_supervisor_returns_a_voicemail_and_nobody_sees_the_number() {
    let line = line(&[]).await;
    // Nobody is on shift: the caller leaves a voicemail.
    let voicemail = line.voicemail_from(SECOND_CALLER).await;
    let path = format!("/api/v1/contacts/{}/return-call", voicemail.id);
    let reason = json!({"reason": "she asked to talk to someone about her son"});

    // Volunteers cannot return calls; a supervisor of another helpline cannot see it.
    let alice = line
        .app
        .volunteer("Alice", ALICE, "Europe/London", &[line.helpline])
        .await;
    let volunteer = line
        .app
        .token_for(Role::Volunteer, Some(alice), vec![line.helpline])
        .await;
    assert_eq!(
        line.app
            .post(&path, &volunteer, reason.clone())
            .await
            .status,
        403
    );
    let other_line = line.app.helpline("Other", "Europe/London").await;
    let outsider = line
        .app
        .token_for(Role::Supervisor, None, vec![other_line])
        .await;
    assert_eq!(
        line.app.post(&path, &outsider, reason.clone()).await.status,
        404
    );
    let supervisor = line
        .app
        .token_for(Role::Supervisor, None, vec![line.helpline])
        .await;
    let blank = line
        .app
        .post(&path, &supervisor, json!({"reason": " "}))
        .await;
    assert_eq!(blank.status, 400, "{:?}", blank.body);

    let opened = line.app.post(&path, &supervisor, reason.clone()).await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    assert!(!opened.body.to_string().contains(SECOND_CALLER));
    let again = line.app.post(&path, &supervisor, reason).await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert!(
        again.body.to_string().contains("already under way"),
        "{:?}",
        again.body
    );

    // Once Alice is on shift she is rung, and her call dials the caller.
    line.app.on_shift_around(alice, NOW).await;
    let placed = line.wait_for_calls(1).await;
    assert_eq!(placed[0].field("To"), Some(ALICE));
    let dialling = line.volunteer_answers(&placed[0], "1").await;
    let (number, caller_id, caller_url, _) = dial_of(&dialling);
    assert_eq!((number.as_str(), caller_id.as_str()), (SECOND_CALLER, LINE));
    let greeting = line.post(&caller_url, &sid(7), SECOND_CALLER, &[]).await;
    assert!(greeting.contains("returning your call"), "{greeting}");

    // The return is audited with its reason, against the voicemail it returns.
    let audit = line
        .app
        .get("/api/v1/audit?action=return_call", &line.app.admin)
        .await;
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    let entries = audit.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{:?}", audit.body);
    assert_eq!(entries[0]["contact_id"], voicemail.id.0);
    assert!(entries[0].to_string().contains("her son"));

    // The return call's record shows the callback and its reason.
    let record = line
        .app
        .get(
            &format!("/api/v1/contacts/{}", opened.body["return_contact_id"]),
            &supervisor,
        )
        .await;
    assert_eq!(record.status, 200, "{:?}", record.body);
    assert_eq!(record.body["callback"]["kind"], "returned");
    assert_eq!(record.body["callback"]["state"], "calling_caller");
    assert_eq!(record.body["callback"]["caller_attempts"], 1);
    assert!(
        record.body["callback"]["reason"]
            .as_str()
            .unwrap()
            .contains("her son")
    );
}

#[tokio::test]
async fn a_callback_nobody_on_shift_will_take_holds_up_no_later_one() {
    let line = line(&[("Alice", ALICE)]).await;
    line.inbound(&sid(1), FIRST_CALLER).await;
    line.ask_for_callback(&sid(2), SECOND_CALLER, false).await;
    line.ask_for_callback(&sid(3), THIRD_CALLER, false).await;
    line.hang_up(&sid(1), FIRST_CALLER).await;

    // Alice turns down the first callback; nobody else is on shift to take it, so the
    // second caller, who asked later, is called back by her.
    let first = line.wait_for_calls(1).await;
    line.volunteer_answers(&first[0], "9").await;
    let both = line.wait_for_calls(2).await;
    assert_eq!(both[1].field("To"), Some(ALICE));
    let dialling = line.volunteer_answers(&both[1], "1").await;
    assert_eq!(dial_of(&dialling).0, THIRD_CALLER);
    let passed = line.contact(&sid(2)).await;
    assert_eq!(
        line.callback_of(passed.id).await.state,
        CallbackState::Waiting,
        "the first keeps waiting for someone who can take it"
    );
}

#[tokio::test]
async fn a_volunteer_the_supervisors_allow_returns_a_missed_call_and_is_the_one_rung() {
    let line = line(&[]).await;
    let voicemail = line.voicemail_from(SECOND_CALLER).await;
    let app = &line.app;
    // Alice is off shift and Bob on shift: a call Alice returns rings Alice.
    let alice = app
        .volunteer("Alice", ALICE, "Europe/London", &[line.helpline])
        .await;
    let bob = app
        .volunteer("Bob", BOB, "Europe/London", &[line.helpline])
        .await;
    app.on_shift_around(bob, NOW).await;
    let alice_token = app
        .token_for(Role::Volunteer, Some(alice), vec![line.helpline])
        .await;
    let mine = "/api/v1/me/missed-calls";
    let return_path = format!("{mine}/{}/return", voicemail.id);
    let reason = json!({"reason": "I know this family's unit"});

    // Not allowed yet: no missed calls listed, none to return.
    let listed = app.get(mine, &alice_token).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body, json!([]));
    let refused = app.post(&return_path, &alice_token, reason.clone()).await;
    assert_eq!(refused.status, 404, "{:?}", refused.body);

    // Only a supervisor of the helpline allows it.
    let allow = format!("/api/v1/helplines/{}/call-returners/{alice}", line.helpline);
    let put = |token: String| {
        let path = allow.clone();
        async move {
            app.call(reqwest::Method::PUT, &path, Some(&token), None)
                .await
        }
    };
    assert_eq!(put(alice_token.clone()).await.status, 403);
    let other_line = app.helpline("Other", "Europe/London").await;
    let outsider = app
        .token_for(Role::Supervisor, None, vec![other_line])
        .await;
    assert_eq!(put(outsider).await.status, 404);
    let supervisor = app
        .token_for(Role::Supervisor, None, vec![line.helpline])
        .await;
    assert_eq!(put(supervisor.clone()).await.status, 204);

    let listed = app.get(mine, &alice_token).await;
    let calls = listed.body.as_array().unwrap();
    assert_eq!(calls.len(), 1, "{:?}", listed.body);
    assert_eq!(calls[0]["contact_id"], voicemail.id.0);
    assert_eq!(calls[0]["voicemail"], true);
    assert_eq!(calls[0]["caller"], "caller ...43");
    assert!(!listed.body.to_string().contains(SECOND_CALLER));
    let opened = app.post(&return_path, &alice_token, reason).await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    let placed = line.wait_for_calls(1).await;
    assert_eq!(
        placed[0].field("To"),
        Some(ALICE),
        "the volunteer who returned it"
    );

    // Withdrawn: the list is empty again.
    let withdrawn = app
        .call(reqwest::Method::DELETE, &allow, Some(&supervisor), None)
        .await;
    assert_eq!(withdrawn.status, 204);
    assert_eq!(app.get(mine, &alice_token).await.body, json!([]));
    let audit = app
        .get("/api/v1/audit?action=allow_call_returns", &app.admin)
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_callback_nobody_takes_in_time_expires_with_a_text_and_an_alert() {
    let line = line(&[("Alice", ALICE)]).await;
    line.inbound(&sid(1), FIRST_CALLER).await;
    line.ask_for_callback(&sid(2), SECOND_CALLER, true).await;
    let waiting = line.contact(&sid(2)).await;

    // Alice is still on the first call two hours on, when the callback expires; a server
    // started since (any server) gives it up.
    let later = line.app.state_at(utc(NOW) + Duration::minutes(121));
    let pass = flow::run_callbacks(&later, &line.client()).await.unwrap();
    assert_eq!(pass.expired, 1);
    let expired = line.contact(&sid(2)).await;
    assert_eq!(expired.outcome, Some(Outcome::CallbackFailed));
    assert_eq!(
        line.callback_of(waiting.id).await.state,
        CallbackState::Failed
    );
    assert!(line.placed_calls().await.is_empty(), "nobody was rung");
    let texts = outbox_message::Entity::find()
        .filter(outbox_message::Column::ContactId.eq(waiting.id))
        .filter(outbox_message::Column::Purpose.eq("callback_missed"))
        .all(&line.app.db)
        .await
        .unwrap();
    assert_eq!(texts.len(), 1, "the caller said texts are safe");
    assert!(
        line.event_kinds(waiting.id)
            .await
            .contains(&EventKind::CallbackFailed)
    );
}

#[tokio::test]
async fn a_volunteers_phone_that_never_reports_back_is_taken_up_again() {
    let line = line(&[("Alice", ALICE), ("Bob", BOB)]).await;
    line.inbound(&sid(1), FIRST_CALLER).await;
    line.inbound(&sid(2), "+12025550145").await;
    line.ask_for_callback(&sid(3), SECOND_CALLER, false).await;
    line.hang_up(&sid(1), FIRST_CALLER).await;
    let first = line.wait_for_calls(1).await;
    let contact = line.contact(&sid(3)).await;
    assert_eq!(
        line.callback_of(contact.id).await.state,
        CallbackState::RingingVolunteer
    );

    // Twilio never reports on that phone. Once the ring's claim has lapsed (and the
    // second caller has long stopped ringing the other volunteer), a pass counts it as
    // unanswered and assigns the other volunteer, whose phone is then rung (by that pass
    // or by the server's own job, whichever comes first).
    let later = line.app.state_at(utc(NOW) + Duration::minutes(5));
    let pass = flow::run_callbacks(&later, &line.client()).await.unwrap();
    assert_eq!(pass.recovered, 1);
    let both = line.wait_for_calls(2).await;
    assert_ne!(both[1].field("To"), first[0].field("To"));
    assert_eq!(
        line.callback_of(contact.id).await.state,
        CallbackState::RingingVolunteer
    );
    // Rung once, not twice: the server's own job, passing every second, rings no more.
    // (A further pass at `later` could not say so: if the server's job rang, it set the
    // ring's claim by its own clock, minutes behind `later`.)
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    assert_eq!(line.placed_calls().await.len(), 2);
}

#[tokio::test]
async fn a_caller_waiting_for_a_callback_comes_before_a_new_caller() {
    let line = line(&[("Alice", ALICE)]).await;
    line.inbound(&sid(1), FIRST_CALLER).await;
    line.ask_for_callback(&sid(2), SECOND_CALLER, false).await;
    // Alice comes free without a webhook, and a new caller rings straight after.
    reservation::Entity::delete_many()
        .exec(&line.app.db)
        .await
        .unwrap();
    let newcomer = line.inbound(&sid(3), THIRD_CALLER).await;
    assert!(!newcomer.contains(ALICE), "{newcomer}");
    assert!(newcomer.contains("stay on the line"), "{newcomer}");
    let placed = line.wait_for_calls(1).await;
    assert_eq!(placed[0].field("To"), Some(ALICE));
    let dialling = line.volunteer_answers(&placed[0], "1").await;
    assert_eq!(dial_of(&dialling).0, SECOND_CALLER);
}
