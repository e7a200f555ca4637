//! The `peerline` command: parse the command line, load settings, start logging, run.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use peerline::clock::Clock;
use peerline::config::{Settings, check_database_url, sqlite_file};
use peerline::domain::access::{Role, check_new_user};
use peerline::domain::phone::E164;
use peerline::jobs;
use peerline::secrets::NumberHasher;
use peerline::startup::{Application, prepare_database, resolve_secret_key};
use peerline::storage::entities::{helpline, volunteer};
use peerline::storage::users::{self, NewUser};
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;

const ENVIRONMENT_HELP: &str = "\
Settings (environment variables, or the TOML file named by PEERLINE_CONFIG):
  DATABASE_URL                 sqlite://peerline.db?mode=rwc (default) or postgres://...
  PEERLINE_LISTEN              address to bind (default 127.0.0.1:8080)
  PEERLINE_PUBLIC_URL          base URL Twilio reaches; webhook signatures are checked against it
  TWILIO_AUTH_TOKEN            checks webhook signatures; with TWILIO_ACCOUNT_SID, sends SMS
  TWILIO_ACCOUNT_SID           the Twilio account that sends SMS
  TWILIO_API_BASE              Twilio's REST API base URL (default https://api.twilio.com)
  PEERLINE_SECRET_KEY          key for hashing and sealing phone numbers (32+ characters)
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
enum Command {
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
enum SimulateCommand {
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
enum TokenCommand {
    /// Create a user with a new API token; prints the token alone on stdout.
    Create {
        #[arg(long, value_parser = ["admin", "supervisor", "volunteer"])]
        role: String,
        /// A helpline the supervisor is scoped to (repeat for several).
        #[arg(long = "helpline")]
        helplines: Vec<i32>,
        /// The volunteer record a volunteer user is linked to.
        #[arg(long)]
        volunteer: Option<i32>,
        #[arg(long)]
        name: String,
    },
}

use peerline::simulator::text::Text;
use peerline::simulator::{Answer, CallScript, TwilioPeer, play_call};
use peerline::storage::outbox;

fn main() -> ExitCode {
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
    match runtime.block_on(run(cli.command, settings)) {
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
    let document = peerline::openapi::document_json();
    match std::io::stdout().lock().write_all(document.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("peerline: cannot write the document: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the database a command works on; unlike `serve` and `migrate`, a command run in
/// the wrong folder must not create a new, empty SQLite database there.
async fn existing_database(settings: &Settings) -> anyhow::Result<sea_orm::DatabaseConnection> {
    if let Some(file) = sqlite_file(settings.database_url.expose_secret())
        && !file.exists()
    {
        anyhow::bail!(
            "no database at {} (DATABASE_URL): run this where `peerline serve` runs, \
             set DATABASE_URL to the helpline's database, or create one with `peerline migrate`",
            file.display()
        );
    }
    prepare_database(settings).await
}

/// The command-line flag for a field of a new user.
fn token_flag(field: &str) -> &str {
    match field {
        "volunteer_id" => "--volunteer",
        "helplines" => "--helpline",
        other => other,
    }
}

async fn run(command: Command, mut settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            demo,
            listen,
            database_url,
        } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            if let Some(url) = database_url {
                check_database_url(&url).map_err(|e| anyhow::anyhow!("--database-url: {e}"))?;
                settings.database_url = url.into();
            }
            let listen = settings.listen;
            // Bind before anything else: a second server on a taken port must stop before
            // it writes into the first one's database.
            let listener = std::net::TcpListener::bind(listen)
                .with_context(|| format!("PEERLINE_LISTEN: cannot listen on {listen}"))?;
            if demo {
                let db = prepare_database(&settings).await?;
                if peerline::demo::seed_if_empty(&db, Clock::system().now()).await? {
                    tracing::info!("seeded the demo helpline");
                } else {
                    tracing::info!("the database already has helplines; nothing seeded");
                }
                eprintln!(
                    "Simulate a call (same TWILIO_AUTH_TOKEN and PEERLINE_PUBLIC_URL):\n  {}",
                    peerline::demo::simulate_hint()
                );
            }
            let app = Application::build_with_listener(settings, listener).await?;
            tracing::info!(%listen, "peerline is serving");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            prepare_database(&settings).await?;
            tracing::info!("migrations are up to date");
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    role,
                    helplines,
                    volunteer,
                    name,
                },
        } => {
            let role =
                Role::parse(&role).ok_or_else(|| anyhow::anyhow!("--role: unknown role {role}"))?;
            check_new_user(role, volunteer, &helplines)
                .map_err(|e| anyhow::anyhow!("{}: {}", token_flag(&e.field), e.message))?;
            let db = existing_database(&settings).await?;
            if let Some(id) = volunteer
                && volunteer::Entity::find_by_id(id).one(&db).await?.is_none()
            {
                anyhow::bail!("--volunteer: there is no volunteer {id}");
            }
            for &id in &helplines {
                if helpline::Entity::find_by_id(id).one(&db).await?.is_none() {
                    anyhow::bail!("--helpline: there is no helpline {id}");
                }
            }
            let user = users::create(
                &db,
                NewUser {
                    name,
                    role,
                    volunteer_id: volunteer,
                    phone: None,
                    time_zone: None,
                    helplines,
                },
                Clock::system().now(),
            )
            .await?;
            let token = users::issue_token(&db, user.id, Clock::system().now()).await?;
            println!("{}", token.expose_secret());
        }
        Command::Openapi => unreachable!("handled before start-up"),
        Command::Purge => {
            let db = existing_database(&settings).await?;
            for (helpline, erased) in jobs::retention::purge(&db, Clock::system().now()).await? {
                println!("helpline {helpline}: erased {erased} contacts");
            }
        }
        Command::EraseCaller { number } => {
            let number = E164::parse(&number).map_err(|e| anyhow::anyhow!("--number: {e}"))?;
            let db = existing_database(&settings).await?;
            let numbers =
                NumberHasher::new(resolve_secret_key(&db, &settings, Clock::system().now()).await?);
            let done = jobs::retention::erase_caller(&db, &numbers, &number, Clock::system().now())
                .await?;
            println!("erased {} contacts", done.contacts);
            if done.still_open > 0 {
                println!(
                    "{} contacts are still in progress; run this again once they have ended",
                    done.still_open
                );
            }
        }
        Command::Simulate {
            command:
                SimulateCommand::Call {
                    to,
                    from,
                    digits,
                    answer,
                    talk_secs,
                },
        } => {
            let token = settings.twilio.auth_token.as_ref().ok_or_else(|| {
                anyhow::anyhow!("TWILIO_AUTH_TOKEN must be set to sign the simulated webhooks")
            })?;
            let peer = TwilioPeer::new(settings.public_url.as_str(), token.expose_secret());
            let script = CallScript {
                to,
                from,
                digits,
                answer,
                talk_secs,
            };
            let transcript = play_call(&peer, &script).await?;
            for line in transcript.lines {
                println!("{line}");
            }
        }
        Command::Simulate {
            command:
                SimulateCommand::Sms {
                    to,
                    from,
                    body,
                    media,
                },
        } => {
            let token = settings.twilio.auth_token.as_ref().ok_or_else(|| {
                anyhow::anyhow!("TWILIO_AUTH_TOKEN must be set to sign the simulated webhooks")
            })?;
            let peer = TwilioPeer::new(settings.public_url.as_str(), token.expose_secret());
            let db = prepare_database(&settings).await?;
            let before = outbox::latest_id(&db).await?;
            let mut text = Text::new(&from, &to, &body);
            text.media_urls = media;
            let (status, twiml) = peer.text(&text).await?;
            println!(
                "Twilio delivered {} to peerline: HTTP {status}",
                text.message_sid
            );
            if twiml.contains("<Message>") {
                println!("peerline answered at once: {twiml}");
            }
            for queued in outbox::queued_after(&db, before).await? {
                println!(
                    "queued from {} to {} ({}): {}",
                    queued.from_number, queued.to_hint, queued.purpose, queued.body
                );
            }
        }
    }
    Ok(())
}
