//! Text conversations end to end: signed inbound webhooks in, the exact requests peerline
//! then sends to a stand-in for Twilio's REST API out, and the contact log in between.

use chrono::{DateTime, Duration, Utc};
use peerline::clock::Clock;
use peerline::domain::access::Role;
use peerline::domain::contact::Outcome;
use peerline::domain::ids::{ContactId, VolunteerId};
use peerline::domain::routing::Tier;
use peerline::jobs::outbox::OutboxSender;
use peerline::secrets::Vault;
use peerline::simulator::text::Text;
use peerline::storage::contacts::OfferOutcome;
use peerline::storage::entities::{contact, contact_event, message, offer, outbox_message};
use peerline::telephony::rest::TwilioClient;
use reqwest::StatusCode;
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;

use futures::future::join_all;

use crate::helpers::{SECRET_KEY, TestApp, id_of, opened_some, spawn_app_at};
use crate::twilio_standin::StandIn;

const NOW: &str = "2026-11-23T20:00:00Z";
const LINE: &str = "+12025550100";
const TEXTER: &str = "+12025550177";
const OTHER_TEXTER: &str = "+12025550178";
const ADA: &str = "+12025550141";
const BEN: &str = "+12025550142";
const SAM: &str = "+12025550160";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&Utc)
}

/// One SMS peerline asked Twilio to send.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    to: String,
    from: String,
    body: String,
}

struct Line {
    app: TestApp,
    helpline: i32,
    rest: StandIn,
    seen: usize,
}

/// A helpline on `LINE` with the given volunteers on shift around `NOW`.
async fn line(volunteers: &[(&str, &str)]) -> (Line, Vec<i32>) {
    let app = spawn_app_at(NOW).await;
    let helpline = app.helpline("NICU Line", "Europe/London").await;
    app.number(helpline, LINE).await;
    let mut ids = Vec::new();
    for (name, phone) in volunteers {
        let id = app
            .volunteer(name, phone, "Europe/London", &[helpline])
            .await;
        app.on_shift_around(id, NOW).await;
        ids.push(id);
    }
    let line = Line {
        app,
        helpline,
        rest: StandIn::start().await,
        seen: 0,
    };
    (line, ids)
}

impl Line {
    async fn text(&self, text: &Text) {
        let (status, twiml) = self.app.twilio().text(text).await.unwrap();
        assert_eq!(status, 200, "{twiml}");
        assert!(!twiml.contains("<Message>"), "{twiml}");
    }

    async fn send(&self, from: &str, body: &str) {
        self.text(&Text::new(from, LINE, body)).await;
    }

    /// Runs the outbox as a worker would and returns what it sent since the last call.
    async fn deliver(&mut self) -> Vec<Sent> {
        let sender = OutboxSender {
            db: self.app.db.clone(),
            client: TwilioClient::new(
                self.rest.base.parse().unwrap(),
                "AC00000000000000000000000000000001".into(),
                "rest-token".to_owned().into(),
            ),
            vault: Vault::new(SECRET_KEY.to_owned().into()),
            clock: Clock::starting_at(now() + Duration::days(30)),
            status_callback: Some(format!("{}/twilio/sms/status", self.app.base)),
        };
        sender.send_due().await.unwrap();
        let received = self.rest.received().await;
        let new = received[self.seen..]
            .iter()
            .map(|r| {
                assert_eq!(
                    r.field("StatusCallback")
                        .map(|s| s.ends_with("/twilio/sms/status")),
                    Some(true)
                );
                Sent {
                    to: r.field("To").unwrap().to_owned(),
                    from: r.field("From").unwrap().to_owned(),
                    body: r.field("Body").unwrap().to_owned(),
                }
            })
            .collect();
        self.seen = received.len();
        new
    }

    /// Runs the conversations job as a server whose clock reads `at`.
    async fn jobs_at(&self, at: DateTime<Utc>) {
        let state = self.app.state_at(at);
        peerline::jobs::conversations::run_once(&state)
            .await
            .unwrap();
    }

    async fn conversation(&self) -> contact::Model {
        contact::Entity::find()
            .filter(contact::Column::Channel.eq("sms"))
            .order_by_desc(contact::Column::Id)
            .one(&self.app.db)
            .await
            .unwrap()
            .unwrap()
    }

    async fn events(&self, contact_id: ContactId) -> Vec<String> {
        contact_event::Entity::find()
            .filter(contact_event::Column::ContactId.eq(contact_id))
            .order_by_asc(contact_event::Column::Id)
            .all(&self.app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind.to_value())
            .collect()
    }
}

fn to<'a>(sent: &'a [Sent], number: &str) -> Vec<&'a str> {
    sent.iter()
        .filter(|s| s.to == number)
        .map(|s| s.body.as_str())
        .collect()
}

/// Nobody ever sees the other side's number, and every message comes from the helpline.
fn assert_private(sent: &[Sent]) {
    for s in sent {
        assert_eq!(s.from, LINE, "{s:?}");
        for number in [TEXTER, OTHER_TEXTER, ADA, BEN] {
            assert!(!s.body.contains(number), "{s:?} names {number}");
        }
    }
}

