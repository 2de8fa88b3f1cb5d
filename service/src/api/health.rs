//! The open routes: `GET /healthz` and `GET /readyz` for a load balancer (and the
//! console, which finds the service at `/healthz`), `GET /metrics` for Prometheus. None
//! needs a token; none reveals a user.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use crate::error::chain;
use crate::store::Unready;
use crate::{App, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/healthz", get(health)).route("/readyz", get(health)).route("/metrics", get(metrics))
}

/// `GET /healthz`, `GET /readyz`: whether a login could be decided and stored now. The
/// check goes the way a login goes: every table read, a write taken and committed
/// through the writer's connection, within [`crate::Limits::health_timeout`]. 503 with
/// every problem (a stable code and fixed words; the cause goes to the log) otherwise.
async fn health(State(app): Shared) -> Response {
    let mut problems: Vec<Value> = Vec::new();
    let timeout = app.limits.health_timeout;
    let database = match tokio::time::timeout(timeout, app.store.readiness(now_ms())).await {
        Ok(result) => result,
        Err(_) => Err((Unready::Timeout, None)),
    };
    if let Err((why, cause)) = database {
        let cause = cause.as_ref().map(|e| chain(e)).unwrap_or_default();
        tracing::warn!(code = why.code(), cause, "health: the database is not ready");
        problems.push(json!({ "code": why.code(), "message": why.message() }));
    }
    if app.policy_behind.load(Ordering::Acquire) {
        problems.push(json!({
            "code": "policy.not_applied",
            "message": "a policy version another replica stored could not be applied here",
        }));
    }
    let ok = problems.is_empty();
    let body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "service": "mdm",
        "database": app.store.kind().as_str(),
        "policy_digest": &*app.gateway.policy_digest(),
        "problems": problems,
    });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
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
