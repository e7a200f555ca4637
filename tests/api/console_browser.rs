//! The console's main journeys in a real headless Chromium: a volunteer on a phone-sized
//! screen, and a supervisor reviewing a flagged contact. Without Chromium these tests say
//! so and pass; `.ci/run` installs it and requires them.

use peerline::domain::ids::ContactId;
use peerline::storage::entities::{contact, outbox_message};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::console::{ALICE, ConsoleScene, console_scene, login_link, texted_code};
use crate::webdriver::Browser;

/// Signs Sam, the supervisor, in with a one-time link.
async fn sign_in_as_sam(browser: &Browser, s: &ConsoleScene) {
    let link = login_link(&s.app, s.sam).await;
    browser.go(&format!("{}{link}", s.app.base)).await;
    browser
        .click("form[action='/console/sign-in/link'] button")
        .await;
}

#[tokio::test]
async fn a_volunteer_on_a_phone_pauses_and_files_a_safeguarding_report() {
    let Some(browser) = Browser::start(360, 740).await else {
        return;
    };
    let s = console_scene().await;
    let base = &s.app.base;
    browser.go(&format!("{base}/console")).await;
    assert_eq!(browser.title().await, "Sign in · Peerline");
    browser.type_into("#phone", ALICE).await;
    browser
        .click("form[action='/console/sign-in'] button")
        .await;
    let code = texted_code(&s.app, ALICE).await;
    browser.type_into("#code", &code).await;
    browser
        .click("form[action='/console/sign-in/code'] button")
        .await;

    let page = browser.text_once_it_shows("My next shifts").await;
    assert_eq!(browser.title().await, "My shifts and contacts · Peerline");
    assert!(
        page.contains("Tue 24 Nov 19:00–22:00 · calls and texts"),
        "{page}"
    );
    assert!(
        page.contains("On shift now, until Mon 23 Nov 12:00"),
        "{page}"
    );
    assert!(page.contains("caller ...42 · you took it"), "{page}");
    assert!(!page.contains("2025550142"));
    assert!(!browser.overflows_sideways().await, "fits a 360 px screen");
    browser.screenshot("volunteer-my-page").await;

    browser
        .click("form[action='/console/me/availability'] button")
        .await;
    browser.text_once_it_shows("You are paused").await;
    // Quiet hours, set from the phone.
    browser.type_into("#quiet-from", "22:00").await;
    browser.type_into("#quiet-until", "07:00").await;
    browser.click("#set-quiet-hours button").await;
    browser
        .text_once_it_shows("Quiet from 22:00 to 07:00 on your clock.")
        .await;
    browser
        .click("form[action='/console/me/availability'] button")
        .await;
    browser.text_once_it_shows("You are taking contacts").await;

    browser.click("ul.contacts a").await;
    browser.text_once_it_shows("After-contact report").await;
    assert_eq!(
        browser.title().await,
        format!("Contact #{} · Peerline", s.contact_id)
    );
    let form = browser.text_once_it_shows("Flags").await;
    assert!(
        form.contains("The supervisor on call is texted at once"),
        "{form}"
    );
    browser
        .type_into("#notes", "Talked about the first night home.")
        .await;
    browser.click("#tag-listened").await;
    browser.click("#flag-safeguarding").await;
    browser.screenshot("volunteer-report").await;
    browser.click("form[action$='/report'] button").await;
    let filed = browser.text_once_it_shows("Report filed (version 1)").await;
    assert!(
        filed.contains("Safeguarding: 1 supervisor(s) texted"),
        "{filed}"
    );
    let alerts = outbox_message::Entity::find()
        .filter(outbox_message::Column::Purpose.eq("safeguarding_alert"))
        .all(&s.app.db)
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].to_hint, "...99", "to Sam, on call");

    // A volunteer opening a supervisor's page sees only that it is not theirs.
    browser.go(&format!("{base}/console/reviews")).await;
    let refused = browser.text_once_it_shows("Not allowed").await;
    assert!(
        refused.contains("only supervisors and admins review contacts"),
        "{refused}"
    );
    assert!(!refused.contains("Flagged"));
}

