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
mod tls;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use mdm_host::{Gateway, Runtime};
use tokio::net::TcpListener;

pub use api::openapi::openapi_document;
pub use auth::{Tokens, role_tokens};
pub use error::ServiceError;
pub use log::{DEFAULT_FILTER, LogFormat, subscriber};
pub use store::StoreError;
pub use tls::TlsFiles;
pub use webhooks::{DEFAULT_SOURCE, WebhookOptions};

use crate::error::chain;
use crate::metrics::Metrics;
use crate::store::Store;

/// How to run the service.
#[derive(Debug, Clone)]
pub struct Options {
    /// The policy document given at start. It is stored (as a version by `startup`) when
    /// the database holds no live policy, or with [`Options::replace_policy`]; otherwise
    /// the stored one stays in force, since an admin's later `PUT` is newer than any file.
    /// `None`: the latest stored version (there must be one).
    pub policy: Option<String>,
    /// Store [`Options::policy`] as the newest version even when the database holds
    /// another one.
    pub replace_policy: bool,
    /// `sqlite://PATH` or `postgres://...`.
    pub db: String,
    /// Create the database (a SQLite file) and its tables when they do not exist. Without
    /// it, a missing file or an empty database is refused: a restart must never start
    /// over on an empty database, where a rejected device would be allowed as a first one.
    pub create: bool,
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
    /// The limits on requests and connections.
    pub limits: Limits,
    /// How webhooks are delivered.
    pub webhooks: WebhookOptions,
    /// HTTPS with this certificate and key (PEM), read again on SIGHUP; plain HTTP without.
    pub tls: Option<TlsFiles>,
}

/// The limits on requests and connections.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How far an event's `at` may be from the server's clock, either way. A gateway's
    /// clock drifts, and a queued event arrives late; a time in another year is an error
    /// (stored, it would move a grace period's end with it).
    pub at_window: Duration,
    /// The most requests answered at once; more get 503 with `retry-after`.
    pub max_concurrent: usize,
    /// The most bytes of request bodies held at once; more get 503 with `retry-after`.
    /// At least the document limit, so that one body of that size can be taken.
    pub max_inflight_bytes: usize,
    /// How long a client has to send a request's headers, from connecting or from the
    /// previous answer (then an idle connection is closed).
    pub header_timeout: Duration,
    /// How long a body may go without a byte arriving before the request is refused (408).
    pub idle_timeout: Duration,
    /// How long `/healthz` and `/readyz` wait for the database to take their write.
    pub health_timeout: Duration,
    /// How many stored users one sandbox call of `POST /v1/preview` reads: the admin
    /// sandbox holds one batch's population and report at a time, never every user's.
    pub preview_batch: usize,
    /// How many batches of `POST /v1/preview` are previewed at once, each in a sandbox of
    /// its own (the next batch is read meanwhile): the machine's cores, at most 4.
    pub preview_parallel: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            at_window: Duration::from_secs(24 * 3600),
            max_concurrent: 1024,
            max_inflight_bytes: 256 << 20,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            health_timeout: Duration::from_secs(2),
            preview_batch: 20_000,
            preview_parallel: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
        }
    }
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
    /// Held while a policy is stored and applied (a `PUT`, a `DELETE`, the poller), so
    /// that the order versions are stored in is the order they are applied in.
    policy_changes: tokio::sync::Mutex<()>,
    limits: Limits,
    /// Bytes of request bodies in flight, in KiB ([`Limits::max_inflight_bytes`]).
    inflight: Arc<tokio::sync::Semaphore>,
    /// Requests in flight ([`Limits::max_concurrent`]).
    concurrent: Arc<tokio::sync::Semaphore>,
    /// Whether a role has no token: requests must then name a loopback host.
    open: bool,
    /// Whether the poller failed to apply the newest stored version (health reports it).
    policy_behind: std::sync::atomic::AtomicBool,
    /// How webhooks are delivered.
    webhooks: WebhookOptions,
    /// Wakes the dispatcher when a transaction of this replica wrote webhook events.
    outbox: tokio::sync::Notify,
}

