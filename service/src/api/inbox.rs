//! `GET /v1/pending?user=&limit=`: the admin's inbox, every pending approval request (or
//! one user's) with its user, device and age, oldest first.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::{Shared, UserListQuery, limit, query, raw, rfc3339};
use crate::{App, ServiceError, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/pending", get(pending))
}

#[derive(Serialize)]
struct PendingItem {
    user: String,
    device_id: String,
    device: Box<RawValue>,
    requested_at: String,
    age_seconds: i64,
}

/// `GET /v1/pending`: the inbox, oldest first.
async fn pending(
    State(app): Shared,
    q: Result<Query<UserListQuery>, QueryRejection>,
) -> Result<Response, ServiceError> {
    let q = query(q)?;
    let now = now_ms();
    let rows = app.store.pending(q.user()?, limit(q.limit)?).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(PendingItem {
                age_seconds: (now - r.requested_ms).max(0) / 1000,
                requested_at: rfc3339(r.requested_ms),
                device: raw(&format!("pending device of `{}`", r.user), r.device)?,
                user: r.user,
                device_id: r.device_id,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    Ok(Json(json!({ "pending": items })).into_response())
}