#[tokio::test]
async fn a_supervisor_reviews_a_flagged_contact_from_the_trace_to_complete() {
    let Some(browser) = Browser::start(1280, 900).await else {
        return;
    };
    let s = console_scene().await;
    let base = &s.app.base;
    let id = s.contact_id;
    // Alice flags her contact through the API, as her phone would.
    let alice_token = s
        .app
        .token_for(
            peerline::domain::access::Role::Volunteer,
            Some(s.alice),
            vec![],
        )
        .await;
    let filed = s
        .app
        .post(
            &format!("/api/v1/me/contacts/{id}/report"),
            &alice_token,
            serde_json::json!({"notes": "Said they were not safe at home.", "flags": ["safeguarding"]}),
        )
        .await;
    assert_eq!(
        filed.status,
        reqwest::StatusCode::CREATED,
        "{:?}",
        filed.body
    );

    sign_in_as_sam(&browser, &s).await;
    let queue = browser.text_once_it_shows("Flagged (1)").await;
    assert_eq!(browser.title().await, "Review queue · Peerline");
    assert!(queue.contains("open flags: safeguarding"), "{queue}");
    browser.screenshot("supervisor-review-queue").await;

    browser
        .click(&format!("a[href='/console/contacts/{id}']"))
        .await;
    let record = browser.text_once_it_shows("How it was routed").await;
    assert!(
        record.contains(
            "Could take it: Alice (signed off for neonatal care); \
             Bob (trained, not signed off for neonatal care)"
        ),
        "{record}"
    );
    assert!(record.contains("Cat: off shift"), "{record}");
    assert!(
        record.contains("Said they were not safe at home."),
        "{record}"
    );
    assert!(!record.contains("2025550142"));
    browser.screenshot("supervisor-contact-record").await;

    browser
        .type_into("#reveal-reason", "Safeguarding referral to the local team")
        .await;
    browser.click("form[action$='/reveal'] button").await;
    let revealed = browser.text_once_it_shows("+12025550142").await;
    assert!(revealed.contains("written to the audit log"));

    browser.go(&format!("{base}/console/contacts/{id}")).await;
    let again = browser.text_once_it_shows("How it was routed").await;
    assert!(!again.contains("+12025550142"), "shown once");
    browser
        .type_into(
            "#action-taken-safeguarding",
            "Referred to the local safeguarding team",
        )
        .await;
    browser.click("form.action button").await;
    browser
        .text_once_it_shows("resolve flag: Referred to the local safeguarding team")
        .await;
    browser.click("button[value='complete']").await;
    browser.text_once_it_shows("Review\nreviewed").await;
    browser.screenshot("supervisor-reviewed").await;
    browser
        .go(&format!("{base}/console/helplines/{}/reports", s.a))
        .await;
    let figures = browser.text_once_it_shows("Answer rate").await;
    assert!(figures.contains("Answer rate\n100%"), "{figures}");
    browser.screenshot("supervisor-reports").await;
    let stored = contact::Entity::find_by_id(ContactId(id))
        .one(&s.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.review_state.as_str(), "reviewed");
}

#[tokio::test]
async fn a_coordinator_adds_a_shift_and_the_gap_it_closes_disappears() {
    let Some(browser) = Browser::start(1280, 900).await else {
        return;
    };
    let s = console_scene().await;
    sign_in_as_sam(&browser, &s).await;
    browser.text_once_it_shows("Review queue").await;
    browser.click("nav a[href='/console/helplines']").await;
    browser.text_once_it_shows("Rota and gaps").await;
    browser
        .click(&format!("a[href='/console/helplines/{}/rota']", s.a))
        .await;
    browser.text_once_it_shows("Gaps in the next 14 days").await;
    let before = browser.text_of("#gaps-anyone").await;
    assert!(
        before.contains("Tue 24 Nov 22:00 – Tue 1 Dec 19:00"),
        "{before}"
    );
    browser.screenshot("coordinator-rota").await;

    browser
        .click(&format!("#shift-volunteer option[value='{}']", s.bob))
        .await;
    browser.click("#day-wednesday").await;
    browser.type_into("#shift-start", "09:00").await;
    browser.type_into("#shift-end", "17:00").await;
    browser.click("#add-shift button").await;
    browser
        .text_once_it_shows("Tue 24 Nov 22:00 – Wed 25 Nov 09:00")
        .await;
    let after = browser.text_of("#gaps-anyone").await;
    assert!(
        !after.contains("Tue 24 Nov 22:00 – Tue 1 Dec 19:00"),
        "{after}"
    );
    assert!(
        after.contains("Wed 25 Nov 17:00 – Tue 1 Dec 19:00"),
        "{after}"
    );
    // The week grid shows Bob at 09:00 on Wednesday (hours down, days across).
    let wednesday_nine = "table.week tbody tr:nth-child(10) td:nth-child(4)";
    assert_eq!(browser.text_of(wednesday_nine).await, "Bob");
    let wednesday_eight = "table.week tbody tr:nth-child(9) td:nth-child(4)";
    assert_eq!(browser.text_of(wednesday_eight).await, "nobody");
}

