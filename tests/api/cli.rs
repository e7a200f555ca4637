//! The `peerline` command: tokens on stdout, and clear start-up errors.

use std::process::Command;

#[test]
fn token_create_prints_only_the_token_and_it_works() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let migrated = peerline(&["migrate"], &url);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let output = Command::new(env!("CARGO_BIN_EXE_peerline"))
        .args(["token", "create", "--role", "admin", "--name", "Ada"])
        .env("DATABASE_URL", &url)
        .output()
        .expect("run peerline");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf8");
    let token = stdout.trim();
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout holds the token alone: {stdout:?}"
    );
    assert!(token.starts_with("pl_") && token.len() > 40);

    let database = std::fs::read(dir.path().join("cli.db")).expect("database file");
    let in_clear = database.windows(token.len()).any(|w| w == token.as_bytes());
    assert!(!in_clear, "only a hash of the token is stored");

    let refused = Command::new(env!("CARGO_BIN_EXE_peerline"))
        .args(["token", "create", "--role", "supervisor", "--name", "Sam"])
        .env("DATABASE_URL", &url)
        .output()
        .expect("run peerline");
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--helpline"),
        "{}",
        stderr(&refused)
    );

    // One token is revoked by its id.
    let revoked = peerline(&["token", "revoke", "--id", "1"], &url);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(
        String::from_utf8_lossy(&revoked.stdout).trim(),
        "revoked token 1 of user 1"
    );
    let unknown = peerline(&["token", "revoke", "--id", "1"], &url);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("--id: there is no API token 1"),
        "{}",
        stderr(&unknown)
    );
}

fn peerline(args: &[&str], database_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_peerline"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .expect("run peerline")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn token_create_names_what_is_missing_and_never_creates_a_stray_database() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("elsewhere.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());

    let admin = ["token", "create", "--role", "admin", "--name", "Ada"];
    let nowhere = peerline(&admin, &url);
    assert!(!nowhere.status.success());
    assert!(
        stderr(&nowhere).contains("no database at"),
        "{}",
        stderr(&nowhere)
    );
    assert!(!file.exists(), "no empty database is left behind");

    assert!(peerline(&["migrate"], &url).status.success());
    let volunteer = [
        "token",
        "create",
        "--role",
        "volunteer",
        "--volunteer",
        "7",
        "--name",
        "Vi",
    ];
    let missing = peerline(&volunteer, &url);
    assert!(!missing.status.success());
    let said = stderr(&missing);
    assert_eq!(
        said.lines().last(),
        Some("peerline: --volunteer: there is no volunteer 7")
    );
    assert!(
        !said.contains('\u{1b}'),
        "no colour codes off a terminal: {said:?}"
    );
}

#[test]
fn the_openapi_document_can_be_piped_into_a_reader_that_stops_early() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_peerline"))
        .arg("openapi")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run peerline");
    let mut first = [0_u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("the document starts");
    // The reader has gone: the rest of the document meets a closed pipe.
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[test]
fn invalid_configuration_stops_start_up_with_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_peerline"))
        .arg("serve")
        .env("PEERLINE_LISTEN", "not-an-address")
        .output()
        .expect("run peerline");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("PEERLINE_LISTEN"), "{stderr}");
}

#[test]
fn logs_can_be_one_json_object_a_line() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("json.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_peerline"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("PEERLINE_LOG_FORMAT", "json")
        .output()
        .expect("run peerline");
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.lines().count() > 0);
    for line in said.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert!(
            entry["level"].is_string() && entry["fields"]["message"].is_string(),
            "{line}"
        );
    }
}

/// A `peerline serve --demo` process on a free port over its own database; killed when
/// dropped.
struct DemoServer {
    child: std::process::Child,
    dir: tempfile::TempDir,
    base: String,
}

impl DemoServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = Self {
            child: Command::new(env!("CARGO_BIN_EXE_peerline"))
                .args(["serve", "--demo"])
                .envs(Self::env(dir.path(), &base))
                .env("PEERLINE_LISTEN", format!("127.0.0.1:{port}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("serve.log")).expect("log file"))
                .spawn()
                .expect("start peerline"),
            dir,
            base,
        };
        // The port is bound before the demo is seeded: wait for an HTTP answer.
        let address = server.base.trim_start_matches("http://").to_owned();
        let ready = (0..600).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            server.child.try_wait().ok().flatten().is_none() && answers_health(&address)
        });
        assert!(ready, "the demo server did not start");
        assert!(server.child.try_wait().expect("status").is_none());
        server
    }

    fn env(dir: &std::path::Path, base: &str) -> Vec<(String, String)> {
        [
            (
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.join("demo.db").display()),
            ),
            ("PEERLINE_PUBLIC_URL", base.to_owned()),
            ("TWILIO_AUTH_TOKEN", "demo-token".to_owned()),
            (
                "PEERLINE_SPOOL_DIR",
                dir.join("spool").display().to_string(),
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .to_vec()
    }

    fn simulate(&self, args: &[&str]) -> String {
        let mut all = vec!["simulate"];
        all.extend(args);
        self.run(&all)
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_peerline"))
            .args(args)
            .envs(Self::env(self.dir.path(), &self.base))
            .output()
            .expect("run peerline");
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).expect("utf8")
    }
}

