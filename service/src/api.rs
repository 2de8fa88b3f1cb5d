//! The routes: JSON in and out, errors as `{ "code", "pointer", "message" }`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router, middleware};
use mdm_engine::{DocumentKind, Effect, Event, MAX_ID_BYTES, Outcome, Timestamp, UserState};
use mdm_host::{DecisionRecord, Gateway, Runtime, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tower_http::services::{ServeDir, ServeFile};

use crate::auth::{self, Actor, Role, Tokens};
use crate::store::{LogRow, PendingRow, PolicyRow, Store, Write};
use crate::{App, ServiceError};

/// How often one request decides again after another request changed the same user first.
/// Each round one of the racing requests wins, so 50 logins of one user at once need at
/// most 50.
const MAX_ATTEMPTS: usize = 200;
/// The most groups a login may report.
const MAX_GROUPS: usize = 10_000;
/// The most rows a list answers.
const MAX_LIMIT: i64 = 1000;

type Shared = State<Arc<App>>;

pub(crate) fn router(app: Arc<App>, tokens: Arc<Tokens>, console: Option<&Path>) -> Router {
    let limit = app.runtime.config().max_document_bytes;
    let gateway = Router::new()
        .route("/v1/login", post(login))
        .route_layer(middleware::from_fn_with_state((tokens.clone(), Role::Gateway), auth::require));
    let admin = Router::new()
        .route("/v1/events", post(event))
        .route("/v1/users/{user}", get(user))
        .route("/v1/pending", get(pending))
        .route("/v1/decisions", get(decisions))
        .route("/v1/policy", get(policy).put(put_policy))
        .route("/v1/policy/versions", get(policy_versions))
        .route("/v1/policy/shadow", get(shadow).put(put_shadow).delete(delete_shadow))
        .route("/v1/shadow/report", get(shadow_report))
        .route("/v1/preview", post(preview))
        .route_layer(middleware::from_fn_with_state((tokens, Role::Admin), auth::require));
    let open = Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics));
    let router = gateway.merge(admin).merge(open);
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
// Bodies and clocks

fn now_ms() -> i64 {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    i64::try_from(ms).unwrap_or(i64::MAX)
}

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

fn raw(s: String) -> Result<Box<RawValue>, ServiceError> {
    RawValue::from_string(s)
        .map_err(|e| ServiceError::Database(format!("a stored document is not JSON: {e}")))
}

fn json_text<T: Serialize>(value: &T) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(|e| ServiceError::Database(format!("encoding: {e}")))
}

// ---------------------------------------------------------------------------------------
// Logins

/// `POST /v1/login`: decide, store the state and the record in one transaction, answer.
async fn login(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ServiceError> {
    let started = Instant::now();
    let mut req = object(&body(&app, b)?)?;
    only(&req, &["user", "groups", "device", "at"])?;
    let groups = match req.remove("groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => {
            if list.len() > MAX_GROUPS {
                return Err(ServiceError::bad(
                    "/groups",
                    format!("at most {MAX_GROUPS} groups, got {}", list.len()),
                ));
            }
            list.into_iter()
                .enumerate()
                .map(|(i, g)| match g {
                    Value::String(s) => id(&format!("/groups/{i}"), &s).map(|()| s),
                    other => Err(ServiceError::bad(
                        format!("/groups/{i}"),
                        format!("must be a string, got {}", kind(&other)),
                    )),
                })
                .collect::<Result<Vec<String>, _>>()?
        }
        Some(other) => {
            return Err(ServiceError::bad(
                "/groups",
                format!("must be an array of group ids, got {}", kind(&other)),
            ));
        }
    };
    req.insert("type".into(), Value::String("login".into()));
    req.entry("at").or_insert_with(|| Value::String(rfc3339(now_ms())));
    let Event::Login(login) = Event::from_value(&Value::Object(req))? else {
        return Err(ServiceError::bad("/type", "not a login"));
    };
    let groups_text = json_text(&groups)?;

    for _ in 0..MAX_ATTEMPTS {
        let (row, state) = match app.store.user_state(&login.user).await {
            Ok(r) => r,
            Err(e) => return Ok(app.denied(&e, started)),
        };
        let (verdict, record) = app.gateway.decide_login_recorded(&login, &groups, &state);
        let stored = json_text(&Stored { record: &record, actor: &actor.0 })?;
        let log = log_row(&record, &stored, Some(&actor.0));
        let effects = verdict.decision().map(|d| d.effects.as_slice()).unwrap_or_default();
        let committed = if effects.is_empty() && row.as_ref().is_some_and(|r| r.groups == groups_text) {
            app.store.log(&log).await.map(|()| true)
        } else {
            let mut next = state;
            next.apply(effects);
            let state_text = json_text(&next)?;
            let write = Write {
                user: &login.user,
                expected: row.as_ref().map(|r| r.version),
                groups: &groups_text,
                state: &state_text,
                now_ms: now_ms(),
                pending: touches_pending(effects).then(|| pending_rows(&login.user, &next)).transpose()?,
            };
            app.store.commit(&write, &log).await
        };
        match committed {
            Ok(true) => return Ok(app.answered(&verdict, &record, started)),
            Ok(false) => continue,
            Err(e) => return Ok(app.denied(&e, started)),
        }
    }
    Ok(app.denied(&ServiceError::Database("too many concurrent changes to this user".into()), started))
}

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

