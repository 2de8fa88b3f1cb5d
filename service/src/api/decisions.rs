//! `GET /v1/decisions?user=&limit=`: the decision log, newest first, each record as
//! stored.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::{Shared, UserListQuery, limit, query, raw};
use crate::{App, ServiceError};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/decisions", get(decisions))
}

/// `GET /v1/decisions?user=&limit=`: the log, newest first.
async fn decisions(
    State(app): Shared,
    q: Result<Query<UserListQuery>, QueryRejection>,
) -> Result<Response, ServiceError> {
    let q = query(q)?;
    let rows = app.store.decisions(q.user()?, limit(q.limit)?).await?;
    let rows = rows.into_iter().map(|r| raw("decision record", r)).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "decisions": rows })).into_response())
}
