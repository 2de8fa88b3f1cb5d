//! `GET /v1/pending?user=&limit=`: the admin's inbox, every pending approval request (or
//! one user's) with its user, device and age, oldest first.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::value::RawValue;

use super::{Shared, UserListQuery, limit, query, raw, rfc3339};
use crate::{App, ServiceError, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/pending", get(pending))
}

/// A pending approval request.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct PendingItem {
    user: String,
    device_id: String,
    /// The device as its login reported it.
    #[schema(value_type = Object)]
    device: Box<RawValue>,
    requested_at: String,
    age_seconds: i64,
}

/// The inbox.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct PendingList {
    pending: Vec<PendingItem>,
}

/// `GET /v1/pending`: the inbox, oldest first.
#[utoipa::path(
    get,
    path = "/v1/pending",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("user" = Option<String>, Query, description = "Only this user's"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "How many (100 without it)"),
    ),
    responses((status = 200, description = "Every pending request (or one user's), oldest first", body = PendingList)),
)]
pub(super) async fn pending(
    State(app): Shared,
    q: Result<Query<UserListQuery>, QueryRejection>,
) -> Result<Json<PendingList>, ServiceError> {
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
    Ok(Json(PendingList { pending: items }))
}