impl App {
    fn answered(&self, verdict: &Verdict, record: &DecisionRecord, started: Instant) -> Response {
        let outcome = verdict.outcome();
        self.metrics.decided("login", outcome.as_str(), started.elapsed().as_secs_f64());
        if let Some(f) = &record.fault {
            self.metrics.fault(f.code);
        }
        if record.shadow.as_ref().is_some_and(|s| s.differs_from(outcome)) {
            self.metrics.shadow_difference();
        }
        let body = match verdict {
            Verdict::Decided(d) => {
                serde_json::to_value(d).unwrap_or_else(|_| deny_body("service.encoding", ""))
            }
            Verdict::FailedClosed(e) => deny_body(e.code(), &e.to_string()),
        };
        named(Json(body).into_response(), record)
    }

    /// The answer when nothing could be decided or stored: deny, with why.
    fn denied(&self, e: &ServiceError, started: Instant) -> Response {
        if matches!(e, ServiceError::Database(_)) {
            self.metrics.database_error();
        }
        self.metrics.decided("login", Outcome::Deny.as_str(), started.elapsed().as_secs_f64());
        Json(deny_body(e.code(), &e.to_string())).into_response()
    }
}

/// The answer with the `mdm-decision-id` header, which names its record in the log.
fn named(mut response: Response, record: &DecisionRecord) -> Response {
    if let Ok(v) = HeaderValue::from_str(&record.id) {
        response.headers_mut().insert("mdm-decision-id", v);
    }
    response
}

fn deny_body(code: &str, message: &str) -> Value {
    json!({
        "outcome": "deny",
        "assigned": false,
        "access": mdm_engine::Access::default(),
        "reasons": [],
        "effects": [],
        "fault": { "code": code, "message": message },
    })
}

// ---------------------------------------------------------------------------------------
// Admin events

