//! The report-only policy: `GET`, `PUT`, `DELETE /v1/policy/shadow`, and
//! `GET /v1/shadow/report`, what it would have answered otherwise.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Serialize;
use serde_json::value::RawValue;

use super::body::JsonBody;
use super::policy::{Checked, PolicyBody, Stored, applied, checked, policy_body};
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
#[utoipa::path(
    get,
    path = "/v1/policy/shadow",
    tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "The shadow policy", body = PolicyBody),
        (status = 404, description = "`service.not_found`: no shadow policy", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn shadow(
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
#[utoipa::path(
    put,
    path = "/v1/policy/shadow",
    tag = "admin",
    security(("admin" = [])),
    request_body(content = super::schema::Policy, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored as a new shadow version and applied", body = Stored),
        (status = 400, description = "`invalid_policy` with every issue, or `service.bad_request`", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn put_shadow(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    body: JsonBody,
) -> Result<Json<Stored>, ServiceError> {
    let Checked { text, digest, warnings } = checked(&app, body.bytes).await?;
    let _changing = app.policy_changes.lock().await;
    let version = app
        .store
        .put_policy("shadow", Some(&text), Some(&digest), now_ms(), &actor.0, None)
        .await
        .inspect_err(|_| app.metrics.database_error())?;
    applied(&app, version, app.gateway.set_shadow(Some(&text)))?;
    tracing::info!(version, digest, actor = actor.0, "stored and applied a shadow policy");
    Ok(Json(Stored { version, digest, warnings }))
}

/// `DELETE /v1/policy/shadow`: stored as a version without a document, then removed.
#[utoipa::path(
    delete,
    path = "/v1/policy/shadow",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 204, description = "Removed (stored as a version without a document)")),
)]
pub(super) async fn delete_shadow(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
) -> Result<Response, ServiceError> {
    let _changing = app.policy_changes.lock().await;
    let version = app
        .store
        .put_policy("shadow", None, None, now_ms(), &actor.0, None)
        .await
        .inspect_err(|_| app.metrics.database_error())?;
    applied(&app, version, app.gateway.set_shadow(None))?;
    tracing::info!(version, actor = actor.0, "removed the shadow policy");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v1/shadow/report`: the current shadow's agreements and differences: logins by
/// (live outcome, shadow outcome) and, when both policies are sets, by (live policy,
/// shadow policy); the latest logins that differ in either.
#[utoipa::path(
    get,
    path = "/v1/shadow/report",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 200, description = "The current shadow policy's report (all empty without one)", body = Report)),
)]
pub(super) async fn shadow_report(
    State(app): Shared,
    q: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Json<Report>, ServiceError> {
    no_query(q)?;
    let Some(p) = app.store.policy("shadow").await?.filter(|p| p.document.is_some()) else {
        return Ok(Json(Report {
            shadow: None,
            counts: Vec::new(),
            differences: 0,
            policies: Vec::new(),
            policy_differences: 0,
            latest: Vec::new(),
        }));
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
    let counts = counts.into_iter().map(|(live, shadow, count)| Outcomes { live, shadow, count }).collect();
    let policies =
        policies.into_iter().map(|(live, shadow, count)| Policies { live, shadow, count }).collect();
    Ok(Json(Report {
        shadow: Some(ShadowVersion { version: p.version, created_at: rfc3339(p.created_ms), digest }),
        counts,
        differences,
        policies,
        policy_differences,
        latest,
    }))
}

/// The shadow policy's report.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Report {
    /// The shadow version reported on; `null` without a shadow policy.
    shadow: Option<ShadowVersion>,
    /// Logins by (live outcome, shadow outcome).
    counts: Vec<Outcomes>,
    /// Logins whose outcomes differ.
    differences: i64,
    /// When both policies are sets: logins by (live policy, shadow policy).
    policies: Vec<Policies>,
    /// Logins placed under policies of different names.
    policy_differences: i64,
    /// The latest records that differ in either, newest first.
    #[schema(value_type = Vec<super::schema::DecisionRecord>)]
    latest: Vec<Box<RawValue>>,
}

/// The shadow version a report is of.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ShadowVersion {
    version: i64,
    digest: String,
    created_at: String,
}

/// Logins with this pair of outcomes.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Outcomes {
    live: String,
    shadow: String,
    count: i64,
}

/// Logins with this pair of policies (`null`: no policy assigned the user).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Policies {
    live: Option<String>,
    shadow: Option<String>,
    count: i64,
}
