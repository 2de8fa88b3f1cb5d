//! `mdm serve`: the sandboxed gateway of `mdm-host` behind an HTTP API, with each user's
//! state, the admin's approval inbox, the decision log and every policy version stored in
//! SQLite (embedded, the default) or PostgreSQL (several replicas on one database).
//!
//! Its own crate, so that a gateway linking `mdm-host` gets neither a web server nor a
//! database driver. Every decision runs in the host's sandbox; the service stays fail
//! closed: a sandbox fault or a database error answers `deny` with its reason.
//!
//! The API is in `docs/service.md`.

mod api;
mod auth;
mod error;
mod metrics;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use mdm_host::{Gateway, Runtime};

pub use auth::Tokens;
pub use error::ServiceError;

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

/// Opens the database, loads the policy and serves until SIGINT or SIGTERM.
///
/// `runtime` decides logins and events (its document limit caps request bodies); `admin`
/// validates policies and runs previews.
pub async fn serve(runtime: Runtime, admin: Runtime, options: Options) -> Result<(), ServiceError> {
    if !options.listen.ip().is_loopback() && !options.tokens.both_set() {
        return Err(ServiceError::Start(format!(
            "`{}` is not a loopback address: set both the gateway's and the admin's tokens to listen there",
            options.listen
        )));
    }
    let store = Store::connect(&options.db).await?;
    let (gateway, applied) = api::load_policies(&runtime, &store, options.policy.as_deref()).await?;
    let app = Arc::new(App {
        runtime,
        admin,
        gateway,
        store,
        metrics: Metrics::new(),
        applied: AtomicI64::new(applied),
    });
    let router = api::router(app.clone(), Arc::new(options.tokens), options.console.as_deref());
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| ServiceError::Start(format!("listening on `{}`: {e}", options.listen)))?;
    let local = listener.local_addr().map_err(|e| ServiceError::Start(e.to_string()))?;
    let poller = tokio::spawn(poll(app.clone(), options.poll));
    eprintln!("mdm serve: listening on http://{local} ({:?} database)", app.store.kind());
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown()).await;
    poller.abort();
    eprintln!("mdm serve: stopped");
    served.map_err(|e| ServiceError::Start(format!("serving: {e}")))
}

/// [`serve`] on a runtime of its own: what the CLI calls.
pub fn run(runtime: Runtime, admin: Runtime, options: Options) -> Result<(), ServiceError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServiceError::Start(format!("starting the async runtime: {e}")))?
        .block_on(serve(runtime, admin, options))
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
                if let Err(e) = api::sync_policies(&app).await {
                    eprintln!("mdm serve: cannot apply stored policy version {v}: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => {
                app.metrics.database_error();
                eprintln!("mdm serve: polling for policies: {e}");
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
            _ = interrupt => eprintln!("mdm serve: interrupted: answering the requests in flight, then stopping"),
            _ = term.recv() => eprintln!("mdm serve: terminated: answering the requests in flight, then stopping"),
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
