//! Typed settings, loaded once from the environment and an optional TOML file
//! (`PEERLINE_CONFIG`). Environment variables win over the file. Secrets are wrapped so
//! they never reach logs or Debug output.

use std::{collections::HashMap, fmt, net::SocketAddr, path::Path};

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://peerline.db?mode=rwc";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_TWILIO_API_BASE: &str = "https://api.twilio.com";
/// The shortest `PEERLINE_SECRET_KEY` accepted: keyed hashes need a key an attacker
/// cannot guess.
pub const MIN_SECRET_KEY_LEN: usize = 32;

#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://...` (default, a file in the working directory) or `postgres://...`.
    pub database_url: SecretString,
    /// `PEERLINE_LISTEN`: the address the HTTP server binds.
    pub listen: SocketAddr,
    /// `PEERLINE_PUBLIC_URL`: the base URL at which Twilio reaches this server, without a
    /// trailing slash. Webhook signatures are checked against it.
    pub public_url: Url,
    /// `PEERLINE_PUBLIC_URL` exactly as configured (without a trailing slash): Twilio signs
    /// the URL set on a number as it was typed, host case and all, while `public_url`
    /// is normalised (a lower-case host).
    pub public_url_as_written: String,
    pub twilio: TwilioSettings,
    /// `PEERLINE_SECRET_KEY`: keys the hashes of phone numbers; when unset, `serve`
    /// generates one and keeps it in the database.
    pub secret_key: Option<SecretString>,
    /// `PEERLINE_PREVIOUS_SECRET_KEY`: while the data moves to a new `PEERLINE_SECRET_KEY`
    /// (`peerline rotate-key`), the key it was sealed under: read, never written.
    pub previous_secret_key: Option<SecretString>,
    /// `PEERLINE_API_RATE_LIMIT`: API requests a minute per token (or client address);
    /// 0 turns the limit off.
    pub api_rate_limit: u32,
    /// `PEERLINE_ANSWER_DEADLINE_MS`: how long a caller's or texter's webhook waits for the
    /// database before answering from memory (the fallback number, the crisis text).
    pub answer_deadline: std::time::Duration,
    /// `PEERLINE_SPOOL_DIR`: where this server keeps what it could not write to the
    /// database until it can.
    pub spool_dir: std::path::PathBuf,
    /// `PEERLINE_METRICS_TOKEN`: when set, `/metrics` asks for it as a bearer token.
    pub metrics_token: Option<SecretString>,
    /// `PEERLINE_TRUSTED_PROXIES`: addresses of reverse proxies whose `X-Forwarded-For`
    /// names the client (for the API rate limit), comma-separated.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

pub const DEFAULT_SPOOL_DIR: &str = "spool";

pub const DEFAULT_ANSWER_DEADLINE_MS: u64 = 1800;

pub const DEFAULT_API_RATE_LIMIT: u32 = 600;

#[derive(Clone)]
pub struct TwilioSettings {
    /// `TWILIO_ACCOUNT_SID`
    pub account_sid: Option<String>,
    /// `TWILIO_AUTH_TOKEN`: also the key of webhook signatures.
    pub auth_token: Option<SecretString>,
    /// `TWILIO_API_BASE`: the REST API's base URL (a local stand-in in tests).
    pub api_base: Url,
}

impl TwilioSettings {
    /// A client for Twilio's REST API, when the credentials to use it are set.
    pub fn client(&self) -> Option<crate::telephony::rest::TwilioClient> {
        let (Some(account_sid), Some(auth_token)) = (&self.account_sid, &self.auth_token) else {
            return None;
        };
        Some(crate::telephony::rest::TwilioClient::new(
            self.api_base.clone(),
            account_sid.clone(),
            auth_token.clone(),
        ))
    }
}

/// One line naming the setting and what is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &str, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The optional TOML file: the same settings, named in lower case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    twilio_account_sid: Option<String>,
    twilio_auth_token: Option<String>,
    twilio_api_base: Option<String>,
    secret_key: Option<String>,
    previous_secret_key: Option<String>,
    api_rate_limit: Option<Scalar>,
    answer_deadline_ms: Option<Scalar>,
    spool_dir: Option<String>,
    metrics_token: Option<String>,
    trusted_proxies: Option<String>,
}

/// A number in the TOML file, written bare (`api_rate_limit = 600`) or quoted.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(i64),
    Text(String),
}

impl Scalar {
    fn text(value: &Option<Scalar>) -> Option<String> {
        value.as_ref().map(|v| match v {
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(t) => t.clone(),
        })
    }
}

/// A database URL peerline can use: `sqlite:...` or `postgres://...`.
pub fn check_database_url(url: &str) -> Result<(), &'static str> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(())
    } else {
        Err("must start with sqlite: or postgres://")
    }
}

/// The file of a SQLite database URL (`sqlite://peerline.db?mode=rwc` is `peerline.db`);
/// `None` for PostgreSQL and in-memory SQLite.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

