//! Test harness: a real server on a random port over a fresh database built by the real
//! migrations (a temporary SQLite file, or a new PostgreSQL database when
//! `TEST_DATABASE_URL` is set), and a client with tokens for each kind of user.

use std::collections::HashMap;
use std::net::TcpListener;

use chrono::{DateTime, Duration, Utc};
use peerline::clock::Clock;
use peerline::config::Settings;
use peerline::domain::access::Role;
use peerline::domain::ids::{ContactId, HelplineId, TopicId, VolunteerId};
use peerline::startup::Application;
use peerline::storage::entities::contact;
use peerline::storage::{self, users};
use rand::Rng;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveValue::Set, EntityTrait};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub db: sea_orm::DatabaseConnection,
    database_url: String,
    /// The PostgreSQL database this test created, dropped when the test ends.
    own_database: Option<String>,
    pub admin: String,
    client: reqwest::Client,
    twilio: peerline::simulator::TwilioPeer,
    server: RunningServer,
    _dir: tempfile::TempDir,
}

/// A server started by a test, which the test may stop as an operator would.
pub struct RunningServer {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    stopped: tokio::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
}

impl RunningServer {
    /// Stops the server as SIGTERM does, and waits until its background jobs have finished.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
        if let Some(task) = self.stopped.lock().await.take() {
            task.await.expect("server task").expect("server stopped");
        }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

/// A new database for one test: its URL, and its name when it is a PostgreSQL database
/// that the test must drop when it ends.
async fn fresh_database(dir: &tempfile::TempDir) -> (String, Option<String>) {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        return (url, None);
    };
    let name = format!(
        "peerline_test_{}_{}",
        test_run_id(),
        rand::rng().random::<u64>()
    );
    let admin = storage::connect(&admin_url)
        .await
        .expect("TEST_DATABASE_URL must be reachable");
    sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL ends with /database");
    (format!("{base}/{name}"), Some(name))
}

/// `PEERLINE_TEST_RUN` (letters and digits), so that a CI run can drop exactly the
/// databases of its own run if a test process dies before its tests clean up.
fn test_run_id() -> String {
    let run: String = std::env::var("PEERLINE_TEST_RUN")
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(20)
        .collect();
    if run.is_empty() {
        "local".to_owned()
    } else {
        run
    }
}

/// Drops a test's PostgreSQL database, closing the connections its servers still hold.
/// Runs on a thread of its own: `Drop` cannot wait on the test's runtime.
fn drop_database(name: String) {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let admin = storage::connect(&admin_url).await?;
            sea_orm::ConnectionTrait::execute_unprepared(
                &admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
            admin.close().await?;
            Ok::<_, anyhow::Error>(())
        })
    })
    .join();
    if let Ok(Err(error)) = dropped {
        eprintln!("could not drop a test database: {error:#}");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.own_database.take() {
            drop_database(name);
        }
    }
}

/// The auth token the test server checks webhook signatures with.
pub const AUTH_TOKEN: &str = "test-auth-token";

pub async fn spawn_app() -> TestApp {
    spawn_app_with_clock(Clock::system()).await
}

/// A server whose call flow reads `at` as the current time (and runs on from there).
pub async fn spawn_app_at(at: &str) -> TestApp {
    let start = chrono::DateTime::parse_from_rfc3339(at)
        .expect("RFC 3339 instant")
        .with_timezone(&chrono::Utc);
    spawn_app_with_clock(Clock::starting_at(start)).await
}

/// The secret key test servers seal numbers with.
pub const SECRET_KEY: &str = "test-secret-key-0123456789abcdef-0123";

/// Starts a server with `extra` settings on top of the test defaults.
pub async fn start_server_with(
    database_url: &str,
    clock: Clock,
    extra: &[(&str, &str)],
) -> RunningServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let mut settings = settings_for(database_url, &base);
    if !extra.is_empty() {
        let mut vars = test_vars(database_url, &base);
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        settings = Settings::from_vars(&vars).expect("test settings");
    }
    let app = Application::build_with_clock(settings, listener, clock)
        .await
        .expect("build app");
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    RunningServer {
        base,
        handle,
        stopped: tokio::sync::Mutex::new(Some(task)),
    }
}

