//! `POST /v1/events`: an admin event of the contract (`approve`, `reject`, `unblock`,
//! `remove_device`, `enrolled`, `deprovision`, `wipe`), decided and stored. A refused
//! event changes nothing, but who tried is logged.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use mdm_engine::{AdminAction, DocumentKind, Event};
use serde_json::Value;
use serde_json::value::RawValue;

use super::body::{JsonBody, event_text, members, text};
use super::{
    MAX_ATTEMPTS, Shared, Stored, changed_devices, in_span, json_text, log_row, named, pending_rows, rfc3339,
    within_window,
};
use crate::auth::Actor;
use crate::store::{StoreError, Write};
use crate::{App, ServiceError, now_ms, webhooks};

/// Every member an admin event of some type takes (and `device`, so that a login sent
/// here is told where it goes).
const ANY_FIELDS: [&str; 8] = ["type", "user", "device_id", "at", "by", "from_device", "method", "device"];

/// The members an event of `action` takes: the contract's for that type. The engine
/// ignores others; here a misspelt `from_device` would make a user's self-approval the
/// admin's, so they are refused.
fn fields(action: AdminAction) -> &'static [&'static str] {
    match action {
        AdminAction::Approve => &["type", "user", "device_id", "at", "by", "from_device"],
        AdminAction::Enrolled => &["type", "user", "device_id", "at", "method"],
        AdminAction::Reject
        | AdminAction::Unblock
        | AdminAction::RemoveDevice
        | AdminAction::Deprovision
        | AdminAction::Wipe => &["type", "user", "device_id", "at"],
    }
}

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/events", post(event))
}

/// The event's type, when it is a string naming one.
fn kind(members: &[(String, &RawValue)]) -> Option<String> {
    let (_, raw) = members.iter().find(|(n, _)| n == "type")?;
    serde_json::from_str::<String>(raw.get()).ok()
}

/// `POST /v1/events`: an admin event of the contract, decided and stored.
#[utoipa::path(
    post,
    path = "/v1/events",
    tag = "admin",
    security(("admin" = [])),
    request_body(content = super::schema::AdminEvent, content_type = "application/json",
                 description = "An admin event of the contract (`approve`, `reject`, `unblock`, `remove_device`, `enrolled`, `deprovision`, `wipe`); not a login"),
    responses(
        (status = 200, description = "Decided and stored", body = super::schema::AdminDecision,
         headers(("mdm-decision-id" = String, description = "The id of the decision's record"))),
        (status = 409, description = "The contract's `no_pending_request`, `request_expired` or `unknown_device`", body = crate::error::ErrorBody,
         headers(("mdm-decision-id" = String, description = "The id of the refusal's record"))),
    ),
)]
pub(super) async fn event(
    State(app): Shared,
    Extension(actor): Extension<Actor>,
    body: JsonBody,
) -> Result<Response, ServiceError> {
    let started = Instant::now();
    let now = now_ms();
    let members = members(text(&body.bytes)?, &ANY_FIELDS)?;
    let kind = kind(&members);
    if kind.as_deref() == Some("login") {
        return Err(DocumentKind::Event.error("/type", "a login goes to `POST /v1/login`").into());
    }
    if let Some(action) = kind.as_deref().and_then(AdminAction::parse) {
        let takes = fields(action);
        if let Some((name, _)) = members.iter().find(|(n, _)| !takes.contains(&n.as_str())) {
            let expected = takes.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
            return Err(ServiceError::bad(
                format!("/{name}"),
                format!("`{}` takes no field `{name}`, only {expected}", action.as_str()),
            ));
        }
    }
    let at = Value::String(rfc3339(now)).to_string();
    let extra: Vec<(&str, &str)> =
        if members.iter().any(|(n, _)| n == "at") { Vec::new() } else { vec![("at", &at)] };
    let Event::Admin(admin) = Event::from_json(&event_text(&extra, &members)?)? else {
        return Err(ServiceError::bad("/type", "not an admin event"));
    };
    drop(members);
    drop(body);
    within_window(&app, admin.at, now)?;
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
                // A refused event changes nothing, but who tried is logged; an `approve`
                // of an expired request also tells the admin's systems it expired.
                let expired = match &e {
                    mdm_host::HostError::Engine(err) => webhooks::of_refused_approval(
                        &app.webhooks.source,
                        &record,
                        admin.action,
                        err.code(),
                        &state,
                    )?,
                    _ => None,
                };
                match expired {
                    Some(event) => {
                        app.store
                            .log_with_events(&log, &[event])
                            .await
                            .inspect_err(|_| app.metrics.database_error())?;
                        app.outbox.notify_one();
                    }
                    None => app.store.log(&log).await.inspect_err(|_| app.metrics.database_error())?,
                }
                if let Some(f) = record.fault.as_ref().filter(|f| f.code.starts_with("host.")) {
                    app.metrics.fault(f.code);
                }
                // The refusal names its record too: the log has it.
                return Ok(named(ServiceError::from(e).into_response(), &record));
            }
        };
        let events = webhooks::of_decision(
            &app.webhooks.source,
            &record,
            &state,
            &decided.effects,
            &decided.commands,
        )?;
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
            devices: changed_devices(&admin.user, &decided.effects, &next)?,
        };
        if app.store.commit(&write, &log, &events).await.inspect_err(|_| app.metrics.database_error())? {
            if !events.is_empty() {
                app.outbox.notify_one();
            }
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
