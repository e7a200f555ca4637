//! Each subcommand of `peerline`: serve, migrate, token create, purge, erase-caller and
//! simulate.

use anyhow::Context;
use sea_orm::EntityTrait;
use secrecy::{ExposeSecret, SecretString};

use super::{Command, SimulateCommand, TokenCommand, explain};
use crate::clock::Clock;
use crate::config::{Settings, check_database_url, sqlite_file};
use crate::domain::access::{Role, check_new_user};
use crate::domain::phone::E164;
use crate::jobs;
use crate::secret_key;
use crate::simulator::text::Text;
use crate::simulator::{CallScript, TwilioPeer, play_call};
use crate::startup::{Application, prepare_database};
use crate::storage::entities::{helpline, volunteer};
use crate::storage::users::{self, NewUser};
use crate::storage::{contacts, messages, outbox};

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

pub(crate) async fn run(command: Command, mut settings: Settings) -> anyhow::Result<()> {
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
                let now = Clock::system().now();
                let vault = secret_key::vault(&db, &settings, now).await?;
                let seeded = super::demo::seed_if_empty(&db, &vault, now).await?;
                let console_users = match seeded {
                    Some(people) => {
                        tracing::info!("seeded the demo helpline");
                        people
                    }
                    None => {
                        tracing::info!("the database already has helplines; nothing seeded");
                        Vec::new()
                    }
                };
                eprintln!(
                    "Simulate a call (same TWILIO_AUTH_TOKEN and PEERLINE_PUBLIC_URL):\n  {}",
                    super::demo::simulate_hint()
                );
                eprintln!("{}", super::demo::console_hint(&settings, &console_users));
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
            let vault = secret_key::vault(&db, &settings, Clock::system().now()).await?;
            let user = users::create(
                &db,
                &vault,
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
        Command::Token {
            command: TokenCommand::Revoke { id },
        } => {
            let db = existing_database(&settings).await?;
            let token = crate::storage::entities::api_token::Entity::find_by_id(id)
                .one(&db)
                .await?
                .filter(|t| t.kind == crate::domain::sign_in::TokenKind::Api)
                .ok_or_else(|| anyhow::anyhow!("--id: there is no API token {id}"))?;
            users::revoke_token(&db, token.user_id, id).await?;
            let entry = crate::storage::audit::Audited::new("revoke_token")
                .detail(serde_json::json!({ "token_id": id, "by": "command line" }));
            crate::storage::audit::record_for_user(
                &db,
                token.user_id,
                None,
                entry,
                Clock::system().now(),
            )
            .await?;
            println!("revoked token {id} of user {}", token.user_id);
        }
        Command::LoginLink { user } => {
            let db = existing_database(&settings).await?;
            let now = Clock::system().now();
            if users::get(&db, user).await?.is_none() {
                anyhow::bail!("--user: there is no user {user}");
            }
            let vault = secret_key::vault(&db, &settings, now).await?;
            let link =
                crate::console::sign_in::issue_link(&db, &vault, &settings.public_url, user, now)
                    .await?;
            println!("{link}");
        }
        Command::ExportKey => {
            let db = existing_database(&settings).await?;
            let in_file = crate::secret_key::key_file(&settings)
                .and_then(|path| std::fs::read_to_string(path).ok())
                .map(|text| SecretString::from(text.trim().to_owned()));
            let in_database =
                crate::storage::secrets::get(&db, crate::storage::secrets::SECRET_KEY).await?;
            let key = in_file.or(in_database).ok_or_else(|| {
                    anyhow::anyhow!(
                        "this database has no generated key: it was started with PEERLINE_SECRET_KEY, which is the key to keep"
                    )
                })?;
            println!("{}", key.expose_secret());
        }
        Command::RotateKey { forget_unmovable } => {
            let db = existing_database(&settings).await?;
            let rotation = crate::key_rotation::rotate(
                &db,
                &settings,
                forget_unmovable,
                Clock::system().now(),
            )
            .await?;
            println!("{}", crate::key_rotation::summary(&rotation));
        }
        Command::Openapi => unreachable!("handled before start-up"),
        Command::Purge => {
            let db = existing_database(&settings).await?;
            for (helpline, erased) in
                jobs::retention::purge(&db, "command line (purge)", Clock::system().now()).await?
            {
                println!("helpline {helpline}: erased {erased} contacts");
            }
        }
        Command::EraseCaller { number } => {
            let number = E164::parse(&number).map_err(|e| anyhow::anyhow!("--number: {e}"))?;
            let db = existing_database(&settings).await?;
            let vault = secret_key::vault(&db, &settings, Clock::system().now()).await?;
            let done =
                jobs::retention::erase_caller(&db, &vault, &number, Clock::system().now()).await?;
            if done.contacts == 0 && done.still_open == 0 {
                println!(
                    "no contact of this number is held: the number is unknown here, or was already erased"
                );
            } else {
                println!("erased {} contacts", done.contacts);
            }
            if done.messages_cancelled > 0 {
                println!(
                    "cancelled {} messages to this number that had not been sent",
                    done.messages_cancelled
                );
            }
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
            for line in &transcript.lines {
                println!("{line}");
            }
            // The server's database, when this command can reach it, tells why.
            if let Ok(db) = existing_database(&settings).await
                && let Some(id) = contacts::by_sid(&db, &transcript.call_sid)
                    .await?
                    .map(|c| c.id)
            {
                let vault = secret_key::vault(&db, &settings, Clock::system().now()).await?;
                for line in explain::story(&db, &vault, id).await? {
                    println!("{line}");
                }
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
            let db = existing_database(&settings).await?;
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
            let vault = secret_key::vault(&db, &settings, Clock::system().now()).await?;
            for queued in outbox::queued_after(&db, before).await? {
                println!(
                    "queued from {} to {} ({}): {}",
                    queued.from_number,
                    queued.to_hint,
                    queued.purpose,
                    vault.open_text(&queued.body.0).unwrap_or_default()
                );
            }
            if let Some(id) = messages::contact_of(&db, &text.message_sid).await? {
                for line in explain::story(&db, &vault, id).await? {
                    println!("{line}");
                }
            }
        }
    }
    Ok(())
}
