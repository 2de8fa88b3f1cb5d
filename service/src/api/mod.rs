//! The HTTP API, one module per resource, each with its own router: JSON in and out,
//! errors as `{ "code", "pointer", "message" }`. This module puts them together behind
//! the roles' token checks and the layers every request goes through, and holds what
//! several resources share (reading bodies, ids and lists; storing a decision).

mod body;
mod decisions;
mod devices;
mod events;
mod health;
mod inbox;
mod layers;
mod login;
pub(crate) mod openapi;
mod policy;
mod preview;
pub(crate) mod schema;
mod shadow;
mod users;
mod webhooks;

use std::path::Path;
use std::sync::Arc;

use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Router, middleware::from_fn_with_state};
use mdm_engine::{DocumentKind, Effect, MAX_ID_BYTES, Outcome, Timestamp, UserState};
use mdm_host::DecisionRecord;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower_http::services::{ServeDir, ServeFile};

use crate::auth::{self, Role, Tokens};
use crate::store::inventory::{self, DeviceRow};
use crate::store::{LogRow, PendingRow, StoreError};
use crate::{App, ServiceError};

/// How often one request decides again after another request changed the same user first.
/// Each round one of the racing requests wins, so 50 logins of one user at once need at
/// most 50.
const MAX_ATTEMPTS: usize = 200;
/// The most rows a list answers.
const MAX_LIMIT: i64 = 1000;

/// The state every handler reads.
type Shared = State<Arc<App>>;

/// The whole API: the gateway's route, the admins' routes, the open ones (health and
/// metrics) and the console's files, behind the layers every request goes through
/// (outermost first): security headers, the request's span, the loopback Host of an open
/// role, the limit of requests in flight, the declared body size.
pub(crate) fn router(app: Arc<App>, tokens: Arc<Tokens>, console: Option<&Path>) -> Router {
    let limit = app.runtime.config().max_document_bytes;
    let open = app.open;
    let concurrent = app.concurrent.clone();
    let gateway =
        login::router().route_layer(from_fn_with_state((tokens.clone(), Role::Gateway), auth::require));
    let admin = Router::new()
        .merge(events::router())
        .merge(users::router())
        .merge(devices::router())
        .merge(inbox::router())
        .merge(decisions::router())
        .merge(policy::router())
        .merge(shadow::router())
        .merge(preview::router())
        .merge(webhooks::router())
        .route_layer(from_fn_with_state((tokens, Role::Admin), auth::require));
    let router =
        gateway.merge(admin).merge(health::router()).route("/v1/openapi.json", get(openapi::document));
    // Only the console and the package it loads: not the rest of the directory (its
    // node_modules, say).
    let router = match console {
        Some(dir) => router
            .route("/", get(|| async { axum::response::Redirect::temporary("/console/") }))
            .nest_service("/console", ServeDir::new(dir.join("console")))
            .nest_service("/pkg", ServeDir::new(dir.join("pkg")))
            .route_service("/index.mjs", ServeFile::new(dir.join("index.mjs")))
            .route_service("/errors.mjs", ServeFile::new(dir.join("errors.mjs"))),
        None => router,
    };
    let router = router
        .fallback(|| async { ServiceError::NotFound("this route".into()) })
        // Every answer of the API is JSON, a wrong method's too (axum's own is empty).
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ServiceError::MethodNotAllowed(method.to_string())
        });
    router
        .with_state(app)
        .layer(middleware::from_fn(move |r: Request, next: Next| layers::declared_size(limit, r, next)))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(layers::overloaded))
                .layer(LoadShedLayer::new())
                .layer(GlobalConcurrencyLimitLayer::with_semaphore(concurrent)),
        )
        .layer(middleware::from_fn(move |r: Request, next: Next| layers::loopback_host(open, r, next)))
        .layer(middleware::from_fn(layers::traced))
        .layer(middleware::from_fn(layers::security_headers))
}

/// Names the decision in the request's span: every later line of the request carries it.
fn in_span(record: &DecisionRecord) {
    tracing::Span::current().record("decision_id", record.id.as_str());
}

// ---------------------------------------------------------------------------------------
// Bodies, ids, lists and clocks

fn rfc3339(ms: i64) -> String {
    Timestamp::from_millis(ms).to_rfc3339()
}

/// An id from a path or a query, held to the rule of ids in documents.
fn id(what: &str, s: &str) -> Result<(), ServiceError> {
    if s.is_empty() || s.len() > MAX_ID_BYTES {
        return Err(ServiceError::bad(
            what,
            format!("must be an id of 1 to {MAX_ID_BYTES} bytes, got {} bytes", s.len()),
        ));
    }
    Ok(())
}

/// A list's cursor: the last key of the page before, opaque to clients (base64url).
fn encode_cursor(key: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// The key a cursor holds; refused at `pointer` when it is not one a list gave.
fn decode_cursor(pointer: &str, cursor: &str) -> Result<String, ServiceError> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ServiceError::bad(pointer, "is not a cursor this list gave"))
}

/// Rows read one past the page (`limit + 1`) cut to the page: the page, and its last row
/// when there is a next page (what the next cursor names).
fn page_of<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let page = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > page;
    rows.truncate(page);
    (rows, more)
}