impl Settings {
    /// Reads the process environment (and `PEERLINE_CONFIG`, if set).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Builds settings from a map of environment variables; the file named by
    /// `PEERLINE_CONFIG` supplies what the map lacks.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let file = match vars.get("PEERLINE_CONFIG") {
            Some(path) => read_file(Path::new(path))?,
            None => FileSettings::default(),
        };
        let pick = |var: &str, from_file: &Option<String>| {
            vars.get(var)
                .filter(|v| !v.is_empty())
                .cloned()
                .or_else(|| from_file.clone())
        };

        let database_url =
            pick("DATABASE_URL", &file.database_url).unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        check_database_url(&database_url).map_err(|e| ConfigError::new("DATABASE_URL", e))?;
        let listen_raw =
            pick("PEERLINE_LISTEN", &file.listen).unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_raw.parse().map_err(|_| {
            ConfigError::new(
                "PEERLINE_LISTEN",
                format!("'{listen_raw}' is not an address like 127.0.0.1:8080"),
            )
        })?;
        let public_url_as_written = pick("PEERLINE_PUBLIC_URL", &file.public_url)
            .unwrap_or_else(|| DEFAULT_PUBLIC_URL.into());
        let public_url = base_url("PEERLINE_PUBLIC_URL", &public_url_as_written)?;
        let api_base = base_url(
            "TWILIO_API_BASE",
            &pick("TWILIO_API_BASE", &file.twilio_api_base)
                .unwrap_or_else(|| DEFAULT_TWILIO_API_BASE.into()),
        )?;
        let account_sid = pick("TWILIO_ACCOUNT_SID", &file.twilio_account_sid);
        if let Some(sid) = &account_sid
            && !(sid.starts_with("AC") && sid.len() == 34)
        {
            return Err(ConfigError::new(
                "TWILIO_ACCOUNT_SID",
                "must be 34 characters starting with AC",
            ));
        }
        let secret_key = pick("PEERLINE_SECRET_KEY", &file.secret_key);
        if let Some(key) = &secret_key
            && key.len() < MIN_SECRET_KEY_LEN
        {
            return Err(ConfigError::new(
                "PEERLINE_SECRET_KEY",
                format!("must be at least {MIN_SECRET_KEY_LEN} characters"),
            ));
        }
        let previous_secret_key = pick("PEERLINE_PREVIOUS_SECRET_KEY", &file.previous_secret_key);
        if previous_secret_key.is_some() && secret_key.is_none() {
            return Err(ConfigError::new(
                "PEERLINE_PREVIOUS_SECRET_KEY",
                "is the key the data moves away from: set PEERLINE_SECRET_KEY to the new one",
            ));
        }
        let api_rate_limit = match pick(
            "PEERLINE_API_RATE_LIMIT",
            &Scalar::text(&file.api_rate_limit),
        ) {
            None => DEFAULT_API_RATE_LIMIT,
            Some(raw) => raw.trim().parse().map_err(|_| {
                ConfigError::new(
                    "PEERLINE_API_RATE_LIMIT",
                    format!("'{raw}' is not a number of requests a minute (0 for no limit)"),
                )
            })?,
        };
        let answer_deadline_ms = match pick(
            "PEERLINE_ANSWER_DEADLINE_MS",
            &Scalar::text(&file.answer_deadline_ms),
        ) {
            None => DEFAULT_ANSWER_DEADLINE_MS,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|ms| (100..=14_000).contains(ms))
                .ok_or_else(|| {
                    ConfigError::new(
                        "PEERLINE_ANSWER_DEADLINE_MS",
                        format!("'{raw}' is not a number of milliseconds from 100 to 14000"),
                    )
                })?,
        };
        let trusted_proxies = pick("PEERLINE_TRUSTED_PROXIES", &file.trusted_proxies)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse().map_err(|_| {
                    ConfigError::new(
                        "PEERLINE_TRUSTED_PROXIES",
                        format!("'{a}' is not an IP address"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            trusted_proxies,
            api_rate_limit,
            answer_deadline: std::time::Duration::from_millis(answer_deadline_ms),
            spool_dir: pick("PEERLINE_SPOOL_DIR", &file.spool_dir)
                .unwrap_or_else(|| DEFAULT_SPOOL_DIR.into())
                .into(),
            database_url: database_url.into(),
            listen,
            public_url,
            public_url_as_written: public_url_as_written.trim_end_matches('/').to_owned(),
            twilio: TwilioSettings {
                account_sid,
                auth_token: pick("TWILIO_AUTH_TOKEN", &file.twilio_auth_token).map(Into::into),
                api_base,
            },
            secret_key: secret_key.map(Into::into),
            previous_secret_key: previous_secret_key.map(Into::into),
            metrics_token: pick("PEERLINE_METRICS_TOKEN", &file.metrics_token).map(Into::into),
        })
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            "PEERLINE_CONFIG",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        let place = line.map_or_else(String::new, |n| format!(" line {n}:"));
        ConfigError::new(
            "PEERLINE_CONFIG",
            format!("{}:{place} {}", path.display(), e.message().trim()),
        )
    })
}