#[tokio::test]
async fn a_conversation_runs_from_the_first_text_through_relays_to_end() {
    let (mut line, ids) = line(&[("Ada", ADA)]).await;
    let ada = ids[0];

    line.send(TEXTER, "Hi, my daughter is in the NICU.").await;
    let first = line.deliver().await;

    let reference = line.conversation().await.id;
    let texter = to(&first, TEXTER);
    assert_eq!(texter.len(), 1, "{first:?}");
    assert!(texter[0].starts_with("Thank you for texting NICU Line."));
    assert!(texter[0].ends_with("If you are in danger now, call your local emergency number."));
    let offer = to(&first, ADA);
    assert_eq!(offer.len(), 2, "{first:?}");
    assert!(offer[0].starts_with(&format!(
        "[#{reference}] New text conversation on NICU Line."
    )));
    assert_eq!(
        offer[1],
        format!("[#{reference}] Hi, my daughter is in the NICU.")
    );

    line.send(ADA, "Hello, I'm here. I spent six weeks there with my son.")
        .await;
    line.send(TEXTER, "Thank you. It's so hard.").await;
    let relays = line.deliver().await;
    assert_eq!(
        to(&relays, TEXTER),
        ["Hello, I'm here. I spent six weeks there with my son."]
    );
    assert_eq!(
        to(&relays, ADA),
        [format!("[#{reference}] Thank you. It's so hard.")]
    );

    line.send(ADA, &format!("#{reference} CLOSE")).await;
    let end = line.deliver().await;
    assert_eq!(
        to(&end, TEXTER),
        ["Thank you for texting. This conversation has ended; text us again any time."]
    );
    assert_eq!(
        to(&end, ADA),
        [format!(
            "[#{reference}] Conversation closed. Thank you for being there."
        )]
    );
    for sent in [&first, &relays, &end] {
        assert_private(sent);
    }

    let stored = line.conversation().await;
    assert_eq!(stored.outcome, Some(Outcome::Answered));
    assert_eq!(stored.answered_by, Some(VolunteerId(ada)));
    assert_eq!(stored.peer_match_tier, Some(Tier::AnyTopic));
    assert!(stored.ended_at.is_some());
    assert_ne!(stored.caller_encrypted.as_deref(), Some(TEXTER));
    let transcript = message::Entity::find()
        .filter(message::Column::ContactId.eq(reference))
        .order_by_asc(message::Column::Id)
        .all(&line.app.db)
        .await
        .unwrap();
    let from_people: Vec<(&str, String)> = transcript
        .iter()
        .filter(|m| m.direction == "inbound")
        .map(|m| (m.sender_role.as_str(), opened_some(m.body.as_ref())))
        .collect();
    let from_people: Vec<(&str, &str)> = from_people
        .iter()
        .map(|(who, body)| (*who, body.as_str()))
        .collect();
    assert_eq!(
        from_people,
        [
            ("texter", "Hi, my daughter is in the NICU."),
            (
                "volunteer",
                "Hello, I'm here. I spent six weeks there with my son."
            ),
            ("texter", "Thank you. It's so hard."),
            ("volunteer", &*format!("#{reference} CLOSE")),
        ]
    );
    assert!(transcript.iter().all(|m| m.direction == "outbound"
        || m.relayed
        || opened_some(m.body.as_ref()) == format!("#{reference} CLOSE")));
    let events = line.events(reference).await;
    for kind in ["received", "routed", "offered", "accepted", "ended"] {
        assert!(
            events.iter().any(|e| e == kind),
            "{kind} missing from {events:?}"
        );
    }
}

#[tokio::test]
async fn a_volunteer_with_two_conversations_replies_by_reference() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    line.send(TEXTER, "Is anyone there?").await;
    let first = line.conversation().await.id;
    line.send(OTHER_TEXTER, "I need to talk to someone.").await;
    let second = line.conversation().await.id;
    let offers = line.deliver().await;
    assert_eq!(to(&offers, ADA).len(), 4, "both offered to Ada: {offers:?}");

    line.send(ADA, &format!("#{second} I'm here for you."))
        .await;
    line.send(ADA, &format!("[#{first}] Hello, yes.")).await;
    line.send(ADA, "Who is this for?").await;
    line.send(ADA, "#999 hello").await;
    let sent = line.deliver().await;

    assert_eq!(to(&sent, OTHER_TEXTER), ["I'm here for you."]);
    assert_eq!(to(&sent, TEXTER), ["Hello, yes."]);
    let help = to(&sent, ADA);
    assert_eq!(help.len(), 2, "{sent:?}");
    assert!(
        help[0].contains(&format!("#{first}, #{second}")),
        "{}",
        help[0]
    );
    assert!(help[1].starts_with("peerline: #999 is not one of your open conversations"));
    assert_private(&sent);
}

