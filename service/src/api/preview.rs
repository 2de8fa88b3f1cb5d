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
use std::collections::{BTreeMap, VecDeque};

use serde_json::value::RawValue;

use super::body::{JsonBody, members, string, text};
use super::{Shared, decode_cursor, encode_cursor, id, limit, rfc3339};
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
    // Batches of stored users, one sandbox call each (`Limits::preview_batch`): a million
    // users as one document took 2.8 GB of the service's memory and trapped after 23 s.
    // Up to `Limits::preview_parallel` batches are previewed at once, each in a sandbox
    // of its own, while the next is read; their reports are added in batch order.
    let batch = app.limits.preview_batch.max(1);
    let size = i64::try_from(batch).unwrap_or(i64::MAX);
    let mut paged = Paged::new(page);
    let mut running = VecDeque::new();
    // An empty first batch is still previewed: the report of no users (its summary's
    // figures, all zero). A later batch is read only after a full one, and kept only if
    // it holds someone.
    let mut next = Some(app.store.population_page("", size).await?);
    loop {
        while running.len() < app.limits.preview_parallel.max(1) {
            let Some(mut page) = next.take() else { break };
            let (runtime, current, proposed, at) =
                (app.admin.clone(), current.clone(), proposed.clone(), at.clone());
            let document = std::mem::take(&mut page.document);
            running.push_back(tokio::task::spawn_blocking(move || {
                runtime.preview(&current, &proposed, &document, &at)
            }));
            if let Some(after) = page.last.filter(|_| page.users == batch) {
                next = Some(app.store.population_page(&after, size).await?).filter(|p| p.users > 0);
            }
        }
        let Some(oldest) = running.pop_front() else { break };
        paged.add(&oldest.await.map_err(ServiceError::internal)??)?;
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], paged.finish()?).into_response())
}

/// Which part of the report's `changes` an answer holds.
struct Page {
    limit: i64,
    /// After this user (the previous page's last).
    after: Option<String>,
    /// Only this user's change.
    user: Option<String>,
}

/// A report of one batch of users, its changes kept as their text.
#[derive(serde::Deserialize)]
struct Report<'a> {
    summary: BTreeMap<String, u64>,
    #[serde(borrow)]
    changes: Vec<&'a RawValue>,
}

/// A change's user, the rest of it skipped.
#[derive(serde::Deserialize)]
struct ChangeOf<'a> {
    #[serde(borrow)]
    user: Cow<'a, str>,
}

/// The answer being put together from the batches' reports: every figure of the summary
/// is a count of users, so the population's is the sum of its batches'; the changes come
/// sorted by user id (the batches are read in that order, and the engine sorts each).
struct Paged {
    page: Page,
    summary: BTreeMap<String, u64>,
    total_changes: usize,
    /// The page's changes, and one more when there is a next page.
    changes: Vec<(String, Box<RawValue>)>,
}

/// The answer.
#[derive(serde::Serialize)]
struct Answer<'a> {
    summary: &'a BTreeMap<String, u64>,
    total_changes: usize,
    changes: Vec<&'a RawValue>,
    next_cursor: Option<String>,
}

impl Paged {
    fn new(page: Page) -> Self {
        Paged { page, summary: BTreeMap::new(), total_changes: 0, changes: Vec::new() }
    }

    fn add(&mut self, report: &str) -> Result<(), ServiceError> {
        let bad = |e: serde_json::Error| {
            ServiceError::Host(mdm_host::HostError::Protocol(format!(
                "the preview's report does not decode: {e}"
            )))
        };
        let report: Report<'_> = serde_json::from_str(report).map_err(bad)?;
        for (figure, n) in report.summary {
            *self.summary.entry(figure).or_default() += n;
        }
        let keep = usize::try_from(self.page.limit).unwrap_or(usize::MAX).saturating_add(1);
        for change in report.changes {
            let of: ChangeOf<'_> = serde_json::from_str(change.get()).map_err(bad)?;
            if self.page.user.as_deref().is_some_and(|u| u != of.user) {
                continue;
            }
            self.total_changes += 1;
            let after_cursor = self.page.after.as_deref().is_none_or(|a| of.user.as_ref() > a);
            if after_cursor && self.changes.len() < keep {
                self.changes.push((of.user.into_owned(), change.to_owned()));
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<String, ServiceError> {
        let limit = usize::try_from(self.page.limit).unwrap_or(usize::MAX);
        let more = self.changes.len() > limit;
        let page = self.changes.get(..limit).unwrap_or(&self.changes);
        let next_cursor = page.last().filter(|_| more).map(|(user, _)| encode_cursor(user));
        let answer = Answer {
            summary: &self.summary,
            total_changes: self.total_changes,
            changes: page.iter().map(|(_, c)| c.as_ref()).collect(),
            next_cursor,
        };
        serde_json::to_string(&answer).map_err(ServiceError::internal)
    }
}
