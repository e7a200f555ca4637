//! The console through HTTP: signing in with a texted code or a one-time link, the limits
//! on guessing, sessions that end, forms that must come from the console, and who may
//! open which page. The same journeys in a real browser are in `console_browser.rs`.

use std::collections::HashMap;

use peerline::domain::access::Role;
use peerline::domain::ids::{UserId, VolunteerId};
use peerline::simulator::{self, Answer, CallScript};
use peerline::storage::entities::{api_token, audit_entry, contact, outbox_message, volunteer};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{self, Seed, TestApp, id_of, opened, spawn_app_at, utc, vault};
use peerline::storage::contacts::Stage;
use sea_orm::sea_query::Expr;

pub const LINE_A: &str = "+12025550100";
pub const LINE_B: &str = "+12025550101";
pub const CALLER: &str = "+12025550142";
pub const ALICE: &str = "+12025550111";
pub const BOB: &str = "+12025550122";
pub const DAN: &str = "+12025550133";
pub const SAM: &str = "+12025550199";
pub const NOW: &str = "2026-11-22T12:00:00Z";

/// Helpline A with its supervisor Sam (on call, with a phone) and volunteers Alice
/// (signed off for neonatal care) and Bob (not), both on shift, and Cat, off shift, each with a login; Dan
/// serves helpline B. Alice has taken one call about neonatal care.
pub struct ConsoleScene {
    pub app: TestApp,
    pub a: i32,
    pub b: i32,
    pub sam: i32,
    pub alice: i32,
    pub bob: i32,
    pub dan: i32,
    pub contact_id: i32,
    pub dan_contact_id: i32,
}

pub async fn console_scene() -> ConsoleScene {
    let app = spawn_app_at(NOW).await;
    let a = app.helpline("Peerline A", "Europe/London").await;
    let b = app.helpline("Peerline B", "Europe/London").await;
    app.number(a, LINE_A).await;
    app.number(b, LINE_B).await;
    let neonatal = app.topic(a, "neonatal-care", 1).await;
    let sam = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"name": "Sam", "role": "supervisor", "helplines": [a], "phone": SAM,
                   "time_zone": "Europe/London"}),
        )
        .await;
    let sam = id_of(&sam);
    let on_call = app
        .post(
            &format!("/api/v1/helplines/{a}/on-call"),
            &app.admin,
            json!({"user_id": sam, "weekday": "sunday", "start": "00:00", "end": "23:59"}),
        )
        .await;
    assert_eq!(on_call.status, StatusCode::CREATED, "{:?}", on_call.body);
    let alice = app.volunteer("Alice", ALICE, "Europe/London", &[a]).await;
    let bob = app.volunteer("Bob", BOB, "Europe/London", &[a]).await;
    let dan = app.volunteer("Dan", DAN, "America/New_York", &[b]).await;
    // Cat serves helpline A but is not on shift.
    app.volunteer("Cat", "+12025550144", "Europe/London", &[a])
        .await;
    for v in [alice, bob, dan] {
        app.on_shift_around(v, NOW).await;
    }
    let shift = app.shift(alice, "tuesday", "19:00", "22:00").await;
    assert_eq!(shift.status, StatusCode::CREATED, "{:?}", shift.body);
    let sam_token = app
        .post(
            &format!("/api/v1/users/{sam}/tokens"),
            &app.admin,
            json!({}),
        )
        .await;
    let signed = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/volunteers/{alice}/signoffs/{neonatal}"),
            sam_token.body["token"].as_str(),
            None,
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{:?}", signed.body);
    for v in [alice, bob, dan] {
        app.token_for(Role::Volunteer, Some(v), vec![]).await;
    }
    let contact_id = take_call(&app, LINE_A, &["1"]).await;
    let dan_contact_id = take_call(&app, LINE_B, &[]).await;
    ConsoleScene {
        app,
        a,
        b,
        sam,
        alice,
        bob,
        dan,
        contact_id,
        dan_contact_id,
    }
}

/// A call answered by the first volunteer rung; its contact id.
async fn take_call(app: &TestApp, line: &str, digits: &[&str]) -> i32 {
    let script = CallScript {
        to: line.into(),
        from: CALLER.into(),
        digits: digits.iter().map(|d| (*d).to_owned()).collect(),
        answer: Answer::First,
        talk_secs: 300,
    };
    let transcript = simulator::play_call(&app.twilio(), &script).await.unwrap();
    assert!(transcript.connected_to.is_some(), "{transcript:?}");
    contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(&transcript.call_sid))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the call is in the log")
        .id
        .0
}

/// The code in the newest sign-in text to `phone`, read from the outbox. A browser's
/// click returns before its form reaches the server, so the text is waited for (up to
/// 10 s).
pub async fn texted_code(app: &TestApp, phone: &str) -> String {
    let mut text = None;
    for _ in 0..100 {
        let sent = outbox_message::Entity::find()
            .filter(outbox_message::Column::Purpose.eq("sign_in_code"))
            .order_by_desc(outbox_message::Column::Id)
            .all(&app.db)
            .await
            .unwrap();
        text = sent
            .into_iter()
            .find(|m| vault().open(&m.to_encrypted).map(|n| n.to_string()) == Some(phone.into()));
        if text.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let text = text.unwrap_or_else(|| panic!("no sign-in code texted to {phone}"));
    opened(&text.body)
        .split_whitespace()
        .find(|w| {
            w.trim_end_matches('.').len() == 6 && w.chars().take(6).all(|c| c.is_ascii_digit())
        })
        .map(|w| w.trim_end_matches('.').to_owned())
        .expect("a six-digit code in the text")
}

/// A one-time sign-in link for `user`, as `peerline login-link` prints it.
pub async fn login_link(app: &TestApp, user: i32) -> String {
    let link = peerline::console::sign_in::issue_link(
        &app.db,
        &vault(),
        &url::Url::parse(&app.base).unwrap(),
        UserId(user),
        utc(NOW),
    )
    .await
    .unwrap();
    link.replacen(app.base.trim_end_matches('/'), "", 1)
}

/// A browser stand-in: keeps cookies, follows no redirects, reads forms' tokens.
struct Visitor<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    html: String,
}