/// Whether `GET /healthz` at `address` answers 200 within a second.
fn answers_health(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(1)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_demo_walkthrough_names_who_takes_a_text_and_how_to_reply_at_any_hour() {
    let server = DemoServer::start();
    let line = "+12025550100";
    let texter = "+12025550177";
    let first = server.simulate(&[
        "sms",
        "--to",
        line,
        "--from",
        texter,
        "--body",
        "Hi, is anyone there?",
    ]);
    assert!(first.contains("conversation reference #1"), "{first}");

    let second = server.simulate(&["sms", "--to", line, "--from", texter, "--body", "1"]);
    assert!(second.contains("round 1: could take it:"), "{second}");
    let reply = second
        .lines()
        .find(|l| l.trim_start().starts_with("peerline simulate sms"))
        .unwrap_or_else(|| panic!("no reply command in:\n{second}"));
    let volunteer = reply
        .split_whitespace()
        .skip_while(|w| *w != "--from")
        .nth(1)
        .expect("the volunteer's phone");

    let taken = server.simulate(&[
        "sms",
        "--to",
        line,
        "--from",
        volunteer,
        "--body",
        "#1 Hi, I'm here.",
    ]);
    assert!(
        taken.contains("to ...77"),
        "the texter gets the reply:\n{taken}"
    );
    let call = server.simulate(&[
        "call",
        "--to",
        line,
        "--from",
        "+12025550142",
        "--digits",
        "1",
    ]);
    assert!(call.contains("caller is connected to"), "{call}");
    assert!(
        call.contains(": voice, now ended, outcome answered"),
        "{call}"
    );
}

#[test]
fn on_sigterm_the_server_stops_its_jobs_and_exits_cleanly() {
    let mut server = DemoServer::start();
    let pid = server.child.id().to_string();
    let signalled = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(signalled.success());

    let exited = (0..300).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        server.child.try_wait().expect("status")
    });

    let status = exited.expect("the server exits within 30 s of SIGTERM");
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(server.dir.path().join("serve.log")).expect("log");
    assert!(log.contains("stopping background jobs"), "{log}");
}

#[test]
fn the_demo_prints_how_to_sign_in_to_the_console_and_the_link_opens_it() {
    let server = DemoServer::start();
    let log = std::fs::read_to_string(server.dir.path().join("serve.log")).expect("log");
    assert!(
        log.contains("peerline login-link --user 1    # Demo supervisor"),
        "{log}"
    );
    assert!(log.contains("# Alice (London)"), "{log}");
    let link = server.run(&["login-link", "--user", "1"]);
    let link = link.trim();
    assert!(
        link.starts_with(&format!(
            "{}/console/sign-in/link?user=1&token=",
            server.base
        )),
        "{link}"
    );
    let address = server.base.trim_start_matches("http://").to_owned();
    let path = link.trim_start_matches(&server.base);
    let page = http_get(&address, path);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("This one-time link signs you in"), "{page}");

    let missing = Command::new(env!("CARGO_BIN_EXE_peerline"))
        .args(["login-link", "--user", "99"])
        .envs(DemoServer::env(server.dir.path(), &server.base))
        .output()
        .expect("run peerline");
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("--user: there is no user 99"),
        "{}",
        stderr(&missing)
    );
}

