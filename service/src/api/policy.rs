//! `GET`, `PUT /v1/policy` (the live policy) and `GET /v1/policy/versions` (every
//! version, live and shadow).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use mdm_engine::{DocumentKind, Issue};
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::{ListQuery, Shared, body, now_ms, query, raw, rfc3339};
use crate::auth::Actor;
use crate::store::PolicyRow;
use crate::{App, ServiceError};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/policy", get(policy).put(put_policy))
        .route("/v1/policy/versions", get(policy_versions))
}

/// A policy version as the API answers it.
#[derive(Serialize)]
pub(super) struct PolicyBody {
    version: i64,
    role: String,
    digest: Option<String>,
    created_at: String,
    actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<Box<RawValue>>,
}

pub(super) fn policy_body(p: PolicyRow) -> Result<PolicyBody, ServiceError> {
    let what = format!("policy version {}", p.version);
    Ok(PolicyBody {
        version: p.version,
        role: p.role,
        digest: p.digest,
        created_at: rfc3339(p.created_ms),
        actor: p.actor,
        document: p.document.map(|d| raw(&what, d)).transpose()?,
    })
}

/// The document as text, validated: every error comes back at once.
pub(super) fn validated(app: &App, bytes: &[u8]) -> Result<(String, Vec<Issue>), ServiceError> {
    let text = DocumentKind::Policy.text(bytes)?.to_string();
    let v = app.admin.validate(&text)?;
    if !v.errors.is_empty() {
        return Err(ServiceError::InvalidPolicy { issues: v.errors });
    }
    Ok((text, v.warnings))
}

/// `GET /v1/policy`: the live policy.
async fn policy(State(app): Shared) -> Result<Json<PolicyBody>, ServiceError> {
    let p = app.store.policy("live").await?.ok_or_else(|| ServiceError::NotFound("policy".into()))?;
    Ok(Json(policy_body(p)?))
}

/// `GET /v1/policy/versions`: every version, newest first.
async fn policy_versions(
    State(app): Shared,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ServiceError> {
    let q = query(q)?;
    let rows = app.store.policies(q.limit()?).await?;
    let rows = rows.into_iter().map(policy_body).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "versions": rows })).into_response())
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
            tracing::info!(version, digest = &*digest, actor = actor.0, "stored and applied a live policy");
            Ok(Json(json!({ "version": version, "digest": &*digest, "warnings": warnings })).into_response())
        }
        Err(e) => {
            // Not stored, so not in force: the database is what every replica follows.
            if let Some(doc) = before.and_then(|p| p.document) {
                let _ = app.gateway.set_policy(&doc);
            }
            app.metrics.database_error();
            Err(e.into())
        }
    }
}