fn settings_for(database_url: &str, base: &str) -> Settings {
    Settings::from_vars(&test_vars(database_url, base)).expect("test settings")
}

/// Each server its own spool, as each machine has its own disk.
fn fresh_spool_dir() -> String {
    tempfile::tempdir()
        .expect("spool dir")
        .keep()
        .display()
        .to_string()
}

fn test_vars(database_url: &str, base: &str) -> HashMap<String, String> {
    [
        ("DATABASE_URL", database_url),
        ("PEERLINE_LISTEN", "127.0.0.1:0"),
        ("PEERLINE_PUBLIC_URL", base),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("PEERLINE_SECRET_KEY", SECRET_KEY),
        // Tests drive many requests with one token; the limit has its own test.
        ("PEERLINE_API_RATE_LIMIT", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([("PEERLINE_SPOOL_DIR".to_owned(), fresh_spool_dir())])
    .collect()
}

/// A server with `extra` settings on top of the test defaults.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_configured(Clock::system(), extra).await
}

/// A server whose clock reads `at` now, with `extra` settings on top of the test defaults.
pub async fn spawn_app_at_with(at: &str, extra: &[(&str, &str)]) -> TestApp {
    spawn_app_configured(Clock::starting_at(utc(at)), extra).await
}

async fn spawn_app_with_clock(clock: Clock) -> TestApp {
    spawn_app_configured(clock, &[]).await
}

async fn spawn_app_configured(clock: Clock, extra: &[(&str, &str)]) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, own_database) = fresh_database(&dir).await;
    let server = start_server_with(&database_url, clock, extra).await;
    let base = server.base.clone();
    let db = storage::connect(&database_url).await.expect("connect");
    let mut test = TestApp {
        server,
        base: base.clone(),
        db,
        database_url,
        own_database,
        admin: String::new(),
        client: reqwest::Client::new(),
        twilio: peerline::simulator::TwilioPeer::new(&base, AUTH_TOKEN),
        _dir: dir,
    };
    test.admin = test.token_for(Role::Admin, None, vec![]).await;
    test
}

impl TestApp {
    /// Creates a user of `role` and returns a bearer token for them.
    pub async fn token_for(
        &self,
        role: Role,
        volunteer_id: Option<i32>,
        helplines: Vec<i32>,
    ) -> String {
        let user = users::create(
            &self.db,
            &vault(),
            users::NewUser {
                name: format!("{} user", role.as_str()),
                role,
                volunteer_id: volunteer_id.map(VolunteerId),
                phone: None,
                time_zone: None,
                helplines: helplines.into_iter().map(HelplineId).collect(),
            },
            peerline::clock::Clock::system().now(),
        )
        .await
        .expect("create user");
        users::issue_token(&self.db, user.id, peerline::clock::Clock::system().now())
            .await
            .expect("issue token")
            .expose_secret()
            .to_owned()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_on(&self.base, method, path, token, body).await
    }

