//! The report-only policy: `GET`, `PUT`, `DELETE /v1/policy/shadow`, and
//! `GET /v1/shadow/report`, what it would have answered otherwise.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::body::JsonBody;
use super::policy::{Checked, PolicyBody, applied, checked, policy_body};
use super::{NoQuery, Shared, no_query, raw, rfc3339};
use crate::auth::Actor;
use crate::{App, ServiceError, now_ms};

/// The most differing records the report lists.
const REPORT_LATEST: i64 = 20;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/policy/shadow", get(shadow).put(put_shadow).delete(delete_shadow))
        .route("/v1/shadow/report", get(shadow_report))
}

/// `GET /v1/policy/shadow`.
async fn shadow(
    State(app): Shared,
    q: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Json<PolicyBody>, ServiceError> {
    no_query(q)?;
    match app.store.policy("shadow").await? {
        Some(p) if p.document.is_some() => Ok(Json(policy_body(p)?)),
        _ => Err(ServiceError::NotFound("shadow policy".into())),
    }
}

/// `PUT /v1/policy/shadow`: a report-only policy beside the live one. Stored first, then
/// applied: a shadow the database did not take never reports.
async fn put_shadow(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    body: JsonBody,
) -> Result<Response, ServiceError> {
    let Checked { text, digest, warnings } = checked(&app, body.bytes).await?;
    let _changing = app.policy_changes.lock().await;
    let version = app
        .store
        .put_policy("shadow", Some(&text), Some(&digest), now_ms(), &actor.0)
        .await
        .inspect_err(|_| app.metrics.database_error())?;
    applied(&app, version, app.gateway.set_shadow(Some(&text)))?;
    tracing::info!(version, digest, actor = actor.0, "stored and applied a shadow policy");
    Ok(Json(json!({ "version": version, "digest": digest, "warnings": warnings })).into_response())
}

/// `DELETE /v1/policy/shadow`: stored as a version without a document, then removed.
async fn delete_shadow(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
) -> Result<Response, ServiceError> {
    let _changing = app.policy_changes.lock().await;
    let version = app
        .store
        .put_policy("shadow", None, None, now_ms(), &actor.0)
        .await
        .inspect_err(|_| app.metrics.database_error())?;
    applied(&app, version, app.gateway.set_shadow(None))?;
    tracing::info!(version, actor = actor.0, "removed the shadow policy");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v1/shadow/report`: the current shadow's agreements and differences: logins by
/// (live outcome, shadow outcome) and, when both policies are sets, by (live policy,
/// shadow policy); the latest logins that differ in either.
async fn shadow_report(
    State(app): Shared,
    q: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Response, ServiceError> {
    no_query(q)?;
    let Some(p) = app.store.policy("shadow").await?.filter(|p| p.document.is_some()) else {
        return Ok(Json(json!({
            "shadow": null, "counts": [], "differences": 0, "policies": [], "policy_differences": 0, "latest": [],
        }))
        .into_response());
    };
    let digest = p.digest.clone().unwrap_or_default();
    let counts = app.store.shadow_counts(&digest).await?;
    let differences: i64 = counts.iter().filter(|(l, s, _)| l != s).map(|(_, _, n)| n).sum();
    // Both sides sets: by (live policy, shadow policy), unassigned (`None`) first on either
    // database (they sort NULL differently).
    let mut policies = app.store.shadow_policy_counts(&digest).await?;
    policies.sort();
    let policy_differences: i64 = policies.iter().filter(|(l, s, _)| l != s).map(|(_, _, n)| n).sum();
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
    let policies: Vec<Value> = policies
        .into_iter()
        .map(|(live, shadow, count)| json!({ "live": live, "shadow": shadow, "count": count }))
        .collect();
    Ok(Json(json!({
        "shadow": { "version": p.version, "digest": digest, "created_at": rfc3339(p.created_ms) },
        "counts": counts,
        "differences": differences,
        "policies": policies,
        "policy_differences": policy_differences,
        "latest": latest,
    }))
    .into_response())
}
