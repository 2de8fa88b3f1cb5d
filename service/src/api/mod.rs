//! The HTTP API, one module per resource, each with its own router: JSON in and out,
//! errors as `{ "code", "pointer", "message" }`. This module puts them together behind
//! the roles' token checks and the layers every request goes through, and holds what
//! several resources share (reading bodies, ids and lists; storing a decision).

mod decisions;
mod events;
mod health;
mod inbox;
mod login;
mod policy;
mod preview;
mod shadow;
mod users;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, middleware::from_fn_with_state};
use mdm_engine::{DocumentKind, Effect, MAX_ID_BYTES, Outcome, Timestamp, UserState};
use mdm_host::DecisionRecord;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tower_http::services::{ServeDir, ServeFile};
use tracing::Instrument as _;

use crate::auth::{self, Role, Tokens};
use crate::store::{LogRow, PendingRow, StoreError};
use crate::{App, ServiceError, now_ms};

/// How often one request decides again after another request changed the same user first.
/// Each round one of the racing requests wins, so 50 logins of one user at once need at
/// most 50.
const MAX_ATTEMPTS: usize = 200;
/// The most rows a list answers.
const MAX_LIMIT: i64 = 1000;

/// The state every handler reads.
type Shared = State<Arc<App>>;

/// The whole API: the gateway's route, the admins' routes, the open ones (health and
/// metrics) and the console's files, behind the body limit and the request's span.
pub(crate) fn router(app: Arc<App>, tokens: Arc<Tokens>, console: Option<&Path>) -> Router {
    let limit = app.runtime.config().max_document_bytes;
    let gateway =
        login::router().route_layer(from_fn_with_state((tokens.clone(), Role::Gateway), auth::require));
    let admin = Router::new()
        .merge(events::router())
        .merge(users::router())
        .merge(inbox::router())
        .merge(decisions::router())
        .merge(policy::router())
        .merge(shadow::router())
        .merge(preview::router())
        .route_layer(from_fn_with_state((tokens, Role::Admin), auth::require));
    let router = gateway.merge(admin).merge(health::router());
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
    let router = router.fallback(|| async { ServiceError::NotFound("this route".into()) });
    router
        .with_state(app)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(move |r: Request, next: Next| declared_size(limit, r, next)))
        .layer(middleware::from_fn(traced))
}

/// Runs the request in a span of its own, so that every line the service logs while
/// answering it names it (and, once decided, the decision's id); logs its answer at
/// debug level.
async fn traced(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        decision_id = tracing::field::Empty,
    );
    let started = Instant::now();
    async move {
        let response = next.run(request).await;
        tracing::debug!(
            status = response.status().as_u16(),
            elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "answered"
        );
        response
    }
    .instrument(span)
    .await
}

/// Names the decision in the request's span: every later line of the request carries it.
fn in_span(record: &DecisionRecord) {
    tracing::Span::current().record("decision_id", record.id.as_str());
}

/// Refuses a body whose declared length is over the limit before reading any of it (and
/// before the token check: an anonymous client must not make the service read 100 MB).
/// A body without a declared length is cut off at the limit as it is read.
async fn declared_size(limit: usize, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let mut response = ServiceError::TooLarge(limit).into_response();
        // The unread body makes the connection unusable.
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    next.run(request).await
}

// ---------------------------------------------------------------------------------------
// Bodies, ids, lists and clocks

fn rfc3339(ms: i64) -> String {
    Timestamp::from_millis(ms).to_rfc3339()
}

/// The body, or the error of a body over the limit.
fn body(app: &App, b: Result<Bytes, BytesRejection>) -> Result<Bytes, ServiceError> {
    b.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ServiceError::TooLarge(app.runtime.config().max_document_bytes),
        _ => ServiceError::bad("", r.body_text()),
    })
}

/// A JSON object body.
///
/// Read as the engine reads its documents: a name given twice is refused at the name,
/// rather than the service keeping one and the engine never seeing the other.
fn object(bytes: &[u8]) -> Result<Map<String, Value>, ServiceError> {
    let not_json = |message: &str| ServiceError::bad("", format!("the body is not JSON: {message}"));
    let text = std::str::from_utf8(bytes).map_err(|e| not_json(&e.to_string()))?;
    match DocumentKind::Event.value(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => {
            Err(ServiceError::bad("", format!("the body must be a JSON object, got {}", kind(&other))))
        }
        Err(e) if e.pointer().is_empty() => Err(not_json(&e.message())),
        Err(e) => Err(ServiceError::bad(e.pointer(), e.message())),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Refuses a field the route does not take (a misspelt one would otherwise be ignored).
fn only(body: &Map<String, Value>, fields: &[&str]) -> Result<(), ServiceError> {
    match body.keys().find(|k| !fields.contains(&k.as_str())) {
        Some(k) => {
            let expected = fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
            Err(ServiceError::bad(
                format!("/{k}"),
                format!("unknown field `{k}`, expected one of {expected}"),
            ))
        }
        None => Ok(()),
    }
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

/// A stored JSON document, answered as it is stored.
fn raw(what: &str, s: String) -> Result<Box<RawValue>, ServiceError> {
    RawValue::from_string(s).map_err(|e| StoreError::corrupt(what, e).into())
}

fn json_text<T: Serialize>(value: &T) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(ServiceError::internal)
}

/// The query of a list: who (where the route takes it) and how many.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    user: Option<String>,
    limit: Option<i64>,
}

impl ListQuery {
    fn limit(&self) -> Result<i64, ServiceError> {
        match self.limit {
            None => Ok(100),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(ServiceError::bad("limit", format!("must be 1 to {MAX_LIMIT}, got {n}"))),
        }
    }
}

fn query(q: Result<Query<ListQuery>, QueryRejection>) -> Result<ListQuery, ServiceError> {
    q.map(|Query(q)| q).map_err(|e| ServiceError::bad("", e.body_text()))
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
        actor,
        record: stored,
    }
}

fn touches_pending(effects: &[Effect]) -> bool {
    effects.iter().any(|e| {
        matches!(e, Effect::AddPending { .. } | Effect::RemovePending { .. } | Effect::AddDevice { .. })
    })
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
