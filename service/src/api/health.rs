//! The open routes: `GET /healthz` for a load balancer and the console, `GET /metrics`
//! for Prometheus. Neither needs a token; neither reveals a user.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::Shared;
use crate::App;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

/// `GET /healthz`: whether the service can decide and store; no user data.
async fn healthz(State(app): Shared) -> Response {
    let database = match app.store.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(cause = %crate::error::chain(&e), "health: the database did not answer");
            false
        }
    };
    let status = if database { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if database { "ok" } else { "unavailable" },
        "service": "mdm",
        "database": app.store.kind().as_str(),
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
