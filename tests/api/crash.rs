//! `kill -9` in the middle of calls and conversations, again and again: after each
//! restart no accepted text is lost, no SMS goes out twice, and once time moves on no
//! volunteer stays reserved and no contact stays open.

use peerline::clock::Clock;
use peerline::domain::ids::VolunteerId;
use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use peerline::jobs::{conversations, sweeper};
use peerline::simulator::text::Text;
use peerline::simulator::{Answer, CallScript, TwilioPeer, play_call};
use peerline::storage::entities::{contact, message};
use peerline::storage::reservations;
use rand::Rng;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use futures::future::join_all;

use crate::helpers::{AUTH_TOKEN, SECRET_KEY, TestApp, spawn_app};
use crate::twilio_standin::StandIn;

const LINE: &str = "+12025550100";

/// A `peerline serve` process on the test's database.
struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(app: &TestApp, rest: &StandIn, spool: &std::path::Path) -> Server {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_peerline"))
        .arg("serve")
        .env("DATABASE_URL", app.database_url())
        .env("PEERLINE_LISTEN", format!("127.0.0.1:{port}"))
        .env("PEERLINE_PUBLIC_URL", &base)
        .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        .env("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000001")
        .env("TWILIO_API_BASE", &rest.base)
        .env("PEERLINE_SECRET_KEY", SECRET_KEY)
        .env("PEERLINE_SPOOL_DIR", spool)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start peerline serve");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("peerline serve did not start");
}

#[tokio::test]
async fn killing_the_server_at_random_moments_loses_nothing_and_repeats_nothing() {
    let app = spawn_app().await;
    let rest = StandIn::start().await;
    let spool = tempfile::tempdir().unwrap();
    let helpline = app.helpline("Peerline", "Europe/London").await;
    app.number(helpline, LINE).await;
    let now = Clock::system().now().to_rfc3339();
    for i in 0..4 {
        let id = app
            .volunteer(
                &format!("V{i}"),
                &format!("+120255501{:02}", 10 + i),
                "Europe/London",
                &[helpline],
            )
            .await;
        app.on_shift_around(id, &now).await;
    }

    let mut accepted_texts = Vec::new();
    let mut rng = rand::rng();
    for round in 0..6 {
        let server = start(&app, &rest, spool.path()).await;
        let peer = TwilioPeer::new(&server.base, AUTH_TOKEN);
        let calls = (0..3).map(|i| {
            let script = CallScript {
                to: LINE.into(),
                from: format!("+1303555{:04}", round * 10 + i),
                digits: vec![],
                answer: Answer::First,
                talk_secs: 30,
            };
            let peer = &peer;
            async move { play_call(peer, &script).await.is_ok() }
        });
        let texts: Vec<Text> = (0..4)
            .map(|i| {
                Text::new(
                    &format!("+1404555{:04}", round * 10 + i),
                    LINE,
                    "hello, anyone there?",
                )
            })
            .collect();
        let answered = AtomicUsize::new(0);
        let sends = texts.iter().map(|text| {
            let (peer, answered) = (&peer, &answered);
            async move {
                let result = peer.text(text).await;
                answered.fetch_add(1, Ordering::SeqCst);
                (text.message_sid.clone(), result)
            }
        });
        let mut server = server;
        let kill_after = Duration::from_millis(rng.random_range(50..2000));
        let (_, sent, _) = tokio::join!(join_all(calls), join_all(sends), async {
            tokio::time::sleep(kill_after).await;
            // The first server dies only once its texts have been answered, so that some
            // are accepted between kills however busy the machine; later ones die at any
            // moment.
            while round == 0 && answered.load(Ordering::SeqCst) < texts.len() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            server.child.kill().expect("kill -9");
            server.child.wait().expect("reap");
        });
        // Twilio counts a text delivered when the webhook answered 200.
        for (sid, result) in sent {
            if let Ok((200, _)) = result {
                accepted_texts.push(sid);
            }
        }
    }

    // One last run lets the outbox and the spool catch up.
    let mut last = start(&app, &rest, spool.path()).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    last.child.kill().unwrap();
    last.child.wait().unwrap();

    // No accepted text is lost.
    for sid in &accepted_texts {
        let kept = message::Entity::find()
            .filter(message::Column::ProviderSid.eq(sid.as_str()))
            .one(&app.db)
            .await
            .unwrap();
        assert!(kept.is_some(), "accepted text {sid} was lost");
    }
    assert!(
        !accepted_texts.is_empty(),
        "some texts were accepted between kills"
    );

    // No SMS went out twice: each recipient got each text at most once.
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for request in rest.received().await {
        let key = (
            request.field("To").unwrap_or_default().to_owned(),
            request.field("Body").unwrap_or_default().to_owned(),
        );
        *seen.entry(key).or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "sent twice: {repeated:?}");

    // Once time moves on, nobody stays reserved and nothing stays open.
    let later = Clock::system().now() + chrono::Duration::hours(25);
    assert_eq!(
        reservations::engaged(&app.db, later).await.unwrap(),
        Vec::<VolunteerId>::new()
    );
    sweeper::sweep(&app.db, later).await.unwrap();
    conversations::run_once(&app.state_at(later)).await.unwrap();
    let open = contact::Entity::find()
        .filter(contact::Column::EndedAt.is_null())
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        open.is_empty(),
        "contacts left open: {:?}",
        open.iter()
            .map(|c| (&c.channel, &c.stage))
            .collect::<Vec<_>>()
    );
}