/// `POST /v1/events`: an admin event of the contract, decided and stored.
async fn event(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ServiceError> {
    let started = Instant::now();
    let mut req = object(&body(&app, b)?)?;
    if req.get("type").and_then(Value::as_str) == Some("login") {
        return Err(DocumentKind::Event.error("/type", "a login goes to `POST /v1/login`").into());
    }
    req.entry("at").or_insert_with(|| Value::String(rfc3339(now_ms())));
    let Event::Admin(admin) = Event::from_value(&Value::Object(req))? else {
        return Err(ServiceError::bad("/type", "not an admin event"));
    };
    for _ in 0..MAX_ATTEMPTS {
        let (row, state) =
            app.store.user_state(&admin.user).await.inspect_err(|_| app.metrics.database_error())?;
        // The user's groups as their last login reported them: a policy set reads the
        // user's policy now for `approve` and `enrolled`.
        let last_groups: Vec<String> = match &row {
            Some(r) => serde_json::from_str(&r.groups)
                .map_err(|e| ServiceError::Database(format!("stored groups of `{}`: {e}", admin.user)))?,
            None => Vec::new(),
        };
        let (result, record) = app.gateway.decide_admin_recorded(&admin, &last_groups, &state);
        let stored = json_text(&Stored { record: &record, actor: &actor.0 })?;
        let log = log_row(&record, &stored, Some(&actor.0));
        let decided = match result {
            Ok(r) => r,
            Err(e) => {
                // A refused event changes nothing, but who tried is logged.
                app.store.log(&log).await.inspect_err(|_| app.metrics.database_error())?;
                if let Some(f) = record.fault.as_ref().filter(|f| f.code.starts_with("host.")) {
                    app.metrics.fault(f.code);
                }
                return Err(e.into());
            }
        };
        let mut next = state;
        next.apply(&decided.effects);
        let state_text = json_text(&next)?;
        let groups = row.as_ref().map(|r| r.groups.clone()).unwrap_or_else(|| "[]".into());
        let write = Write {
            user: &admin.user,
            expected: row.as_ref().map(|r| r.version),
            groups: &groups,
            state: &state_text,
            now_ms: now_ms(),
            pending: Some(pending_rows(&admin.user, &next)?),
        };
        if app.store.commit(&write, &log).await.inspect_err(|_| app.metrics.database_error())? {
            app.metrics.decided(admin.action.as_str(), "done", started.elapsed().as_secs_f64());
            let decision = mdm_engine::Decision::Admin {
                effects: decided.effects,
                commands: decided.commands,
                policy: decided.policy,
            };
            return Ok(named(Json(decision).into_response(), &record));
        }
    }
    Err(ServiceError::Database("too many concurrent changes to this user".into()))
}

// ---------------------------------------------------------------------------------------
// Reading state

#[derive(Serialize)]
struct UserBody {
    user: String,
    groups: Box<RawValue>,
    state: Box<RawValue>,
    version: i64,
    updated_at: String,
}

/// `GET /v1/users/{user}`.
async fn user(State(app): Shared, UrlPath(user): UrlPath<String>) -> Result<Json<UserBody>, ServiceError> {
    id("user", &user)?;
    let row = app.store.user(&user).await?.ok_or_else(|| ServiceError::NotFound(user.clone()))?;
    Ok(Json(UserBody {
        user,
        groups: raw(row.groups)?,
        state: raw(row.state)?,
        version: row.version,
        updated_at: rfc3339(row.updated_ms),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    user: Option<String>,
    limit: Option<i64>,
}

fn limit(q: &ListQuery) -> Result<i64, ServiceError> {
    match q.limit {
        None => Ok(100),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ServiceError::bad("limit", format!("must be 1 to {MAX_LIMIT}, got {n}"))),
    }
}

fn query(
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ListQuery, ServiceError> {
    q.map(|Query(q)| q).map_err(|e| ServiceError::bad("", e.body_text()))
}

#[derive(Serialize)]
struct PendingItem {
    user: String,
    device_id: String,
    device: Box<RawValue>,
    requested_at: String,
    age_seconds: i64,
}

/// `GET /v1/pending`: the inbox, oldest first.
async fn pending(
    State(app): Shared,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ServiceError> {
    let q = query(q)?;
    let now = now_ms();
    let rows = app.store.pending(limit(&q)?).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(PendingItem {
                age_seconds: (now - r.requested_ms).max(0) / 1000,
                requested_at: rfc3339(r.requested_ms),
                device: raw(r.device)?,
                user: r.user,
                device_id: r.device_id,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    Ok(Json(json!({ "pending": items })).into_response())
}

/// `GET /v1/decisions?user=&limit=`: the log, newest first.
async fn decisions(
    State(app): Shared,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ServiceError> {
    let q = query(q)?;
    if let Some(u) = &q.user {
        id("user", u)?;
    }
    let rows = app.store.decisions(q.user.as_deref(), limit(&q)?).await?;
    let rows = rows.into_iter().map(raw).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "decisions": rows })).into_response())
}

// ---------------------------------------------------------------------------------------
// Policies

#[derive(Serialize)]
struct PolicyBody {
    version: i64,
    role: String,
    digest: Option<String>,
    created_at: String,
    actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<Box<RawValue>>,
}

fn policy_body(p: PolicyRow) -> Result<PolicyBody, ServiceError> {
    Ok(PolicyBody {
        version: p.version,
        role: p.role,
        digest: p.digest,
        created_at: rfc3339(p.created_ms),
        actor: p.actor,
        document: p.document.map(raw).transpose()?,
    })
}

/// `GET /v1/policy`: the live policy.
async fn policy(State(app): Shared) -> Result<Json<PolicyBody>, ServiceError> {
    let p = app.store.policy("live").await?.ok_or_else(|| ServiceError::NotFound("policy".into()))?;
    Ok(Json(policy_body(p)?))
}

/// `GET /v1/policy/versions`: every version, newest first.
async fn policy_versions(
    State(app): Shared,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ServiceError> {
    let q = query(q)?;
    let rows = app.store.policies(limit(&q)?).await?;
    let rows = rows.into_iter().map(policy_body).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "versions": rows })).into_response())
}

/// The document as text, validated: every error comes back at once.
fn validated(app: &App, bytes: &[u8]) -> Result<(String, Vec<mdm_engine::Issue>), ServiceError> {
    let text = DocumentKind::Policy.text(bytes)?.to_string();
    let v = app.admin.validate(&text)?;
    if !v.errors.is_empty() {
        return Err(ServiceError::InvalidPolicy { issues: v.errors });
    }
    Ok((text, v.warnings))
}

/// `PUT /v1/policy`: validated, swapped, stored as a new version.
async fn put_policy(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ServiceError> {
    let (text, warnings) = validated(&app, &body(&app, b)?)?;
    let before = app.store.policy("live").await?;
    app.gateway.set_policy(&text)?;
    let digest = app.gateway.policy_digest();
    match app.store.put_policy("live", Some(&text), Some(&digest), now_ms(), &actor.0).await {
        Ok(version) => {
            app.applied.fetch_max(version, Ordering::AcqRel);
            Ok(Json(json!({ "version": version, "digest": &*digest, "warnings": warnings })).into_response())
        }
        Err(e) => {
            // Not stored, so not in force: the database is what every replica follows.
            if let Some(doc) = before.and_then(|p| p.document) {
                let _ = app.gateway.set_policy(&doc);
            }
            app.metrics.database_error();
            Err(e)
        }
    }
}

/// `GET /v1/policy/shadow`.
async fn shadow(State(app): Shared) -> Result<Json<PolicyBody>, ServiceError> {
    match app.store.policy("shadow").await? {
        Some(p) if p.document.is_some() => Ok(Json(policy_body(p)?)),
        _ => Err(ServiceError::NotFound("shadow policy".into())),
    }
}

/// `PUT /v1/policy/shadow`: a report-only policy beside the live one.
async fn put_shadow(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ServiceError> {
    let (text, warnings) = validated(&app, &body(&app, b)?)?;
    app.gateway.set_shadow(Some(&text))?;
    let digest = app.gateway.shadow_digest().map(|d| d.to_string()).unwrap_or_default();
    let version = app.store.put_policy("shadow", Some(&text), Some(&digest), now_ms(), &actor.0).await?;
    app.applied.fetch_max(version, Ordering::AcqRel);
    Ok(Json(json!({ "version": version, "digest": digest, "warnings": warnings })).into_response())
}

/// `DELETE /v1/policy/shadow`.
async fn delete_shadow(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
) -> Result<Response, ServiceError> {
    app.gateway.set_shadow(None)?;
    let version = app.store.put_policy("shadow", None, None, now_ms(), &actor.0).await?;
    app.applied.fetch_max(version, Ordering::AcqRel);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v1/shadow/report`: the current shadow's agreements and differences.
async fn shadow_report(State(app): Shared) -> Result<Response, ServiceError> {
    let Some(p) = app.store.policy("shadow").await?.filter(|p| p.document.is_some()) else {
        return Ok(
            Json(json!({ "shadow": null, "counts": [], "differences": 0, "latest": [] })).into_response()
        );
    };
    let digest = p.digest.clone().unwrap_or_default();
    let counts = app.store.shadow_counts(&digest).await?;
    let differences: i64 = counts.iter().filter(|(l, s, _)| l != s).map(|(_, _, n)| n).sum();
    let latest = app
        .store
        .shadow_differences(&digest, 20)
        .await?
        .into_iter()
        .map(raw)
        .collect::<Result<Vec<_>, _>>()?;
    let counts: Vec<Value> = counts
        .into_iter()
        .map(|(live, shadow, count)| json!({ "live": live, "shadow": shadow, "count": count }))
        .collect();
    Ok(Json(json!({
        "shadow": { "version": p.version, "digest": digest, "created_at": rfc3339(p.created_ms) },
        "counts": counts,
        "differences": differences,
        "latest": latest,
    }))
    .into_response())
}

/// `POST /v1/preview` `{ "proposed": {...}, "at"? }`: the what-if report of `proposed`
/// against the live policy over every stored user.
async fn preview(State(app): Shared, b: Result<Bytes, BytesRejection>) -> Result<Response, ServiceError> {
    let mut req = object(&body(&app, b)?)?;
    only(&req, &["proposed", "at"])?;
    let proposed =
        req.remove("proposed").ok_or_else(|| ServiceError::bad("/proposed", "missing field `proposed`"))?;
    let proposed = json_text(&proposed)?;
    let at = match req.remove("at") {
        None => rfc3339(now_ms()),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(ServiceError::bad("/at", format!("must be an RFC 3339 time, got {}", kind(&other))));
        }
    };
    let current = app
        .store
        .policy("live")
        .await?
        .and_then(|p| p.document)
        .ok_or_else(|| ServiceError::NotFound("policy".into()))?;
    let population = population(&app.store.population().await?)?;
    let runtime = app.admin.clone();
    let report = tokio::task::spawn_blocking(move || runtime.preview(&current, &proposed, &population, &at))
        .await
        .map_err(|e| ServiceError::Host(mdm_host::HostError::Trap(e.to_string())))??;
    Ok(([(header::CONTENT_TYPE, "application/json")], report).into_response())
}

/// The stored users as a population document (spec section 5).
fn population(users: &[(String, String, String)]) -> Result<String, ServiceError> {
    let mut directory = String::from("{");
    let mut state = String::from("{");
    for (i, (user, groups, s)) in users.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let key = json_text(user)?;
        directory.push_str(&format!("{sep}{key}:{groups}"));
        state.push_str(&format!("{sep}{key}:{s}"));
    }
    Ok(format!("{{\"directory\":{directory}}},\"state\":{state}}}}}"))
}

// ---------------------------------------------------------------------------------------
// Open routes

/// `GET /healthz`: whether the service can decide and store; no user data.
async fn healthz(State(app): Shared) -> Response {
    let database = app.store.ping().await.is_ok();
    let status = if database { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if database { "ok" } else { "unavailable" },
        "service": "mdm",
        "database": format!("{:?}", app.store.kind()).to_lowercase(),
        "policy_digest": &*app.gateway.policy_digest(),
    });
    (status, Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(app): Shared) -> Response {
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        app.metrics.text(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// Loading policies

/// The gateway at start: `document` if given (stored when new), else the stored one;
/// and the shadow policy, if one is stored.
pub(crate) async fn load_policies(
    runtime: &Runtime,
    store: &Store,
    document: Option<&str>,
) -> Result<(Gateway, i64), ServiceError> {
    let stored = store.policy("live").await?;
    let gateway = match (document, stored) {
        (Some(doc), stored) => {
            let gateway =
                runtime.gateway(doc).map_err(|e| ServiceError::Start(format!("the policy: {e}")))?;
            let digest = gateway.policy_digest();
            if stored.as_ref().and_then(|p| p.digest.as_deref()) != Some(&*digest) {
                store.put_policy("live", Some(doc), Some(&digest), now_ms(), "startup").await?;
            }
            gateway
        }
        (None, Some(PolicyRow { document: Some(doc), .. })) => {
            runtime.gateway(&doc).map_err(|e| ServiceError::Start(format!("the stored policy: {e}")))?
        }
        (None, _) => {
            return Err(ServiceError::Start("the database holds no policy: give one with `--policy`".into()));
        }
    };
    if let Some(doc) = store.policy("shadow").await?.and_then(|p| p.document) {
        gateway
            .set_shadow(Some(&doc))
            .map_err(|e| ServiceError::Start(format!("the stored shadow policy: {e}")))?;
    }
    let version = store.policy_version().await?;
    Ok((gateway, version))
}

/// Applies the latest stored live and shadow policies when they differ from this
/// replica's.
pub(crate) async fn sync_policies(app: &App) -> Result<(), ServiceError> {
    let version = app.store.policy_version().await?;
    let live = app.store.policy("live").await?.and_then(|p| p.document.zip(p.digest));
    if let Some((doc, digest)) = live.filter(|(_, d)| *app.gateway.policy_digest() != **d) {
        app.gateway.set_policy(&doc)?;
        eprintln!("mdm serve: applied the stored policy {digest}");
    }
    let shadow = app.store.policy("shadow").await?.and_then(|p| p.document.zip(p.digest));
    let current = app.gateway.shadow_digest();
    match (shadow, current) {
        (Some((doc, digest)), current) if current.as_deref() != Some(digest.as_str()) => {
            app.gateway.set_shadow(Some(&doc))?
        }
        (None, Some(_)) => app.gateway.set_shadow(None)?,
        _ => {}
    }
    app.applied.fetch_max(version, Ordering::AcqRel);
    Ok(())
}