#[tokio::test]
async fn an_offer_that_cannot_reach_its_volunteer_passes_on_at_the_next_pass() {
    let (mut line, _) = line(&[("Ada", ADA), ("Ben", BEN)]).await;
    line.send(TEXTER, "Hello?").await;
    let first = line.deliver().await;
    assert_eq!(to(&first, ADA).len(), 2);
    // Ada's phone cannot receive texts: Twilio reports the offer undelivered.
    let offer = outbox_message::Entity::find()
        .filter(outbox_message::Column::Purpose.eq("volunteer_offer"))
        .one(&line.app.db)
        .await
        .unwrap()
        .unwrap();
    let report = vec![
        ("MessageSid".to_owned(), offer.provider_sid.clone().unwrap()),
        ("MessageStatus".to_owned(), "undelivered".to_owned()),
        ("ErrorCode".to_owned(), "30003".to_owned()),
        (
            "AccountSid".to_owned(),
            "AC00000000000000000000000000000001".to_owned(),
        ),
    ];
    let callback = format!("{}/twilio/sms/status", line.app.base);
    let (code, _) = line.app.twilio().post(&callback, &report).await.unwrap();
    assert_eq!(code, 200);
    // A minute later, not five, the conversation is Ben's to take.
    line.jobs_at(now() + Duration::minutes(1)).await;
    let moved = line.deliver().await;
    assert!(
        to(&moved, BEN)
            .first()
            .is_some_and(|t| t.contains("New text conversation")),
        "{moved:?}"
    );
}

#[tokio::test]
async fn an_offer_not_taken_in_time_goes_to_the_next_volunteer() {
    let (mut line, ids) = line(&[("Ada", ADA), ("Ben", BEN)]).await;
    line.send(TEXTER, "Hello?").await;
    let reference = line.conversation().await.id;
    let first = line.deliver().await;
    assert_eq!(to(&first, ADA).len(), 2);
    assert!(to(&first, BEN).is_empty());

    line.jobs_at(now() + Duration::minutes(4)).await;
    assert!(
        line.deliver().await.is_empty(),
        "not yet: the offer lasts 5 minutes"
    );
    line.jobs_at(now() + Duration::minutes(6)).await;
    let moved = line.deliver().await;

    assert_eq!(
        to(&moved, ADA),
        [format!(
            "[#{reference}] No reply in time, so this conversation has gone to another volunteer."
        )]
    );
    let ben = to(&moved, BEN);
    assert!(ben[0].starts_with(&format!("[#{reference}] New text conversation")));
    assert_eq!(ben[1], format!("[#{reference}] Hello?"));

    // Ada's late reply is not relayed; Ben's is.
    line.send(ADA, "Sorry, I'm here now").await;
    line.send(BEN, "Hi, I'm Ben. I'm listening.").await;
    let after = line.deliver().await;
    assert_eq!(to(&after, TEXTER), ["Hi, I'm Ben. I'm listening."]);
    assert!(to(&after, ADA)[0].contains("no open text conversations"));
    let offers = offer::Entity::find()
        .filter(offer::Column::ContactId.eq(reference))
        .order_by_asc(offer::Column::Id)
        .all(&line.app.db)
        .await
        .unwrap();
    let outcomes: Vec<(i32, Option<OfferOutcome>)> = offers
        .iter()
        .map(|o| (o.volunteer_id.0, o.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (ids[0], Some(OfferOutcome::NoAnswer)),
            (ids[1], Some(OfferOutcome::Accepted))
        ]
    );
}

#[tokio::test]
async fn with_nobody_on_shift_the_texter_is_told_and_the_next_shift_gets_it() {
    let (mut line, _) = line(&[]).await;
    let settings = json!({"name": "NICU Line", "time_zone": "Europe/London",
        "greeting": "Hello", "voice_language": "en-GB", "languages": ["en"],
        "texting": {"crisis_text": "In danger now? Call 999.", "opening_hours": "every evening from 7pm"}});
    let put = line
        .app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/helplines/{}", line.helpline),
            Some(&line.app.admin),
            Some(settings),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let cleo = line
        .app
        .volunteer("Cleo", ADA, "Europe/London", &[line.helpline])
        .await;
    let shift = line
        .app
        .post(
            &format!("/api/v1/volunteers/{cleo}/exceptions"),
            &line.app.admin,
            json!({"kind": "extra_shift",
                   "starts_at": (now() + Duration::hours(1)).to_rfc3339(),
                   "ends_at": (now() + Duration::hours(3)).to_rfc3339()}),
        )
        .await;
    assert_eq!(shift.status, StatusCode::CREATED, "{:?}", shift.body);

    line.send(TEXTER, "Can anyone talk?").await;
    let waiting = line.deliver().await;
    let texter = to(&waiting, TEXTER);
    assert_eq!(texter.len(), 2, "{waiting:?}");
    assert!(texter[0].ends_with("In danger now? Call 999."));
    assert!(texter[1].contains("We are usually here every evening from 7pm."));
    assert!(texter[1].ends_with("In danger now? Call 999."));
    assert!(to(&waiting, ADA).is_empty());

    line.jobs_at(now() + Duration::minutes(30)).await;
    assert!(
        line.deliver().await.is_empty(),
        "still nobody, and no second holding message"
    );
    line.jobs_at(now() + Duration::minutes(61)).await;
    let offered = line.deliver().await;
    let cleo_got = to(&offered, ADA);
    assert_eq!(cleo_got.len(), 2, "{offered:?}");
    assert!(cleo_got[1].ends_with("Can anyone talk?"));
}

