//! `POST /v1/events`: an admin event of the contract (`approve`, `reject`, `unblock`,
//! `remove_device`, `enrolled`, `deprovision`, `wipe`), decided and stored. A refused
//! event changes nothing, but who tried is logged.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use mdm_engine::{DocumentKind, Event};
use serde_json::Value;

use super::{
    MAX_ATTEMPTS, Shared, Stored, body, in_span, json_text, log_row, named, now_ms, object, pending_rows,
    rfc3339,
};
use crate::auth::Actor;
use crate::store::{StoreError, Write};
use crate::{App, ServiceError};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/events", post(event))
}

/// `POST /v1/events`: an admin event of the contract, decided and stored.
async fn event(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ServiceError> {
    let started = Instant::now();
    let mut req = object(&body(&app, b)?)?;
    if req.get("type").and_then(Value::as_str) == Some("login") {
        return Err(DocumentKind::Event.error("/type", "a login goes to `POST /v1/login`").into());
    }
    req.entry("at").or_insert_with(|| Value::String(rfc3339(now_ms())));
    let Event::Admin(admin) = Event::from_value(&Value::Object(req))? else {
        return Err(ServiceError::bad("/type", "not an admin event"));
    };
    for _ in 0..MAX_ATTEMPTS {
        let (row, state) =
            app.store.user_state(&admin.user).await.inspect_err(|_| app.metrics.database_error())?;
        // The user's groups as their last login reported them: a policy set reads the
        // user's policy now for `approve` and `enrolled`.
        let last_groups: Vec<String> = match &row {
            Some(r) => serde_json::from_str(&r.groups)
                .map_err(|e| StoreError::corrupt(format!("groups of `{}`", admin.user), e))?,
            None => Vec::new(),
        };
        let (result, record) = app.gateway.decide_admin_recorded(&admin, &last_groups, &state);
        in_span(&record);
        let stored = json_text(&Stored { record: &record, actor: &actor.0 })?;
        let log = log_row(&record, &stored, Some(&actor.0));
        let decided = match result {
            Ok(r) => r,
            Err(e) => {
                // A refused event changes nothing, but who tried is logged.
                app.store.log(&log).await.inspect_err(|_| app.metrics.database_error())?;
                if let Some(f) = record.fault.as_ref().filter(|f| f.code.starts_with("host.")) {
                    app.metrics.fault(f.code);
                }
                return Err(e.into());
            }
        };
        let mut next = state;
        next.apply(&decided.effects);
        let state_text = json_text(&next)?;
        let groups = row.as_ref().map(|r| r.groups.clone()).unwrap_or_else(|| "[]".into());
        let write = Write {
            user: &admin.user,
            expected: row.as_ref().map(|r| r.version),
            groups: &groups,
            state: &state_text,
            now_ms: now_ms(),
            pending: Some(pending_rows(&admin.user, &next)?),
        };
        if app.store.commit(&write, &log).await.inspect_err(|_| app.metrics.database_error())? {
            app.metrics.decided(admin.action.as_str(), "done", started.elapsed().as_secs_f64());
            let decision = mdm_engine::Decision::Admin {
                effects: decided.effects,
                commands: decided.commands,
                policy: decided.policy,
            };
            return Ok(named(Json(decision).into_response(), &record));
        }
    }
    app.metrics.database_error();
    Err(StoreError::Contention(admin.user.clone(), MAX_ATTEMPTS).into())
}
