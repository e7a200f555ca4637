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