#[tokio::test]
async fn the_live_board_refreshes_itself_when_a_volunteer_pauses() {
    let Some(browser) = Browser::start(1280, 900).await else {
        return;
    };
    let s = console_scene().await;
    let base = &s.app.base;
    sign_in_as_sam(&browser, &s).await;
    browser.text_once_it_shows("Review queue").await;
    browser
        .go(&format!("{base}/console/helplines/{}/live", s.a))
        .await;
    let board = browser.text_once_it_shows("Volunteers").await;
    assert!(board.contains("Bob"), "{board}");
    browser.screenshot("supervisor-live-board").await;
    // Bob pauses from his phone; the open board shows it without a reload.
    let bob_token = s
        .app
        .token_for(
            peerline::domain::access::Role::Volunteer,
            Some(s.bob),
            vec![],
        )
        .await;
    let paused = s
        .app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/volunteers/{}", s.bob),
            Some(&bob_token),
            Some(serde_json::json!({"active": false})),
        )
        .await;
    assert_eq!(paused.status, reqwest::StatusCode::OK, "{:?}", paused.body);
    let row = "table.people tbody tr:nth-child(2)";
    for _ in 0..100 {
        if browser.text_of(row).await.contains("paused") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the board never showed Bob paused: {}",
        browser.text_of(row).await
    );
}

#[tokio::test]
async fn a_coordinator_turns_on_cover_requests_and_sees_who_was_asked_for_a_lost_shift() {
    let Some(browser) = Browser::start(1280, 900).await else {
        return;
    };
    let s = console_scene().await;
    let base = &s.app.base;
    sign_in_as_sam(&browser, &s).await;
    browser.text_once_it_shows("Review queue").await;
    browser
        .go(&format!("{base}/console/helplines/{}/settings", s.a))
        .await;
    browser
        .text_once_it_shows("Reminders, cover and gap alerts")
        .await;
    browser.click("#cover-enabled").await;
    browser.click("#gap-alerts").await;
    browser.replace_text("#gap-alert-time", "07:30").await;
    browser.click("#rota-care-form button").await;
    browser
        .text_once_it_shows("Reminders, cover and gap alerts")
        .await;
    let saved = s
        .app
        .get(&format!("/api/v1/helplines/{}", s.a), &s.app.admin)
        .await;
    assert_eq!(saved.body["rota"]["cover_requests_enabled"], true);
    assert_eq!(saved.body["rota"]["gap_alerts_enabled"], true);
    assert_eq!(saved.body["rota"]["gap_alert_time"], "07:30");
    assert_eq!(saved.body["rota"]["reminders_enabled"], false);

    // Alice's Tuesday evening goes at short notice; nobody else is on then.
    browser
        .go(&format!("{base}/console/helplines/{}/rota", s.a))
        .await;
    browser.text_once_it_shows("Cover requests").await;
    browser
        .click(&format!("#leave-volunteer option[value='{}']", s.alice))
        .await;
    browser.type_into("#leave-from", "2026-11-24 00:00").await;
    browser.type_into("#leave-to", "2026-11-25 00:00").await;
    browser.click("#add-leave button").await;
    let listed = browser
        .text_once_it_shows("Alice took leave at short notice")
        .await;
    assert!(listed.contains("Tue 24 Nov 19:00–22:00"), "{listed}");
    assert!(
        browser
            .text_of("#cover-requests")
            .await
            .contains("open, 0 waves so far"),
        "{listed}"
    );
    browser.screenshot("coordinator-cover-requests").await;
}
