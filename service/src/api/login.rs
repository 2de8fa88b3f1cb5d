//! `POST /v1/login`, the gateway's one route: decide, store the state and the record in
//! one transaction, answer. Whatever fails on the way, the answer is a deny.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use mdm_engine::{Event, Outcome, PolicyKey};
use mdm_host::{DecisionRecord, Verdict};
use serde_json::{Value, json};

use super::body::{JsonBody, event_text, ids, members, text};
use super::{
    MAX_ATTEMPTS, Shared, Stored, changed_devices, id, in_span, json_text, log_row, named, pending_rows,
    rfc3339, touches_pending, within_window,
};
use crate::auth::Actor;
use crate::error::host_message;
use crate::store::{StoreError, Write};
use crate::{App, ServiceError, now_ms, webhooks};

/// The most groups a login may report.
const MAX_GROUPS: usize = 10_000;

/// What a login's body takes.
const FIELDS: [&str; 4] = ["user", "groups", "device", "at"];

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/login", post(login))
}

/// `POST /v1/login`: decide, store the state and the record in one transaction, answer.
#[utoipa::path(
    post,
    path = "/v1/login",
    tag = "gateway",
    security(("gateway" = [])),
    request_body(content = super::schema::LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The engine's decision (a deny with a `fault` when the sandbox or the database failed: the service fails closed)",
         body = super::schema::LoginDecision,
         headers(("mdm-decision-id" = String, description = "The id of the decision's record"))),
    ),
)]
pub(super) async fn login(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    body: JsonBody,
) -> Result<Response, ServiceError> {
    let started = Instant::now();
    let now = now_ms();
    let (login, groups) = {
        let members = members(text(&body.bytes)?, &FIELDS)?;
        let groups = match members.iter().find(|(n, _)| n == "groups") {
            Some((_, raw)) => ids(raw, "/groups", MAX_GROUPS, id)?,
            None => Vec::new(),
        };
        let at = Value::String(rfc3339(now)).to_string();
        let mut extra = vec![("type", "\"login\"")];
        if !members.iter().any(|(n, _)| n == "at") {
            extra.push(("at", &at));
        }
        let event: Vec<_> = members.into_iter().filter(|(n, _)| n != "groups").collect();
        let Event::Login(login) = Event::from_json(&event_text(&extra, &event)?)? else {
            return Err(ServiceError::bad("/type", "not a login"));
        };
        (login, groups)
    };
    // The body's bytes are not needed any more: the decision holds only what it read.
    drop(body);
    within_window(&app, login.at, now)?;
    let groups_text = json_text(&groups)?;

    // The key of the latest decision made: a deny after it says `"policy": null` under a set.
    let mut decided_under = PolicyKey::Absent;
    for _ in 0..MAX_ATTEMPTS {
        let (row, state) = match app.store.user_state(&login.user).await {
            Ok(r) => r,
            Err(e) => return Ok(app.denied(&e.into(), started, &decided_under)),
        };
        let (verdict, record) = app.gateway.decide_login_recorded(&login, &groups, &state);
        decided_under = record.policy.clone();
        in_span(&record);
        let stored = json_text(&Stored { record: &record, actor: &actor.0 })?;
        let log = log_row(&record, &stored, Some(&actor.0));
        let effects = verdict.decision().map(|d| d.effects.as_slice()).unwrap_or_default();
        let committed = if effects.is_empty() && row.as_ref().is_some_and(|r| r.groups == groups_text) {
            app.store.log(&log).await.map(|()| true)
        } else {
            let events = webhooks::of_decision(&app.webhooks.source, &record, &state, effects, &[])?;
            let mut next = state;
            next.apply(effects);
            let state_text = json_text(&next)?;
            let write = Write {
                user: &login.user,
                expected: row.as_ref().map(|r| r.version),
                groups: &groups_text,
                state: &state_text,
                now_ms: now_ms(),
                pending: touches_pending(effects).then(|| pending_rows(&login.user, &next)).transpose()?,
                devices: changed_devices(&login.user, effects, &next)?,
            };
            let committed = app.store.commit(&write, &log, &events).await;
            if !events.is_empty() && matches!(committed, Ok(true)) {
                app.outbox.notify_one();
            }
            committed
        };
        match committed {
            Ok(true) => return Ok(app.answered(&verdict, &record, started)),
            Ok(false) => continue,
            Err(e) => return Ok(app.denied(&e.into(), started, &record.policy)),
        }
    }
    let e = StoreError::Contention(login.user.clone(), MAX_ATTEMPTS);
    Ok(app.denied(&e.into(), started, &decided_under))
}

impl App {
    fn answered(&self, verdict: &Verdict, record: &DecisionRecord, started: Instant) -> Response {
        let outcome = verdict.outcome();
        self.metrics.decided("login", outcome.as_str(), started.elapsed().as_secs_f64());
        if let Some(f) = &record.fault {
            self.metrics.fault(f.code);
        }
        if record.shadow.as_ref().is_some_and(|s| s.differs_from(outcome)) {
            self.metrics.shadow_difference();
        }
        let body = match verdict {
            Verdict::Decided(d) => {
                serde_json::to_value(d).unwrap_or_else(|_| deny_body("service.encoding", "", &record.policy))
            }
            Verdict::FailedClosed(e) => {
                tracing::error!(code = e.code(), cause = %e, "the sandbox failed: denied");
                deny_body(e.code(), &host_message(e), &record.policy)
            }
        };
        named(Json(body).into_response(), record)
    }

    /// The answer when nothing could be decided or stored: deny, with why. `decided_under`
    /// is the key of the decision that could not be stored (absent when none was made):
    /// under a policy set the deny says `"policy": null`, as the host's fault does.
    fn denied(&self, e: &ServiceError, started: Instant, decided_under: &PolicyKey) -> Response {
        if matches!(e, ServiceError::Database(_)) {
            self.metrics.database_error();
        }
        e.log();
        self.metrics.decided("login", Outcome::Deny.as_str(), started.elapsed().as_secs_f64());
        Json(deny_body(e.code(), &e.to_string(), decided_under)).into_response()
    }
}

/// A deny without a decision: no access, no effects, the fault. Under a policy set
/// (`policy` not absent) it carries `"policy": null`, as a decision of a set always has
/// the key and the user's policy is not known without a decision.
fn deny_body(code: &str, message: &str, policy: &PolicyKey) -> Value {
    let mut body = json!({
        "outcome": "deny",
        "assigned": false,
        "access": mdm_engine::Access::default(),
        "reasons": [],
        "effects": [],
        "fault": { "code": code, "message": message },
    });
    if let (false, Some(fields)) = (policy.is_absent(), body.as_object_mut()) {
        fields.insert("policy".into(), Value::Null);
    }
    body
}
