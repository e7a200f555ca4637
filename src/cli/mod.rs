//! The `peerline` command line: its arguments and settings help, logging, and the
//! start of each run; the subcommands themselves are in `commands`.

mod commands;
pub mod demo;
mod explain;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::domain::ids::{HelplineId, UserId, VolunteerId};
use crate::simulator::Answer;

const ENVIRONMENT_HELP: &str = "\
Settings (environment variables, or the TOML file named by PEERLINE_CONFIG):
  DATABASE_URL                 sqlite://peerline.db?mode=rwc (default) or postgres://...
  PEERLINE_LISTEN              address to bind (default 127.0.0.1:8080)
  PEERLINE_PUBLIC_URL          base URL Twilio reaches; webhook signatures are checked against it
  TWILIO_AUTH_TOKEN            checks webhook signatures; with TWILIO_ACCOUNT_SID, sends SMS
  TWILIO_ACCOUNT_SID           the Twilio account that sends SMS
  TWILIO_API_BASE              Twilio's REST API base URL (default https://api.twilio.com)
  PEERLINE_SECRET_KEY          key for hashing and sealing numbers and messages (32+ characters)
  PEERLINE_PREVIOUS_SECRET_KEY the key the data is moving away from (see rotate-key)
  PEERLINE_API_RATE_LIMIT      API requests a minute per token or address (default 600; 0 = off)
  PEERLINE_ANSWER_DEADLINE_MS  how long a webhook waits for the database (default 1800)
  PEERLINE_SPOOL_DIR           where calls and texts wait during a database outage (default spool)
  PEERLINE_METRICS_TOKEN       when set, /metrics asks for it as a bearer token
  PEERLINE_TRUSTED_PROXIES     reverse proxies whose X-Forwarded-For names the client
  PEERLINE_LOG_FORMAT          json for one JSON object a line (default: plain text)
  RUST_LOG                     log filter (default info)";

#[derive(Parser)]
#[command(
    name = "peerline",
    version,
    about = "Routing backend for peer-support helplines",
    after_help = ENVIRONMENT_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Apply pending migrations, then serve the API and webhooks.
    Serve {
        /// Seed a demo helpline (topics, volunteers in three time zones, a rota covering
        /// the whole week) into an empty database first.
        #[arg(long)]
        demo: bool,
        /// The address to bind (overrides PEERLINE_LISTEN).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// The database (overrides DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print a one-time link that signs a user in to the console (for the first
    /// administrator, or anyone without a phone on record); it works once, for 10 minutes.
    LoginLink {
        /// The user's id (see `GET /api/v1/users`; the first user created is 1).
        #[arg(long)]
        user: UserId,
    },
    /// Print the secret key generated on this database's first start, to move it into
    /// PEERLINE_SECRET_KEY (from a secret store) without losing anything sealed under it.
    ExportKey,
    /// Move everything sealed under PEERLINE_PREVIOUS_SECRET_KEY to PEERLINE_SECRET_KEY
    /// (start the servers with both first). Safe to run while they serve, and to run again
    /// after an interruption: it carries on where it stopped.
    RotateKey {
        /// Remove blocks, conflicts and opt-outs made before numbers were kept sealed whose
        /// numbers are found nowhere else (otherwise the rotation refuses to start).
        #[arg(long)]
        forget_unmovable: bool,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Erase callers' identities, message bodies, notes and recordings from contacts older
    /// than each helpline's retention period (`serve` also does this daily).
    Purge,
    /// Erase one caller's number, messages, notes and recordings from every contact, on
    /// their request.
    EraseCaller {
        /// The caller's number, in international form (e.g. +12025550142).
        #[arg(long)]
        number: String,
    },
    /// Play Twilio's part against a running server.
    Simulate {
        #[command(subcommand)]
        command: SimulateCommand,
    },
}

#[derive(Subcommand)]
pub(crate) enum SimulateCommand {
    /// Place a call: prints what the caller hears and who rings, step by step.
    Call {
        /// The helpline number dialed.
        #[arg(long)]
        to: String,
        /// The caller's number.
        #[arg(long)]
        from: String,
        /// Keys pressed at the menus in turn, e.g. `1` or `1,2`.
        #[arg(long, value_delimiter = ',')]
        digits: Vec<String>,
        /// Who picks up: `first`, `none` or a volunteer's phone number.
        #[arg(long, default_value = "first")]
        answer: Answer,
        /// How long a connected call lasts, in seconds.
        #[arg(long, default_value_t = 300)]
        talk_secs: u32,
    },
    /// Send a text to a helpline number, as a texter or from a volunteer's phone: prints
    /// the messages peerline queued in answer (read from the same database).
    Sms {
        /// The helpline number texted.
        #[arg(long)]
        to: String,
        /// The sender: a texter, or a volunteer's phone to reply (e.g. `#12 hello`).
        #[arg(long)]
        from: String,
        #[arg(long)]
        body: String,
        /// The URL of an attached picture (repeat for several).
        #[arg(long = "media")]
        media: Vec<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a user with a new API token; prints the token alone on stdout.
    Create {
        #[arg(long, value_parser = ["admin", "supervisor", "volunteer"])]
        role: String,
        /// A helpline the supervisor is scoped to (repeat for several).
        #[arg(long = "helpline")]
        helplines: Vec<HelplineId>,
        /// The volunteer record a volunteer user is linked to.
        #[arg(long)]
        volunteer: Option<VolunteerId>,
        #[arg(long)]
        name: String,
    },
    /// Revoke one API token by its id (`GET /api/v1/users/{id}/tokens` lists them).
    Revoke {
        #[arg(long)]
        id: i32,
    },
}

/// Parses the command line and runs the subcommand; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Openapi) {
        return print_openapi();
    }
    start_logging();
    // sqlx and reqwest both use rustls; pick its ring provider once for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("peerline: invalid configuration: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("peerline: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("peerline: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr: `RUST_LOG` filters (default `info`), `PEERLINE_LOG_FORMAT=json` writes
/// one JSON object a line, and colour codes appear only on a terminal.
fn start_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("PEERLINE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
}

/// Prints the OpenAPI document; a reader that stops early (`| head`) is not an error.
fn print_openapi() -> ExitCode {
    use std::io::Write;
    let document = crate::openapi::document_json();
    match std::io::stdout().lock().write_all(document.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("peerline: cannot write the document: {err}");
            ExitCode::FAILURE
        }
    }
}