#[tokio::test]
async fn stop_start_and_help_are_keywords_never_relayed() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    line.send(TEXTER, "hello").await;
    let reference = line.conversation().await.id;
    line.deliver().await;

    line.send(TEXTER, "help").await;
    let help = line.deliver().await;
    assert_eq!(to(&help, TEXTER).len(), 1);
    assert!(to(&help, TEXTER)[0].starts_with("This is a peer-support text line."));
    assert!(to(&help, ADA).is_empty(), "HELP is not relayed");

    line.send(TEXTER, "Stop").await;
    let stop = line.deliver().await;
    assert!(to(&stop, TEXTER).is_empty(), "Twilio confirms STOP itself");
    assert_eq!(
        to(&stop, ADA),
        [format!(
            "[#{reference}] The texter has opted out of texts; the conversation is closed."
        )]
    );
    let stored = line.conversation().await;
    assert_eq!(
        stored.outcome,
        Some(Outcome::Unanswered),
        "they wrote and nobody had replied: a missed contact"
    );
    assert!(stored.ended_at.is_some());

    // Opted out: a new message opens a conversation, but nothing is sent to them.
    line.send(TEXTER, "one more thing").await;
    let quiet = line.deliver().await;
    assert!(to(&quiet, TEXTER).is_empty(), "{quiet:?}");
    line.send(TEXTER, "START").await;
    assert!(
        line.deliver().await.is_empty(),
        "START is not relayed and Twilio confirms it"
    );
    line.send(TEXTER, "HELP").await;
    assert_eq!(to(&line.deliver().await, TEXTER).len(), 1, "opted back in");
}

impl Line {
    /// Sam, a supervisor with a phone, on call all of `NOW`'s day.
    async fn sam_on_call(&self) {
        let sam = self
            .app
            .post(
                "/api/v1/users",
                &self.app.admin,
                json!({"name": "Sam", "role": "supervisor", "helplines": [self.helpline],
                       "phone": SAM, "time_zone": "Europe/London"}),
            )
            .await;
        let sam = id_of(&sam);
        let on_call = self
            .app
            .post(
                &format!("/api/v1/helplines/{}/on-call", self.helpline),
                &self.app.admin,
                json!({"user_id": sam, "weekday": "monday", "start": "00:00", "end": "23:59"}),
            )
            .await;
        assert_eq!(on_call.status, StatusCode::CREATED, "{:?}", on_call.body);
    }
}

#[tokio::test]
async fn a_risk_phrase_alerts_the_supervisor_on_call_without_saying_what_was_written() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    line.sam_on_call().await;

    line.send(TEXTER, "I can't cope. I want to KILL myself.")
        .await;
    line.send(TEXTER, "I took an overdose").await;
    let sent = line.deliver().await;

    let reference = line.conversation().await.id;
    let alert = to(&sent, SAM);
    assert_eq!(alert.len(), 1, "one alert per conversation: {sent:?}");
    assert!(alert[0].contains(&format!("#{reference}")) && alert[0].contains("NICU Line"));
    assert!(!alert[0].contains("kill") && !alert[0].contains(TEXTER));
    assert!(line.conversation().await.safeguarding_at.is_some());
    assert!(
        line.events(reference)
            .await
            .contains(&"safeguarding_flagged".to_owned())
    );
}

#[tokio::test]
async fn a_repeated_webhook_is_taken_in_and_relayed_once() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    let text = Text::new(TEXTER, LINE, "Are you there?");
    let peer = line.app.twilio();
    let (a, b) = tokio::join!(peer.text(&text), peer.text(&text));
    assert_eq!((a.unwrap().0, b.unwrap().0), (200, 200));
    line.text(&text).await;

    let sent = line.deliver().await;
    assert_eq!(to(&sent, TEXTER).len(), 1, "{sent:?}");
    assert_eq!(to(&sent, ADA).len(), 2, "{sent:?}");
    let conversations = contact::Entity::find()
        .filter(contact::Column::Channel.eq("sms"))
        .all(&line.app.db)
        .await
        .unwrap();
    assert_eq!(conversations.len(), 1);
}

