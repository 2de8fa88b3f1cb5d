//! `mdm serve`: the sandboxed gateway of `mdm-host` behind an HTTP API, with each user's
//! state, the admin's approval inbox, the decision log and every policy version stored in
//! SQLite (embedded, the default) or PostgreSQL (several replicas on one database).
//!
//! Its own crate, so that a gateway linking `mdm-host` gets neither a web server nor a
//! database driver. Every decision runs in the host's sandbox; the service stays fail
//! closed: a sandbox fault or a database error answers `deny` with its reason.
//!
//! The API is in `docs/service.md`. [`Service::open`] gives the API as an axum
//! [`Router`] (what the tests call), [`Service::serve`] answers on a listener, [`run`] is
//! what the CLI calls.

mod api;
mod auth;
mod error;
mod log;
mod metrics;
mod policies;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use mdm_host::{Gateway, Runtime};
use tokio::net::TcpListener;

pub use auth::Tokens;
pub use error::ServiceError;
pub use log::{DEFAULT_FILTER, LogFormat, subscriber};
pub use store::StoreError;

use crate::error::chain;
use crate::metrics::Metrics;
use crate::store::Store;

/// How to run the service.
#[derive(Debug, Clone)]
pub struct Options {
    /// The policy document to decide with. When the database already holds a live policy
    /// with the same digest, nothing changes; another document is stored as a new version.
    /// `None`: the latest stored version (there must be one).
    pub policy: Option<String>,
    /// `sqlite://PATH` (created if missing) or `postgres://...`.
    pub db: String,
    /// Where to listen; beyond loopback only with both roles' tokens set.
    pub listen: SocketAddr,
    /// The bearer tokens of the gateway and the admins.
    pub tokens: Tokens,
    /// A directory served at `/` (the admin console), if any.
    pub console: Option<PathBuf>,
    /// How often a replica looks for a policy another replica stored.
    pub poll: Duration,
    /// How [`run`] writes the log (on stderr).
    pub log: LogFormat,
}

/// What every request shares.
pub(crate) struct App {
    /// Decisions' sandbox (a gateway's limits).
    runtime: Runtime,
    /// Validation's and previews' sandbox (roomier: a preview reads every user).
    admin: Runtime,
    gateway: Gateway,
    store: Store,
    metrics: Metrics,
    /// The newest policy version (of either role) this replica applied.
    applied: AtomicI64,
}

/// The service, its database open and its policies loaded, not yet listening.
pub struct Service {
    app: Arc<App>,
    tokens: Arc<Tokens>,
    console: Option<PathBuf>,
    poll: Duration,
}

impl Service {
    /// Checks `options`, opens (and migrates) the database and loads the policies.
    ///
    /// `runtime` decides logins and events (its document limit caps request bodies);
    /// `admin` validates policies and runs previews.
    pub async fn open(runtime: Runtime, admin: Runtime, options: Options) -> Result<Service, ServiceError> {
        if !options.listen.ip().is_loopback() && !options.tokens.both_set() {
            return Err(ServiceError::Start(format!(
                "`{}` is not a loopback address: set both the gateway's and the admin's tokens to listen there",
                options.listen
            )));
        }
        let store = Store::connect(&options.db)
            .await
            .map_err(|e| ServiceError::Start(format!("the database: {}", chain(&e))))?;
        let (gateway, applied) =
            policies::load(&runtime, &store, options.policy.as_deref(), now_ms()).await?;
        let app = Arc::new(App {
            runtime,
            admin,
            gateway,
            store,
            metrics: Metrics::new(),
            applied: AtomicI64::new(applied),
        });
        Ok(Service { app, tokens: Arc::new(options.tokens), console: options.console, poll: options.poll })
    }

    /// The API: every route, behind the token checks and the body limit.
    pub fn router(&self) -> Router {
        api::router(self.app.clone(), self.tokens.clone(), self.console.as_deref())
    }

    /// Answers on `listener` until `shutdown` resolves, then finishes the requests in
    /// flight; meanwhile applies the policies other replicas store.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let local = listener.local_addr().map_err(|e| ServiceError::Start(e.to_string()))?;
        let router = self.router();
        let poller = tokio::spawn(poll(self.app.clone(), self.poll));
        tracing::info!("listening on http://{local} ({} database)", self.app.store.kind().as_str());
        let served = axum::serve(listener, router).with_graceful_shutdown(shutdown).await;
        poller.abort();
        tracing::info!("stopped");
        served.map_err(|e| ServiceError::Start(format!("serving: {e}")))
    }
}

/// Opens the database, loads the policy and serves until SIGINT or SIGTERM.
pub async fn serve(runtime: Runtime, admin: Runtime, options: Options) -> Result<(), ServiceError> {
    let listen = options.listen;
    let service = Service::open(runtime, admin, options).await?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| ServiceError::Start(format!("listening on `{listen}`: {e}")))?;
    service.serve(listener, shutdown()).await
}

/// [`serve`] on a runtime of its own, with the log on stderr in `options.log`'s format,
/// filtered by `MDM_LOG` ([`DEFAULT_FILTER`] when unset): what the CLI calls.
pub fn run(runtime: Runtime, admin: Runtime, options: Options) -> Result<(), ServiceError> {
    let filter = std::env::var("MDM_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_string());
    // A subscriber set before (by a program embedding the service) is kept.
    let _ = tracing::subscriber::set_global_default(subscriber(options.log, &filter, std::io::stderr)?);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServiceError::Start(format!("starting the async runtime: {e}")))?
        .block_on(serve(runtime, admin, options))
}

/// The server's clock, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Applies the policies another replica stored.
async fn poll(app: Arc<App>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let seen = app.applied.load(Ordering::Acquire);
        match app.store.policy_version().await {
            Ok(v) if v > seen => {
                if let Err(e) = policies::sync(&app).await {
                    tracing::error!(version = v, cause = %chain(&e), "cannot apply a stored policy version");
                }
            }
            Ok(_) => {}
            Err(e) => {
                app.metrics.database_error();
                tracing::error!(cause = %chain(&e), "polling for policies");
            }
        }
    }
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => tracing::info!("interrupted: answering the requests in flight, then stopping"),
            _ = term.recv() => tracing::info!("terminated: answering the requests in flight, then stopping"),
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
