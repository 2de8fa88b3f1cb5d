//! The report-only policy: `GET`, `PUT`, `DELETE /v1/policy/shadow`, and
//! `GET /v1/shadow/report`, what it would have answered otherwise.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::policy::{PolicyBody, policy_body, validated};
use super::{Shared, body, now_ms, raw, rfc3339};
use crate::auth::Actor;
use crate::{App, ServiceError};

/// The most differing records the report lists.
const REPORT_LATEST: i64 = 20;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/policy/shadow", get(shadow).put(put_shadow).delete(delete_shadow))
        .route("/v1/shadow/report", get(shadow_report))
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
        .shadow_differences(&digest, REPORT_LATEST)
        .await?
        .into_iter()
        .map(|r| raw("decision record", r))
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
