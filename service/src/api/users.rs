//! `GET /v1/users/{user}`: a user's groups as last seen and stored state.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::value::RawValue;

use super::{NoQuery, Shared, id, no_query, raw, rfc3339};
use crate::{App, ServiceError};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/users/{user}", get(user))
}

#[derive(Serialize)]
struct UserBody {
    user: String,
    groups: Box<RawValue>,
    state: Box<RawValue>,
    version: i64,
    updated_at: String,
}

/// `GET /v1/users/{user}`.
async fn user(
    State(app): Shared,
    Path(user): Path<String>,
    q: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Json<UserBody>, ServiceError> {
    no_query(q)?;
    id("user", &user)?;
    let row = app.store.user(&user).await?.ok_or_else(|| ServiceError::NotFound(user.clone()))?;
    Ok(Json(UserBody {
        groups: raw(&format!("groups of `{user}`"), row.groups)?,
        state: raw(&format!("state of `{user}`"), row.state)?,
        user,
        version: row.version,
        updated_at: rfc3339(row.updated_ms),
    }))
}
