//! `POST /v1/preview` `{ "proposed": {...}, "at"? }`: the what-if report of `proposed`
//! against the live policy, over every stored user with their last groups and state.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use super::{Shared, body, json_text, kind, now_ms, object, only, rfc3339};
use crate::{App, ServiceError};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/preview", post(preview))
}

/// `POST /v1/preview`: the report of the proposed policy against the live one.
async fn preview(State(app): Shared, b: Result<Bytes, BytesRejection>) -> Result<Response, ServiceError> {
    let mut req = object(&body(&app, b)?)?;
    only(&req, &["proposed", "at"])?;
    let proposed =
        req.remove("proposed").ok_or_else(|| ServiceError::bad("/proposed", "missing field `proposed`"))?;
    let proposed = json_text(&proposed)?;
    let at = match req.remove("at") {
        None => rfc3339(now_ms()),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(ServiceError::bad("/at", format!("must be an RFC 3339 time, got {}", kind(&other))));
        }
    };
    let current = app
        .store
        .policy("live")
        .await?
        .and_then(|p| p.document)
        .ok_or_else(|| ServiceError::NotFound("policy".into()))?;
    let population = population(&app.store.population().await?)?;
    let runtime = app.admin.clone();
    let report = tokio::task::spawn_blocking(move || runtime.preview(&current, &proposed, &population, &at))
        .await
        .map_err(ServiceError::internal)??;
    Ok(([(header::CONTENT_TYPE, "application/json")], report).into_response())
}

/// The stored users as a population document (spec section 5).
fn population(users: &[(String, String, String)]) -> Result<String, ServiceError> {
    let mut directory = String::from("{");
    let mut state = String::from("{");
    for (i, (user, groups, s)) in users.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let key = json_text(user)?;
        directory.push_str(&format!("{sep}{key}:{groups}"));
        state.push_str(&format!("{sep}{key}:{s}"));
    }
    Ok(format!("{{\"directory\":{directory}}},\"state\":{state}}}}}"))
}
