//! The durable state: users (groups as last seen, stored state), the inbox of pending
//! requests, the decision log and every policy version, in SQLite or PostgreSQL through
//! one set of queries.
//!
//! Every write of a user's state is a compare-and-set on the row's `version`, in the same
//! transaction as the decision's log row: a decision made on a state another request has
//! changed since is thrown away and made again, never stored, and an answered decision is
//! always stored first.

use std::borrow::Cow;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyConnection, Connection as _};
use sqlx::{AnyPool, AssertSqlSafe, Executor as _, Row as _, SqlSafeStr as _};
use tokio::sync::{mpsc, oneshot};

use mdm_engine::UserState;

use crate::webhooks::Outgoing;

pub(crate) mod inventory;
pub(crate) mod webhooks;

/// What the store could not do. Its text is for the service's log (it names tables,
/// paths and the driver's words); a client only learns `service.database`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A query failed.
    #[error("a query failed")]
    Query(#[from] sqlx::Error),
    /// The batch of log rows this one was committed with failed.
    #[error("the batch of log rows failed")]
    Batch(#[source] Arc<sqlx::Error>),
    /// The group committer of log rows is gone (the service is stopping).
    #[error("the log writer stopped")]
    WriterStopped,
    /// A stored value does not decode: the database holds something the service did not
    /// write.
    #[error("the stored {what} does not decode")]
    Corrupt {
        /// Which value (`state of \`alice\``...).
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A user's row kept changing under every attempt to write it.
    #[error("`{0}` changed under every one of {1} attempts")]
    Contention(String, usize),
    /// The database URL is not one the service takes.
    #[error("{0}")]
    Url(String),
    /// The database could not be opened or reached.
    #[error("{what}")]
    Open {
        /// What was tried, naming the database.
        what: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The migrations did not run.
    #[error("migrating the database")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// A stored value that does not decode.
    pub(crate) fn corrupt(
        what: impl Into<String>,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Corrupt { what: what.into(), source: Box::new(e) }
    }
}

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    /// As `/healthz` and the log name it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }
}

pub(crate) struct Store {
    /// The group committer of log rows that come without a state change.
    logs: mpsc::Sender<LogJob>,
    /// Reads (any number at once).
    read: AnyPool,
    /// Writes. For SQLite one connection, so writers queue in the pool instead of
    /// sleeping in SQLite's busy handler; for PostgreSQL the same pool as reads.
    write: AnyPool,
    kind: Kind,
    /// On SQLite, users' rows as this process last wrote or read them: the service is the
    /// file's one writer (one replica), and every write of a row goes through
    /// [`Store::commit`], which keeps this. A login of a known device then reads nothing.
    /// PostgreSQL is shared by replicas: its rows are always read.
    rows: Option<quick_cache::sync::Cache<String, Arc<UserRow>>>,
}

/// A user's stored row.
pub(crate) struct UserRow {
    pub(crate) groups: String,
    pub(crate) state: String,
    pub(crate) version: i64,
    pub(crate) updated_ms: i64,
}

/// A pending request as the inbox shows it.
pub(crate) struct PendingRow {
    pub(crate) user: String,
    pub(crate) device_id: String,
    pub(crate) requested_ms: i64,
    pub(crate) device: String,
}

/// A policy version, as its row reads (`sqlx::FromRow`: columns by field name).
#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    pub(crate) version: i64,
    pub(crate) role: String,
    pub(crate) document: Option<String>,
    pub(crate) digest: Option<String>,
    pub(crate) created_ms: i64,
    pub(crate) actor: Option<String>,
}

/// A decision's log row.
pub(crate) struct LogRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) time_ms: i64,
    pub(crate) user: &'a str,
    pub(crate) event: &'a str,
    pub(crate) outcome: Option<&'a str>,
    pub(crate) shadow_digest: Option<&'a str>,
    pub(crate) shadow_outcome: Option<&'a str>,
    /// Under a policy set, the user's policy (`None` when unassigned or not a set).
    pub(crate) policy: Option<&'a str>,
    /// The shadow policy's counterpart of [`LogRow::policy`].
    pub(crate) shadow_policy: Option<&'a str>,
    /// When the live and the shadow policy are both sets: whether they placed the user
    /// under policies of different names.
    pub(crate) shadow_policy_differs: Option<bool>,
    pub(crate) actor: Option<&'a str>,
    pub(crate) record: &'a str,
}