/// The whole answer to `GET path` at `address`.
fn http_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn a_server_refuses_a_key_its_data_was_not_sealed_under_and_the_generated_key_can_be_kept() {
    let server = DemoServer::start();
    // A call leaves a sealed number in the database.
    let call = server.simulate(&[
        "call",
        "--to",
        "+12025550100",
        "--from",
        "+12025550142",
        "--digits",
        "1",
    ]);
    assert!(call.contains("caller is connected to"), "{call}");
    let generated = server.run(&["export-key"]);
    let generated = generated.trim();
    assert!(generated.len() >= 32, "{generated}");
    // The generated key is kept beside the database, readable by this user alone, and
    // nowhere in the database: a copy of the database alone opens nothing.
    let key_file = server.dir.path().join("demo.db.key");
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap().trim(),
        generated
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    for file in ["demo.db", "demo.db-wal"] {
        let bytes = std::fs::read(server.dir.path().join(file)).unwrap_or_default();
        let holds_key = bytes
            .windows(generated.len())
            .any(|w| w == generated.as_bytes());
        assert!(!holds_key, "{file} holds the key");
    }
    let with_key = |key: &str| {
        Command::new(env!("CARGO_BIN_EXE_peerline"))
            .args(["login-link", "--user", "1"])
            .envs(DemoServer::env(server.dir.path(), &server.base))
            .env("PEERLINE_SECRET_KEY", key)
            .output()
            .expect("run peerline")
    };
    let wrong = with_key("a-brand-new-key-from-the-secret-store-0123456789");
    assert!(!wrong.status.success());
    let message = stderr(&wrong);
    assert!(
        message.contains(
            "PEERLINE_SECRET_KEY is not the key this database's phone numbers were sealed under"
        ),
        "{message}"
    );
    assert!(message.contains("peerline export-key"), "{message}");
    // The generated key, moved into PEERLINE_SECRET_KEY, is accepted.
    let kept = with_key(generated);
    assert!(kept.status.success(), "{}", stderr(&kept));
}

#[cfg(unix)]
#[test]
fn the_database_and_the_spool_are_readable_by_the_servers_user_alone() {
    use std::os::unix::fs::PermissionsExt;
    let server = DemoServer::start();
    server.simulate(&[
        "call",
        "--to",
        "+12025550100",
        "--from",
        "+12025550142",
        "--digits",
        "1",
    ]);
    let mode = |name: &str| {
        std::fs::metadata(server.dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    for file in ["demo.db", "demo.db-wal", "demo.db-shm"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    assert_eq!(mode("spool"), 0o700);
}

#[tokio::test]
async fn a_key_an_older_set_up_kept_in_the_database_moves_into_its_own_file() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let db = peerline::storage::connect(&url).await.unwrap();
    peerline::storage::migrate(&db).await.unwrap();
    let now = peerline::clock::Clock::system().now();
    let (old_key, _) = peerline::storage::secrets::get_or_create(
        &db,
        peerline::storage::secrets::SECRET_KEY,
        || "an-older-set-up-kept-this-key-in-the-database".to_owned(),
        now,
    )
    .await
    .unwrap();
    let vars = std::collections::HashMap::from([
        ("DATABASE_URL".to_owned(), url.clone()),
        (
            "PEERLINE_PUBLIC_URL".to_owned(),
            "https://helpline.example.org".to_owned(),
        ),
    ]);
    let settings = peerline::config::Settings::from_vars(&vars).unwrap();
    use secrecy::ExposeSecret;
    let key = peerline::secret_key::resolve_secret_key(&db, &settings, now)
        .await
        .unwrap();
    assert_eq!(
        key.current.expose_secret(),
        old_key.expose_secret(),
        "the same key, kept"
    );
    let in_file = std::fs::read_to_string(dir.path().join("old.db.key")).unwrap();
    assert_eq!(in_file.trim(), old_key.expose_secret());
    let left = peerline::storage::secrets::get(&db, peerline::storage::secrets::SECRET_KEY)
        .await
        .unwrap();
    assert!(left.is_none(), "no longer in the database");
    // The next start reads it from the file.
    let again = peerline::secret_key::resolve_secret_key(&db, &settings, now)
        .await
        .unwrap();
    assert_eq!(again.current.expose_secret(), old_key.expose_secret());
}

/// SQLite: the checkpoint job copies the write-ahead log back into the database file, so
/// the file alone holds what was committed a few seconds ago, and no webhook's commit
/// waits to do that copy itself.
#[tokio::test]
async fn the_sqlite_file_alone_holds_what_was_committed_seconds_ago() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = crate::helpers::spawn_app().await;
    let Some(file) = app
        .database_url()
        .strip_prefix("sqlite://")
        .and_then(|url| url.split('?').next())
        .map(str::to_owned)
    else {
        return; // PostgreSQL keeps no log beside the file
    };
    app.helpline("Peerline", "Europe/London").await;
    let copies = tempfile::tempdir().expect("dir");
    let mut helplines = 0;
    for attempt in 0..100 {
        // The file alone, without its log, as a copy of it would be.
        let copy = copies.path().join(format!("copy-{attempt}.db"));
        std::fs::copy(&file, &copy).expect("copy");
        let url = format!("sqlite://{}?mode=rw", copy.display());
        if let Ok(db) = sea_orm::Database::connect(&url).await {
            let entity = peerline::storage::entities::helpline::Entity::find();
            helplines = entity.count(&db).await.unwrap_or(0);
        }
        if helplines == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        helplines, 1,
        "the database file alone does not hold the helpline yet"
    );
}