#[tokio::test]
async fn pictures_are_described_to_the_volunteer_and_floods_are_held_back() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    let mut picture = Text::new(TEXTER, LINE, "");
    picture.media_urls = vec!["https://api.twilio.com/media/ME1".into()];
    line.text(&picture).await;
    let reference = line.conversation().await.id;
    let first = line.deliver().await;
    assert_eq!(
        to(&first, ADA)[1],
        format!("[#{reference}] (sent a picture, not shown here)")
    );
    assert!(
        line.events(reference)
            .await
            .contains(&"media_received".to_owned())
    );

    for n in 0..8 {
        line.send(TEXTER, &format!("message {n}")).await;
    }
    let flood = line.deliver().await;
    // Six a minute including the picture: five more are relayed, the rest only logged.
    assert_eq!(to(&flood, ADA).len(), 5, "{flood:?}");
    assert!(
        line.events(reference)
            .await
            .contains(&"rate_limited".to_owned())
    );
    let logged = message::Entity::find()
        .filter(message::Column::ContactId.eq(reference))
        .filter(message::Column::SenderRole.eq("texter"))
        .all(&line.app.db)
        .await
        .unwrap();
    assert_eq!(logged.len(), 9, "every message is in the log");
}

#[tokio::test]
async fn a_conversation_with_no_messages_for_a_day_closes_by_itself() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    line.send(TEXTER, "hi").await;
    line.send(ADA, "Hello, I'm here.").await;
    let reference = line.conversation().await.id;
    line.deliver().await;

    line.jobs_at(now() + Duration::hours(23)).await;
    assert!(line.conversation().await.ended_at.is_none());
    line.jobs_at(now() + Duration::hours(25)).await;

    let stored = line.conversation().await;
    assert!(stored.ended_at.is_some());
    assert_eq!(stored.outcome, Some(Outcome::Answered));
    let sent = line.deliver().await;
    assert_eq!(
        to(&sent, ADA),
        [format!(
            "[#{reference}] Closed after 24 hours without a message."
        )]
    );
}

#[tokio::test]
async fn texts_arriving_at_two_servers_at_once_never_put_a_volunteer_over_capacity() {
    let (line, ids) = line(&[("Ada", ADA), ("Ben", BEN)]).await;
    let second = line.app.second_instance_at(NOW).await;
    let peers = [
        line.app.twilio(),
        peerline::simulator::TwilioPeer::new(&second, crate::helpers::AUTH_TOKEN),
    ];

    let texts: Vec<Text> = (0..10)
        .map(|n| Text::new(&format!("+120255502{n:02}"), LINE, "Is anyone free?"))
        .collect();
    let sends = texts
        .iter()
        .enumerate()
        .map(|(n, text)| peers[n % 2].text(text));
    for result in join_all(sends).await {
        let (status, twiml) = result.unwrap();
        assert_eq!(status, 200);
        assert!(
            !twiml.contains("<Message>"),
            "every text was taken in: {twiml}"
        );
    }

    let offers = offer::Entity::find().all(&line.app.db).await.unwrap();
    for volunteer in &ids {
        let held = offers
            .iter()
            .filter(|o| o.volunteer_id.0 == *volunteer)
            .count();
        assert_eq!(
            held, 2,
            "each volunteer holds exactly their capacity: {offers:?}"
        );
    }
    let conversations = contact::Entity::find()
        .filter(contact::Column::Channel.eq("sms"))
        .all(&line.app.db)
        .await
        .unwrap();
    assert_eq!(conversations.len(), 10);
    let holding = conversations
        .iter()
        .filter(|c| c.stage == peerline::storage::contacts::Stage::Holding)
        .count();
    assert_eq!(holding, 6, "the rest wait for a free volunteer");
}

#[tokio::test]
async fn a_blocked_number_gets_nothing_relayed_and_no_reply() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    let blocked = line
        .app
        .post(
            &format!("/api/v1/helplines/{}/blocked-callers", line.helpline),
            &line.app.admin,
            json!({"number": TEXTER}),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::CREATED, "{:?}", blocked.body);

    line.send(TEXTER, "you again").await;
    line.send(OTHER_TEXTER, "Hello?").await;
    let sent = line.deliver().await;

    assert!(to(&sent, TEXTER).is_empty(), "{sent:?}");
    let ada = to(&sent, ADA);
    assert_eq!(ada.len(), 2, "only the other texter is offered: {sent:?}");
    assert!(ada.iter().all(|body| !body.contains("you again")));
    let refused = contact::Entity::find()
        .filter(contact::Column::Outcome.eq("rejected_blocked"))
        .all(&line.app.db)
        .await
        .unwrap();
    assert_eq!(refused.len(), 1, "the refused text is in the log");
}

#[tokio::test]
async fn a_text_with_nul_characters_is_taken_in_without_them_and_the_contact_says_so() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    line.send(TEXTER, "I need\0 to talk\0").await;

    let sent = line.deliver().await;
    let to_ada = to(&sent, ADA);
    assert!(
        to_ada.iter().any(|body| body.ends_with("I need to talk")),
        "{sent:?}"
    );
    let conversation = contact::Entity::find()
        .one(&line.app.db)
        .await
        .unwrap()
        .expect("the conversation");
    let noted = contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(conversation.id))
        .filter(contact_event::Column::Kind.eq("nul_removed"))
        .count(&line.app.db)
        .await
        .unwrap();
    assert_eq!(noted, 1);
}

