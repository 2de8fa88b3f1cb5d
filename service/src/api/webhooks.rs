//! `GET`, `PUT /v1/webhooks` (the endpoints that receive the service's events),
//! `GET /v1/webhooks/deliveries` (each event's delivery to each endpoint: pending,
//! delivered or dead) and `POST /v1/webhooks/deliveries/{id}/replay`.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::body::{JsonBody, text};
use super::{NoQuery, Shared, limit, no_query, query, rfc3339};
use crate::auth::Actor;
use crate::store::webhooks::{DEAD, DELIVERED, DeliveryRow, PENDING};
use crate::webhooks::{EndpointView, EndpointsInput, check};
use crate::{App, ServiceError, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/webhooks", get(endpoints).put(put_endpoints))
        .route("/v1/webhooks/deliveries", get(deliveries))
        .route("/v1/webhooks/deliveries/{id}/replay", post(replay))
}

/// The configured endpoints, secrets masked.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct EndpointsBody {
    endpoints: Vec<EndpointView>,
}

/// `GET /v1/webhooks`.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 200, description = "The endpoints, secrets masked", body = EndpointsBody)),
)]
pub(super) async fn endpoints(
    State(app): Shared,
    q: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Json<EndpointsBody>, ServiceError> {
    no_query(q)?;
    let endpoints = app.store.webhooks().await?;
    Ok(Json(EndpointsBody { endpoints: endpoints.iter().map(|e| e.view()).collect() }))
}

/// `PUT /v1/webhooks` `{ "endpoints": [ { "id", "url", "secret", "events"?, "max_attempts"? } ] }`:
/// replaces the list.
#[utoipa::path(
    put,
    path = "/v1/webhooks",
    tag = "admin",
    security(("admin" = [])),
    request_body(content = EndpointsInput, content_type = "application/json"),
    responses((status = 200, description = "The endpoints now, secrets masked", body = EndpointsBody)),
)]
pub(super) async fn put_endpoints(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    q: Result<Query<NoQuery>, QueryRejection>,
    body: JsonBody,
) -> Result<Json<EndpointsBody>, ServiceError> {
    no_query(q)?;
    let input: EndpointsInput =
        serde_json::from_str(text(&body.bytes)?).map_err(|e| ServiceError::bad("", e.to_string()))?;
    drop(body);
    let endpoints = check(input)?;
    app.store.put_webhooks(&endpoints, now_ms()).await.inspect_err(|_| app.metrics.database_error())?;
    let ids: Vec<&str> = endpoints.iter().map(|e| e.id.as_str()).collect();
    tracing::info!(actor = actor.0, endpoints = ?ids, "replaced the webhook endpoints");
    Ok(Json(EndpointsBody { endpoints: endpoints.iter().map(|e| e.view()).collect() }))
}

/// A delivery as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Delivery {
    id: i64,
    event_id: String,
    /// The event's name (`approval.requested`...).
    event: String,
    endpoint: String,
    /// `pending`, `delivered` or `dead`.
    state: String,
    attempts: i64,
    /// When a pending delivery is next attempted.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<String>,
    /// The receiver's status at the last attempt, if it answered.
    last_status: Option<i64>,
    /// Why the last attempt failed: `webhook.status` (the receiver's status was not
    /// 2xx), `webhook.connect`, `webhook.tls`, `webhook.http`, `webhook.timeout`,
    /// `webhook.endpoint_removed`.
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
    delivered_at: Option<String>,
}

impl From<DeliveryRow> for Delivery {
    fn from(d: DeliveryRow) -> Self {
        Delivery {
            next_attempt_at: (d.state == PENDING).then(|| rfc3339(d.next_ms)),
            id: d.id,
            event_id: d.event_id,
            event: d.event_type,
            endpoint: d.endpoint_id,
            state: d.state,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: rfc3339(d.created_ms),
            updated_at: rfc3339(d.updated_ms),
            delivered_at: d.delivered_ms.map(rfc3339),
        }
    }
}

/// The query of `GET /v1/webhooks/deliveries`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeliveriesQuery {
    state: Option<String>,
    endpoint: Option<String>,
    limit: Option<i64>,
}

/// Deliveries, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DeliveriesBody {
    deliveries: Vec<Delivery>,
}

/// `GET /v1/webhooks/deliveries?state=&endpoint=&limit=`: newest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks/deliveries",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("state" = Option<String>, Query, description = "`pending`, `delivered` or `dead`"),
        ("endpoint" = Option<String>, Query, description = "Only this endpoint's"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "How many (100 without it)"),
    ),
    responses((status = 200, description = "Deliveries, newest first", body = DeliveriesBody)),
)]
pub(super) async fn deliveries(
    State(app): Shared,
    q: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<Json<DeliveriesBody>, ServiceError> {
    let q = query(q)?;
    if let Some(s) = q.state.as_deref()
        && ![PENDING, DELIVERED, DEAD].contains(&s)
    {
        return Err(ServiceError::bad(
            "state",
            format!("must be `pending`, `delivered` or `dead`, got `{s}`"),
        ));
    }
    if let Some(e) = q.endpoint.as_deref() {
        super::id("endpoint", e)?;
    }
    let rows = app.store.deliveries(q.state.as_deref(), q.endpoint.as_deref(), limit(q.limit)?).await?;
    Ok(Json(DeliveriesBody { deliveries: rows.into_iter().map(Delivery::from).collect() }))
}

/// `POST /v1/webhooks/deliveries/{id}/replay`: a dead (or delivered) delivery is pending
/// again, due now, with its attempts counted afresh; a pending one is left as it is.
/// The event keeps its id, so a receiver that already has it can tell.
#[utoipa::path(
    post,
    path = "/v1/webhooks/deliveries/{id}/replay",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "The delivery, pending again (or as it was, when it was pending)", body = Delivery),
        (status = 404, description = "`service.not_found`: no such delivery", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn replay(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    q: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Json<Delivery>, ServiceError> {
    no_query(q)?;
    let id: i64 =
        id.parse().map_err(|_| ServiceError::bad("id", format!("`{id}` is not a delivery's id")))?;
    if app.store.replay(id, now_ms()).await.inspect_err(|_| app.metrics.database_error())? {
        tracing::info!(delivery = id, actor = actor.0, "replaying a webhook delivery");
        app.outbox.notify_one();
    }
    let row =
        app.store.delivery(id).await?.ok_or_else(|| ServiceError::NotFound(format!("delivery {id}")))?;
    Ok(Json(row.into()))
}
