//! `POST /v1/preview` `{ "proposed": {...}, "at"? }`: the what-if report of `proposed`
//! against the live policy, over every stored user with their last groups and state.
//! `at` is not held to the window around the clock: a preview stores nothing, and "what
//! happens when the grace periods run out next month" is a fair question.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::body::{JsonBody, members, string, text};
use super::{Shared, json_text, rfc3339};
use crate::{App, ServiceError, now_ms};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/preview", post(preview))
}

/// `POST /v1/preview`: the report of the proposed policy against the live one.
#[utoipa::path(
    post,
    path = "/v1/preview",
    tag = "admin",
    security(("admin" = [])),
    request_body(content = super::schema::PreviewRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The what-if report over every stored user", body = super::schema::PreviewReport),
        (status = 404, description = "`service.not_found`: no live policy", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn preview(State(app): Shared, body: JsonBody) -> Result<Response, ServiceError> {
    let (proposed, at) = {
        let members = members(text(&body.bytes)?, &["proposed", "at"])?;
        let member = |name: &str| members.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
        let proposed = member("proposed")
            .ok_or_else(|| ServiceError::bad("/proposed", "missing field `proposed`"))?
            .get()
            .to_string();
        let at = match member("at") {
            None => rfc3339(now_ms()),
            Some(raw) => string(raw, "/at")
                .map_err(|_| ServiceError::bad("/at", "must be an RFC 3339 time as a string"))?,
        };
        (proposed, at)
    };
    drop(body);
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