#[tokio::test]
async fn a_texter_who_reached_nobody_and_then_stopped_counts_as_missed() {
    let (line, _) = line(&[("Ada", ADA)]).await;
    line.send(TEXTER, "Is anyone there?").await;
    line.send(TEXTER, "STOP").await;

    let outcomes: Vec<(String, Option<Outcome>)> = contact::Entity::find()
        .order_by_asc(contact::Column::Id)
        .all(&line.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.caller_hint, c.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![("...77".to_owned(), Some(Outcome::Unanswered))]
    );
}

#[tokio::test]
async fn a_texters_longest_message_reaches_the_volunteer_in_parts_twilio_accepts() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    // As long as a text can be: with the relay's "[#n] " it would be refused whole.
    let words: Vec<String> = (0..320).map(|i| format!("w{i:03}")).collect();
    let long = words.join(" ");
    assert_eq!(long.chars().count(), 1599);
    line.send(TEXTER, &long).await;

    let sent = line.deliver().await;
    let relayed: Vec<&str> = to(&sent, ADA)
        .into_iter()
        .filter(|body| body.contains("w000") || body.contains("w319") || body.starts_with('('))
        .collect();
    assert!(relayed.len() >= 2, "{relayed:?}");
    assert!(relayed.iter().all(|body| body.chars().count() <= 1600));
    let received: Vec<&str> = relayed
        .iter()
        .flat_map(|body| body.split_whitespace())
        .filter(|w| w.starts_with('w') && w.len() == 4)
        .collect();
    assert_eq!(received.len(), 320, "every word arrives once");
}

#[tokio::test]
async fn a_text_from_a_sender_that_is_no_phone_number_is_logged_as_refused() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    for (i, sender) in ["PEERLINE", "88022", ""].into_iter().enumerate() {
        let mut text = Text::new(sender, LINE, "hello");
        text.message_sid = format!("SM{i:032}");
        let (status, twiml) = line.app.twilio().text(&text).await.unwrap();
        assert_eq!(status, 200, "{sender:?}: {twiml}");
    }

    assert!(line.deliver().await.is_empty(), "nobody can be texted back");
    let refused: Vec<Option<Outcome>> = contact::Entity::find()
        .all(&line.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.outcome)
        .collect();
    assert_eq!(refused, vec![Some(Outcome::RefusedSender); 3]);
    let reasons = contact_event::Entity::find()
        .filter(contact_event::Column::Kind.eq("sender_refused"))
        .count(&line.app.db)
        .await
        .unwrap();
    assert_eq!(reasons, 3);
}

#[tokio::test]
async fn a_text_twilio_refused_shows_on_the_contact_record() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    // Twilio refuses the first message peerline sends the texter (the acknowledgement);
    // the offer to the volunteer goes at the same time.
    line.rest
        .script_to(
            TEXTER,
            &[crate::twilio_standin::Scripted::Refused { code: 21211 }],
        )
        .await;
    line.send(TEXTER, "Is anyone there?").await;
    line.deliver().await;
    let id = line.conversation().await.id;

    let record = line
        .app
        .get(&format!("/api/v1/contacts/{id}"), &line.app.admin)
        .await;

    let deliveries = record.body["deliveries"].as_array().expect("deliveries");
    let refused: Vec<&serde_json::Value> = deliveries
        .iter()
        .filter(|d| d["state"] == "failed")
        .collect();
    assert_eq!(refused.len(), 1, "{deliveries:?}");
    assert_eq!(refused[0]["error_code"], 21211);
    assert_eq!(refused[0]["to"], "...77");
    assert!(
        deliveries.iter().any(|d| d["state"] == "sent"),
        "the others went: {deliveries:?}"
    );
    assert!(
        !record.body.to_string().contains("2025550177"),
        "no number shown"
    );
}

#[tokio::test]
async fn a_texter_is_asked_afterwards_and_a_bare_number_answers_without_opening_a_conversation() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    let settings = json!({"name": "NICU Line", "time_zone": "Europe/London",
        "greeting": "Hello.", "voice_language": "en-GB", "languages": ["en"],
        "fallback_number": null, "callers": {"survey_enabled": true}});
    let reply = line
        .app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/helplines/{}", line.helpline),
            Some(&line.app.admin),
            Some(settings),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    line.send(TEXTER, "Hi, my daughter is in the NICU.").await;
    line.deliver().await;
    let reference = line.conversation().await.id;
    line.send(ADA, "Hello, I'm here.").await;
    line.send(ADA, &format!("#{reference} CLOSE")).await;
    let end = line.deliver().await;
    let texter = to(&end, TEXTER);
    assert_eq!(
        texter.len(),
        3,
        "the reply, the close and the question: {end:?}"
    );
    assert_eq!(
        texter[2],
        "NICU Line: thank you for texting. One question, if you would like to answer: Did you \
         feel understood by someone who had been through something similar? Reply 1 for yes, \
         2 for somewhat, 3 for no."
    );

    // "1" answers it: thanked, recorded, and no conversation opened; Twilio delivering
    // the reply twice changes nothing.
    let answer = Text::new(TEXTER, LINE, " 1 ");
    line.text(&answer).await;
    line.text(&answer).await;
    let thanks = line.deliver().await;
    assert_eq!(to(&thanks, TEXTER), ["Thank you for telling us."]);
    assert!(to(&thanks, ADA).is_empty(), "{thanks:?}");
    assert_eq!(line.conversation().await.id, reference);
    let answers = peerline::storage::surveys::of_contact(&line.app.db, reference)
        .await
        .unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(
        answers[0].answer,
        peerline::domain::survey::SurveyAnswer::Yes
    );

    // Once answered, a "2" is a new conversation like any text.
    line.send(TEXTER, "2").await;
    line.deliver().await;
    assert_ne!(line.conversation().await.id, reference);
}

