//! The dispatcher: claims due deliveries from the outbox, signs and sends them, and
//! records each answer; and the sweep, which finds pending requests that expired with
//! nobody looking.
//!
//! At least once: a delivery is marked `delivered` only after a 2xx, so a crash between
//! the send and that mark sends it again (under the same `webhook-id`, which a receiver
//! uses to drop the repeat). In the normal path each delivery is sent once, whatever the
//! number of replicas: a claim is a lease that no other replica takes over before it runs
//! out, and it outlasts an attempt.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use mdm_engine::{Admin, AdminAction, ErrorCode, Text, Timestamp, UserState};
use mdm_host::HostError;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::client::Client;
use super::{WebhookOptions, secret_key, signature};
use crate::error::chain;
use crate::store::webhooks::{Claimed, ENDPOINT_REMOVED};
use crate::{App, now_ms};

/// The most deliveries one claim takes (and sends at once).
const BATCH: i64 = 16;

/// How long a claim keeps other replicas off a delivery: twice an attempt's time and a
/// margin for recording its answer.
pub(crate) fn lease(options: &WebhookOptions) -> Duration {
    options.timeout.saturating_mul(2) + Duration::from_millis(500)
}

/// The wait before attempt `attempt + 1`, after `attempt` failed ones: `backoff` doubled
/// per attempt up to `max`, of which a random part (up to half) is left out, so that
/// deliveries that failed together (a receiver that was down) do not all come back at the
/// same moment.
pub(crate) fn backoff(options: &WebhookOptions, attempt: i64, random: u64) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 32)).unwrap_or(32);
    let full = options.backoff.saturating_mul(1u32 << doublings.min(31)).min(options.backoff_max);
    let ms = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
    let half = ms / 2;
    Duration::from_millis(ms - random % (half + 1))
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Jitter needs no secrecy: without random bytes, no jitter.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// Delivers until `stop` says so, then finishes the attempts in flight.
pub(crate) async fn run(app: Arc<App>, client: Client, mut stop: watch::Receiver<bool>) {
    let options = app.webhooks.clone();
    let mut inflight = JoinSet::new();
    loop {
        if *stop.borrow() {
            break;
        }
        // Claim only what can be sent now: at most a batch in flight.
        let room = BATCH - i64::try_from(inflight.len()).unwrap_or(BATCH);
        if room > 0 {
            let now = now_ms();
            let lease_until = now + i64::try_from(lease(&options).as_millis()).unwrap_or(i64::MAX / 2);
            match app.store.claim(now, lease_until, room).await {
                Ok(claimed) => {
                    // A full batch: more may be due, claimed as soon as one finishes.
                    for c in claimed {
                        let (app, client) = (app.clone(), client.clone());
                        inflight.spawn(async move { attempt(&app, &client, c).await });
                    }
                }
                Err(e) => {
                    app.metrics.database_error();
                    tracing::error!(cause = %chain(&e), "claiming webhook deliveries");
                }
            }
        }
        tokio::select! {
            () = app.outbox.notified() => {}
            () = tokio::time::sleep(options.poll) => {}
            Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            _ = stop.changed() => {}
        }
    }
    // Stopping: the attempts in flight finish (each within its timeout) and are recorded.
    while inflight.join_next().await.is_some() {}
}

