//! Builds the application: database, migrations, secret key, routes and middleware, bound
//! to a listener (port 0 in tests).

use std::net::TcpListener;
use std::time::Duration;

use actix_web::{App, HttpResponse, dev::Server, middleware, web};
use anyhow::Context;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use utoipa_actix_web::AppExt;

use crate::clock::Clock;
use crate::config::Settings;
use crate::error::ApiError;
use crate::jobs::supervisor::Supervisor;
use crate::routes::extract::MAX_JSON_BODY;
use crate::routes::rate_limit::{ApiRateLimiter, limit_api};
use crate::secret_key::{self, ServerKeys, resolve_secret_key};
use crate::spool::Spool;
use crate::state::AppState;
use crate::voice::fallbacks::FallbackCache;
use crate::{jobs, openapi, routes, storage, telemetry};

pub struct Application {
    port: u16,
    server: Server,
    jobs: Supervisor,
}

impl Application {
    /// Connects, migrates, resolves the secret key and binds `settings.listen`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        Self::build_with_listener(settings, listener).await
    }

    pub async fn build_with_listener(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, listener, Clock::system()).await
    }

    /// As `build_with_listener`, with the clock the call flow reads (tests set one).
    pub async fn build_with_clock(
        settings: Settings,
        listener: TcpListener,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let spool = Spool::open(&settings.spool_dir).with_context(|| {
            format!(
                "PEERLINE_SPOOL_DIR: cannot use {}",
                settings.spool_dir.display()
            )
        })?;
        let (db, key, reached) = match prepare_database(&settings).await {
            Ok(db) => {
                let key = resolve_secret_key(&db, &settings, clock.now()).await?;
                secret_key::keep_for_outages(&settings, spool.folder(), &key)?;
                storage::sealing::seal_what_was_kept_in_the_clear(&db, &key.vault(), clock.now())
                    .await
                    .context("sealing what an earlier version kept in the clear")?;
                (db, key, true)
            }
            Err(error) if out_of_reach(&error) => {
                let (db, key) = start_without_database(&settings, &spool, error).await?;
                (db, key, false)
            }
            Err(error) => return Err(error),
        };
        if telemetry::recorder().is_none() {
            tracing::warn!("another metrics recorder is installed: /metrics will be unavailable");
        }
        let state = web::Data::new(AppState::new(
            db,
            settings,
            key.vault(),
            clock.clone(),
            spool,
        ));
        let jobs = Supervisor::new(state.jobs.clone(), clock);
        if reached {
            start_jobs(&jobs, &state);
            tokio::spawn(warm_caches(state.clone()));
        } else {
            state.set_database_reached(false);
            tokio::spawn(reach_database_later(state.clone(), jobs.clone(), key));
        }
        let openapi_json = web::Data::new(openapi::document_json());
        let limiter = web::Data::new(ApiRateLimiter::new(
            state.settings.api_rate_limit,
            state.settings.trusted_proxies.clone(),
        ));
        let server = actix_web::HttpServer::new(move || {
            let (app, _) = openapi::documented_routes(
                App::new()
                    .app_data(state.clone())
                    .app_data(openapi_json.clone())
                    .app_data(limiter.clone())
                    .app_data(web::PayloadConfig::new(MAX_JSON_BODY))
                    .app_data(web::PathConfig::default().error_handler(unreadable_path))
                    .wrap(middleware::from_fn(routes::outbox_wake::wake_outbox_after))
                    .wrap(middleware::from_fn(limit_api))
                    .wrap(middleware::from_fn(routes::request_log::log_requests))
                    .into_utoipa_app(),
            )
            .split_for_parts();
            app.route("/api/openapi.json", web::get().to(serve_openapi))
                .route("/metrics", web::get().to(routes::metrics::scrape))
                .configure(routes::webhooks::configure)
                .configure(routes::pages::configure)
                .configure(routes::calendar::configure)
                .configure(crate::console::configure)
                .default_service(web::to(no_route))
        })
        // A client must send its request head within 5 s (and its body within
        // `BODY_TIMEOUT`, see the extractors); idle keep-alive connections close after 30 s.
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(2))
        .keep_alive(Duration::from_secs(30))
        .listen(listener)?
        .run();
        Ok(Self { port, server, jobs })
    }

    /// Stops the server from elsewhere (as SIGTERM does).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM: the HTTP server finishes the requests under way,
    /// then the background jobs finish the items under way.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        tracing::info!("stopping background jobs after their current work");
        self.jobs.shutdown().await;
        served
    }
}

/// How often a server started during an outage tries to reach its database.
const REACH_RETRY: Duration = Duration::from_secs(2);

/// Whether `error` says the database could not be reached (down, unreachable, locked),
/// rather than that it answered with a fault.
fn out_of_reach(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<sea_orm::DbErr>())
        .any(storage::not_answering)
}