#[tokio::test]
async fn a_volunteer_whose_phone_opted_out_is_offered_no_texts() {
    let (mut line, _) = line(&[("Ada", ADA)]).await;
    // Ada texts END alone: the carrier opts her phone out, and peerline mirrors it.
    line.send(ADA, "END").await;
    line.send(TEXTER, "Is anyone there?").await;
    let sent = line.deliver().await;
    assert!(to(&sent, ADA).is_empty(), "{sent:?}");
    let stored = line.conversation().await;
    assert!(
        offer::Entity::find()
            .filter(offer::Column::ContactId.eq(stored.id))
            .all(&line.app.db)
            .await
            .unwrap()
            .is_empty(),
        "no offer to a phone every message to would be refused"
    );
    // START opts her back in: the next conversation is offered to her.
    line.send(ADA, "START").await;
    line.send(OTHER_TEXTER, "Hello?").await;
    let sent = line.deliver().await;
    assert_eq!(to(&sent, ADA).len(), 2, "{sent:?}");
}

/// Ada or Ben, whoever was offered the texter's conversation in `sent`, and the other.
fn offered_and_other(sent: &[Sent]) -> (&'static str, &'static str) {
    if to(sent, ADA).is_empty() {
        (BEN, ADA)
    } else {
        (ADA, BEN)
    }
}

#[tokio::test]
async fn a_volunteer_whose_phone_opts_out_mid_conversation_hands_it_to_the_next() {
    let (mut line, ids) = line(&[("Ada", ADA), ("Ben", BEN)]).await;
    line.sam_on_call().await;
    line.send(TEXTER, "Is anyone there?").await;
    let (first, second) = offered_and_other(&line.deliver().await);
    line.send(first, "Hello, I'm here.").await;
    line.deliver().await;
    let reference = line.conversation().await.id;

    // The volunteer's phone opts out of the helpline number (STOP texted alone).
    line.send(first, "STOP").await;
    let sent = line.deliver().await;
    let told = to(&sent, TEXTER);
    assert_eq!(told.len(), 1, "{sent:?}");
    assert!(told[0].contains("someone else to carry on"), "{told:?}");
    let alert = to(&sent, SAM);
    assert_eq!(alert.len(), 1, "{sent:?}");
    assert!(alert[0].contains(&format!("#{reference}")) && alert[0].contains("back in the queue"));
    assert!(
        to(&sent, first).is_empty(),
        "nothing more to the opted-out phone"
    );
    assert_private(&sent);
    let waiting = line.conversation().await;
    assert_eq!(waiting.answered_by, None);
    assert_eq!(waiting.ended_at, None);
    assert!(
        line.events(reference)
            .await
            .contains(&"handed_back".to_owned())
    );

    // The conversations job offers it to the other volunteer, with what the texter wrote.
    line.jobs_at(now() + Duration::minutes(1)).await;
    let offered = line.deliver().await;
    let to_second = to(&offered, second);
    assert_eq!(to_second.len(), 2, "{offered:?}");
    assert!(to_second[0].starts_with(&format!("[#{reference}] New text conversation")));
    assert_eq!(to_second[1], format!("[#{reference}] Is anyone there?"));
    line.send(second, "Hi, I'm taking over from my colleague.")
        .await;
    let relayed = line.deliver().await;
    assert_eq!(
        to(&relayed, TEXTER),
        ["Hi, I'm taking over from my colleague."]
    );
    let second_id = if second == ADA { ids[0] } else { ids[1] };
    let taken = line.conversation().await;
    assert_eq!(taken.answered_by, Some(VolunteerId(second_id)));
    assert_eq!(taken.outcome, Some(Outcome::Answered));
}