/// One attempt of a claimed delivery, and its answer recorded.
async fn attempt(app: &App, client: &Client, c: Claimed) {
    let options = &app.webhooks;
    let Some(endpoint) = c.endpoint else {
        record(app, c.id, None, None, ENDPOINT_REMOVED).await;
        return;
    };
    let Some(key) = secret_key(&endpoint.secret) else {
        // Checked when stored: a secret that no longer reads was changed behind the API.
        record(app, c.id, None, None, "webhook.secret").await;
        return;
    };
    let timestamp = now_ms() / 1000;
    let headers = match signature(&key, &c.event_id, timestamp, &c.body) {
        Ok(sig) => [
            ("webhook-id", c.event_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", sig),
        ],
        Err(e) => {
            e.log();
            record(app, c.id, None, None, "webhook.secret").await;
            return;
        }
    };
    let max = endpoint.max_attempts.unwrap_or(i64::from(options.max_attempts));
    let result = client.post(&endpoint.url, &headers, &c.body).await;
    let now = now_ms();
    let retry_at = (c.attempt < max).then(|| {
        now + i64::try_from(backoff(options, c.attempt, random_u64()).as_millis()).unwrap_or(i64::MAX / 2)
    });
    match result {
        Ok(status) if (200..300).contains(&status) => {
            app.metrics.webhook("delivered");
            if let Err(e) = app.store.delivered(c.id, status, now).await {
                app.metrics.database_error();
                // Sent, but not marked: it is sent again after the lease (at least once).
                tracing::error!(delivery = c.id, cause = %chain(&e), "recording a webhook delivery");
            }
            tracing::debug!(
                delivery = c.id,
                event = c.event_id,
                endpoint = endpoint.id,
                status,
                "webhook delivered"
            );
        }
        Ok(status) => {
            tracing::warn!(
                delivery = c.id,
                event = c.event_id,
                endpoint = endpoint.id,
                status,
                attempt = c.attempt,
                "a webhook receiver refused a delivery"
            );
            record(app, c.id, retry_at, Some(status), "webhook.status").await;
        }
        Err(e) => {
            tracing::warn!(
                delivery = c.id, event = c.event_id, endpoint = endpoint.id, attempt = c.attempt,
                code = e.code(), cause = %chain(&e), "a webhook attempt failed"
            );
            record(app, c.id, retry_at, None, e.code()).await;
        }
    }
}

/// Records a failed attempt: due again at `retry_at`, or dead.
async fn record(app: &App, id: i64, retry_at: Option<i64>, status: Option<u16>, code: &str) {
    app.metrics.webhook(if retry_at.is_some() { "retry" } else { "dead" });
    if retry_at.is_none() {
        tracing::warn!(delivery = id, code, "a webhook delivery is dead: it waits for a replay");
    }
    if let Err(e) = app.store.attempt_failed(id, retry_at, status, code, now_ms()).await {
        app.metrics.database_error();
        tracing::error!(delivery = id, cause = %chain(&e), "recording a failed webhook attempt");
    }
}

/// The most pending requests one sweep looks at.
const SWEEP_LIMIT: i64 = 10_000;

/// Every `options.sweep`, finds the pending requests that have expired since anyone
/// looked, and notifies `approval.expired` for each (once: a request already notified,
/// by a login or another replica, is not notified again).
///
/// Whether a request has expired is the engine's to say, with the user's policy now: the
/// sweep asks it with an `approve` decided in the sandbox and thrown away, which the
/// engine refuses with `request_expired` exactly when it has. A user no policy assigns
/// now cannot be approved at all (`not_permitted` under a set): their request is left to
/// be found when next seen.
pub(crate) async fn sweep(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let mut notified: HashSet<(String, String, i64)> = HashSet::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(app.webhooks.sweep) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = sweep_once(&app, &mut notified).await {
            app.metrics.database_error();
            tracing::error!(cause = %chain(&e), "sweeping for expired approval requests");
        }
    }
}

async fn sweep_once(
    app: &App,
    notified: &mut HashSet<(String, String, i64)>,
) -> Result<(), crate::ServiceError> {
    let requests = app.store.pending_requests(SWEEP_LIMIT).await?;
    // What is no longer pending needs no memory.
    let current: HashSet<_> = requests.iter().cloned().collect();
    notified.retain(|k| current.contains(k));
    let mut users: Option<(String, Vec<String>, UserState)> = None;
    for (user, device_id, requested_ms) in requests {
        let key = (user.clone(), device_id.clone(), requested_ms);
        if notified.contains(&key) {
            continue;
        }
        if users.as_ref().is_none_or(|(u, _, _)| *u != user) {
            let (row, state) = app.store.user_state(&user).await?;
            let groups: Vec<String> = match &row {
                Some(r) => serde_json::from_str(&r.groups).unwrap_or_default(),
                None => Vec::new(),
            };
            users = Some((user.clone(), groups, state));
        }
        let Some((_, groups, state)) = users.as_ref() else { continue };
        let Ok(device) = Text::new(&device_id) else { continue };
        let now = now_ms();
        let probe = Admin::new(AdminAction::Approve, user.clone(), device, Timestamp::from_millis(now));
        match app.gateway.decide_admin(&probe, groups, state) {
            Err(HostError::Engine(e)) if e.code() == ErrorCode::RequestExpired => {
                let event = super::expired(&app.webhooks.source, &user, &device_id, requested_ms, None, now)?;
                if app.store.record_events(&[event]).await? {
                    app.outbox.notify_one();
                }
                tracing::info!(user, device_id, "an approval request expired");
                notified.insert(key);
            }
            Err(HostError::Engine(_)) | Ok(_) => {}
            Err(e) => {
                app.metrics.fault(e.code());
                tracing::warn!(code = e.code(), cause = %e, "the sandbox failed while sweeping");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitter_takes_at_most_half() {
        let o = WebhookOptions {
            backoff: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
            ..WebhookOptions::default()
        };
        let ms = |attempt, random| backoff(&o, attempt, random).as_millis();
        assert_eq!(
            [ms(1, 0), ms(2, 0), ms(3, 0), ms(4, 0), ms(5, 0), ms(60, 0)],
            [100, 200, 400, 800, 1000, 1000]
        );
        assert_eq!(ms(1, 50), 50);
        assert_eq!(ms(1, 51), 100, "random wraps within half");
        for r in [1, 7, 99, u64::MAX] {
            assert!((500..=1000).contains(&ms(9, r)), "{}", ms(9, r));
        }
    }
}