/// A log row for the group committer, and where to tell its sender that it is stored (or
/// why not: the batch's error, shared by every row of the batch).
type LogJob = (OwnedLog, oneshot::Sender<Result<(), Arc<sqlx::Error>>>);

/// A log row that waits for the group committer.
struct OwnedLog {
    id: String,
    time_ms: i64,
    user: String,
    event: String,
    outcome: Option<String>,
    shadow_digest: Option<String>,
    shadow_outcome: Option<String>,
    policy: Option<String>,
    shadow_policy: Option<String>,
    shadow_policy_differs: Option<bool>,
    actor: Option<String>,
    record: String,
}

impl OwnedLog {
    fn of(r: &LogRow<'_>) -> Self {
        OwnedLog {
            id: r.id.into(),
            time_ms: r.time_ms,
            user: r.user.into(),
            event: r.event.into(),
            outcome: r.outcome.map(Into::into),
            shadow_digest: r.shadow_digest.map(Into::into),
            shadow_outcome: r.shadow_outcome.map(Into::into),
            policy: r.policy.map(Into::into),
            shadow_policy: r.shadow_policy.map(Into::into),
            shadow_policy_differs: r.shadow_policy_differs,
            actor: r.actor.map(Into::into),
            record: r.record.into(),
        }
    }
}

/// The most log rows one transaction of the group committer holds.
const LOG_BATCH: usize = 256;

/// Commits the log rows that arrive while the previous transaction runs in one transaction,
/// and answers each sender only after that commit: one commit (one WAL write or fsync) for
/// many known-device logins, and still nothing answered before it is stored.
async fn log_writer(pool: AnyPool, kind: Kind, mut jobs: mpsc::Receiver<LogJob>) {
    let mut batch = Vec::with_capacity(LOG_BATCH);
    while jobs.recv_many(&mut batch, LOG_BATCH).await > 0 {
        let result = write_logs(&pool, kind, &batch).await.map_err(Arc::new);
        for (_, ack) in batch.drain(..) {
            let _ = ack.send(result.clone());
        }
    }
}

/// Rows per `INSERT`: 64 rows of 12 values stay far below SQLite's and PostgreSQL's
/// limits on bound parameters.
pub(crate) const ROWS_PER_INSERT: usize = 64;
const LOG_COLUMNS: usize = 12;
/// The log's columns, in the order [`bind_log`] binds them.
const LOG_INSERT: &str = "INSERT INTO decisions (id, time_ms, user_id, event, outcome, shadow_digest, \
                          shadow_outcome, policy, shadow_policy, shadow_policy_differs, actor, record) VALUES ";

/// Binds a log row's values, in [`LOG_INSERT`]'s order.
fn bind_log<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    log: &'q OwnedLog,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(log.id.as_str())
        .bind(log.time_ms)
        .bind(log.user.as_str())
        .bind(log.event.as_str())
        .bind(log.outcome.as_deref())
        .bind(log.shadow_digest.as_deref())
        .bind(log.shadow_outcome.as_deref())
        .bind(log.policy.as_deref())
        .bind(log.shadow_policy.as_deref())
        .bind(log.shadow_policy_differs.map(i64::from))
        .bind(log.actor.as_deref())
        .bind(log.record.as_str())
}

/// `INSERT INTO decisions ... VALUES ($1, ..., $12), ...` for `rows` rows (`?` for each
/// value with `anonymous`, which only SQLite reads).
fn insert_logs_sql(rows: usize, anonymous: bool) -> String {
    values_sql(LOG_INSERT, LOG_COLUMNS, rows, anonymous)
}

