//! `GET /v1/users/{user}`: a user's groups as last seen, stored state and, under a policy
//! set, the policy they are under now; `GET /v1/users`: every stored user, a page at a
//! time, with how many devices and pending requests each has.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use mdm_engine::{Device, Login, OsType, PolicyKey, Text, Timestamp, UserState};
use mdm_host::Verdict;
use serde::Serialize;
use serde_json::value::RawValue;

use super::{
    NoQuery, Shared, decode_cursor, encode_cursor, id, limit, no_query, page_of, query, raw, rfc3339,
};
use crate::store::StoreError;
use crate::{App, ServiceError, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/users/{user}", get(user)).route("/v1/users", get(users))
}

/// The query of `GET /v1/users`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UsersQuery {
    q: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// A page of users.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct UserList {
    /// In id order (byte by byte).
    users: Vec<ListedUserBody>,
    /// Gives the next page (with the same `q`); `null` on the last page.
    next_cursor: Option<String>,
}

/// A stored user in the list.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ListedUserBody {
    user: String,
    /// The user's groups as last seen.
    #[schema(value_type = Vec<String>)]
    groups: Box<RawValue>,
    /// How many registered devices.
    devices: i64,
    /// How many pending approval requests.
    pending: i64,
    updated_at: String,
}

/// `GET /v1/users?q=&limit=&cursor=`.
#[utoipa::path(
    get,
    path = "/v1/users",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("q" = Option<String>, Query, description = "Users whose id starts with this"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "How many (100 without it)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of users, in id order", body = UserList),
        (status = 400, description = "`service.bad_request`: `q`, the cursor or the limit is not one the list takes", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn users(
    State(app): Shared,
    q: Result<Query<UsersQuery>, QueryRejection>,
) -> Result<Json<UserList>, ServiceError> {
    let q = query(q)?;
    if let Some(prefix) = &q.q {
        id("q", prefix)?;
    }
    let limit = limit(q.limit)?;
    let after = q.cursor.as_deref().map(|c| decode_cursor("cursor", c)).transpose()?;
    let (rows, more) = page_of(app.store.users(q.q.as_deref(), after.as_deref(), limit + 1).await?, limit);
    let next_cursor = rows.last().filter(|_| more).map(|u| encode_cursor(&u.user));
    let users = rows
        .into_iter()
        .map(|u| {
            Ok(ListedUserBody {
                groups: raw(&format!("groups of `{}`", u.user), u.groups)?,
                devices: u.devices,
                pending: u.pending,
                updated_at: rfc3339(u.updated_ms),
                user: u.user,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    Ok(Json(UserList { users, next_cursor }))
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