/// The service, its database open and its policies loaded, not yet listening.
pub struct Service {
    app: Arc<App>,
    tokens: Arc<Tokens>,
    console: Option<PathBuf>,
    poll: Duration,
    /// HTTPS, when `--tls-cert` and `--tls-key` name a pair.
    tls: Option<Arc<tls::Tls>>,
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
        let limits = options.limits.clone();
        let document_limit = runtime.config().max_document_bytes;
        if limits.max_inflight_bytes < document_limit {
            return Err(ServiceError::Start(format!(
                "the in-flight limit of {} bytes is less than the document limit of {document_limit}: \
                 a body of that size could never be taken",
                limits.max_inflight_bytes
            )));
        }
        if limits.max_concurrent == 0 {
            return Err(ServiceError::Start("the limit of concurrent requests must be at least 1".into()));
        }
        // Before the database: a pair that does not load leaves nothing behind.
        let tls = match options.tls.clone() {
            Some(files) => Some(Arc::new(
                tls::Tls::new(files).map_err(|e| ServiceError::Start(format!("the TLS certificate: {e}")))?,
            )),
            None => None,
        };
        if options.replace_policy && options.policy.is_none() {
            return Err(ServiceError::Start("`--replace-policy` needs `--policy`".into()));
        }
        // The policy first: an invalid one must not leave a database created behind it.
        let given = options.policy.as_deref().map(|doc| policies::compile(&runtime, doc)).transpose()?;
        let store = Store::connect(&options.db, options.create)
            .await
            .map_err(|e| ServiceError::Start(format!("the database: {}", chain(&e))))?;
        let (gateway, applied) = policies::load(
            &runtime,
            &store,
            given,
            options.replace_policy,
            now_ms(),
            &options.webhooks.source,
        )
        .await?;
        let app = Arc::new(App {
            runtime,
            admin,
            gateway,
            store,
            metrics: Metrics::new(),
            applied: AtomicI64::new(applied),
            policy_changes: tokio::sync::Mutex::new(()),
            inflight: Arc::new(tokio::sync::Semaphore::new(kib(limits.max_inflight_bytes))),
            concurrent: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent)),
            open: options.tokens.any_open(),
            policy_behind: std::sync::atomic::AtomicBool::new(false),
            limits,
            webhooks: options.webhooks,
            outbox: tokio::sync::Notify::new(),
        });
        for role in [("gateway", options.tokens.gateway_open()), ("admin", options.tokens.admin_open())] {
            if role.1 {
                tracing::warn!("the {} role has no token: every caller on this machine may use it", role.0);
            }
        }
        Ok(Service {
            app,
            tokens: Arc::new(options.tokens),
            console: options.console,
            poll: options.poll,
            tls,
        })
    }

    /// The API: every route, behind the token checks and the body limit.
    pub fn router(&self) -> Router {
        api::router(self.app.clone(), self.tokens.clone(), self.console.as_deref())
    }

    /// Answers on `listener` until `shutdown` resolves, then finishes the requests in
    /// flight; meanwhile applies the policies other replicas store.
    ///
    /// Each connection is HTTP/1.1 with [`Limits::header_timeout`]: a client that
    /// connects and sends nothing, trickles its headers, or keeps an idle connection
    /// open is cut off then.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let local = listener.local_addr().map_err(|e| ServiceError::Start(e.to_string()))?;
        let service = hyper_util::service::TowerToHyperService::new(self.router());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(self.app.limits.header_timeout)
            .keep_alive(true);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let poller = tokio::spawn(poll(self.app.clone(), self.poll));
        let client = webhooks::client::Client::new(self.app.webhooks.timeout)
            .map_err(|e| ServiceError::Start(format!("the webhooks' TLS client: {e}")))?;
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let dispatcher = tokio::spawn(webhooks::dispatch::run(self.app.clone(), client, stopping.clone()));
        let sweeper = tokio::spawn(webhooks::dispatch::sweep(self.app.clone(), stopping));
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let reloader = self.tls.clone().map(|tls| tokio::spawn(reload_on_hangup(tls)));
        tracing::info!("listening on {scheme}://{local} ({} database)", self.app.store.kind().as_str());
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        match &self.tls {
                            None => {
                                let connection =
                                    http.serve_connection(hyper_util::rt::TokioIo::new(stream), service.clone());
                                let connection = graceful.watch(connection);
                                tokio::spawn(async move {
                                    if let Err(e) = connection.await {
                                        tracing::debug!(cause = %e, "a connection ended in error");
                                    }
                                });
                            }
                            Some(tls) => {
                                // The handshake in the connection's own task, within the
                                // header timeout: a client that stalls it holds nothing else.
                                let (acceptor, watcher) = (tls.acceptor(), graceful.watcher());
                                let (http, service) = (http.clone(), service.clone());
                                let handshake = self.app.limits.header_timeout;
                                tokio::spawn(async move {
                                    let stream = match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                                        Ok(Ok(stream)) => stream,
                                        Ok(Err(e)) => {
                                            tracing::debug!(cause = %e, "a TLS handshake failed");
                                            return;
                                        }
                                        Err(_) => {
                                            tracing::debug!("a TLS handshake did not finish in time");
                                            return;
                                        }
                                    };
                                    let connection =
                                        http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                                    if let Err(e) = watcher.watch(connection).await {
                                        tracing::debug!(cause = %e, "a connection ended in error");
                                    }
                                });
                            }
                        }
                    }
                    Err(e) => {
                        // Out of file descriptors, say: wait instead of spinning.
                        tracing::error!(cause = %e, "accepting a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        graceful.shutdown().await;
        poller.abort();
        if let Some(reloader) = reloader {
            reloader.abort();
        }
        // The webhooks' attempts in flight finish (each within its timeout) and are
        // recorded; what is left is delivered by the next start or another replica.
        let _ = stop.send(true);
        let _ = dispatcher.await;
        let _ = sweeper.await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// `bytes` in KiB, rounded up: the unit of the in-flight budget (a semaphore counts in
/// `u32`).
pub(crate) fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
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
            Ok(v) if v > seen => match policies::sync(&app).await {
                Ok(()) => app.policy_behind.store(false, Ordering::Release),
                Err(e) => {
                    app.policy_behind.store(true, Ordering::Release);
                    tracing::error!(version = v, cause = %chain(&e), "cannot apply a stored policy version");
                }
            },
            Ok(_) => {}
            Err(e) => {
                app.metrics.database_error();
                tracing::error!(cause = %chain(&e), "polling for policies");
            }
        }
    }
}

/// Reads the TLS certificate and key again at each SIGHUP; a pair that does not load is
/// refused (and said so), and the one in use stays.
async fn reload_on_hangup(tls: Arc<tls::Tls>) {
    #[cfg(unix)]
    {
        let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(cause = %e, "no SIGHUP handler: the TLS certificate is read at start only");
                return;
            }
        };
        while hangup.recv().await.is_some() {
            match tls.reload() {
                Ok(()) => tracing::info!("SIGHUP: reloaded the TLS certificate and key"),
                Err(e) => tracing::error!(
                    code = "service.tls",
                    cause = e,
                    "SIGHUP: cannot reload the TLS certificate and key; the ones in use stay"
                ),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tls;
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
