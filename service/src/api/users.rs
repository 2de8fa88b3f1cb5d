//! `GET /v1/users/{user}`: a user's groups as last seen, stored state and, under a policy
//! set, the policy they are under now.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use mdm_engine::{Device, Login, OsType, PolicyKey, Text, Timestamp, UserState};
use mdm_host::Verdict;
use serde::Serialize;
use serde_json::value::RawValue;

use super::{NoQuery, Shared, id, no_query, raw, rfc3339};
use crate::store::StoreError;
use crate::{App, ServiceError, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/users/{user}", get(user))
}

/// A user as stored.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct UserBody {
    user: String,
    /// The user's groups as last seen.
    #[schema(value_type = Vec<String>)]
    groups: Box<RawValue>,
    #[schema(value_type = super::schema::UserState)]
    state: Box<RawValue>,
    /// Under a policy set (version 3), the user's policy now: its name, or `null` when no
    /// policy assigns them; no key under versions 1 and 2.
    #[serde(skip_serializing_if = "PolicyKey::is_absent")]
    #[schema(value_type = Option<String>, nullable = true)]
    policy: PolicyKey,
    version: i64,
    updated_at: String,
}

/// The device id of the probe login that asks the engine for a user's policy: any id
/// does (the policy is found from the user and their groups only, before any device is
/// looked at), and nothing of the probe is stored.
const PROBE_DEVICE: &str = "mdm-service.policy-probe";

/// `GET /v1/users/{user}`.
#[utoipa::path(
    get,
    path = "/v1/users/{user}",
    tag = "admin",
    security(("admin" = [])),
    params(("user" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user's groups, state and, under a policy set, policy now", body = UserBody),
        (status = 404, description = "`service.not_found`: no such user", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn user(
    State(app): Shared,
    Path(user): Path<String>,
    q: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Json<UserBody>, ServiceError> {
    no_query(q)?;
    id("user", &user)?;
    let row = app.store.user(&user).await?.ok_or_else(|| ServiceError::NotFound(user.clone()))?;
    let groups: Vec<String> = serde_json::from_str(&row.groups)
        .map_err(|e| StoreError::corrupt(format!("groups of `{user}`"), e))?;
    let state =
        UserState::from_json(&row.state).map_err(|e| StoreError::corrupt(format!("state of `{user}`"), e))?;
    let policy = policy_now(&app, &user, &groups, &state)?;
    Ok(Json(UserBody {
        groups: raw(&format!("groups of `{user}`"), row.groups)?,
        state: raw(&format!("state of `{user}`"), row.state)?,
        policy,
        user,
        version: row.version,
        updated_at: rfc3339(row.updated_ms),
    }))
}

/// The user's policy under the live document, now, from their last groups: asked of the
/// engine through a login decided in the sandbox and thrown away (the service does not
/// place users itself, and the last decision's policy may be of an older document). A
/// fault is the request's error: the service does not guess a policy.
fn policy_now(
    app: &App,
    user: &str,
    groups: &[String],
    state: &UserState,
) -> Result<PolicyKey, ServiceError> {
    let device = Device::new(Text::new(PROBE_DEVICE).map_err(ServiceError::internal)?, OsType::Ios);
    let probe = Login::new(user, device, Timestamp::from_millis(now_ms()));
    match app.gateway.decide_login(&probe, groups, state) {
        Verdict::Decided(d) => Ok(d.policy),
        Verdict::FailedClosed(e) => {
            app.metrics.fault(e.code());
            Err(e.into())
        }
    }
}
