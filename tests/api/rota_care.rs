//! Rota care end to end: shift reminders planned by the background job at a test clock,
//! volunteers' answers as signed inbound texts, and the texts peerline queues in its
//! outbox, read back as Twilio would be asked to send them.

use chrono::{DateTime, Duration, Utc};
use peerline::domain::access::Role;
use peerline::domain::ids::HelplineId;
use peerline::domain::phone::E164;
use peerline::rota_care::{cover, gap_alerts, reminders};
use peerline::simulator::text::Text;
use peerline::storage::entities::{outbox_message, user_helpline};
use peerline::storage::users;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, opened, spawn_app_at, utc, vault};

const LINE: &str = "+12025550100";
const SUPERVISOR: &str = "+12025550160";
const ADA: &str = "+12025550141";
const BEN: &str = "+12025550142";
const CAT: &str = "+12025550143";
const DAN: &str = "+12025550144";
const EVE: &str = "+12025550145";
const TEXTER: &str = "+12025550177";

/// A London helpline on `LINE` with `rota` settings and a supervisor with a phone.
async fn helpline(app: &TestApp, rota: Value) -> i32 {
    let helpline = app.helpline("NICU Line", "Europe/London").await;
    app.number(helpline, LINE).await;
    let reply = app
        .call(
            Method::PATCH,
            &format!("/api/v1/helplines/{helpline}"),
            Some(&app.admin),
            Some(json!({ "rota": rota })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    users::create(
        &app.db,
        &vault(),
        users::NewUser {
            name: "Sam".into(),
            role: Role::Supervisor,
            volunteer_id: None,
            phone: Some(E164::parse(SUPERVISOR).unwrap()),
            time_zone: Some("Europe/London".into()),
            helplines: vec![HelplineId(helpline)],
        },
        utc("2026-01-01T00:00:00Z"),
    )
    .await
    .unwrap();
    helpline
}

/// A volunteer on the helpline with the given weekly shifts, their refresher not due
/// before the test's dates.
async fn volunteer(
    app: &TestApp,
    helpline: i32,
    name: &str,
    phone: &str,
    shifts: &[(&str, &str, &str)],
) -> i32 {
    let id = app
        .volunteer(name, phone, "Europe/London", &[helpline])
        .await;
    let reply = app
        .call(
            Method::PATCH,
            &format!("/api/v1/volunteers/{id}"),
            Some(&app.admin),
            Some(json!({ "refresher_due_on": "2028-01-10" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    for (day, start, end) in shifts {
        let reply = app.shift(id, day, start, end).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }
    id
}

/// Every text queued so far, in order: (to, from, body).
async fn texts(app: &TestApp) -> Vec<(String, String, String)> {
    let vault = vault();
    outbox_message::Entity::find()
        .order_by_asc(outbox_message::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            let to = vault.open(&m.to_encrypted).unwrap().as_str().to_owned();
            (to, m.from_number, opened(&m.body))
        })
        .collect()
}

/// The bodies of the texts queued to `phone` after the first `seen`.
fn to(all: &[(String, String, String)], seen: usize, phone: &str) -> Vec<String> {
    all[seen..]
        .iter()
        .filter(|(to, _, _)| to == phone)
        .map(|(_, _, body)| body.clone())
        .collect()
}

async fn remind_at(app: &TestApp, at: DateTime<Utc>) -> reminders::Pass {
    reminders::run_once(&app.state_at(at)).await.unwrap()
}

async fn cover_at(app: &TestApp, at: DateTime<Utc>) -> cover::Pass {
    cover::run_once(&app.state_at(at)).await.unwrap()
}

async fn text_line(app: &TestApp, from: &str, body: &str) {
    let (status, twiml) = app
        .twilio()
        .text(&Text::new(from, LINE, body))
        .await
        .unwrap();
    assert_eq!(status, 200, "{twiml}");
}

#[tokio::test]
async fn a_reminder_goes_a_day_before_on_the_volunteers_clock_across_a_clock_change_and_once() {
    // Clocks go forward in London at 01:00 UTC on Sunday 28 March 2027.
    let app = spawn_app_at("2027-03-27T12:00:00Z").await;
    let helpline = helpline(&app, json!({ "reminders_enabled": true })).await;
    let ada = volunteer(&app, helpline, "Ada", ADA, &[("sunday", "19:00", "22:00")]).await;

    // Sunday 19:00 BST is 18:00 UTC; a day before on Ada's clock is Saturday 19:00 GMT.
    assert_eq!(remind_at(&app, utc("2027-03-27T18:59:00Z")).await.sent, 0);
    // Two servers plan the same minute: the reminder goes once.
    let at = utc("2027-03-27T19:00:30Z");
    let (first, second) = tokio::join!(remind_at(&app, at), remind_at(&app, at));
    assert_eq!(first.sent + second.sent, 1);
    assert_eq!(remind_at(&app, at + Duration::minutes(5)).await.sent, 0);
    let sent = texts(&app).await;
    assert_eq!(
        sent,
        vec![(
            ADA.to_owned(),
            LINE.to_owned(),
            "Reminder: your NICU Line shift Sun 28 Mar 19:00-22:00 (your time). \
             Reply OK to confirm or NO if you cannot make it."
                .to_owned()
        )]
    );

    // Nobody answers: at 07:00 BST on the day (12 hours before) the supervisor is told, once.
    let reminders = app
        .get(&format!("/api/v1/volunteers/{ada}/reminders"), &app.admin)
        .await;
    assert_eq!(reminders.body[0]["answer_by"], "2027-03-28T06:00:00Z");
    assert_eq!(reminders.body[0]["answer"], Value::Null);
    assert_eq!(
        remind_at(&app, utc("2027-03-28T05:59:00Z")).await.reported,
        0
    );
    assert_eq!(
        remind_at(&app, utc("2027-03-28T06:00:30Z")).await.reported,
        1
    );
    assert_eq!(
        remind_at(&app, utc("2027-03-28T06:05:00Z")).await.reported,
        0
    );
    assert_eq!(
        to(&texts(&app).await, 1, SUPERVISOR),
        vec![
            "Peerline: Ada has not confirmed their shift Sun 28 Mar 19:00-22:00 (Europe/London time)."
        ]
    );
}

#[tokio::test]
async fn ok_confirms_and_no_hands_the_shift_to_the_second_volunteer_who_answers() {
    let app = spawn_app_at("2026-12-07T20:00:00Z").await;
    let rota =
        json!({ "reminders_enabled": true, "cover_requests_enabled": true, "cover_wave_size": 2 });
    let helpline = helpline(&app, rota).await;
    let ada = volunteer(&app, helpline, "Ada", ADA, &[("tuesday", "19:00", "22:00")]).await;
    volunteer(
        &app,
        helpline,
        "Ben",
        BEN,
        &[("wednesday", "19:00", "22:00")],
    )
    .await;
    // Cat already has a long Monday this week, so Dan and Eve are asked first.
    volunteer(&app, helpline, "Cat", CAT, &[("monday", "09:00", "17:00")]).await;
    volunteer(&app, helpline, "Dan", DAN, &[]).await;
    let eve = volunteer(&app, helpline, "Eve", EVE, &[]).await;

    // Monday 20:00: Ada's Tuesday reminder is due; Ben's Wednesday one on Tuesday.
    assert_eq!(remind_at(&app, utc("2026-12-07T20:00:00Z")).await.sent, 1);
    assert_eq!(remind_at(&app, utc("2026-12-08T19:00:30Z")).await.sent, 1);
    let seen = texts(&app).await.len();

    text_line(&app, BEN, "ok").await;
    text_line(&app, ADA, "No").await;
    let sent = texts(&app).await;
    assert_eq!(
        to(&sent, seen, BEN),
        vec!["Thank you: your shift Wed 9 Dec 19:00-22:00 (your time) is confirmed."]
    );
    assert_eq!(
        to(&sent, seen, ADA),
        vec![
            "Thank you for letting us know. Your shift Tue 8 Dec 19:00-22:00 (your time) is now off. Take care."
        ]
    );
    let tuesday = "from=2026-12-08T19:00:00Z&to=2026-12-08T22:00:00Z";
    let coverage = app
        .get(
            &format!("/api/v1/helplines/{helpline}/coverage?{tuesday}"),
            &app.admin,
        )
        .await;
    assert_eq!(coverage.body["gaps"].as_array().unwrap().len(), 1);
    let requests = app
        .get(
            &format!("/api/v1/helplines/{helpline}/cover-requests"),
            &app.admin,
        )
        .await;
    assert_eq!(requests.body[0]["lost_by"], ada);
    assert_eq!(requests.body[0]["reason"], "cannot_come");
    let request = requests.body[0]["id"].as_i64().unwrap();

    // The first wave asks the two with the fewest hours this week.
    let seen = sent.len();
    assert_eq!(cover_at(&app, utc("2026-12-07T20:01:00Z")).await.asked, 2);
    let sent = texts(&app).await;
    let ask = format!(
        "Can you cover Tue 8 Dec 19:00-22:00 (your time)? Reply YES {request} to take it, or NO {request}."
    );
    assert_eq!(to(&sent, seen, DAN), vec![ask.clone()]);
    assert_eq!(to(&sent, seen, EVE), vec![ask]);
    assert!(to(&sent, seen, CAT).is_empty());

    // Dan says no; Eve, second to answer, takes it; Dan's later yes is too late.
    let seen = sent.len();
    text_line(&app, DAN, &format!("NO {request}")).await;
    text_line(&app, EVE, &format!("yes {request}")).await;
    text_line(&app, DAN, &format!("YES {request}")).await;
    let sent = texts(&app).await;
    assert_eq!(
        to(&sent, seen, DAN),
        vec![
            "Thank you for letting us know.",
            "Thank you for offering. The shift Tue 8 Dec 19:00-22:00 (your time) is already covered."
        ]
    );
    assert_eq!(
        to(&sent, seen, EVE),
        vec!["Thank you: the shift Tue 8 Dec 19:00-22:00 (your time) is yours."]
    );
    assert_eq!(
        to(&sent, seen, SUPERVISOR),
        vec!["Peerline: Eve will cover Ada's shift Tue 8 Dec 19:00-22:00 (Europe/London time)."]
    );

    // The gap is closed, and no second wave goes out.
    let coverage = app
        .get(
            &format!("/api/v1/helplines/{helpline}/coverage?{tuesday}"),
            &app.admin,
        )
        .await;
    assert_eq!(coverage.body["gaps"], json!([]), "{:?}", coverage.body);
    assert_eq!(cover_at(&app, utc("2026-12-07T21:00:00Z")).await.asked, 0);
    let requests = app
        .get(
            &format!("/api/v1/helplines/{helpline}/cover-requests"),
            &app.admin,
        )
        .await;
    assert_eq!(requests.body[0]["filled_by"], eve);
    let answers: Vec<&str> = requests.body[0]["asked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["answer"].as_str().unwrap())
        .collect();
    assert_eq!(answers, vec!["too_late", "took"]);
}

#[tokio::test]
async fn a_reminder_due_in_quiet_hours_waits_until_they_end() {
    let app = spawn_app_at("2026-12-07T12:00:00Z").await;
    let helpline = helpline(&app, json!({ "reminders_enabled": true })).await;
    let ada = volunteer(
        &app,
        helpline,
        "Ada",
        ADA,
        &[("wednesday", "07:00", "10:00")],
    )
    .await;
    let ben = volunteer(&app, helpline, "Ben", BEN, &[]).await;
    let ada_token = app
        .token_for(Role::Volunteer, Some(ada), vec![helpline])
        .await;
    let ben_token = app
        .token_for(Role::Volunteer, Some(ben), vec![helpline])
        .await;
    let path = format!("/api/v1/volunteers/{ada}/quiet-hours");
    let put = |token: String, body: Value| {
        let path = path.clone();
        let app = &app;
        async move { app.call(Method::PUT, &path, Some(&token), Some(body)).await }
    };

    let same = put(
        ada_token.clone(),
        json!({"from": "08:00", "until": "08:00"}),
    )
    .await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    assert_eq!(same.body["field"], "quiet_hours.until", "{:?}", same.body);
    let not_hers = put(
        ben_token.clone(),
        json!({"from": "22:00", "until": "08:00"}),
    )
    .await;
    assert_eq!(not_hers.status, StatusCode::NOT_FOUND);
    let set = put(
        ada_token.clone(),
        json!({"from": "22:00", "until": "08:00"}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    let shown = app
        .get(&format!("/api/v1/volunteers/{ada}"), &ada_token)
        .await;
    assert_eq!(
        shown.body["quiet_hours"],
        json!({"from": "22:00", "until": "08:00"})
    );

    // Due Tuesday 07:00, inside her quiet hours: it goes at 08:00.
    assert_eq!(remind_at(&app, utc("2026-12-08T07:00:30Z")).await.sent, 0);
    assert_eq!(remind_at(&app, utc("2026-12-08T08:00:30Z")).await.sent, 1);

    let cleared = app
        .call(Method::DELETE, &path, Some(&ada_token), None)
        .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    let shown = app
        .get(&format!("/api/v1/volunteers/{ada}"), &ada_token)
        .await;
    assert_eq!(shown.body["quiet_hours"], Value::Null);

    // They are part of her profile too: set and cleared with the rest of it.
    let profile = format!("/api/v1/volunteers/{ada}");
    let patch = |body: Value| app.call(Method::PATCH, &profile, Some(&ada_token), Some(body));
    let set = patch(json!({"quiet_hours": {"from": "23:00", "until": "07:00"}})).await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.body["quiet_hours"]["from"], "23:00");
    let cleared = patch(json!({"quiet_hours": null})).await;
    assert_eq!(
        cleared.body["quiet_hours"],
        Value::Null,
        "{:?}",
        cleared.body
    );
}

/// The status a calendar app meets at `url`.
async fn feed_status(url: &str) -> StatusCode {
    reqwest::get(url).await.unwrap().status()
}

/// Each event of an iCalendar feed, read with the `icalendar` parser: (summary, start, end).
fn events(feed: &str) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    use icalendar::{CalendarComponent, CalendarDateTime, Component, DatePerhapsTime};
    let instant = |at: Option<DatePerhapsTime>| match at {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => at,
        other => panic!("not a UTC instant: {other:?}"),
    };
    let calendar: icalendar::Calendar = feed.parse().unwrap();
    calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some((
                e.get_summary().unwrap_or_default().to_owned(),
                instant(e.get_start()),
                instant(e.get_end()),
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_volunteers_calendar_feed_places_a_shift_across_the_clock_change_and_can_be_revoked() {
    let app = spawn_app_at("2027-03-20T12:00:00Z").await;
    let helpline = helpline(&app, json!({})).await;
    let ada = volunteer(
        &app,
        helpline,
        "Ada",
        ADA,
        &[("saturday", "23:00", "03:00")],
    )
    .await;
    let ada_token = app
        .token_for(Role::Volunteer, Some(ada), vec![helpline])
        .await;
    let leave = app
        .post(
            &format!("/api/v1/volunteers/{ada}/exceptions"),
            &ada_token,
            json!({"kind": "leave", "starts_at": "2027-04-03T00:00:00Z", "ends_at": "2027-04-05T00:00:00Z"}),
        )
        .await;
    assert_eq!(leave.status, StatusCode::CREATED, "{:?}", leave.body);
    let issued = app
        .post(
            &format!("/api/v1/volunteers/{ada}/calendar-feed"),
            &ada_token,
            json!(null),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{:?}", issued.body);
    let url = issued.body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/calendar/", app.base)), "{url}");

    let client = reqwest::Client::new();
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let feed = response.text().await.unwrap();
    assert!(feed.contains("X-WR-TIMEZONE:Europe/London"), "{feed}");
    let found = events(&feed);
    let shift = |start: &str, end: &str| {
        (
            "Peerline shift (calls and texts)".to_owned(),
            utc(start),
            utc(end),
        )
    };
    // 23:00 GMT to 03:00 BST: three hours on the night the clocks go forward.
    assert_eq!(
        found[0],
        shift("2027-03-20T23:00:00Z", "2027-03-21T03:00:00Z")
    );
    assert_eq!(
        found[1],
        shift("2027-03-27T23:00:00Z", "2027-03-28T02:00:00Z")
    );
    assert_eq!(
        found[2],
        shift("2027-04-10T22:00:00Z", "2027-04-11T02:00:00Z")
    );
    assert!(found.contains(&(
        "On leave from Peerline".to_owned(),
        utc("2027-04-03T00:00:00Z"),
        utc("2027-04-05T00:00:00Z")
    )));

    // A calendar app that holds this version is told so.
    let again = client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // A new address replaces the old one; revoking ends the new one too.
    let reissued = app
        .post(
            &format!("/api/v1/volunteers/{ada}/calendar-feed"),
            &app.admin,
            json!(null),
        )
        .await;
    let new_url = reissued.body["url"].as_str().unwrap().to_owned();
    assert_eq!(feed_status(&url).await, StatusCode::NOT_FOUND);
    assert_eq!(feed_status(&new_url).await, StatusCode::OK);
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/volunteers/{ada}/calendar-feed"),
            Some(&ada_token),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(feed_status(&new_url).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_hour_before_reminder_asks_for_nothing_and_only_the_asking_one_is_reported() {
    let app = spawn_app_at("2026-12-07T20:00:00Z").await;
    let rota = json!({ "reminders_enabled": true, "remind_again_hour_before": true });
    let helpline = helpline(&app, rota).await;
    let ada = volunteer(&app, helpline, "Ada", ADA, &[("tuesday", "19:00", "22:00")]).await;

    assert_eq!(remind_at(&app, utc("2026-12-07T20:00:00Z")).await.sent, 1);
    assert_eq!(
        remind_at(&app, utc("2026-12-08T07:00:30Z")).await.reported,
        1
    );
    assert_eq!(remind_at(&app, utc("2026-12-08T17:59:00Z")).await.sent, 0);
    let seen = texts(&app).await.len();
    let last = remind_at(&app, utc("2026-12-08T18:00:30Z")).await;
    assert_eq!((last.sent, last.reported), (1, 0));
    assert_eq!(
        to(&texts(&app).await, seen, ADA),
        vec![
            "Your NICU Line shift starts in an hour: Tue 8 Dec 19:00-22:00 (your time). Thank you."
        ]
    );
    let reminders = app
        .get(&format!("/api/v1/volunteers/{ada}/reminders"), &app.admin)
        .await;
    let rounds: Vec<(&str, &Value)> = reminders
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["round"].as_str().unwrap(), &r["answer_by"]))
        .collect();
    assert_eq!(
        rounds,
        vec![
            ("ask", &json!("2026-12-08T07:00:00Z")),
            ("hour_before", &Value::Null)
        ]
    );
}

#[tokio::test]
async fn leave_at_short_notice_asks_for_cover_and_a_shift_nobody_takes_is_reported_when_it_begins()
{
    let app = spawn_app_at("2026-12-07T12:00:00Z").await;
    let helpline = helpline(&app, json!({ "cover_requests_enabled": true })).await;
    let ada = volunteer(&app, helpline, "Ada", ADA, &[("tuesday", "19:00", "22:00")]).await;
    volunteer(&app, helpline, "Ben", BEN, &[]).await;
    let leave = |from: &str, until: &str| {
        let body = json!({"kind": "leave", "starts_at": from, "ends_at": until});
        let path = format!("/api/v1/volunteers/{ada}/exceptions");
        let app = &app;
        async move { app.post(&path, &app.admin, body).await }
    };
    let requests = || {
        let path = format!("/api/v1/helplines/{helpline}/cover-requests");
        let app = &app;
        async move { app.get(&path, &app.admin).await.body }
    };

    // Leave two weeks ahead is not short notice: nobody is asked.
    let far = leave("2026-12-22T00:00:00Z", "2026-12-23T00:00:00Z").await;
    assert_eq!(far.status, StatusCode::CREATED, "{:?}", far.body);
    assert_eq!(requests().await, json!([]));

    // Leave tomorrow takes the only Tuesday evening shift: Ben is asked.
    let near = leave("2026-12-08T00:00:00Z", "2026-12-09T00:00:00Z").await;
    assert_eq!(near.status, StatusCode::CREATED, "{:?}", near.body);
    let opened = requests().await;
    assert_eq!(opened[0]["reason"], "leave");
    assert_eq!(opened[0]["shift_starts_at"], "2026-12-08T19:00:00Z");
    assert_eq!(cover_at(&app, utc("2026-12-07T12:01:00Z")).await.asked, 1);

    // Nobody answers: when the shift begins the request closes and the supervisor hears.
    let seen = texts(&app).await.len();
    assert_eq!(cover_at(&app, utc("2026-12-08T18:59:00Z")).await.expired, 0);
    assert_eq!(cover_at(&app, utc("2026-12-08T19:00:30Z")).await.expired, 1);
    assert_eq!(cover_at(&app, utc("2026-12-08T19:05:00Z")).await.expired, 0);
    assert_eq!(
        to(&texts(&app).await, seen, SUPERVISOR),
        vec![
            "Peerline: nobody took Ada's shift Tue 8 Dec 19:00-22:00 (Europe/London time); it began uncovered."
        ]
    );
    let closed = requests().await;
    assert_eq!(closed[0]["filled_by"], Value::Null);
    assert!(closed[0]["closed_at"].is_string(), "{closed:?}");
}

#[tokio::test]
async fn a_bare_ok_from_a_volunteer_in_a_text_conversation_goes_to_the_texter() {
    let app = spawn_app_at("2026-12-07T20:00:00Z").await;
    let helpline = helpline(&app, json!({ "reminders_enabled": true })).await;
    let ada = volunteer(&app, helpline, "Ada", ADA, &[("tuesday", "19:00", "22:00")]).await;
    app.on_shift_around(ada, "2026-12-07T20:00:00Z").await;
    assert_eq!(remind_at(&app, utc("2026-12-07T20:00:00Z")).await.sent, 1);

    text_line(&app, TEXTER, "Is anyone there?").await;
    text_line(&app, ADA, "Hello, I'm here.").await;
    let seen = texts(&app).await.len();
    text_line(&app, ADA, "OK").await;

    assert_eq!(to(&texts(&app).await, seen, TEXTER), vec!["OK"]);
    let reminders = app
        .get(&format!("/api/v1/volunteers/{ada}/reminders"), &app.admin)
        .await;
    assert_eq!(reminders.body[0]["answer"], Value::Null);
    // Once the conversation is over, the same word confirms the shift.
    let reference = texts(&app)
        .await
        .iter()
        .find_map(|(_, _, body)| {
            body.strip_prefix("[#")?
                .split(']')
                .next()?
                .parse::<i32>()
                .ok()
        })
        .unwrap();
    text_line(&app, ADA, &format!("#{reference} END")).await;
    text_line(&app, ADA, "OK").await;
    let reminders = app
        .get(&format!("/api/v1/volunteers/{ada}/reminders"), &app.admin)
        .await;
    assert_eq!(reminders.body[0]["answer"], "confirmed");
}

#[tokio::test]
async fn ok_not_and_a_topic_confirms_the_shift_and_steps_back_from_that_topic_for_it() {
    let app = spawn_app_at("2026-12-07T20:00:00Z").await;
    let helpline = helpline(&app, json!({ "reminders_enabled": true })).await;
    let bereavement = app.topic(helpline, "bereavement", 1).await;
    let ada = volunteer(&app, helpline, "Ada", ADA, &[("tuesday", "19:00", "22:00")]).await;
    let ben = volunteer(&app, helpline, "Ben", BEN, &[("tuesday", "19:00", "22:00")]).await;
    assert_eq!(remind_at(&app, utc("2026-12-07T20:00:00Z")).await.sent, 2);
    let seen = texts(&app).await.len();

    // A topic the helpline does not have: the shift is confirmed, and the words explained.
    text_line(&app, BEN, "ok not grief").await;
    text_line(&app, ADA, "YES NOT BEREAVEMENT").await;
    let sent = texts(&app).await;
    assert_eq!(
        to(&sent, seen, ADA),
        vec![
            "Thank you: your shift Tue 8 Dec 19:00-22:00 (your time) is confirmed, and you will not be offered contacts about bereavement on it. Take care of yourself."
        ]
    );
    let ben_told = to(&sent, seen, BEN);
    assert!(
        ben_told[0].starts_with("Thank you: your shift Tue 8 Dec 19:00-22:00 (your time) is confirmed. No topic is called \"grief\""),
        "{ben_told:?}"
    );
    let stepped = app
        .get(&format!("/api/v1/volunteers/{ada}/step-backs"), &app.admin)
        .await;
    assert_eq!(stepped.body[0]["topic_id"], bereavement);
    assert_eq!(stepped.body[0]["until"], "2026-12-08T22:00:00Z");
    let none = app
        .get(&format!("/api/v1/volunteers/{ben}/step-backs"), &app.admin)
        .await;
    assert_eq!(none.body, json!([]));
    let reminders = app
        .get(&format!("/api/v1/volunteers/{ada}/reminders"), &app.admin)
        .await;
    assert_eq!(reminders.body[0]["answer"], "confirmed");
}

#[tokio::test]
async fn a_pause_with_shifts_coming_up_asks_others_to_cover_them() {
    let app = spawn_app_at("2026-12-07T12:00:00Z").await;
    let helpline = helpline(&app, json!({ "cover_requests_enabled": true })).await;
    let ada = volunteer(
        &app,
        helpline,
        "Ada",
        ADA,
        &[("tuesday", "19:00", "22:00"), ("friday", "19:00", "22:00")],
    )
    .await;
    volunteer(&app, helpline, "Ben", BEN, &[]).await;
    let paused = app
        .call(
            Method::PATCH,
            &format!("/api/v1/volunteers/{ada}"),
            Some(&app.admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{:?}", paused.body);
    // Tuesday's shift is within the 72 hours of short notice; Friday's is not.
    let opened = app
        .get(
            &format!("/api/v1/helplines/{helpline}/cover-requests"),
            &app.admin,
        )
        .await
        .body;
    let opened = opened.as_array().expect("cover requests");
    let starts: Vec<&str> = opened
        .iter()
        .map(|r| r["shift_starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["2026-12-08T19:00:00Z"], "{opened:?}");
    assert_eq!(opened[0]["reason"], "paused");
    assert_eq!(cover_at(&app, utc("2026-12-07T12:01:00Z")).await.asked, 1);
}

/// Signs `volunteer` off for `topic`, as a supervisor of `helpline` (with no phone).
async fn sign_off(app: &TestApp, helpline: i32, volunteer: i32, topic: i32) {
    let supervisor = app.token_for(Role::Supervisor, None, vec![helpline]).await;
    let signed = app
        .call(
            Method::PUT,
            &format!("/api/v1/volunteers/{volunteer}/signoffs/{topic}"),
            Some(&supervisor),
            None,
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{:?}", signed.body);
}

async fn gap_alerts_at(app: &TestApp, at: DateTime<Utc>) -> usize {
    gap_alerts::run_once(&app.state_at(at)).await.unwrap()
}

const EVERY_DAY: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

#[tokio::test]
async fn coordinators_hear_the_weeks_gaps_once_a_day_at_the_helplines_chosen_time() {
    // Monday 7 June 2027; London is on BST (UTC+1), so 08:00 there is 07:00 UTC.
    let app = spawn_app_at("2027-06-07T06:00:00Z").await;
    let helpline = helpline(
        &app,
        json!({ "gap_alerts_enabled": true, "gap_alert_time": "08:00" }),
    )
    .await;
    let neonatal = app.topic(helpline, "neonatal", 1).await;
    let bereavement = app.topic(helpline, "bereavement", 2).await;
    // Ada, for neonatal, 09:00-17:00 every day; Ben, for bereavement, Monday 17:00-21:00.
    let days: Vec<_> = EVERY_DAY.iter().map(|d| (*d, "09:00", "17:00")).collect();
    let ada = volunteer(&app, helpline, "Ada", ADA, &days).await;
    let ben = volunteer(&app, helpline, "Ben", BEN, &[("monday", "17:00", "21:00")]).await;
    sign_off(&app, helpline, ada, neonatal).await;
    sign_off(&app, helpline, ben, bereavement).await;

    assert_eq!(gap_alerts_at(&app, utc("2027-06-07T06:59:00Z")).await, 0);
    // Two servers reach the alert time together: one alert.
    let at = utc("2027-06-07T07:00:00Z");
    let (first, second) = tokio::join!(gap_alerts_at(&app, at), gap_alerts_at(&app, at));
    assert_eq!(first + second, 1);
    assert_eq!(gap_alerts_at(&app, utc("2027-06-07T12:00:00Z")).await, 0);

    // Nobody on shift: 07:00-08:00 today, 20:00-08:00 tonight, 16:00-08:00 the next five
    // nights and from 16:00 on Sunday to the end of the week (UTC): 108 hours.
    assert_eq!(
        to(&texts(&app).await, 0, SUPERVISOR),
        vec![format!(
            "Peerline rota gaps in the next 7 days (Europe/London time): \
             nobody on shift 108h in 8 gaps, first Mon 7 Jun 08:00-09:00. \
             neonatal: 4h in 1 gap, first Mon 7 Jun 17:00-21:00. \
             bereavement: 56h in 7 gaps, first Mon 7 Jun 09:00-17:00. \
             Details: {}/console/helplines/{helpline}/rota",
            app.base
        )]
    );
    let alerts = app
        .get(
            &format!("/api/v1/helplines/{helpline}/gap-alerts"),
            &app.admin,
        )
        .await;
    assert_eq!(alerts.status, StatusCode::OK, "{:?}", alerts.body);
    let alert = &alerts.body[0];
    assert_eq!(alert["day"], "2027-06-07");
    assert_eq!(alert["told"], 1);
    assert_eq!(alert["from"], "2027-06-07T07:00:00Z");
    assert_eq!(alert["to"], "2027-06-14T07:00:00Z");
    assert_eq!(alert["gaps"].as_array().unwrap().len(), 8);
    assert_eq!(
        alert["topics"][0]["gaps"],
        json!([{"start": "2027-06-07T16:00:00Z", "end": "2027-06-07T20:00:00Z"}])
    );
    assert_eq!(alert["topics"][1]["key"], "bereavement");

    // Cat takes the nights for both topics: the next morning's alert has less to tell.
    let nights: Vec<_> = EVERY_DAY.iter().map(|d| (*d, "17:00", "23:00")).collect();
    let cat = volunteer(&app, helpline, "Cat", CAT, &nights).await;
    sign_off(&app, helpline, cat, neonatal).await;
    sign_off(&app, helpline, cat, bereavement).await;
    assert_eq!(gap_alerts_at(&app, utc("2027-06-08T06:59:00Z")).await, 0);
    assert_eq!(gap_alerts_at(&app, utc("2027-06-08T07:00:00Z")).await, 1);
    let second_day = to(&texts(&app).await, 1, SUPERVISOR);
    assert_eq!(second_day.len(), 1, "{second_day:?}");
    assert!(
        second_day[0].contains(
            "nobody on shift 70h in 8 gaps, first Tue 8 Jun 08:00-09:00. bereavement: 56h in 7 gaps"
        ),
        "{}",
        second_day[0]
    );
    assert!(!second_day[0].contains("neonatal"), "{}", second_day[0]);

    // Only those who manage the helpline see its alerts.
    let elsewhere = app.helpline("Elsewhere", "Europe/London").await;
    let other_supervisor = app.token_for(Role::Supervisor, None, vec![elsewhere]).await;
    let refused = app
        .get(
            &format!("/api/v1/helplines/{helpline}/gap-alerts"),
            &other_supervisor,
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{:?}", refused.body);
    let ada_token = app
        .token_for(Role::Volunteer, Some(ada), vec![helpline])
        .await;
    let refused = app
        .get(
            &format!("/api/v1/helplines/{helpline}/gap-alerts"),
            &ada_token,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
}

#[tokio::test]
async fn a_coordinators_gap_feed_shows_the_gaps_across_the_clock_change_until_they_stop_managing() {
    // Monday 22 March 2027; London's clocks go forward at 01:00 UTC on Sunday 28 March.
    let app = spawn_app_at("2027-03-22T12:00:00Z").await;
    let helpline = helpline(&app, json!({})).await;
    app.topic(helpline, "bereavement", 1).await;
    let ada = volunteer(
        &app,
        helpline,
        "Ada",
        ADA,
        &[("saturday", "23:00", "03:00")],
    )
    .await;
    let coordinator = app.token_for(Role::Supervisor, None, vec![helpline]).await;
    let issued = app
        .post(
            &format!("/api/v1/helplines/{helpline}/gap-feed"),
            &coordinator,
            json!(null),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{:?}", issued.body);
    let url = issued.body["url"].as_str().unwrap().to_owned();

    let client = reqwest::Client::new();
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let last_modified = response.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let feed = response.text().await.unwrap();
    assert!(feed.contains("X-WR-TIMEZONE:Europe/London"), "{feed}");
    let found = events(&feed);
    let event = |summary: &str, start: &str, end: &str| (summary.to_owned(), utc(start), utc(end));
    // Ada's 23:00 GMT to 03:00 BST is three hours; around it, nobody.
    assert_eq!(
        found[0],
        event(
            "Nobody on shift",
            "2027-03-22T00:00:00Z",
            "2027-03-27T23:00:00Z"
        )
    );
    assert_eq!(
        found[1],
        event(
            "Nobody on shift",
            "2027-03-28T02:00:00Z",
            "2027-04-03T22:00:00Z"
        )
    );
    // Ada is not signed off for bereavement: her shift is a gap for it.
    assert!(
        found.contains(&event(
            "Nobody on shift for bereavement",
            "2027-03-27T23:00:00Z",
            "2027-03-28T02:00:00Z"
        )),
        "{found:?}"
    );

    // A calendar app that holds this version is told so, by tag or by date.
    let by_tag = client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(by_tag.status(), StatusCode::NOT_MODIFIED);
    let by_date = client
        .get(&url)
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);
    // A new shift changes the gaps: the same question now gets the new feed.
    let reply = app.shift(ada, "sunday", "09:00", "17:00").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let changed = client
        .get(&url)
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["last-modified"], last_modified.as_str());
    assert_eq!(
        events(&changed.text().await.unwrap())[1].2,
        utc("2027-03-28T08:00:00Z")
    );

    // Another helpline's supervisor cannot have one; revoking ends it; and a feed stops
    // when its coordinator no longer supervises the helpline.
    let elsewhere = app.helpline("Elsewhere", "Europe/London").await;
    let other = app.token_for(Role::Supervisor, None, vec![elsewhere]).await;
    let refused = app
        .post(
            &format!("/api/v1/helplines/{helpline}/gap-feed"),
            &other,
            json!(null),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{:?}", refused.body);
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/helplines/{helpline}/gap-feed"),
            Some(&coordinator),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(feed_status(&url).await, StatusCode::NOT_FOUND);
    let reissued = app
        .post(
            &format!("/api/v1/helplines/{helpline}/gap-feed"),
            &coordinator,
            json!(null),
        )
        .await;
    let new_url = reissued.body["url"].as_str().unwrap().to_owned();
    assert_eq!(feed_status(&new_url).await, StatusCode::OK);
    user_helpline::Entity::delete_many()
        .filter(user_helpline::Column::HelplineId.eq(helpline))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(feed_status(&new_url).await, StatusCode::NOT_FOUND);
}