/// `head` (an `INSERT ... VALUES `) and `rows` tuples of `columns` values: numbered (`$1`),
/// which both databases read, or with `anonymous` SQLite's `?`. The group-committed log
/// uses `?` on SQLite: to bind a numbered value sqlx asks SQLite its name, which SQLite
/// finds by a scan of the statement's names, so binding a 64-row insert's 768 values
/// took time quadratic in them (2% of the service's time under `make load`).
pub(crate) fn values_sql(head: &str, columns: usize, rows: usize, anonymous: bool) -> String {
    use std::fmt::Write as _;
    let mut sql = String::from(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..columns {
            let sep = if c == 0 { "" } else { "," };
            if anonymous {
                let _ = write!(sql, "{sep}?");
            } else {
                let _ = write!(sql, "{sep}${}", r * columns + c + 1);
            }
        }
        sql.push(')');
    }
    sql
}

/// The batch in one transaction, a few multi-row inserts: one round trip to the database
/// per 64 rows instead of one per row.
async fn write_logs(pool: &AnyPool, kind: Kind, batch: &[LogJob]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for chunk in batch.chunks(ROWS_PER_INSERT) {
        let sql = insert_logs_sql(chunk.len(), kind == Kind::Sqlite);
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for (log, _) in chunk {
            insert = bind_log(insert, log);
        }
        insert.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A batch of stored users for a preview ([`Store::population_page`]).
pub(crate) struct PopulationPage {
    /// How many users it holds.
    pub(crate) users: usize,
    /// The last one's id (none in an empty batch): where the next batch starts.
    pub(crate) last: Option<String>,
    /// The batch as a population document.
    pub(crate) document: String,
}

/// A user's new row, written only if the row is still at `expected` (`None`: absent).
pub(crate) struct Write<'a> {
    pub(crate) user: &'a str,
    pub(crate) expected: Option<i64>,
    pub(crate) groups: &'a str,
    pub(crate) state: &'a str,
    pub(crate) now_ms: i64,
    /// The user's pending requests after the change, when they changed.
    pub(crate) pending: Option<Vec<PendingRow>>,
    /// The user's registered devices after the change, when they changed.
    pub(crate) devices: Option<Vec<inventory::DeviceRow>>,
}

/// The schema, written once in the SQL both databases read; only an auto-numbered key is
/// spelt differently.
const MIGRATIONS: [(i64, &str, &str); 5] = [
    (1, "initial", include_str!("../../migrations/0001_initial.sql")),
    (2, "health", include_str!("../../migrations/0002_health.sql")),
    (3, "policy", include_str!("../../migrations/0003_policy.sql")),
    (4, "webhooks", include_str!("../../migrations/0004_webhooks.sql")),
    (5, "devices", include_str!("../../migrations/0005_devices.sql")),
];

fn migrator(kind: Kind) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, name, sql)| {
            let sql = match kind {
                Kind::Sqlite => sql.into_sql_str(),
                Kind::Postgres => AssertSqlSafe(
                    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
                        .replace("COLLATE BINARY", "COLLATE \"C\""),
                )
                .into_sql_str(),
            };
            Migration::new(*version, Cow::Borrowed(*name), MigrationType::Simple, sql, false)
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// Why a database is not ready: a stable code and fixed words for `/healthz` (open to
/// anyone, so never the driver's text, which goes to the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unready {
    /// No connection could be made.
    Unreachable,
    /// A table the service needs is missing or cannot be read.
    Schema,
    /// The database refuses writes: it, or its file, is read-only.
    ReadOnly,
    /// The database refused the write for another reason (a full disk, say).
    Write,
    /// No answer within the health check's time: a lock held elsewhere, an overloaded
    /// server.
    Timeout,
    /// The group committer of the log is gone.
    LogWriter,
}