/// A stored JSON document, answered as it is stored.
fn raw(what: &str, s: String) -> Result<Box<RawValue>, ServiceError> {
    RawValue::from_string(s).map_err(|e| StoreError::corrupt(what, e).into())
}

fn json_text<T: Serialize>(value: &T) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(ServiceError::internal)
}

/// The query of a list of a user's things: whose (all users' without it) and how many.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserListQuery {
    user: Option<String>,
    limit: Option<i64>,
}

impl UserListQuery {
    /// The user, if named, held to the rule of ids.
    fn user(&self) -> Result<Option<&str>, ServiceError> {
        match &self.user {
            Some(u) => id("user", u).map(|()| Some(u.as_str())),
            None => Ok(None),
        }
    }
}

/// The query of a list that only takes how many.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
}

/// The query of a route that takes none: a parameter there is a mistake to report (a
/// `?version=3` would otherwise answer the live version as if it were the third).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoQuery {}

/// `limit` from 1 to [`MAX_LIMIT`], 100 without it.
fn limit(limit: Option<i64>) -> Result<i64, ServiceError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ServiceError::bad("limit", format!("must be 1 to {MAX_LIMIT}, got {n}"))),
    }
}

/// A route's query, or its error (an unknown or repeated parameter, a wrong type).
fn query<Q>(q: Result<Query<Q>, QueryRejection>) -> Result<Q, ServiceError> {
    q.map(|Query(q)| q).map_err(|e| ServiceError::bad("", e.body_text()))
}

/// Refuses any query on a route that takes none.
fn no_query(q: Result<Query<NoQuery>, QueryRejection>) -> Result<(), ServiceError> {
    query(q).map(|NoQuery {}| ())
}

/// Refuses an `at` (of a login or an admin event) further than the window from the
/// server's clock. The engine never reads a clock; the service decides which times it
/// stores.
fn within_window(app: &App, at: Timestamp, now_ms: i64) -> Result<(), ServiceError> {
    let window = app.limits.at_window;
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    if at.as_millis().abs_diff(now_ms) > window_ms.unsigned_abs() {
        let hours = window.as_secs_f64() / 3600.0;
        return Err(DocumentKind::Event
            .error(
                "/at",
                format!(
                    "must be within {hours} h of the service's clock ({}), got {}",
                    rfc3339(now_ms),
                    at.to_rfc3339()
                ),
            )
            .into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Storing decisions (logins and admin events)

/// A stored record: the host's, with who asked.
#[derive(Serialize)]
struct Stored<'a> {
    #[serde(flatten)]
    record: &'a DecisionRecord,
    actor: &'a str,
}

fn log_row<'a>(record: &'a DecisionRecord, stored: &'a str, actor: Option<&'a str>) -> LogRow<'a> {
    LogRow {
        id: &record.id,
        time_ms: record.time.as_millis(),
        user: &record.user,
        event: record.event,
        outcome: record.outcome.map(Outcome::as_str),
        shadow_digest: record.shadow.as_ref().map(|s| &*s.policy_digest),
        shadow_outcome: record.shadow.as_ref().map(|s| s.outcome.as_str()),
        policy: record.policy.name().map(|n| n.name()),
        shadow_policy: record.shadow.as_ref().and_then(|s| s.policy.name()).map(|n| n.name()),
        shadow_policy_differs: record
            .shadow
            .as_ref()
            .filter(|s| !s.policy.is_absent() && !record.policy.is_absent())
            .map(|s| s.policy_differs_from(&record.policy)),
        actor,
        record: stored,
    }
}

fn touches_pending(effects: &[Effect]) -> bool {
    effects.iter().any(|e| {
        matches!(e, Effect::AddPending { .. } | Effect::RemovePending { .. } | Effect::AddDevice { .. })
    })
}

/// Whether `effects` change what the inventory keeps of the user's devices.
fn touches_devices(effects: &[Effect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            Effect::AddDevice { .. }
                | Effect::RemoveDevice { .. }
                | Effect::SetEnrollment { .. }
                | Effect::SetNoncompliant { .. }
                | Effect::ClearNoncompliant { .. }
        )
    })
}

/// The user's inventory rows after `effects`, when they changed them.
fn changed_devices(
    user: &str,
    effects: &[Effect],
    next: &UserState,
) -> Result<Option<Vec<DeviceRow>>, ServiceError> {
    Ok(touches_devices(effects).then(|| inventory::device_rows(user, next)).transpose()?)
}

fn pending_rows(user: &str, state: &UserState) -> Result<Vec<PendingRow>, ServiceError> {
    state
        .pending
        .iter()
        .map(|p| {
            Ok(PendingRow {
                user: user.to_string(),
                device_id: p.device.device_id.as_str().to_string(),
                requested_ms: p.requested_at.as_millis(),
                device: json_text(&p.device)?,
            })
        })
        .collect()
}

/// The answer with the `mdm-decision-id` header, which names its record in the log.
fn named(mut response: Response, record: &DecisionRecord) -> Response {
    if let Ok(v) = HeaderValue::from_str(&record.id) {
        response.headers_mut().insert("mdm-decision-id", v);
    }
    response
}
