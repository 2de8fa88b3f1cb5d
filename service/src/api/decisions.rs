//! `GET /v1/decisions?user=&limit=`: the decision log, newest first, each record as
//! stored.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};

use super::{Shared, UserListQuery, limit, query, raw};
use crate::{App, ServiceError};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/decisions", get(decisions))
}

/// The decision log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct Decisions {
    /// Newest first, each record as stored.
    #[schema(value_type = Vec<super::schema::DecisionRecord>)]
    decisions: Vec<Box<serde_json::value::RawValue>>,
}

/// `GET /v1/decisions?user=&limit=`: the log, newest first.
#[utoipa::path(
    get,
    path = "/v1/decisions",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("user" = Option<String>, Query, description = "Only this user's"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "How many (100 without it)"),
    ),
    responses((status = 200, description = "The decision log, newest first", body = Decisions)),
)]
pub(super) async fn decisions(
    State(app): Shared,
    q: Result<Query<UserListQuery>, QueryRejection>,
) -> Result<Json<Decisions>, ServiceError> {
    let q = query(q)?;
    let rows = app.store.decisions(q.user()?, limit(q.limit)?).await?;
    let rows = rows.into_iter().map(|r| raw("decision record", r)).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Decisions { decisions: rows }))
}
