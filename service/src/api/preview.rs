//! `POST /v1/preview` `{ "proposed": {...}, "at"?, "limit"?, "cursor"?, "user"? }`: the
//! what-if report of `proposed` against the live policy, over every stored user with their
//! last groups and state: the whole summary, and a page of the changed users (at 71,468
//! users the whole report was 34 MB; the CLI and the JS package still give it whole).
//! `at` is not held to the window around the clock: a preview stores nothing, and "what
//! happens when the grace periods run out next month" is a fair question.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::body::{JsonBody, members, string, text};
use super::{Shared, decode_cursor, encode_cursor, id, json_text, limit, rfc3339};
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
    let (proposed, at, page) = {
        let members = members(text(&body.bytes)?, &["proposed", "at", "limit", "cursor", "user"])?;
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
        let asked = member("limit")
            .map(|raw| {
                raw.get().parse::<i64>().map_err(|_| ServiceError::bad("/limit", "must be a whole number"))
            })
            .transpose()?;
        let limit = limit(asked).map_err(|e| ServiceError::bad("/limit", e.to_string()))?;
        let after = member("cursor")
            .map(|raw| string(raw, "/cursor").and_then(|c| decode_cursor("/cursor", &c)))
            .transpose()?;
        let user = member("user").map(|raw| string(raw, "/user")).transpose()?;
        if let Some(u) = &user {
            id("/user", u)?;
        }
        (proposed, at, Page { limit, after, user })
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
    let paged = page.of(&report)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], paged).into_response())
}

/// Which part of the report's `changes` an answer holds.
struct Page {
    limit: i64,
    /// After this user (the previous page's last).
    after: Option<String>,
    /// Only this user's change.
    user: Option<String>,
}

/// The engine's report, its changes kept as their text.
#[derive(serde::Deserialize)]
struct Report<'a> {
    #[serde(borrow)]
    summary: &'a RawValue,
    #[serde(borrow)]
    changes: Vec<&'a RawValue>,
}

/// A change's user, the rest of it skipped.
#[derive(serde::Deserialize)]
struct ChangeOf<'a> {
    #[serde(borrow)]
    user: Cow<'a, str>,
}

/// The answer: the whole summary, a page of the changes.
#[derive(serde::Serialize)]
struct Paged<'a> {
    summary: &'a RawValue,
    total_changes: usize,
    changes: &'a [&'a RawValue],
    next_cursor: Option<String>,
}

impl Page {
    /// The report with only this page of its changes (which the engine sorts by user id,
    /// the cursor's order).
    fn of(&self, report: &str) -> Result<String, ServiceError> {
        let bad = |e: serde_json::Error| {
            ServiceError::Host(mdm_host::HostError::Protocol(format!(
                "the preview's report does not decode: {e}"
            )))
        };
        let report: Report<'_> = serde_json::from_str(report).map_err(bad)?;
        let mut kept = Vec::new();
        for change in report.changes {
            let of: ChangeOf<'_> = serde_json::from_str(change.get()).map_err(bad)?;
            if self.user.as_deref().is_some_and(|u| u != of.user) {
                continue;
            }
            kept.push((of.user, change));
        }
        let total_changes = kept.len();
        let start = match &self.after {
            Some(after) => kept.partition_point(|(user, _)| user.as_ref() <= after.as_str()),
            None => 0,
        };
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let page: Vec<&RawValue> = kept.iter().skip(start).take(limit).map(|(_, c)| *c).collect();
        let next_cursor = (start + page.len() < kept.len())
            .then(|| kept.get(start + page.len() - 1).map(|(user, _)| encode_cursor(user)))
            .flatten();
        let paged = Paged { summary: report.summary, total_changes, changes: &page, next_cursor };
        serde_json::to_string(&paged).map_err(ServiceError::internal)
    }
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