#[tokio::test]
async fn an_opt_out_reported_by_twilio_lets_the_volunteers_conversation_go() {
    let (mut line, _) = line(&[("Ada", ADA), ("Ben", BEN)]).await;
    line.send(TEXTER, "Is anyone there?").await;
    let (first, second) = offered_and_other(&line.deliver().await);
    line.send(first, "Hello, I'm here.").await;
    line.send(TEXTER, "Thank you").await;
    line.deliver().await;
    let reference = line.conversation().await.id;

    // Twilio reports the relay to the volunteer's phone refused: it opted out (21610).
    let relay = outbox_message::Entity::find()
        .filter(outbox_message::Column::ContactId.eq(reference))
        .filter(outbox_message::Column::Purpose.eq("volunteer_relay"))
        .one(&line.app.db)
        .await
        .unwrap()
        .expect("the relay to the volunteer");
    let sid = relay.provider_sid.expect("sent");
    let peer = line.app.twilio();
    let report = [
        ("MessageSid", sid.as_str()),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "21610"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let (status, _) = peer
        .post(&peer.url("/twilio/sms/status"), &report)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(line.conversation().await.answered_by, None);
    let told = line.deliver().await;
    assert_eq!(to(&told, TEXTER).len(), 1, "{told:?}");
    line.jobs_at(now() + Duration::minutes(1)).await;
    let offered = line.deliver().await;
    assert!(to(&offered, first).is_empty(), "{offered:?}");
    assert!(
        to(&offered, second)[0].starts_with(&format!("[#{reference}] New text conversation")),
        "{offered:?}"
    );
}

#[tokio::test]
async fn a_copy_of_the_database_holds_no_phone_number_and_no_message() {
    let (mut line, ids) = line(&[("Ada", ADA)]).await;
    let ada = ids[0];
    let app = &line.app;
    let supervisor = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"name": "Sam", "role": "supervisor", "phone": SAM,
                   "time_zone": "Europe/London", "helplines": [line.helpline]}),
        )
        .await;
    assert_eq!(
        supervisor.status,
        StatusCode::CREATED,
        "{:?}",
        supervisor.body
    );
    let conflict = app
        .post(
            &format!("/api/v1/volunteers/{ada}/conflicts"),
            &app.admin,
            json!({"number": OTHER_TEXTER, "note": "my sister-in-law"}),
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CREATED, "{:?}", conflict.body);
    let leave = app
        .post(
            &format!("/api/v1/volunteers/{ada}/exceptions"),
            &app.admin,
            json!({"kind": "leave", "starts_at": "2026-12-24T00:00:00Z",
                   "ends_at": "2026-12-27T00:00:00Z", "note": "my father's chemotherapy"}),
        )
        .await;
    assert_eq!(leave.status, StatusCode::CREATED, "{:?}", leave.body);
    assert_eq!(leave.body["note"], "my father's chemotherapy");

    line.send(TEXTER, "Hi, my daughter is in the NICU.").await;
    line.deliver().await;
    let reference = line.conversation().await.id;
    line.send(ADA, "Hello, I'm here. I spent six weeks there with my son.")
        .await;
    line.send(ADA, &format!("#{reference} CLOSE")).await;
    line.deliver().await;
    let ada_token = line.app.token_for(Role::Volunteer, Some(ada), vec![]).await;
    let report = line
        .app
        .post(
            &format!("/api/v1/me/contacts/{reference}/report"),
            &ada_token,
            json!({"notes": "Her twins were born at twenty-six weeks.", "outcome_tags": [], "flags": []}),
        )
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{:?}", report.body);

    // Supervisors still read it all through peerline.
    let detail = line
        .app
        .get(&format!("/api/v1/contacts/{reference}"), &line.app.admin)
        .await;
    let shown = detail.body.to_string();
    for words in [
        "Hi, my daughter is in the NICU.",
        "I spent six weeks there with my son.",
        "Her twins were born at twenty-six weeks.",
    ] {
        assert!(shown.contains(words), "{words} is not shown: {shown}");
    }
    let volunteer = line
        .app
        .get(&format!("/api/v1/volunteers/{ada}"), &line.app.admin)
        .await;
    assert_eq!(volunteer.body["phone"], ADA);

    // A copy of the database alone does not have them.
    let stored = everything_stored(&line.app).await;
    assert!(stored.contains("NICU Line"), "the copy is readable");
    for secret in [
        &ADA[2..],
        &SAM[2..],
        &TEXTER[2..],
        &OTHER_TEXTER[2..],
        "my daughter is in the NICU",
        "six weeks there with my son",
        "twenty-six weeks",
        "sister-in-law",
        "chemotherapy",
    ] {
        assert!(!stored.contains(secret), "the database holds {secret:?}");
    }
}

/// Every byte of the test's database as text: the SQLite file and its write-ahead log,
/// or every row of every PostgreSQL table.
async fn everything_stored(app: &TestApp) -> String {
    use sea_orm::ConnectionTrait;
    let url = app.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap();
        let mut bytes = std::fs::read(file).unwrap();
        bytes.extend(std::fs::read(format!("{file}-wal")).unwrap_or_default());
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let tables = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
        ))
        .await
        .unwrap();
    let mut all = String::new();
    for table in tables {
        let name: String = table.try_get("", "table_name").unwrap();
        let rows = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT t::text AS row FROM \"{name}\" t"),
            ))
            .await
            .unwrap();
        for row in rows {
            all.push_str(&row.try_get::<String>("", "row").unwrap());
            all.push('\n');
        }
    }
    all
}