impl Page {
    /// The HTML of the element with this id, up to its closing tag.
    fn element(&self, id: &str) -> String {
        let start = self
            .html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no element {id} in {}", self.html));
        let rest = &self.html[start..];
        let end = rest
            .find("</ul>")
            .or_else(|| rest.find("</p>"))
            .unwrap_or(rest.len());
        rest[..end].to_owned()
    }

    /// The anti-forgery token in the page's forms.
    fn form_token(&self) -> String {
        let start = self
            .html
            .find("name=\"form_token\" value=\"")
            .unwrap_or_else(|| panic!("no form token in {}", self.html))
            + "name=\"form_token\" value=\"".len();
        self.html[start..].split('"').next().unwrap().to_owned()
    }
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let response = request
            .header("cookie", cookie.join("; "))
            .send()
            .await
            .unwrap();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: response.status(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned()),
            html: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.app.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self
            .http
            .post(format!("{}{path}", self.app.base))
            .form(form);
        self.send(request).await
    }

    /// Asks for a code for `phone`; the page that asks for it.
    async fn ask_code(&mut self, phone: &str) -> Page {
        let token = self.get("/console/sign-in").await.form_token();
        self.post(
            "/console/sign-in",
            &[("form_token", &token), ("phone", phone)],
        )
        .await
    }

    async fn enter_code(&mut self, phone: &str, code: &str) -> Page {
        let token = self.get("/console/sign-in").await.form_token();
        self.post(
            "/console/sign-in/code",
            &[("form_token", &token), ("phone", phone), ("code", code)],
        )
        .await
    }

    async fn sign_in(&mut self, phone: &str) {
        assert_eq!(self.ask_code(phone).await.status, StatusCode::OK);
        let code = texted_code(self.app, phone).await;
        let signed_in = self.enter_code(phone, &code).await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "{}",
            signed_in.html
        );
    }

    async fn follow_link(&mut self, link: &str) -> Page {
        let page = self.get(link).await;
        let token = page.form_token();
        let query: HashMap<String, String> = url::Url::parse(&format!("http://x{link}"))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        self.post(
            "/console/sign-in/link",
            &[
                ("form_token", &token),
                ("user", &query["user"]),
                ("token", &query["token"]),
            ],
        )
        .await
    }
}

async fn is_active(app: &TestApp, volunteer_id: i32) -> bool {
    volunteer::Entity::find_by_id(VolunteerId(volunteer_id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the volunteer")
        .active
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn a_volunteer_signs_in_with_a_texted_code_that_works_once() {
    let s = console_scene().await;
    let mut alice = Visitor::new(&s.app);
    let asked = alice.ask_code(ALICE).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.html.contains("...11"), "{}", asked.html);
    let texts = outbox_message::Entity::find()
        .filter(outbox_message::Column::Purpose.eq("sign_in_code"))
        .all(&s.app.db)
        .await
        .unwrap();
    assert_eq!(texts.len(), 1);
    assert_eq!(
        texts[0].from_number, LINE_A,
        "sent from her helpline's number"
    );
    let code = texted_code(&s.app, ALICE).await;

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = alice.enter_code(ALICE, wrong).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.html.contains("That code is wrong"));
    assert!(!alice.cookies.contains_key("peerline_session"));

    let accepted = alice.enter_code(ALICE, &code).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    assert_eq!(accepted.location.as_deref(), Some("/console"));
    let home = alice.get("/console").await;
    assert_eq!(home.location.as_deref(), Some("/console/me"));
    let mine = alice.get("/console/me").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.html.contains("Hello Alice"), "{}", mine.html);
    // Her Tuesday shift, on her own clock.
    assert!(
        mine.html.contains("Tue 24 Nov 19:00–22:00"),
        "{}",
        mine.html
    );

    // The same code a second time is spent, even on a fresh browser.
    let again = Visitor::new(&s.app).enter_code(ALICE, &code).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    let actions = audit_actions(&s.app).await;
    assert!(
        actions.contains(&"console_sign_in_failed".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"console_sign_in".to_owned()),
        "{actions:?}"
    );
    // Only a hash of the code is stored.
    let stored = peerline::storage::entities::sign_in_code::Entity::find()
        .all(&s.app.db)
        .await
        .unwrap();
    assert!(stored.iter().all(|c| !c.secret_hash.contains(&code)));
}

#[tokio::test]
async fn an_unknown_number_gets_the_same_answer_and_no_text() {
    let s = console_scene().await;
    let mut stranger = Visitor::new(&s.app);
    let asked = stranger.ask_code("+12025550177").await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.html.contains("If ...77 is on a Peerline record"));
    let texts = outbox_message::Entity::find()
        .filter(outbox_message::Column::Purpose.eq("sign_in_code"))
        .all(&s.app.db)
        .await
        .unwrap();
    assert!(texts.is_empty());
    let not_a_number = stranger.ask_code("call me").await;
    assert_eq!(not_a_number.status, StatusCode::BAD_REQUEST);
    assert!(not_a_number.html.contains("not a phone number"));
}