impl Unready {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Unready::Unreachable => "database.unreachable",
            Unready::Schema => "database.schema",
            Unready::ReadOnly => "database.read_only",
            Unready::Write => "database.write",
            Unready::Timeout => "database.timeout",
            Unready::LogWriter => "database.log_writer",
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            Unready::Unreachable => "no connection to the database could be made",
            Unready::Schema => "a table the service needs is missing or cannot be read",
            Unready::ReadOnly => "the database is read-only",
            Unready::Write => "the database refused a write",
            Unready::Timeout => "the database did not take a write in time",
            Unready::LogWriter => "the decision log's writer stopped",
        }
    }
}

/// SQLite's read-only result codes (`SQLITE_READONLY` and its extended codes) and
/// PostgreSQL's `read_only_sql_transaction`.
fn read_only(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code();
            let code = code.as_deref().unwrap_or_default();
            code == "25006" || code.parse::<i64>().is_ok_and(|c| c & 0xff == 8)
        }
        _ => false,
    }
}

/// Whether the error is about reaching the database rather than about the statement.
fn unreachable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_)
    )
}

/// How many users' rows the SQLite cache holds (a few hundred bytes each).
const USER_ROWS_CACHED: usize = 100_000;

/// The tables the service reads and writes.
const TABLES: [&str; 10] = [
    "users",
    "pending",
    "devices",
    "decisions",
    "policies",
    "health",
    "webhook_endpoints",
    "webhook_subscriptions",
    "webhook_events",
    "webhook_deliveries",
];

