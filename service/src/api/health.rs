//! The open routes: `GET /healthz` (liveness: the process, not the database; the
//! console finds the service there) and `GET /readyz` (readiness: the database takes a
//! write, the policy is applied) for an orchestrator or a load balancer, `GET /metrics` for Prometheus. None
//! needs a token; none reveals a user.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::Shared;
use crate::error::chain;
use crate::store::Unready;
use crate::{App, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/healthz", get(health)).route("/readyz", get(ready)).route("/metrics", get(metrics))
}

/// `GET /healthz`: liveness. Whether this process answers and can do its work once its
/// database does: it touches no database, so a database outage does not make an
/// orchestrator restart every replica (which would not mend it). 503 only when the
/// decision log's writer stopped, which a restart does mend.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "open",
    responses(
        (status = 200, description = "Alive: the process answers; the database is not asked", body = Health),
        (status = 503, description = "Not alive: restart it", body = Health),
    ),
)]
pub(super) async fn health(State(app): Shared) -> Response {
    let problems = match app.store.liveness() {
        Ok(()) => Vec::new(),
        Err(why) => {
            tracing::error!(code = why.code(), "health: the process cannot do its work");
            vec![Problem { code: why.code(), message: why.message() }]
        }
    };
    answer(&app, problems)
}

/// `GET /readyz`: readiness. Whether a login could be decided and stored now. The check
/// goes the way a login goes: every table read, a write taken and committed through the
/// writer's connection, within [`crate::Limits::health_timeout`]; and the policy the
/// replicas stored is the one applied here. 503 with every problem (a stable code and
/// fixed words; the cause goes to the log) otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "open",
    responses(
        (status = 200, description = "Ready: the database takes a write and the policy is applied", body = Health),
        (status = 503, description = "Not ready: every problem", body = Health),
    ),
)]
pub(super) async fn ready(State(app): Shared) -> Response {
    check(&app).await
}

/// Whether a login could be decided and stored now.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// `mdm`.
    service: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    /// The live policy's digest.
    policy_digest: String,
    problems: Vec<Problem>,
}

/// Why the service is not ready.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Problem {
    /// `database.unreachable`, `database.schema`, `database.read_only`, `database.write`,
    /// `database.timeout`, `database.log_writer` or `policy.not_applied`.
    code: &'static str,
    /// Fixed words for the code.
    message: &'static str,
}

async fn check(app: &App) -> Response {
    let mut problems: Vec<Problem> = Vec::new();
    let timeout = app.limits.health_timeout;
    let database = match tokio::time::timeout(timeout, app.store.readiness(now_ms())).await {
        Ok(result) => result,
        Err(_) => Err((Unready::Timeout, None)),
    };
    if let Err((why, cause)) = database {
        let cause = cause.as_ref().map(|e| chain(e)).unwrap_or_default();
        tracing::warn!(code = why.code(), cause, "health: the database is not ready");
        problems.push(Problem { code: why.code(), message: why.message() });
    }
    if app.policy_behind.load(Ordering::Acquire) {
        problems.push(Problem {
            code: "policy.not_applied",
            message: "a policy version another replica stored could not be applied here",
        });
    }
    answer(app, problems)
}

fn answer(app: &App, problems: Vec<Problem>) -> Response {
    let ok = problems.is_empty();
    let body = Health {
        status: if ok { "ok" } else { "unavailable" },
        service: "mdm",
        database: app.store.kind().as_str(),
        policy_digest: app.gateway.policy_digest().to_string(),
        problems,
    };
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "open",
    responses((status = 200, description = "Counters and a histogram, no user data", content_type = "application/openmetrics-text", body = String)),
)]
pub(super) async fn metrics(State(app): Shared) -> Response {
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        app.metrics.text(),
    )
        .into_response()
}