#[tokio::test]
async fn guessing_codes_is_stopped_and_a_good_code_then_waits_too() {
    let s = console_scene().await;
    let mut guesser = Visitor::new(&s.app);
    guesser.ask_code(ALICE).await;
    let code = texted_code(&s.app, ALICE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(
            guesser.enter_code(ALICE, wrong).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    let limited = guesser.enter_code(ALICE, &code).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!guesser.cookies.contains_key("peerline_session"));
    // And no more than three codes a quarter of an hour are texted to one person.
    let mut asker = Visitor::new(&s.app);
    for _ in 0..2 {
        assert_eq!(asker.ask_code(ALICE).await.status, StatusCode::OK);
    }
    assert_eq!(
        asker.ask_code(ALICE).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_sign_in_link_works_once_and_a_session_ends_when_signed_out_or_idle() {
    let s = console_scene().await;
    let link = login_link(&s.app, s.sam).await;
    let mut sam = Visitor::new(&s.app);
    // Opening the link does not spend it: a link previewer cannot use it up.
    assert_eq!(sam.get(&link).await.status, StatusCode::OK);
    let signed_in = sam.follow_link(&link).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let queue = sam.get("/console/reviews").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.html.contains("Review queue"));
    let reused = Visitor::new(&s.app).follow_link(&link).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);

    let token = queue.form_token();
    let out = sam
        .post("/console/sign-out", &[("form_token", &token)])
        .await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.html.contains("You have signed out"));
    let after = sam.get("/console/reviews").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location.as_deref(), Some("/console/sign-in"));

    // A session left unused for two hours lapses.
    let mut sam = Visitor::new(&s.app);
    sam.follow_link(&login_link(&s.app, s.sam).await).await;
    assert_eq!(sam.get("/console/reviews").await.status, StatusCode::OK);
    let long_ago = utc(NOW) - chrono::Duration::hours(3);
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(long_ago))
        .filter(api_token::Column::Kind.eq(api_token::TokenKind::Console))
        .exec(&s.app.db)
        .await
        .unwrap();
    assert_eq!(
        sam.get("/console/reviews").await.status,
        StatusCode::SEE_OTHER
    );
    // A console session is no API token.
    let sessions = api_token::Entity::find()
        .filter(api_token::Column::Kind.eq(api_token::TokenKind::Console))
        .count(&s.app.db)
        .await
        .unwrap();
    assert_eq!(
        sessions, 0,
        "a lapsed session is removed when next presented"
    );
}

#[tokio::test]
async fn a_form_without_its_token_is_refused_and_changes_nothing() {
    let s = console_scene().await;
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    let forged = alice
        .post("/console/me/availability", &[("active", "false")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.html.contains("Form refused"));
    // Another session's token is no better.
    let mut bob = Visitor::new(&s.app);
    bob.sign_in(BOB).await;
    let bobs_token = bob.get("/console/me").await.form_token();
    let borrowed = alice
        .post(
            "/console/me/availability",
            &[("form_token", &bobs_token), ("active", "false")],
        )
        .await;
    assert_eq!(borrowed.status, StatusCode::FORBIDDEN);
    assert!(is_active(&s.app, s.alice).await, "nothing changed");
    // With her own token, she pauses.
    let token = alice.get("/console/me").await.form_token();
    let paused = alice
        .post(
            "/console/me/availability",
            &[("form_token", &token), ("active", "false")],
        )
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    assert!(!is_active(&s.app, s.alice).await);
    assert!(
        alice
            .get("/console/me")
            .await
            .html
            .contains("You are paused")
    );
}

#[tokio::test]
async fn each_person_opens_only_the_pages_and_contacts_their_role_allows() {
    let s = console_scene().await;
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    let queue = alice.get("/console/reviews").await;
    assert_eq!(queue.status, StatusCode::FORBIDDEN);
    assert!(!queue.html.contains("Flagged"));
    let record = alice
        .get(&format!("/console/contacts/{}", s.contact_id))
        .await;
    assert_eq!(record.status, StatusCode::FORBIDDEN);
    assert!(!record.html.contains("How it was routed"));
    // Her own contact opens; Dan's, on another helpline, does not exist for her.
    let own = alice
        .get(&format!("/console/me/contacts/{}", s.contact_id))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.html);
    assert!(own.html.contains("caller ...42") && !own.html.contains("2025550142"));
    let dans = alice
        .get(&format!("/console/me/contacts/{}", s.dan_contact_id))
        .await;
    assert_eq!(dans.status, StatusCode::NOT_FOUND);
    // Sam supervises helpline A only.
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    let other_helpline = sam
        .get(&format!("/console/contacts/{}", s.dan_contact_id))
        .await;
    assert_eq!(other_helpline.status, StatusCode::NOT_FOUND);
    let own_helpline = sam
        .get(&format!("/console/contacts/{}", s.contact_id))
        .await;
    assert_eq!(own_helpline.status, StatusCode::OK);
    // A supervisor has no volunteer page of their own.
    assert_eq!(sam.get("/console/me").await.status, StatusCode::FORBIDDEN);
    // Nobody signed in sees nothing but the way to sign in.
    let anonymous = Visitor::new(&s.app)
        .get(&format!("/console/contacts/{}", s.contact_id))
        .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location.as_deref(), Some("/console/sign-in"));
}

