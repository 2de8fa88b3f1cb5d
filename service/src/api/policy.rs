//! `GET`, `PUT /v1/policy` (the live policy) and `GET /v1/policy/versions` (every
//! version, live and shadow).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use mdm_engine::{DocumentKind, Issue};
use mdm_host::HostError;
use serde::Serialize;
use serde_json::value::RawValue;

use super::body::JsonBody;
use super::{ListQuery, NoQuery, Shared, limit, no_query, query, raw, rfc3339};
use crate::auth::Actor;
use crate::policies::digest;
use crate::store::PolicyRow;
use crate::{App, ServiceError, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/policy", get(policy).put(put_policy))
        .route("/v1/policy/versions", get(policy_versions))
}

/// A policy version as the API answers it.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct PolicyBody {
    version: i64,
    /// `live` or `shadow`.
    role: String,
    /// `sha256:` and the document's digest; `null` for a removed shadow.
    digest: Option<String>,
    created_at: String,
    /// Who stored it: `token:` and 12 hex digits of the token's digest, or `startup`.
    actor: Option<String>,
    /// The document (not in the list of versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::Policy>)]
    document: Option<Box<RawValue>>,
}

/// A policy stored and applied.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Stored {
    pub(super) version: i64,
    pub(super) digest: String,
    /// The validation's warnings.
    #[schema(value_type = Vec<super::schema::Issue>)]
    pub(super) warnings: Vec<Issue>,
}

/// Every version.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Versions {
    versions: Vec<PolicyBody>,
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

/// A proposed policy, checked.
pub(super) struct Checked {
    pub(super) text: String,
    pub(super) digest: String,
    pub(super) warnings: Vec<Issue>,
}

/// The document as text, validated in the admins' sandbox (every error comes back at
/// once) and loaded in the decisions' sandbox, so that a policy that validates but cannot
/// be loaded within a gateway's limits is refused here instead of being stored for every
/// replica to fail on. Off the async threads: a large policy takes seconds.
pub(super) async fn checked(app: &Arc<App>, bytes: Vec<u8>) -> Result<Checked, ServiceError> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let text = DocumentKind::Policy.text(&bytes)?.to_string();
        drop(bytes);
        let v = app.admin.validate(&text)?;
        if !v.errors.is_empty() {
            return Err(ServiceError::InvalidPolicy { issues: v.errors });
        }
        drop(app.runtime.gateway(&text)?);
        Ok(Checked { digest: digest(&text), text, warnings: v.warnings })
    })
    .await
    .map_err(ServiceError::internal)?
}

/// `GET /v1/policy`: the live policy.
#[utoipa::path(
    get,
    path = "/v1/policy",
    tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "The live policy", body = PolicyBody),
        (status = 404, description = "`service.not_found`: no policy stored", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn policy(
    State(app): Shared,
    q: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Json<PolicyBody>, ServiceError> {
    no_query(q)?;
    let p = app.store.policy("live").await?.ok_or_else(|| ServiceError::NotFound("policy".into()))?;
    Ok(Json(policy_body(p)?))
}

/// `GET /v1/policy/versions`: every version, newest first.
#[utoipa::path(
    get,
    path = "/v1/policy/versions",
    tag = "admin",
    security(("admin" = [])),
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "How many (100 without it)")),
    responses((status = 200, description = "Every version, live and shadow, newest first, without documents", body = Versions)),
)]
pub(super) async fn policy_versions(
    State(app): Shared,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Versions>, ServiceError> {
    let q = query(q)?;
    let rows = app.store.policies(limit(q.limit)?).await?;
    let rows = rows.into_iter().map(policy_body).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Versions { versions: rows }))
}

/// `PUT /v1/policy`: checked, stored as a new version, then applied. Stored first: a
/// policy the database did not take is never in force, not even while the database is
/// being waited for.
#[utoipa::path(
    put,
    path = "/v1/policy",
    tag = "admin",
    security(("admin" = [])),
    request_body(content = super::schema::Policy, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored as a new version and applied", body = Stored),
        (status = 400, description = "`invalid_policy` with every issue, or `service.bad_request`", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn put_policy(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    body: JsonBody,
) -> Result<Json<Stored>, ServiceError> {
    let Checked { text, digest, warnings } = checked(&app, body.bytes).await?;
    let _changing = app.policy_changes.lock().await;
    let (id, now) = (crate::webhooks::event_id()?, now_ms());
    let changed =
        |v| crate::webhooks::policy_changed(id.clone(), &app.webhooks.source, v, &digest, &actor.0, now);
    let version = app
        .store
        .put_policy("live", Some(&text), Some(&digest), now, &actor.0, Some(&changed))
        .await
        .inspect_err(|_| app.metrics.database_error())?;
    app.outbox.notify_one();
    applied(&app, version, app.gateway.set_policy(&text))?;
    tracing::info!(version, digest, actor = actor.0, "stored and applied a live policy");
    Ok(Json(Stored { version, digest, warnings }))
}

/// After a version was stored: counts it as applied, or (a sandbox fault while applying
/// a policy that was checked) leaves it for the poller to apply, since the database is
/// what every replica follows.
pub(super) fn applied(app: &App, version: i64, applying: Result<(), HostError>) -> Result<(), ServiceError> {
    match applying {
        Ok(()) => {
            app.applied.fetch_max(version, Ordering::AcqRel);
            Ok(())
        }
        Err(e) => {
            tracing::error!(version, cause = %e, "stored a policy version this replica could not apply yet");
            Err(e.into())
        }
    }
}
