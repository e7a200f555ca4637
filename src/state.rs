//! What every request handler shares.

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::config::Settings;
use crate::contact_flow::activity::ActivityCache;
use crate::jobs::supervisor::JobBoard;
use crate::secrets::Vault;
use crate::spool::Spool;
use crate::storage::directory::DirectoryCache;
use crate::storage::roster::RosterCache;
use crate::telephony::rest::TwilioClient;
use crate::voice::fallbacks::FallbackCache;

pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub vault: Vault,
    pub fallbacks: FallbackCache,
    pub clock: Clock,
    pub roster: RosterCache,
    /// Every helpline with its settings, numbers and topics.
    pub directory: DirectoryCache,
    /// Volunteers' recent contacts, kept up to date from the database.
    pub activity: ActivityCache,
    /// Notified when a request has queued an outbound message.
    pub outbox_wake: std::sync::Arc<tokio::sync::Notify>,
    /// Twilio's REST API, when its credentials are set: without it no message is sent and
    /// no call placed.
    pub twilio: Option<TwilioClient>,
    /// Notified when a callback may have a step to take (one was requested, a volunteer
    /// declined or hung up).
    pub callbacks_wake: std::sync::Arc<tokio::sync::Notify>,
    /// What this server could not write to the database yet.
    pub spool: Spool,
    /// The health of this server's background jobs.
    pub jobs: JobBoard,
    /// Set while `/readyz` probes whether a write could start, so probes never pile up on
    /// a locked database.
    pub write_probe_running: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// False while a server started during a database outage has not yet reached and
    /// migrated its database: until then it answers from memory and spools.
    database_reached: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// A server's state over `db`: its caches empty, its jobs not yet started. A caller
    /// waits for a newer roster for half the answer deadline at most.
    pub fn new(
        db: DatabaseConnection,
        settings: Settings,
        vault: Vault,
        clock: Clock,
        spool: Spool,
    ) -> Self {
        use secrecy::ExposeSecret;
        let roster = RosterCache::reading(
            settings.database_url.expose_secret(),
            settings.answer_deadline / 2,
        );
        Self {
            twilio: settings.twilio.client(),
            db,
            settings,
            vault,
            fallbacks: FallbackCache::kept_in(spool.folder()),
            clock,
            roster,
            directory: DirectoryCache::default(),
            activity: ActivityCache::default(),
            outbox_wake: std::sync::Arc::default(),
            callbacks_wake: std::sync::Arc::default(),
            spool,
            jobs: JobBoard::default(),
            write_probe_running: std::sync::Arc::default(),
            database_reached: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Whether the database was reached and migrated (always, unless this server started
    /// during an outage and has not reached it since).
    pub fn database_reached(&self) -> bool {
        self.database_reached
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Records whether the database was reached and migrated.
    pub fn set_database_reached(&self, reached: bool) {
        self.database_reached
            .store(reached, std::sync::atomic::Ordering::Release);
    }

    /// Runs `work` and, if it queued an outbound message, wakes this server's outbox once
    /// it is done (and so its transaction committed), so the message goes at once.
    pub async fn waking_outbox<F: std::future::Future>(&self, work: F) -> F::Output {
        let (output, queued) = crate::storage::outbox::noting_queued(work).await;
        if queued {
            self.outbox_wake.notify_one();
        }
        output
    }
}