/// A database URL for the log and errors: a PostgreSQL password is masked.
fn redacted(url: &str) -> String {
    match url.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.split_once('@')?))) {
        Some((scheme, (credentials, host))) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

impl Store {
    /// Opens and migrates the database. Without `create`, a SQLite file that does not
    /// exist and a database without the service's tables are refused; with it, they are
    /// created.
    pub(crate) async fn connect(url: &str, create: bool) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (kind, url, name) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let file = path.split('?').next().unwrap_or_default();
            if file.is_empty() {
                return Err(StoreError::Url("`--db sqlite://PATH` needs a path".into()));
            }
            let name = format!("the SQLite database `{file}`");
            if !create && !std::path::Path::new(file).exists() {
                return Err(StoreError::Url(format!(
                    "`{file}` does not exist: give `--create` to create a new database there \
                     (a moved or lost database must not be replaced by an empty one)"
                )));
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match (path.contains("mode="), create) {
                (true, _) => format!("sqlite://{path}"),
                (false, true) => format!("sqlite://{path}{sep}mode=rwc"),
                (false, false) => format!("sqlite://{path}{sep}mode=rw"),
            };
            (Kind::Sqlite, url, name)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Kind::Postgres, url.to_string(), format!("the PostgreSQL database `{}`", redacted(url)))
        } else {
            return Err(StoreError::Url(format!(
                "`{}` is not a database URL (sqlite://PATH or postgres://...)",
                redacted(url)
            )));
        };
        let open = |what: &str| {
            let what = format!("{what} {name}");
            move |source| StoreError::Open { what, source }
        };
        let options = AnyConnectOptions::from_str(&url).map_err(open("reading the URL of"))?;
        // One connection first: a file that is not a database, or a server that refuses
        // us, fails here with the driver's reason, where a pool would retry until its
        // timeout and say only that it timed out.
        let mut first = AnyConnection::connect_with(&options).await.map_err(open("opening"))?;
        let tables: i64 = match kind {
            Kind::Sqlite => sqlx::query(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            ),
            Kind::Postgres => sqlx::query(
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'",
            ),
        }
        .fetch_one(&mut first)
        .await
        .and_then(|r| r.try_get("n"))
        .map_err(open("reading the tables of"))?;
        let _ = first.close().await;
        if tables == 0 && !create {
            return Err(StoreError::Url(format!(
                "{name} holds none of the service's tables: give `--create` to create them"
            )));
        }
        let (read, write) = match kind {
            Kind::Sqlite => {
                let pool = |max: u32| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(10))
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                // WAL: readers never wait for the writer. `synchronous =
                                // NORMAL` in WAL survives a killed process (what the
                                // durability test checks), not a power cut.
                                conn.execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                                )
                                .await?;
                                Ok(())
                            })
                        })
                        .connect_with(options.clone())
                };
                let write = pool(1).await.map_err(open("opening"))?;
                let read = pool(4).await.map_err(open("opening"))?;
                (read, write)
            }
            Kind::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(open("connecting to"))?;
                (pool.clone(), pool)
            }
        };
        migrator(kind).run(&write).await?;
        let (logs, jobs) = mpsc::channel(4 * LOG_BATCH);
        tokio::spawn(log_writer(write.clone(), kind, jobs));
        let rows = (kind == Kind::Sqlite).then(|| quick_cache::sync::Cache::new(USER_ROWS_CACHED));
        let store = Store { logs, read, write, kind, rows };
        let filled = store.backfill_devices().await?;
        if filled > 0 {
            tracing::info!(devices = filled, "the device inventory was filled from the stored users");
        }
        Ok(store)
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    pub(crate) async fn user(&self, user: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query("SELECT groups, state, version, updated_ms FROM users WHERE user_id = $1")
            .bind(user)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(UserRow {
                groups: r.try_get("groups")?,
                state: r.try_get("state")?,
                version: r.try_get("version")?,
                updated_ms: r.try_get("updated_ms")?,
            })
        })
        .transpose()
    }

    /// The user's row and its state decoded (an absent user has no devices); a stored state
    /// that does not decode is a database error. On SQLite the row comes from the cache of
    /// rows this process wrote or read, when it holds the user.
    pub(crate) async fn user_state(
        &self,
        user: &str,
    ) -> Result<(Option<Arc<UserRow>>, UserState), StoreError> {
        let row = match &self.rows {
            Some(cache) => match cache.get(user) {
                Some(row) => Some(row),
                None => {
                    let row = self.user(user).await?.map(Arc::new);
                    if let Some(r) = &row {
                        cache.insert(user.to_string(), r.clone());
                    }
                    row
                }
            },
            None => self.user(user).await?.map(Arc::new),
        };
        let state = match &row {
            Some(r) => UserState::from_json(&r.state)
                .map_err(|e| StoreError::corrupt(format!("state of `{user}`"), e))?,
            None => UserState::default(),
        };
        Ok((row, state))
    }

    /// Writes the user's row if it is still at `write.expected`, and the decision's log
    /// row, in one transaction; `false` (nothing written) when another request changed the
    /// row first.
    /// `events` (the webhooks the change causes) are written in the same transaction.
    pub(crate) async fn commit(
        &self,
        write: &Write<'_>,
        log: &LogRow<'_>,
        events: &[Outgoing],
    ) -> Result<bool, StoreError> {
        let written = self.commit_rows(write, log, events).await;
        if let Some(cache) = &self.rows {
            match written {
                // What this process just committed is the row now: no other writes the file.
                Ok(true) => {
                    let row = UserRow {
                        groups: write.groups.to_string(),
                        state: write.state.to_string(),
                        version: write.expected.map_or(1, |v| v + 1),
                        updated_ms: write.now_ms,
                    };
                    cache.insert(write.user.to_string(), Arc::new(row));
                }
                // Not written, or not known to be: the database says next time.
                _ => {
                    cache.remove(write.user);
                }
            }
        }
        written
    }

    async fn commit_rows(
        &self,
        write: &Write<'_>,
        log: &LogRow<'_>,
        events: &[Outgoing],
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let written = match write.expected {
            None => sqlx::query(
                "INSERT INTO users (user_id, groups, state, version, updated_ms) VALUES ($1, $2, $3, 1, $4) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(write.user)
            .bind(write.groups)
            .bind(write.state)
            .bind(write.now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(version) => sqlx::query(
                "UPDATE users SET groups = $2, state = $3, version = version + 1, updated_ms = $4 \
                 WHERE user_id = $1 AND version = $5",
            )
            .bind(write.user)
            .bind(write.groups)
            .bind(write.state)
            .bind(write.now_ms)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if written != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(pending) = &write.pending {
            sqlx::query("DELETE FROM pending WHERE user_id = $1").bind(write.user).execute(&mut *tx).await?;
            for p in pending {
                sqlx::query(
                    "INSERT INTO pending (user_id, device_id, requested_ms, device) VALUES ($1, $2, $3, $4)",
                )
                .bind(&p.user)
                .bind(&p.device_id)
                .bind(p.requested_ms)
                .bind(&p.device)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some(devices) = &write.devices {
            inventory::replace_devices(&mut tx, write.user, devices).await?;
        }
        insert_log(&mut tx, log).await?;
        webhooks::insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Logs a decision that changed no state but caused `events` (an `approve` refused
    /// because the request expired), both in one transaction.
    pub(crate) async fn log_with_events(
        &self,
        log: &LogRow<'_>,
        events: &[Outgoing],
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        insert_log(&mut tx, log).await?;
        webhooks::insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Logs a decision that changed nothing; returns once the row is committed.
    pub(crate) async fn log(&self, log: &LogRow<'_>) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.logs.send((OwnedLog::of(log), ack)).await.map_err(|_| StoreError::WriterStopped)?;
        done.await.map_err(|_| StoreError::WriterStopped)?.map_err(StoreError::Batch)
    }

    /// The inbox, or one user's part of it: oldest request first.
    pub(crate) async fn pending(
        &self,
        user: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PendingRow>, StoreError> {
        let rows = match user {
            Some(u) => {
                sqlx::query(
                    "SELECT user_id, device_id, requested_ms, device FROM pending WHERE user_id = $1 \
                     ORDER BY requested_ms, device_id LIMIT $2",
                )
                .bind(u)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT user_id, device_id, requested_ms, device FROM pending \
                     ORDER BY requested_ms, user_id, device_id LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(PendingRow {
                    user: r.try_get("user_id")?,
                    device_id: r.try_get("device_id")?,
                    requested_ms: r.try_get("requested_ms")?,
                    device: r.try_get("device")?,
                })
            })
            .collect()
    }

    /// The decision log, newest first: the records as stored.
    pub(crate) async fn decisions(&self, user: Option<&str>, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = match user {
            Some(u) => {
                sqlx::query("SELECT record FROM decisions WHERE user_id = $1 ORDER BY seq DESC LIMIT $2")
                    .bind(u)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
            None => {
                sqlx::query("SELECT record FROM decisions ORDER BY seq DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
        };
        records(&rows)
    }

    /// The latest version of `role` (`live` or `shadow`).
    pub(crate) async fn policy(&self, role: &str) -> Result<Option<PolicyRow>, StoreError> {
        let row = sqlx::query_as::<_, PolicyRow>(
            "SELECT version, role, document, digest, created_ms, actor FROM policies \
             WHERE role = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(role)
        .fetch_optional(&self.read)
        .await?;
        Ok(row)
    }

    /// Every policy version, newest first (without documents).
    pub(crate) async fn policies(&self, limit: i64) -> Result<Vec<PolicyRow>, StoreError> {
        let rows = sqlx::query_as::<_, PolicyRow>(
            "SELECT version, role, NULL AS document, digest, created_ms, actor FROM policies \
             ORDER BY version DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows)
    }

    /// The newest policy version of either role: what a replica polls.
    pub(crate) async fn policy_version(&self) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM policies").fetch_one(&self.read).await?;
        Ok(row.try_get("v")?)
    }

    /// Stores a policy version; `changed` makes the webhook event of a new live policy,
    /// given the version, and is written in the same transaction.
    pub(crate) async fn put_policy(
        &self,
        role: &str,
        document: Option<&str>,
        digest: Option<&str>,
        now_ms: i64,
        actor: &str,
        changed: Option<&(dyn Fn(i64) -> Outgoing + Sync)>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(
            "INSERT INTO policies (role, document, digest, created_ms, actor) VALUES ($1, $2, $3, $4, $5) \
             RETURNING version",
        )
        .bind(role)
        .bind(document)
        .bind(digest)
        .bind(now_ms)
        .bind(actor)
        .fetch_one(&mut *tx)
        .await?;
        let version: i64 = row.try_get("version")?;
        if let Some(changed) = changed {
            webhooks::insert_events(&mut tx, &[changed(version)]).await?;
        }
        tx.commit().await?;
        Ok(version)
    }

    /// Logins decided beside the shadow policy `digest`, by (live, shadow) outcome.
    pub(crate) async fn shadow_counts(&self, digest: &str) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT outcome, shadow_outcome, COUNT(*) AS n FROM decisions WHERE shadow_digest = $1 \
             GROUP BY outcome, shadow_outcome ORDER BY outcome, shadow_outcome",
        )
        .bind(digest)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("outcome")?, r.try_get("shadow_outcome")?, r.try_get("n")?)))
            .collect()
    }

    /// Logins decided beside the shadow policy `digest` when both it and the live policy
    /// were sets, by (live policy, shadow policy): `None` for an unassigned user.
    pub(crate) async fn shadow_policy_counts(
        &self,
        digest: &str,
    ) -> Result<Vec<(Option<String>, Option<String>, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT policy, shadow_policy, COUNT(*) AS n FROM decisions \
             WHERE shadow_digest = $1 AND shadow_policy_differs IS NOT NULL \
             GROUP BY policy, shadow_policy ORDER BY policy, shadow_policy",
        )
        .bind(digest)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("policy")?, r.try_get("shadow_policy")?, r.try_get("n")?)))
            .collect()
    }

    /// The latest logins the shadow policy `digest` would have answered otherwise, or
    /// placed under another policy of a set.
    pub(crate) async fn shadow_differences(
        &self,
        digest: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT record FROM decisions WHERE shadow_digest = $1 \
             AND (shadow_outcome <> outcome OR shadow_policy_differs = 1) ORDER BY seq DESC LIMIT $2",
        )
        .bind(digest)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        records(&rows)
    }

    /// At most `limit` stored users after `after` (from the first with `""`), in byte order
    /// of their ids (the order the engine sorts a preview's changes in; PostgreSQL's own
    /// collation may differ), as a population document (spec section 5) the database
    /// writes: one row for the batch, not one row, one copy and one thread hand-off per
    /// user (a million users took 11.7 s read row by row, most of it in the driver).
    pub(crate) async fn population_page(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<PopulationPage, StoreError> {
        // Each id is quoted by the database's own JSON function; groups and state are the
        // JSON texts this service stored. The order inside the aggregate does not matter:
        // the engine sorts the population, and the batch's set is fixed by the subquery.
        let sql = match self.kind {
            Kind::Sqlite => {
                "SELECT count(*) AS users, max(user_id) AS last, \
                 '{\"directory\":{' || coalesce(group_concat(json_quote(user_id) || ':' || groups, ','), '') \
                 || '},\"state\":{' || coalesce(group_concat(json_quote(user_id) || ':' || state, ','), '') \
                 || '}}' AS population \
                 FROM (SELECT user_id, groups, state FROM users WHERE user_id > $1 ORDER BY user_id LIMIT $2)"
            }
            Kind::Postgres => {
                "SELECT count(*) AS users, max(user_id COLLATE \"C\") AS last, \
                 '{\"directory\":{' || coalesce(string_agg(to_json(user_id)::text || ':' || groups, ','), '') \
                 || '},\"state\":{' || coalesce(string_agg(to_json(user_id)::text || ':' || state, ','), '') \
                 || '}}' AS population \
                 FROM (SELECT user_id, groups, state FROM users WHERE (user_id COLLATE \"C\") > $1 \
                 ORDER BY (user_id COLLATE \"C\") LIMIT $2) AS page"
            }
        };
        let row = sqlx::query(sql).bind(after).bind(limit).fetch_one(&self.read).await?;
        let users: i64 = row.try_get("users")?;
        Ok(PopulationPage {
            users: usize::try_from(users).unwrap_or_default(),
            last: row.try_get("last")?,
            document: row.try_get("population")?,
        })
    }

    /// Whether this process can still do its work once the database answers: the decision
    /// log's writer runs. A restart mends what fails here; it does not mend a database.
    pub(crate) fn liveness(&self) -> Result<(), Unready> {
        if self.logs.is_closed() { Err(Unready::LogWriter) } else { Ok(()) }
    }

    /// Whether a login could be decided and stored now: every table the service uses can
    /// be read, and a write is taken and committed through the connections a login's
    /// state and log go through. The cause of a failure is returned for the log.
    pub(crate) async fn readiness(&self, now_ms: i64) -> Result<(), (Unready, Option<sqlx::Error>)> {
        self.liveness().map_err(|why| (why, None))?;
        for table in TABLES {
            let sql = AssertSqlSafe(format!("SELECT 1 AS one FROM {table} LIMIT 1"));
            sqlx::query(sql).fetch_optional(&self.read).await.map_err(|e| {
                let why = if unreachable(&e) { Unready::Unreachable } else { Unready::Schema };
                (why, Some(e))
            })?;
        }
        let written = sqlx::query("UPDATE health SET checked_ms = $1 WHERE id = 1")
            .bind(now_ms)
            .execute(&self.write)
            .await
            .map_err(|e| {
                let why = if read_only(&e) {
                    Unready::ReadOnly
                } else if unreachable(&e) {
                    Unready::Unreachable
                } else {
                    Unready::Write
                };
                (why, Some(e))
            })?;
        if written.rows_affected() != 1 {
            return Err((Unready::Schema, None));
        }
        Ok(())
    }
}

async fn insert_log(conn: &mut sqlx::AnyConnection, log: &LogRow<'_>) -> Result<(), StoreError> {
    let owned = OwnedLog::of(log);
    bind_log(sqlx::query(AssertSqlSafe(insert_logs_sql(1, false))), &owned).execute(conn).await?;
    Ok(())
}

fn records(rows: &[AnyRow]) -> Result<Vec<String>, StoreError> {
    rows.iter().map(|r| Ok(r.try_get("record")?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_reads_the_schema_with_its_own_auto_numbered_keys() {
        let pg: Vec<String> = migrator(Kind::Postgres).iter().map(|m| m.sql.as_str().to_string()).collect();
        assert_eq!(pg.len(), MIGRATIONS.len());
        let initial = MIGRATIONS[0].2;
        assert!(!pg[0].contains("AUTOINCREMENT"));
        assert_eq!(pg[0].matches("BIGSERIAL PRIMARY KEY").count(), initial.matches("AUTOINCREMENT").count());
        assert!(initial.matches("AUTOINCREMENT").count() >= 2);
    }

    #[test]
    fn a_password_never_reaches_the_log() {
        assert_eq!(redacted("postgres://mdm:s3cret@db:5432/mdm"), "postgres://mdm:***@db:5432/mdm");
        assert_eq!(redacted("postgres://db:5432/mdm"), "postgres://db:5432/mdm");
    }

    #[test]
    fn a_multi_row_insert_numbers_every_value() {
        assert!(insert_logs_sql(1, false).ends_with("VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"));
        let two = insert_logs_sql(2, false);
        assert!(two.ends_with("$11,$12),($13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)"), "{two}");
        assert_eq!(LOG_INSERT.matches(',').count() + 1, LOG_COLUMNS);
        assert_eq!(
            insert_logs_sql(ROWS_PER_INSERT, false).matches('$').count(),
            ROWS_PER_INSERT * LOG_COLUMNS
        );
        let two = insert_logs_sql(2, true);
        assert!(two.ends_with("VALUES (?,?,?,?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?,?,?,?)"), "{two}");
        assert!(!insert_logs_sql(ROWS_PER_INSERT, true).contains('$'));
    }
}