/// The database is out of reach as the server starts. A server that ran before with this
/// spool folder answers from what it remembered (each helpline number's fallback number
/// and crisis text) and spools, as during any outage, if it can seal what it spools
/// without the database; a first start fails, so that a wrong `DATABASE_URL` is noticed.
async fn start_without_database(
    settings: &Settings,
    spool: &Spool,
    error: anyhow::Error,
) -> anyhow::Result<(DatabaseConnection, ServerKeys)> {
    if FallbackCache::kept_in(spool.folder()).is_empty() {
        return Err(error.context(
            "the database is out of reach and this server has no offline answers from an earlier run",
        ));
    }
    let Some(key) = secret_key::key_without_database(settings, spool.folder())? else {
        return Err(error.context(
            "the database is out of reach and the secret key is kept in it: set PEERLINE_SECRET_KEY",
        ));
    };
    tracing::error!(
        error = format!("{error:#}"),
        "the database is out of reach: answering calls and texts from the offline answers kept by the last run, spooling them, and trying the database every {} s",
        REACH_RETRY.as_secs()
    );
    let db = storage::connect_lazily(settings.database_url.expose_secret())
        .await
        .context("DATABASE_URL")?;
    Ok((db, key))
}

/// For a server started during an outage: once the database answers, migrates it, checks
/// the key against it, and starts the background jobs (the spool's among them writes what
/// was answered meanwhile). A database that answers but refuses (a failed migration, data
/// sealed under another key) keeps the server answering from memory, and says why.
async fn reach_database_later(state: web::Data<AppState>, jobs: Supervisor, key: ServerKeys) {
    loop {
        tokio::time::sleep(REACH_RETRY).await;
        let reached = async {
            storage::migrate(&state.db)
                .await
                .context("running database migrations")?;
            let stored = resolve_secret_key(&state.db, &state.settings, state.clock.now()).await?;
            anyhow::ensure!(
                stored.current.expose_secret() == key.current.expose_secret(),
                "the database's secret key is not the one this server sealed its spool under"
            );
            let now = state.clock.now();
            storage::sealing::seal_what_was_kept_in_the_clear(&state.db, &state.vault, now)
                .await
                .context("sealing what an earlier version kept in the clear")?;
            Ok(())
        };
        match reached.await {
            Ok(()) => break,
            Err(error) if out_of_reach(&error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the database is still out of reach"
                );
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "the database answers, but this server cannot use it: still answering from memory"
                );
            }
        }
    }
    tracing::info!(
        "the database answers again: migrated; writing what was spooled and starting the background jobs"
    );
    state.set_database_reached(true);
    start_jobs(&jobs, &state);
    warm_caches(state).await;
}

/// Reads every helpline's roster and volunteers' recent contacts as the server starts,
/// so that the first callers do not wait for those reads (calls arriving meanwhile
/// share them).
async fn warm_caches(state: web::Data<AppState>) {
    let warmed = async {
        let now = state.clock.now();
        state.activity.history(&state.db, now).await?;
        for (helpline_id, _) in
            storage::helplines::all_settings(&state.db, &crate::domain::access::Scope::All).await?
        {
            state.roster.helpline(&state.db, helpline_id).await?;
        }
        Ok::<_, sea_orm::DbErr>(())
    };
    if let Err(e) = warmed.await {
        tracing::warn!(error = %e, "could not read the rosters ahead of the first calls");
    }
}

/// Starts every background job of this server.
fn start_jobs(jobs: &Supervisor, state: &web::Data<AppState>) {
    let shared = || state.clone().into_inner();
    jobs::sweeper::start(jobs, shared(), Duration::from_secs(60));
    jobs::retention::start(jobs, shared(), Duration::from_secs(24 * 60 * 60));
    jobs::conversations::start(jobs, shared(), Duration::from_secs(10));
    jobs::offline_answers::start(jobs, shared(), Duration::from_secs(60));
    jobs::rota_care::start(jobs, shared(), Duration::from_secs(60));
    jobs::spool_replay::start(jobs, shared(), Duration::from_secs(2));
    jobs::callbacks::start(jobs, shared(), Duration::from_secs(1));
    jobs::checkpoint::start(jobs, shared(), Duration::from_secs(1));
    jobs::report_days::start(jobs, shared(), Duration::from_secs(60));
    start_outbox(jobs, state);
}

/// Starts the outbox senders when Twilio credentials are configured; without them
/// messages wait in the outbox, and the log says so.
fn start_outbox(jobs: &Supervisor, state: &AppState) {
    let settings = &state.settings;
    let Some(client) = state.twilio.clone() else {
        tracing::warn!(
            "TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is not set: outbound SMS stay queued in the outbox, and callers are not offered callbacks"
        );
        return;
    };
    jobs::outbox::OutboxSender {
        db: state.db.clone(),
        client,
        vault: state.vault.clone(),
        clock: state.clock.clone(),
        status_callback: Some(format!(
            "{}/twilio/sms/status",
            settings.public_url.as_str().trim_end_matches('/')
        )),
    }
    .start(jobs, Duration::from_secs(1), state.outbox_wake.clone());
}

/// Connects and applies pending migrations.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = storage::connect(settings.database_url.expose_secret())
        .await
        .context("DATABASE_URL: cannot connect to the database")?;
    storage::migrate(&db)
        .await
        .context("running database migrations")?;
    Ok(db)
}

async fn serve_openapi(json: web::Data<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json.get_ref().clone())
}

/// A path whose id is no number names nothing: a 404, as JSON for the API (and as a page
/// in the console).
fn unreadable_path(
    _: actix_web::error::PathError,
    req: &actix_web::HttpRequest,
) -> actix_web::Error {
    if req.path().starts_with("/console") {
        crate::console::not_found().into()
    } else {
        ApiError::NotFound("route").into()
    }
}

async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("route"))
}