#[tokio::test]
async fn a_coordinator_changes_the_rota_in_place_and_nobody_else_can() {
    let s = console_scene().await;
    let rota = format!("/console/helplines/{}/rota", s.a);
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    assert_eq!(alice.get(&rota).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        alice.get("/console/helplines").await.status,
        StatusCode::FORBIDDEN
    );
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    let other = sam.get(&format!("/console/helplines/{}/rota", s.b)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let page = sam.get(&rota).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let anyone = |page: &Page| page.element("gaps-anyone");
    assert!(
        anyone(&page).contains("Tue 24 Nov 22:00 – Tue 1 Dec 19:00"),
        "{}",
        page.html
    );
    let token = page.form_token();
    let bob = s.bob.to_string();
    let bad_time = sam
        .post(
            &format!("/console/helplines/{}/shifts", s.a),
            &[
                ("form_token", &token),
                ("volunteer_id", &bob),
                ("weekdays", "wednesday"),
                ("start", "9am"),
                ("end", "17:00"),
                ("channels", "both"),
            ],
        )
        .await;
    assert_eq!(bad_time.status, StatusCode::BAD_REQUEST);
    assert!(bad_time.html.contains("start"), "{}", bad_time.html);
    let added = sam
        .post(
            &format!("/console/helplines/{}/shifts", s.a),
            &[
                ("form_token", &token),
                ("volunteer_id", &bob),
                ("weekdays", "wednesday"),
                ("weekdays", "thursday"),
                ("start", "09:00"),
                ("end", "17:00"),
                ("channels", "both"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let after = sam.get(&rota).await;
    assert!(!anyone(&after).contains("Tue 24 Nov 22:00 – Tue 1 Dec 19:00"));
    assert!(
        anyone(&after).contains("Tue 24 Nov 22:00 – Wed 25 Nov 09:00"),
        "{}",
        after.html
    );
    // Bob is not signed off for neonatal care: that gap stays.
    let neonatal = after.element("gaps-topic-neonatal-care");
    assert!(
        neonatal.contains("Tue 24 Nov 22:00 – Tue 1 Dec 19:00"),
        "{neonatal}"
    );
    let shifts = s
        .app
        .get(
            &format!("/api/v1/volunteers/{}/shifts", s.bob),
            &s.app.admin,
        )
        .await;
    assert_eq!(shifts.body.as_array().unwrap().len(), 2);
    // A volunteer of another helpline cannot be given a shift from this one.
    let dans = sam
        .post(
            &format!("/console/helplines/{}/shifts", s.a),
            &[
                ("form_token", &token),
                ("volunteer_id", &s.dan.to_string()),
                ("weekdays", "monday"),
                ("start", "09:00"),
                ("end", "17:00"),
            ],
        )
        .await;
    assert!(
        dans.status == StatusCode::NOT_FOUND || dans.status == StatusCode::FORBIDDEN,
        "{}",
        dans.status
    );
    // Leave on the helpline's clock.
    let leave = sam
        .post(
            &format!("/console/helplines/{}/leave", s.a),
            &[
                ("form_token", &token),
                ("volunteer_id", &bob),
                ("kind", "leave"),
                ("from", "2026-11-25 00:00"),
                ("to", "2026-11-26 00:00"),
            ],
        )
        .await;
    assert_eq!(leave.status, StatusCode::SEE_OTHER, "{}", leave.html);
    let with_leave = sam.get(&rota).await;
    assert!(
        anyone(&with_leave).contains("Tue 24 Nov 22:00 – Thu 26 Nov 09:00"),
        "{}",
        with_leave.html
    );
}

#[tokio::test]
async fn the_live_board_shows_each_volunteer_as_the_router_sees_them() {
    let s = console_scene().await;
    let live = format!("/console/helplines/{}/live", s.a);
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    assert_eq!(alice.get(&live).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        alice.get(&format!("{live}/board")).await.status,
        StatusCode::FORBIDDEN
    );
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    let page = sam.get(&live).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let row = |html: &str, name: &str| {
        let start = html.find(&format!("<th scope=\"row\">{name}")).unwrap();
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row(&page.html, "Bob").contains(">free<"), "{}", page.html);
    assert!(
        row(&page.html, "Cat").contains("off shift"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("neonatal care: 1 signed off and free")
            || page.html.contains("neonatal care: 0 signed off and free")
    );
    assert!(page.html.contains("hx-trigger=\"every 5s\""));
    // A caller holding for three minutes.
    let three_minutes_ago = (utc(NOW) - chrono::Duration::minutes(3)).to_rfc3339();
    let seed = Seed {
        at: &three_minutes_ago,
        channel: "voice",
        topic: None,
        outcome: "abandoned",
        tier: None,
        answered_by: None,
        wait: 0,
        talk: None,
        caller: Some(CALLER),
        recording: None,
    };
    let holding = helpers::seed(&s.app, s.a, 900, seed).await;
    contact::Entity::update_many()
        .col_expr(contact::Column::Stage, Expr::value(Stage::Holding))
        .col_expr(
            contact::Column::EndedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            contact::Column::Outcome,
            Expr::value(Option::<String>::None),
        )
        .filter(contact::Column::Id.eq(holding))
        .exec(&s.app.db)
        .await
        .unwrap();
    let busy = sam.get(&live).await;
    assert!(
        busy.html
            .contains("1 caller(s) holding; the longest for 3 min."),
        "{}",
        busy.html
    );
    assert!(
        busy.html.contains(&format!(
            "#{holding} · voice · <strong>holding</strong> for 3 min"
        )),
        "{}",
        busy.html
    );
    // The part htmx fetches is the board alone.
    let board = sam.get(&format!("{live}/board")).await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(
        board.html.starts_with("<div id=\"board\""),
        "{}",
        board.html
    );
    let other = sam.get(&format!("/console/helplines/{}/live", s.b)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reports_show_the_period_with_charts_and_download_as_csv() {
    let s = console_scene().await;
    let reports = format!("/console/helplines/{}/reports", s.a);
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    assert_eq!(alice.get(&reports).await.status, StatusCode::FORBIDDEN);
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    let page = sam.get(&reports).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let figures = page.element("figures");
    assert!(figures.contains("<dt>Contacts</dt><dd>1</dd>"), "{figures}");
    assert!(
        figures.contains("<dt>Answer rate</dt><dd>100%</dd>"),
        "{figures}"
    );
    assert!(
        page.html.contains("Sun: 1 contacts, 1 answered"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("12: 1 contacts, 1 answered"),
        "{}",
        page.html
    );
    // A period before anything happened.
    let empty = sam
        .get(&format!("{reports}?from=2026-10-01&to=2026-10-31"))
        .await;
    assert!(
        empty
            .element("figures")
            .contains("<dt>Contacts</dt><dd>0</dd>")
    );
    let reversed = sam
        .get(&format!("{reports}?from=2026-10-31&to=2026-10-01"))
        .await;
    assert_eq!(reversed.status, StatusCode::BAD_REQUEST);
    let csv = sam
        .get(&format!(
            "{reports}/contacts.csv?from=2026-11-01&to=2026-11-30"
        ))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(
        csv.html.lines().next(),
        Some("section,key,contacts,answered")
    );
    assert!(csv.html.contains("\nsummary,total,1,\n"), "{}", csv.html);
    let exports = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("export_report"))
        .count(&s.app.db)
        .await
        .unwrap();
    assert_eq!(exports, 3, "each look and the download are audited");
}

#[tokio::test]
async fn a_volunteer_books_leave_on_their_own_clock_and_sees_their_week() {
    let s = console_scene().await;
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    let mine = alice.get("/console/me").await;
    assert!(
        mine.html
            .contains("1 contact(s) since Monday, 5 min of talk."),
        "{}",
        mine.html
    );
    assert!(mine.html.contains("No leave booked."));
    let token = mine.form_token();
    let unreadable = alice
        .post(
            "/console/me/leave",
            &[
                ("form_token", &token),
                ("from", "next tuesday"),
                ("to", "2026-11-25 00:00"),
            ],
        )
        .await;
    assert_eq!(unreadable.status, StatusCode::BAD_REQUEST);
    assert!(
        unreadable.html.contains("from: a date and time"),
        "{}",
        unreadable.html
    );
    let booked = alice
        .post(
            "/console/me/leave",
            &[
                ("form_token", &token),
                ("from", "2026-11-24 00:00"),
                ("to", "2026-11-25 00:00"),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.html);
    let after = alice.get("/console/me").await;
    assert!(
        after.html.contains("Tue 24 Nov 00:00 – Wed 25 Nov 00:00"),
        "{}",
        after.html
    );
    assert!(
        after.html.contains(
            "<li class=\"leave\">Tue 24 Nov 19:00–22:00 · calls and texts · on leave</li>"
        ),
        "{}",
        after.html
    );
    // Her leave is a rota exception like any other: the router sees it.
    let stored = s
        .app
        .get(
            &format!("/api/v1/volunteers/{}/exceptions", s.alice),
            &s.app.admin,
        )
        .await;
    let kinds: Vec<&str> = stored
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"leave"), "{kinds:?}");
}

#[tokio::test]
async fn the_audit_log_and_ending_someones_sessions() {
    let s = console_scene().await;
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    sam.get(&format!("/console/contacts/{}", s.contact_id))
        .await;
    let log = sam.get("/console/audit").await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.html);
    let entries = log.element("audit");
    assert!(entries.contains("view contact"), "{entries}");
    assert!(entries.contains(&format!("href=\"/console/contacts/{}\"", s.contact_id)));
    let only_reveals = sam.get("/console/audit?action=reveal_caller").await;
    assert!(!only_reveals.element("audit").contains("view contact"));
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    assert_eq!(
        alice.get("/console/audit").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        alice.get("/console/admin/users").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sam.get("/console/admin/users").await.status,
        StatusCode::FORBIDDEN
    );

    // An administrator sees everyone's sessions and ends Alice's.
    let me = s.app.get("/api/v1/me", &s.app.admin).await;
    let admin_id = i32::try_from(me.body["user_id"].as_i64().unwrap()).unwrap();
    let mut admin = Visitor::new(&s.app);
    admin.follow_link(&login_link(&s.app, admin_id).await).await;
    let people = admin.get("/console/admin/users").await;
    assert_eq!(people.status, StatusCode::OK, "{}", people.html);
    let alice_user = peerline::storage::entities::user::Entity::find()
        .filter(peerline::storage::entities::user::Column::VolunteerId.eq(s.alice))
        .one(&s.app.db)
        .await
        .unwrap()
        .unwrap();
    let token = people.form_token();
    let ended = admin
        .post(
            "/console/admin/users/end-sessions",
            &[
                ("form_token", &token),
                ("user_id", &alice_user.id.to_string()),
            ],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(
        alice.get("/console/me").await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
    assert_eq!(
        sam.get("/console/reviews").await.status,
        StatusCode::OK,
        "Sam is not"
    );
    let everything = admin.get("/console/audit").await.element("audit");
    assert!(
        everything.contains("console sessions ended"),
        "{everything}"
    );
    assert!(everything.contains("console sign in"), "{everything}");
}

#[tokio::test]
async fn a_supervisor_blocks_a_caller_and_holds_a_debrief() {
    let s = console_scene().await;
    let alice_token = s
        .app
        .token_for(Role::Volunteer, Some(s.alice), vec![])
        .await;
    let filed = s
        .app
        .post(
            &format!("/api/v1/me/contacts/{}/report", s.contact_id),
            &alice_token,
            json!({"flags": ["abusive", "needs_debrief"]}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    let record = sam
        .get(&format!("/console/contacts/{}", s.contact_id))
        .await;
    let token = record.form_token();
    let blocked = sam
        .post(
            &format!("/console/contacts/{}/block", s.contact_id),
            &[
                ("form_token", &token),
                ("reason", "Abusive to Alice"),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.html);
    assert!(
        blocked
            .html
            .contains("Caller ...42 is blocked until Tue 22 Dec"),
        "{}",
        blocked.html
    );
    assert!(!blocked.html.contains("2025550142"));
    let list = s
        .app
        .get(
            &format!("/api/v1/helplines/{}/blocked-callers", s.a),
            &s.app.admin,
        )
        .await;
    assert_eq!(
        list.body.as_array().map(Vec::len),
        Some(1),
        "{:?}",
        list.body
    );
    let forever = sam
        .post(
            &format!("/console/contacts/{}/block", s.contact_id),
            &[
                ("form_token", &token),
                ("reason", "again"),
                ("days", "9999"),
            ],
        )
        .await;
    assert_eq!(forever.status, StatusCode::BAD_REQUEST);

    let queue = sam.get("/console/debriefs").await;
    assert!(queue.html.contains("Alice · asked"), "{}", queue.html);
    let debrief_id = s.app.get("/api/v1/debriefs", &s.app.admin).await.body[0]["id"]
        .as_i64()
        .unwrap();
    let done = sam
        .post(
            &format!("/console/debriefs/{debrief_id}/done"),
            &[
                ("form_token", &token),
                ("notes", "Talked it through; Alice is fine."),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert!(
        sam.get("/console/debriefs")
            .await
            .html
            .contains("No debriefs waiting.")
    );
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    assert_eq!(
        alice.get("/console/debriefs").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_supervisor_reads_the_settings_and_changes_the_greeting() {
    let s = console_scene().await;
    let settings = format!("/console/helplines/{}/settings", s.a);
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    assert_eq!(alice.get(&settings).await.status, StatusCode::FORBIDDEN);
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    let page = sam.get(&settings).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains("neonatal care · press 1"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("<dt>max wait secs</dt>"),
        "{}",
        page.html
    );
    assert!(page.html.contains(LINE_A));
    let token = page.form_token();
    let bad = sam
        .post(
            &settings,
            &[
                ("form_token", &token),
                ("greeting", "Hello"),
                ("fallback_number", "call Bob"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("fallback_number"), "{}", bad.html);
    let saved = sam
        .post(
            &settings,
            &[
                ("form_token", &token),
                ("greeting", "Welcome to Peerline A."),
                ("fallback_number", "+12025550188"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let stored = s
        .app
        .get(&format!("/api/v1/helplines/{}", s.a), &s.app.admin)
        .await;
    assert_eq!(stored.body["greeting"], "Welcome to Peerline A.");
    assert_eq!(stored.body["fallback_number"], "+12025550188");
}

/// The attribute `name` of an HTML tag's text, if present.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[start..].split('"').next()
}

/// What every console page owes its readers: its language, a title that says where they
/// are, one main heading, and a label for every field.
fn assert_accessible(page: &Page, path: &str) {
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
    let html = &page.html;
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{path}"
    );
    let title = html
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next());
    assert!(
        title.is_some_and(|t| t.ends_with(" · Peerline") && t.len() > " · Peerline".len()),
        "{path}: title {title:?}"
    );
    assert_eq!(html.matches("<h1>").count(), 1, "{path}: one main heading");
    for kind in ["<input", "<textarea", "<select"] {
        for tag in html
            .split(kind)
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap_or(""))
        {
            if attribute(tag, "type") == Some("hidden") {
                continue;
            }
            let id = attribute(tag, "id")
                .unwrap_or_else(|| panic!("{path}: a field without an id: {kind}{tag}"));
            assert!(
                html.contains(&format!("<label for=\"{id}\"")),
                "{path}: no label for field {id}"
            );
        }
    }
}

#[tokio::test]
async fn every_console_page_has_a_language_a_title_one_heading_and_labelled_fields() {
    let s = console_scene().await;
    let mut anonymous = Visitor::new(&s.app);
    assert_accessible(&anonymous.get("/console/sign-in").await, "sign-in");
    assert_accessible(&anonymous.ask_code(ALICE).await, "code");
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    for path in [
        "/console/me".to_owned(),
        format!("/console/me/contacts/{}", s.contact_id),
    ] {
        assert_accessible(&alice.get(&path).await, &path);
    }
    let me = s.app.get("/api/v1/me", &s.app.admin).await;
    let admin_id = i32::try_from(me.body["user_id"].as_i64().unwrap()).unwrap();
    let mut admin = Visitor::new(&s.app);
    admin.follow_link(&login_link(&s.app, admin_id).await).await;
    let a = s.a;
    for path in [
        "/console/reviews".to_owned(),
        format!("/console/contacts/{}", s.contact_id),
        "/console/helplines".to_owned(),
        format!("/console/helplines/{a}/rota"),
        format!("/console/helplines/{a}/live"),
        format!("/console/helplines/{a}/reports"),
        format!("/console/helplines/{a}/settings"),
        "/console/debriefs".to_owned(),
        "/console/audit".to_owned(),
        "/console/admin/users".to_owned(),
    ] {
        assert_accessible(&admin.get(&path).await, &path);
    }
}

#[tokio::test]
async fn a_supervisor_updates_a_volunteers_training_limits_and_sign_offs() {
    let s = console_scene().await;
    let bob_page = format!("/console/volunteers/{}", s.bob);
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    // Another volunteer's record does not exist for her.
    assert_eq!(alice.get(&bob_page).await.status, StatusCode::NOT_FOUND);
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    assert_eq!(
        sam.get(&format!("/console/volunteers/{}", s.dan))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let page = sam.get(&bob_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains("neonatal care: not signed off"),
        "{}",
        page.html
    );
    let token = page.form_token();
    let form = |max: &'static str| {
        vec![
            ("form_token", token.clone()),
            ("training_status", "trained".to_owned()),
            ("training_completed_on", "2026-01-10".to_owned()),
            ("refresher_due_on", "2027-01-10".to_owned()),
            ("trained_voice", "true".to_owned()),
            ("max_contacts_per_shift", max.to_owned()),
            ("long_contact_minutes", "30".to_owned()),
            ("rest_minutes_after_long", "20".to_owned()),
            ("max_text_conversations", "2".to_owned()),
        ]
    };
    let too_many = form("0");
    let refs: Vec<(&str, &str)> = too_many.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = sam.post(&bob_page, &refs).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(
        refused.html.contains("max_contacts_per_shift"),
        "{}",
        refused.html
    );
    let good = form("4");
    let refs: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = sam.post(&bob_page, &refs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let bob = s
        .app
        .get(&format!("/api/v1/volunteers/{}", s.bob), &s.app.admin)
        .await;
    assert_eq!(
        bob.body["trained_sms"], false,
        "the texts box was left unticked"
    );
    assert_eq!(bob.body["limits"]["max_contacts_per_shift"], 4);
    assert_eq!(bob.body["refresher_due_on"], "2027-01-10");

    let topic = s
        .app
        .get(&format!("/api/v1/helplines/{}/topics", s.a), &s.app.admin)
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let signed = sam
        .post(
            &format!("{bob_page}/signoffs"),
            &[
                ("form_token", &token),
                ("topic_id", &topic),
                ("ready", "true"),
            ],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.html);
    assert!(
        sam.get(&bob_page)
            .await
            .html
            .contains("neonatal care: <strong>signed off</strong>")
    );
    let withdrawn = sam
        .post(
            &format!("{bob_page}/signoffs"),
            &[
                ("form_token", &token),
                ("topic_id", &topic),
                ("ready", "false"),
            ],
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    assert!(
        sam.get(&bob_page)
            .await
            .html
            .contains("neonatal care: not signed off")
    );
}

#[tokio::test]
async fn a_coordinator_keeps_the_on_call_rota_and_is_told_when_nobody_is_on_call() {
    let s = console_scene().await;
    let rota = format!("/console/helplines/{}/rota", s.a);
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    let page = sam.get(&rota).await;
    assert!(
        page.html.contains("Sam · sunday 00:00–23:59 their time"),
        "{}",
        page.html
    );
    assert!(!page.html.contains("Nobody is on call"));
    let token = page.form_token();
    let on_call_id = s
        .app
        .get(&format!("/api/v1/helplines/{}/on-call", s.a), &s.app.admin)
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let removed = sam
        .post(
            &format!("/console/helplines/{}/on-call/remove", s.a),
            &[("form_token", &token), ("on_call_id", &on_call_id)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.html);
    let empty = sam.get(&rota).await;
    assert!(
        empty
            .html
            .contains("Nobody is on call: a safeguarding alert goes to every supervisor")
    );
    let added = sam
        .post(
            &format!("/console/helplines/{}/on-call", s.a),
            &[
                ("form_token", &token),
                ("user_id", &s.sam.to_string()),
                ("weekday", "monday"),
                ("start", "18:00"),
                ("end", "08:00"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let back = sam.get(&rota).await;
    assert!(
        back.html.contains("Sam · monday 18:00–08:00 their time"),
        "{}",
        back.html
    );
    // Only a supervisor of this helpline can be put on call.
    let me = s.app.get("/api/v1/me", &s.app.admin).await;
    let admin_id = me.body["user_id"].as_i64().unwrap().to_string();
    let refused = sam
        .post(
            &format!("/console/helplines/{}/on-call", s.a),
            &[
                ("form_token", &token),
                ("user_id", &admin_id),
                ("weekday", "monday"),
                ("start", "18:00"),
                ("end", "08:00"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .html
            .contains("is not a supervisor of this helpline"),
        "{}",
        refused.html
    );
}

#[tokio::test]
async fn an_administrator_adds_a_person_who_then_signs_in() {
    let s = console_scene().await;
    let me = s.app.get("/api/v1/me", &s.app.admin).await;
    let admin_id = i32::try_from(me.body["user_id"].as_i64().unwrap()).unwrap();
    let mut admin = Visitor::new(&s.app);
    admin.follow_link(&login_link(&s.app, admin_id).await).await;
    let people = admin.get("/console/admin/users").await;
    let token = people.form_token();
    let helpline = s.a.to_string();
    let bad_phone = admin
        .post(
            "/console/admin/users",
            &[
                ("form_token", &token),
                ("name", "Priya"),
                ("role", "supervisor"),
                ("helplines", &helpline),
                ("phone", "not a number"),
            ],
        )
        .await;
    assert_eq!(bad_phone.status, StatusCode::BAD_REQUEST);
    assert!(bad_phone.html.contains("phone"), "{}", bad_phone.html);
    let no_scope = admin
        .post(
            "/console/admin/users",
            &[
                ("form_token", &token),
                ("name", "Priya"),
                ("role", "supervisor"),
            ],
        )
        .await;
    assert_eq!(no_scope.status, StatusCode::BAD_REQUEST);
    assert!(no_scope.html.contains("helplines"), "{}", no_scope.html);
    let added = admin
        .post(
            "/console/admin/users",
            &[
                ("form_token", &token),
                ("name", "Priya"),
                ("role", "supervisor"),
                ("helplines", &helpline),
                ("phone", "+12025550166"),
                ("time_zone", "Europe/London"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    assert!(
        admin
            .get("/console/admin/users")
            .await
            .html
            .contains("Priya")
    );
    let mut priya = Visitor::new(&s.app);
    priya.sign_in("+12025550166").await;
    let queue = priya.get("/console/reviews").await;
    assert_eq!(queue.status, StatusCode::OK);

    // Someone without a phone gets a one-time link from the page.
    let shown = admin
        .post(
            "/console/admin/users/link",
            &[("form_token", &token), ("user_id", &admin_id.to_string())],
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    let start = shown.html.find("/console/sign-in/link?").unwrap();
    let link = shown.html[start..]
        .split('<')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let mut again = Visitor::new(&s.app);
    assert_eq!(again.follow_link(&link).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        again.get("/console/admin/users").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn behind_https_the_cookies_are_secure_and_no_page_runs_inline_script() {
    let app =
        crate::helpers::spawn_app_with(&[("PEERLINE_PUBLIC_URL", "https://helpline.example.org")])
            .await;
    let page = reqwest::get(format!("{}/console/sign-in", app.base))
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/console"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script: {html}");
}

#[tokio::test]
async fn a_volunteer_steps_back_from_a_topic_and_ends_it_from_their_page() {
    let s = console_scene().await;
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    let mine = alice.get("/console/me").await;
    assert!(mine.html.contains("Nobody asks why."), "{}", mine.html);
    let token = mine.form_token();
    let topic = s
        .app
        .get(&format!("/api/v1/helplines/{}/topics", s.a), &s.app.admin)
        .await;
    let neonatal = topic.body.as_array().expect("topics")[0]["id"].to_string();
    let neither = alice
        .post(
            "/console/me/step-back",
            &[("form_token", &token), ("topic_id", &neonatal)],
        )
        .await;
    assert_eq!(neither.status, StatusCode::BAD_REQUEST);
    assert!(neither.html.contains("give either"), "{}", neither.html);
    let stepped = alice
        .post(
            "/console/me/step-back",
            &[
                ("form_token", &token),
                ("topic_id", &neonatal),
                ("shifts", "1"),
            ],
        )
        .await;
    assert_eq!(stepped.status, StatusCode::SEE_OTHER, "{}", stepped.html);
    let after = alice.get("/console/me").await;
    assert!(
        after
            .html
            .contains("From neonatal care until Mon 23 Nov 12:00"),
        "{}",
        after.html
    );
    // Her supervisor sees that it is in force and until when.
    let seen = s
        .app
        .get(
            &format!("/api/v1/volunteers/{}/step-backs", s.alice),
            &s.app.admin,
        )
        .await;
    assert_eq!(seen.body[0]["until"], "2026-11-23T12:00:00Z");
    let id = seen.body[0]["id"].to_string();
    let ended = alice
        .post(
            "/console/me/step-back/end",
            &[("form_token", &token), ("step_back_id", &id)],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "{}", ended.html);
    let after = alice.get("/console/me").await;
    assert!(
        !after.html.contains("From neonatal care until"),
        "{}",
        after.html
    );
}

#[tokio::test]
async fn rota_care_forms_refuse_what_cannot_work_and_change_nothing() {
    let s = console_scene().await;
    let mut sam = Visitor::new(&s.app);
    sam.sign_in(SAM).await;
    let settings = sam
        .get(&format!("/console/helplines/{}/settings", s.a))
        .await;
    let token = settings.form_token();
    // A deadline for answers before the reminder is even sent.
    let refused = sam
        .post(
            &format!("/console/helplines/{}/rota-care", s.a),
            &[
                ("form_token", &token),
                ("reminders_enabled", "true"),
                ("remind_hours_before", "24"),
                ("confirm_by_hours_before", "30"),
                ("short_notice_hours", "72"),
                ("cover_wave_size", "3"),
                ("cover_wave_minutes", "30"),
                ("gap_alert_time", "08:00"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.html.contains("rota.confirm_by_hours_before"),
        "{}",
        refused.html
    );
    let kept = s
        .app
        .get(&format!("/api/v1/helplines/{}", s.a), &s.app.admin)
        .await;
    assert_eq!(kept.body["rota"]["reminders_enabled"], false);

    // Quiet hours need both ends; with both, they are kept; with neither, cleared.
    let mut alice = Visitor::new(&s.app);
    alice.sign_in(ALICE).await;
    let token = alice.get("/console/me").await.form_token();
    let half = alice
        .post(
            "/console/me/quiet-hours",
            &[("form_token", &token), ("from", "22:00")],
        )
        .await;
    assert_eq!(half.status, StatusCode::BAD_REQUEST);
    assert!(half.html.contains("give both times"), "{}", half.html);
    let set = alice
        .post(
            "/console/me/quiet-hours",
            &[
                ("form_token", &token),
                ("from", "22:00"),
                ("until", "07:00"),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.html);
    let profile = s
        .app
        .get(&format!("/api/v1/volunteers/{}", s.alice), &s.app.admin)
        .await;
    assert_eq!(
        profile.body["quiet_hours"],
        json!({"from": "22:00", "until": "07:00"})
    );
    let cleared = alice
        .post("/console/me/quiet-hours", &[("form_token", &token)])
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.html);
    assert!(
        alice
            .get("/console/me")
            .await
            .html
            .contains("No quiet hours set."),
    );
}