    /// As `call`, on the server at `base` (another instance on the same database).
    pub async fn call_on(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply { status, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// GETs `path` asking for CSV (`Accept: text/csv`); the body as text.
    pub async fn raw_get_csv(&self, path: &str, token: &str) -> String {
        let response = self
            .client
            .get(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .header("accept", "text/csv")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap_or("");
        assert!(content_type.starts_with("text/csv"), "{content_type}");
        response.text().await.expect("body")
    }

    pub async fn raw_post(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let response = self
            .client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Reply { status, body }
    }

    /// Creates a helpline as admin and returns its id.
    pub async fn helpline(&self, name: &str, time_zone: &str) -> i32 {
        let reply = self
            .post(
                "/api/v1/helplines",
                &self.admin,
                json!({"name": name, "time_zone": time_zone, "greeting": "Hello, you've reached a peer supporter.",
                       "voice_language": "en-GB", "languages": ["en"]}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        id_of(&reply)
    }

    pub async fn topic(&self, helpline: i32, key: &str, digit: i32) -> i32 {
        let reply = self
            .post(
                &format!("/api/v1/helplines/{helpline}/topics"),
                &self.admin,
                json!({"key": key, "label": key.replace('-', " "), "digit": digit}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        id_of(&reply)
    }

    /// Creates a trained (voice and SMS) volunteer and returns their id.
    pub async fn volunteer(
        &self,
        name: &str,
        phone: &str,
        time_zone: &str,
        helplines: &[i32],
    ) -> i32 {
        let reply = self
            .post(
                "/api/v1/volunteers",
                &self.admin,
                json!({"name": name, "phone": phone, "time_zone": time_zone, "languages": ["en"],
                       "training_status": "trained", "training_completed_on": "2026-01-10",
                       "refresher_due_on": "2027-01-10", "trained_voice": true, "trained_sms": true,
                       "helplines": helplines}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        id_of(&reply)
    }

    pub async fn shift(&self, volunteer: i32, weekday: &str, start: &str, end: &str) -> Reply {
        self.post(
            &format!("/api/v1/volunteers/{volunteer}/shifts"),
            &self.admin,
            json!({"weekday": weekday, "start": start, "end": end}),
        )
        .await
    }
}

impl TestApp {
    /// The database this app's servers share.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Another server on the same database, as a second instance behind a load balancer,
    /// with `extra` settings; returns its base URL.
    pub async fn instance_with(&self, extra: &[(&str, &str)]) -> String {
        start_server_with(&self.database_url, Clock::system(), extra)
            .await
            .base
    }

    /// As `second_instance`, with a clock that reads `at` now.
    pub async fn second_instance_at(&self, at: &str) -> String {
        self.instance_at_with(at, &[]).await
    }

    /// Another server on the same database whose clock reads `at` now, with `extra`
    /// settings; returns its base URL.
    pub async fn instance_at_with(&self, at: &str, extra: &[(&str, &str)]) -> String {
        start_server_with(&self.database_url, Clock::starting_at(utc(at)), extra)
            .await
            .base
    }

    /// Stops this app's server as SIGTERM does, once its jobs have finished.
    pub async fn stop(&self) {
        self.server.stop().await;
    }

    /// A database that does not answer until the test brings it back: the same
    /// PostgreSQL database behind a proxy that turns connections away until then, or a
    /// SQLite file that appears then, as a copy of this app's database.
    pub async fn database_out_of_reach(&self) -> OutOfReach {
        OutOfReach::start(&self.database_url).await
    }

    /// What a server of this app holds, with a clock reading `at`: for running its
    /// background jobs as of a later time.
    pub fn state_at(&self, at: chrono::DateTime<chrono::Utc>) -> peerline::state::AppState {
        peerline::state::AppState::new(
            self.db.clone(),
            settings_for(&self.database_url, &self.base),
            vault(),
            Clock::starting_at(at),
            peerline::spool::Spool::open(&std::path::PathBuf::from(fresh_spool_dir()))
                .expect("spool"),
        )
    }

    /// Twilio's side of the webhooks, signing with the server's auth token.
    /// Twilio's side of this app's webhooks; one connection pool for the whole test, as
    /// Twilio keeps its connections.
    pub fn twilio(&self) -> peerline::simulator::TwilioPeer {
        self.twilio.clone()
    }

    /// Puts a volunteer on an extra shift from a day before `around` to a day after it.
    pub async fn on_shift_around(&self, volunteer: i32, around: &str) {
        let at = chrono::DateTime::parse_from_rfc3339(around).expect("instant");
        let reply = self
            .post(
                &format!("/api/v1/volunteers/{volunteer}/exceptions"),
                &self.admin,
                json!({"kind": "extra_shift",
                       "starts_at": (at - chrono::Duration::days(1)).to_rfc3339(),
                       "ends_at": (at + chrono::Duration::days(1)).to_rfc3339()}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }

    /// Adds a number callers dial to reach `helpline`.
    pub async fn number(&self, helpline: i32, number: &str) {
        let reply = self
            .post(
                &format!("/api/v1/helplines/{helpline}/numbers"),
                &self.admin,
                json!({"number": number}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }
}

/// A contact written straight into the log, as it stands once ended.
#[derive(Default)]
pub struct Seed<'a> {
    pub at: &'a str,
    pub channel: &'a str,
    pub topic: Option<i32>,
    pub outcome: &'a str,
    pub tier: Option<&'a str>,
    pub answered_by: Option<i32>,
    pub wait: i32,
    pub talk: Option<i32>,
    /// The caller's number, sealed as the server seals it (none: withheld).
    pub caller: Option<&'a str>,
    /// A voicemail recording reference.
    pub recording: Option<&'a str>,
}

pub fn utc(at: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(at).unwrap().to_utc()
}

pub async fn seed(app: &TestApp, helpline: i32, n: usize, s: Seed<'_>) -> i32 {
    let received = utc(s.at);
    let answered = s
        .answered_by
        .map(|_| received + Duration::seconds(s.wait.into()));
    let ended = answered.map_or(received + Duration::seconds(s.wait.into()), |a| {
        a + Duration::seconds(s.talk.unwrap_or(0).into())
    });
    let row = contact::ActiveModel {
        helpline_id: Set(HelplineId(helpline)),
        channel: Set(parsed(s.channel)),
        provider_sid: Set(format!("CA{n:032}")),
        dialed_number: Set("+12025550100".into()),
        caller_encrypted: Set(s
            .caller
            .map(|number| vault().seal(&peerline::domain::phone::E164::parse(number).unwrap()))),
        caller_hash: Set(s.caller.map_or(format!("withheld-{n}"), |number| {
            vault().hash(&peerline::domain::phone::E164::parse(number).unwrap())
        })),
        caller_hint: Set("...42".into()),
        recording_sid: Set(s.recording.map(str::to_owned)),
        recording_url: Set(s
            .recording
            .map(|sid| format!("https://api.twilio.com/Recordings/{sid}"))),
        topic_id: Set(s.topic.map(TopicId)),
        stage: Set(peerline::storage::contacts::Stage::Ended),
        round: Set(1),
        outcome: Set(Some(parsed(s.outcome))),
        peer_match_tier: Set(s.tier.map(parsed)),
        answered_by: Set(s.answered_by.map(VolunteerId)),
        received_at: Set(received),
        route_deadline: Set(received),
        answered_at: Set(answered),
        ended_at: Set(Some(ended)),
        wait_secs: Set(Some(s.wait)),
        talk_secs: Set(s.talk),
        updated_at: Set(ended),
        review_state: Set(peerline::domain::supervision::ReviewState::Unreviewed),
        ..Default::default()
    };
    contact::Entity::insert(row)
        .exec(&app.db)
        .await
        .unwrap()
        .last_insert_id
        .0
}

/// An offer of the contact to a volunteer, written straight into the log.
pub async fn offer_to(app: &TestApp, contact_id: i32, volunteer: i32, at: &str, outcome: &str) {
    peerline::storage::entities::offer::Entity::insert(
        peerline::storage::entities::offer::ActiveModel {
            contact_id: Set(ContactId(contact_id)),
            volunteer_id: Set(VolunteerId(volunteer)),
            round: Set(1),
            tier: Set(peerline::domain::routing::Tier::Trained),
            offered_at: Set(utc(at)),
            outcome: Set(Some(parsed(outcome))),
            ..Default::default()
        },
    )
    .exec(&app.db)
    .await
    .unwrap();
}

/// The sealing and hashing test servers use.
pub fn vault() -> peerline::secrets::Vault {
    peerline::secrets::Vault::new(SECRET_KEY.to_owned().into())
}

/// What a test server sealed, opened.
pub fn opened(sealed: &peerline::storage::entities::Sealed) -> String {
    sealed
        .open(&vault())
        .unwrap_or_else(|| panic!("{sealed:?} does not open under the test key"))
}

pub fn id_of(reply: &Reply) -> i32 {
    reply.body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {:?}", reply.body)) as i32
}

/// The ids of the volunteers in an on-shift answer.
pub fn on_shift_ids(reply: &Reply) -> Vec<i64> {
    reply.body["volunteers"]
        .as_array()
        .expect("volunteers")
        .iter()
        .map(|v| v["volunteer_id"].as_i64().unwrap_or(0))
        .collect()
}

/// A state or kind from its stored name, as the seed tables write them (`"answered"`).
pub fn parsed<T: sea_orm::ActiveEnum<Value = String>>(raw: &str) -> T {
    T::try_from_value(&raw.to_owned()).unwrap_or_else(|_| panic!("unknown value {raw:?}"))
}

/// Delivers a webhook as Twilio would, signed, returning the TwiML.
pub async fn deliver(app: &TestApp, url: &str, params: &[(&str, &str)]) -> String {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let (status, body) = app.twilio().post(url, &params).await.unwrap();
    assert_eq!(status, 200, "{url}: {body}");
    body
}

/// The values of `attr` on every `tag` element of a TwiML document.
pub fn attr_values(xml: &str, tag: &str, attr: &str) -> Vec<String> {
    let root = peerline::simulator::twiml_reader::parse(xml).unwrap();
    let mut found = Vec::new();
    root.find_all(tag, &mut found);
    found
        .iter()
        .filter_map(|e| e.attr(attr).map(str::to_owned))
        .collect()
}

pub fn borrowed<'a>(params: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    params.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A database out of reach until [`OutOfReach::bring_back`].
pub struct OutOfReach {
    /// The URL a server reaches it by.
    pub url: String,
    /// The database it stands for (PostgreSQL), or the copy it becomes (SQLite).
    source_url: String,
    reachable: std::sync::Arc<std::sync::atomic::AtomicBool>,
    _dir: tempfile::TempDir,
}

impl OutOfReach {
    async fn start(database_url: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let reachable = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let url = if storage_is_sqlite(database_url) {
            format!(
                "sqlite://{}?mode=rw",
                dir.path().join("restored.db").display()
            )
        } else {
            proxy_turning_away(database_url, reachable.clone()).await
        };
        Self {
            url,
            source_url: database_url.to_owned(),
            reachable,
            _dir: dir,
        }
    }

    /// Makes the database answer; returns a connection to what servers on `url` now use.
    pub async fn bring_back(&self) -> sea_orm::DatabaseConnection {
        use sea_orm::ConnectionTrait;
        if storage_is_sqlite(&self.source_url) {
            let source = storage::connect(&self.source_url).await.expect("connect");
            let restored = peerline::config::sqlite_file(&self.url).expect("a file");
            let copying = restored.with_extension("copying");
            source
                .execute_unprepared(&format!("VACUUM INTO '{}'", copying.display()))
                .await
                .expect("copy the database");
            source.close().await.expect("close");
            std::fs::rename(&copying, &restored).expect("put the copy in place");
        }
        self.reachable
            .store(true, std::sync::atomic::Ordering::SeqCst);
        storage::connect(&self.url).await.expect("connect")
    }
}

fn storage_is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// A local proxy to the PostgreSQL server of `database_url` that closes every connection
/// until `reachable`; returns the URL that goes through it.
async fn proxy_turning_away(
    database_url: &str,
    reachable: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> String {
    let parsed = url::Url::parse(database_url).expect("a database URL");
    let server = format!(
        "{}:{}",
        parsed.host_str().expect("a host"),
        parsed.port().unwrap_or(5432)
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            if !reachable.load(std::sync::atomic::Ordering::SeqCst) {
                continue;
            }
            let server = server.clone();
            tokio::spawn(async move {
                if let Ok(mut upstream) = tokio::net::TcpStream::connect(&server).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    let mut through = parsed;
    through.set_host(Some("127.0.0.1")).expect("host");
    through.set_port(Some(port)).expect("port");
    through.to_string()
}

/// What a test server sealed, if anything: empty for nothing.
pub fn opened_some(sealed: Option<&peerline::storage::entities::Sealed>) -> String {
    sealed.map(opened).unwrap_or_default()
}

/// `text` sealed as a test server seals it.
pub fn sealed(text: &str) -> peerline::storage::entities::Sealed {
    peerline::storage::entities::Sealed::seal(&vault(), text)
}

/// Takes the test database's schema back to before migration `name` (and every later one).
pub async fn down_to_before(app: &TestApp, name: &str) {
    use migration::{Migrator, MigratorTrait};
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let at = names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no migration {name}"));
    let steps = u32::try_from(names.len() - at).unwrap();
    Migrator::down(&app.db, Some(steps)).await.unwrap();
}