/// An http(s) base URL with no query or fragment, kept without a trailing slash.
fn base_url(variable: &str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim_end_matches('/'))
        .map_err(|e| ConfigError::new(variable, format!("'{raw}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(ConfigError::new(
            variable,
            format!("'{raw}' must be an http(s) URL with no query"),
        ));
    }
    Ok(url)
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &"[redacted]")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url.as_str())
            .field("twilio", &self.twilio)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "previous_secret_key",
                &self.previous_secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field("api_rate_limit", &self.api_rate_limit)
            .field("answer_deadline", &self.answer_deadline)
            .field("spool_dir", &self.spool_dir)
            .field("trusted_proxies", &self.trusted_proxies)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("account_sid", &self.account_sid)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "[redacted]"),
            )
            .field("api_base", &self.api_base.as_str())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_work_on_a_fresh_machine() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert_eq!(s.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.public_url.as_str(), "http://127.0.0.1:8080/");
        assert!(s.secret_key.is_none());
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let e = Settings::from_vars(&vars(&[("PEERLINE_LISTEN", "eighty")])).unwrap_err();
        assert_eq!(e.variable, "PEERLINE_LISTEN");
        let e = Settings::from_vars(&vars(&[("PEERLINE_SECRET_KEY", "short")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "PEERLINE_SECRET_KEY: must be at least 32 characters"
        );
        let e = Settings::from_vars(&vars(&[("PEERLINE_PUBLIC_URL", "ftp://x")])).unwrap_err();
        assert_eq!(e.variable, "PEERLINE_PUBLIC_URL");
        assert_eq!(
            sqlite_file(DEFAULT_DATABASE_URL),
            Some(std::path::PathBuf::from("peerline.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/peerline/p.db"),
            Some(std::path::PathBuf::from("/var/lib/peerline/p.db"))
        );
        assert_eq!(sqlite_file("postgres://h/db"), None);
        let e = Settings::from_vars(&vars(&[("DATABASE_URL", "mysql://x")])).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
        let e = Settings::from_vars(&vars(&[("PEERLINE_API_RATE_LIMIT", "lots")])).unwrap_err();
        assert_eq!(e.variable, "PEERLINE_API_RATE_LIMIT");
        let s = Settings::from_vars(&vars(&[("PEERLINE_API_RATE_LIMIT", "0")])).unwrap();
        assert_eq!(s.api_rate_limit, 0);
        let e =
            Settings::from_vars(&vars(&[("PEERLINE_ANSWER_DEADLINE_MS", "20000")])).unwrap_err();
        assert_eq!(e.variable, "PEERLINE_ANSWER_DEADLINE_MS");
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let s = Settings::from_vars(&vars(&[
            ("DATABASE_URL", "postgres://app:hunter2@db/peerline"),
            ("TWILIO_AUTH_TOKEN", "tok-sekrit"),
            (
                "PEERLINE_SECRET_KEY",
                "0123456789abcdef0123456789abcdef-key",
            ),
        ]))
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["hunter2", "tok-sekrit", "abcdef-key"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn file_supplies_what_the_environment_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peerline.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\npublic_url = \"https://help.example.org/\"\n",
        )
        .unwrap();
        let s = Settings::from_vars(&vars(&[
            ("PEERLINE_CONFIG", path.to_str().unwrap()),
            ("PEERLINE_LISTEN", "127.0.0.1:9100"),
        ]))
        .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9100", "environment wins");
        assert_eq!(s.public_url.as_str(), "https://help.example.org/");
        std::fs::write(&path, "listen = 5\n").unwrap();
        let e =
            Settings::from_vars(&vars(&[("PEERLINE_CONFIG", path.to_str().unwrap())])).unwrap_err();
        assert_eq!(e.variable, "PEERLINE_CONFIG");
    }

    #[test]
    fn the_file_takes_bare_numbers_and_names_the_line_of_a_mistake() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peerline.toml");
        let config = [("PEERLINE_CONFIG", path.to_str().unwrap())];
        std::fs::write(
            &path,
            "api_rate_limit = 600\nanswer_deadline_ms = \"2500\"\n",
        )
        .unwrap();
        let s = Settings::from_vars(&vars(&config)).unwrap();
        assert_eq!(s.api_rate_limit, 600);
        assert_eq!(s.answer_deadline.as_millis(), 2500);

        std::fs::write(&path, "api_rate_limit = 600\n\nlisten = 5\n").unwrap();
        let e = Settings::from_vars(&vars(&config)).unwrap_err();
        assert!(e.to_string().contains(" line 3:"), "{e}");
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
    }
}
