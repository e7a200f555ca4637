//! The `peerline` command: tokens on stdout, and clear start-up errors.

use std::process::Command;

#[test]
fn token_create_prints_only_the_token_and_it_works() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
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
    assert!(String::from_utf8_lossy(&refused.stderr).contains("helplines"));
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
