//! Webhooks: what the service tells the admin's systems (an approval request waiting, a
//! device registered or wiped, a policy changed), as CloudEvents 1.0 JSON documents signed
//! as the Standard Webhooks specification says.
//!
//! Events go through a transactional outbox: the event's row and its deliveries (one per
//! endpoint that takes the event) are written in the transaction of the change that caused
//! it ([`crate::store::Store::commit`] and the others take them), so a committed change
//! always has its notification and a rolled-back one never does. The dispatcher
//! ([`dispatch`]) delivers each at least once, with exponential backoff and jitter, up to
//! the endpoint's limit of attempts; what is left is `dead`, for an admin to replay.

pub(crate) mod client;
pub(crate) mod dispatch;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use mdm_engine::{AdminAction, CommandAction, Effect, Reason, Timestamp, UserState};
use mdm_host::DecisionRecord;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ServiceError;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// The CloudEvents `source` of every event.
    pub source: String,
    /// The wait after a delivery's first failed attempt; each later one doubles it (with
    /// jitter), up to [`WebhookOptions::backoff_max`].
    pub backoff: Duration,
    /// The longest wait between two attempts.
    pub backoff_max: Duration,
    /// The attempts of one delivery before it is `dead`, for an endpoint that does not set
    /// its own `max_attempts`.
    pub max_attempts: u32,
    /// How long one attempt may take (connecting, sending, the receiver's answer).
    pub timeout: Duration,
    /// How often the dispatcher looks for due deliveries when nothing woke it: deliveries
    /// another replica committed, retries falling due.
    pub poll: Duration,
    /// How often pending approval requests are checked for expiry (`approval.expired`
    /// for those nobody has seen since).
    pub sweep: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            source: DEFAULT_SOURCE.into(),
            backoff: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            max_attempts: 10,
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            sweep: Duration::from_secs(60),
        }
    }
}

/// The CloudEvents `source` unless `--webhook-source` names another.
pub const DEFAULT_SOURCE: &str = "urn:mdm-policy:serve";

/// The events an endpoint may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum EventType {
    /// A login asked for the admin's approval of a further device.
    ApprovalRequested,
    /// A pending request expired before anyone approved it.
    ApprovalExpired,
    /// A device was registered (by a login or an approval).
    DeviceRegistered,
    /// An admin sent a `wipe`.
    DeviceWiped,
    /// An admin sent a `deprovision`.
    DeviceDeprovisioned,
    /// The live policy was replaced.
    PolicyChanged,
}

impl EventType {
    /// Every event, in the order the API lists them.
    pub(crate) const ALL: [EventType; 6] = [
        EventType::ApprovalRequested,
        EventType::ApprovalExpired,
        EventType::DeviceRegistered,
        EventType::DeviceWiped,
        EventType::DeviceDeprovisioned,
        EventType::PolicyChanged,
    ];

    /// As an endpoint's `events` names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EventType::ApprovalRequested => "approval.requested",
            EventType::ApprovalExpired => "approval.expired",
            EventType::DeviceRegistered => "device.registered",
            EventType::DeviceWiped => "device.wiped",
            EventType::DeviceDeprovisioned => "device.deprovisioned",
            EventType::PolicyChanged => "policy.changed",
        }
    }

    /// The CloudEvents `type`: `mdm.` and the name.
    pub(crate) fn cloud_type(self) -> String {
        format!("mdm.{}", self.name())
    }

    fn parse(name: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// An event for the outbox: written in the transaction of its cause.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    /// The CloudEvents `id`, also the Standard Webhooks `webhook-id`: the same for every
    /// attempt and every endpoint, so a receiver can drop a repeat.
    pub(crate) id: String,
    pub(crate) kind: EventType,
    /// A notification that may be found twice (an expired request, seen by a login and
    /// by the sweep) is written once: a second row with the same key is not written.
    pub(crate) dedup: Option<String>,
    pub(crate) created_ms: i64,
    /// The CloudEvents document, as sent.
    pub(crate) body: String,
}

impl Outgoing {
    /// An event of `kind` at `time_ms` with `data`, under a new id.
    pub(crate) fn new(
        source: &str,
        kind: EventType,
        time_ms: i64,
        data: Value,
        dedup: Option<String>,
    ) -> Result<Outgoing, ServiceError> {
        Ok(Outgoing::with_id(event_id()?, source, kind, time_ms, data, dedup))
    }

    /// An event under `id` (from [`event_id`]).
    pub(crate) fn with_id(
        id: String,
        source: &str,
        kind: EventType,
        time_ms: i64,
        data: Value,
        dedup: Option<String>,
    ) -> Outgoing {
        let body = json!({
            "specversion": "1.0",
            "id": id,
            "source": source,
            "type": kind.cloud_type(),
            "time": Timestamp::from_millis(time_ms).to_rfc3339(),
            "datacontenttype": "application/json",
            "data": data,
        });
        Outgoing { id, kind, dedup, created_ms: time_ms, body: body.to_string() }
    }
}

/// A new event id: `evt_` and 128 random bits in hex.
pub(crate) fn event_id() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::internal(RandomError(e.to_string())))?;
    Ok(format!("evt_{}", hex(&bytes)))
}

/// The system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("no random bytes: {0}")]
pub(crate) struct RandomError(String);

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The key that keeps one `approval.expired` per request: the user, the device and when
/// it was requested (a new request of the same device is another one).
fn expired_key(user: &str, device_id: &str, requested_ms: i64) -> String {
    use sha2::Digest as _;
    // A JSON array: its quoting keeps the parts apart whatever they hold.
    let parts = serde_json::to_string(&(user, device_id, requested_ms)).unwrap_or_default();
    format!("approval.expired:{}", hex(&sha2::Sha256::digest(parts.as_bytes())))
}

/// `approval.expired` of `user`'s request for `device_id` made at `requested_ms`, found
/// at `time_ms` by the decision `decision_id` (`None`: by the sweep).
pub(crate) fn expired(
    source: &str,
    user: &str,
    device_id: &str,
    requested_ms: i64,
    decision_id: Option<&str>,
    time_ms: i64,
) -> Result<Outgoing, ServiceError> {
    let data = json!({
        "user": user,
        "device_id": device_id,
        "decision_id": decision_id,
        "requested_at": Timestamp::from_millis(requested_ms).to_rfc3339(),
    });
    let key = expired_key(user, device_id, requested_ms);
    Outgoing::new(source, EventType::ApprovalExpired, time_ms, data, Some(key))
}

/// The events a decision (a login's or an admin event's) causes, from its record, the
/// state it was decided on and its effects: a request made (and an expired one it
/// replaced), a device registered, a wipe or deprovision sent. The decision's own
/// transaction stores them.
pub(crate) fn of_decision(
    source: &str,
    record: &DecisionRecord,
    before: &UserState,
    effects: &[Effect],
    commands: &[mdm_engine::Command],
) -> Result<Vec<Outgoing>, ServiceError> {
    let time_ms = record.time.as_millis();
    let mut out = Vec::new();
    let data = |device_id: &str, extra: Option<(&str, Value)>| {
        let mut d = serde_json::Map::new();
        d.insert("user".into(), json!(record.user));
        d.insert("device_id".into(), json!(device_id));
        d.insert("decision_id".into(), json!(record.id));
        if let Some((k, v)) = extra {
            d.insert(k.into(), v);
        }
        if let Some(name) = record.policy.name() {
            d.insert("policy".into(), json!(name.name()));
        } else if !record.policy.is_absent() {
            d.insert("policy".into(), Value::Null);
        }
        Value::Object(d)
    };
    if record.reasons.contains(Reason::DeviceRequestExpired) {
        let device_id = record.device_id.as_str();
        if let Some(p) = before.pending.iter().find(|p| p.device.device_id.as_str() == device_id) {
            let requested = p.requested_at.as_millis();
            out.push(expired(source, &record.user, device_id, requested, Some(&record.id), time_ms)?);
        }
    }
    for effect in effects {
        match effect {
            Effect::AddPending { device, at } => out.push(Outgoing::new(
                source,
                EventType::ApprovalRequested,
                time_ms,
                data(device.device_id.as_str(), Some(("requested_at", json!(at.to_rfc3339())))),
                None,
            )?),
            Effect::AddDevice { device, at } => out.push(Outgoing::new(
                source,
                EventType::DeviceRegistered,
                time_ms,
                data(device.device_id.as_str(), Some(("registered_at", json!(at.to_rfc3339())))),
                None,
            )?),
            _ => {}
        }
    }
    for command in commands {
        let kind = match command.action {
            CommandAction::Wipe => EventType::DeviceWiped,
            CommandAction::Deprovision => EventType::DeviceDeprovisioned,
        };
        out.push(Outgoing::new(source, kind, time_ms, data(command.device_id.as_str(), None), None)?);
    }
    Ok(out)
}

/// `approval.expired` for an `approve` the engine refused with `request_expired`: the
/// request is still stored (a refused event changes nothing), but nobody will approve it.
pub(crate) fn of_refused_approval(
    source: &str,
    record: &DecisionRecord,
    action: AdminAction,
    code: mdm_engine::ErrorCode,
    state: &UserState,
) -> Result<Option<Outgoing>, ServiceError> {
    if action != AdminAction::Approve || code != mdm_engine::ErrorCode::RequestExpired {
        return Ok(None);
    }
    let device_id = record.device_id.as_str();
    let Some(p) = state.pending.iter().find(|p| p.device.device_id.as_str() == device_id) else {
        return Ok(None);
    };
    let (requested, time_ms) = (p.requested_at.as_millis(), record.time.as_millis());
    expired(source, &record.user, device_id, requested, Some(&record.id), time_ms).map(Some)
}

/// `policy.changed` under `id`: the live policy is now `version` (`digest`), stored by
/// `actor`.
pub(crate) fn policy_changed(
    id: String,
    source: &str,
    version: i64,
    digest: &str,
    actor: &str,
    time_ms: i64,
) -> Outgoing {
    let data = json!({ "version": version, "digest": digest, "actor": actor });
    Outgoing::with_id(id, source, EventType::PolicyChanged, time_ms, data, None)
}

// ---------------------------------------------------------------------------------------
// Signatures (Standard Webhooks)

/// The prefix of a Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";
/// The bytes a secret's key may have (the specification's 24 to 64).
const SECRET_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// A secret's key: the bytes after `whsec_`, base64-decoded.
pub(crate) fn secret_key(secret: &str) -> Option<Vec<u8>> {
    let key = BASE64.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    SECRET_BYTES.contains(&key.len()).then_some(key)
}

/// The `webhook-signature` header: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the secret's key.
pub(crate) fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> Result<String, ServiceError> {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).map_err(ServiceError::internal)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

// ---------------------------------------------------------------------------------------
// Endpoints

/// The most endpoints a service keeps.
pub(crate) const MAX_ENDPOINTS: usize = 32;
/// The most attempts an endpoint may ask for.
pub(crate) const MAX_ATTEMPTS: u32 = 100;

/// An endpoint as `PUT /v1/webhooks` takes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointInput {
    /// 1 to 64 letters, digits, `-`, `_`, `.`; unique.
    pub(crate) id: String,
    /// `https://`, or `http://` to a loopback host.
    pub(crate) url: String,
    /// `whsec_` and the base64 of 24 to 64 random bytes.
    pub(crate) secret: String,
    /// The events it takes (`approval.requested`, `approval.expired`, `device.registered`,
    /// `device.wiped`, `device.deprovisioned`, `policy.changed`); all without it.
    pub(crate) events: Option<Vec<String>>,
    /// 1 to 100; the service's `--webhook-attempts` without it.
    #[schema(minimum = 1, maximum = 100)]
    pub(crate) max_attempts: Option<u32>,
}

/// `PUT /v1/webhooks`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointsInput {
    pub(crate) endpoints: Vec<EndpointInput>,
}

/// A checked endpoint, as stored.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) secret: String,
    pub(crate) events: Vec<EventType>,
    pub(crate) max_attempts: Option<u32>,
}

/// An endpoint as `GET /v1/webhooks` shows it: the secret masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EndpointView {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) secret: String,
    pub(crate) events: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_attempts: Option<u32>,
}

impl Endpoint {
    /// As the API shows it: the secret's prefix and its last four characters only.
    pub(crate) fn view(&self) -> EndpointView {
        let tail: String = {
            let chars: Vec<char> = self.secret.chars().collect();
            chars.iter().skip(chars.len().saturating_sub(4)).collect()
        };
        EndpointView {
            id: self.id.clone(),
            url: self.url.clone(),
            secret: format!("{SECRET_PREFIX}****{tail}"),
            events: self.events.iter().map(|e| e.name()).collect(),
            max_attempts: self.max_attempts,
        }
    }
}

/// Checks `PUT /v1/webhooks`'s endpoints: ids unique (1 to 64 letters, digits, `-`, `_`,
/// `.`), URLs HTTPS or HTTP to a loopback host, secrets `whsec_` and base64 of 24 to 64
/// bytes, events known and each named once (all of them when absent).
pub(crate) fn check(input: EndpointsInput) -> Result<Vec<Endpoint>, ServiceError> {
    if input.endpoints.len() > MAX_ENDPOINTS {
        return Err(ServiceError::bad("/endpoints", format!("at most {MAX_ENDPOINTS} endpoints")));
    }
    let mut out: Vec<Endpoint> = Vec::with_capacity(input.endpoints.len());
    for (i, e) in input.endpoints.into_iter().enumerate() {
        let at = |field: &str| format!("/endpoints/{i}/{field}");
        let id_ok = (1..=64).contains(&e.id.len())
            && e.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !id_ok {
            return Err(ServiceError::bad(at("id"), "must be 1 to 64 letters, digits, `-`, `_` or `.`"));
        }
        if out.iter().any(|o| o.id == e.id) {
            return Err(ServiceError::bad(at("id"), format!("`{}` is given twice", e.id)));
        }
        client::Target::parse(&e.url).map_err(|why| ServiceError::bad(at("url"), why))?;
        if secret_key(&e.secret).is_none() {
            return Err(ServiceError::bad(
                at("secret"),
                "must be `whsec_` and the base64 of a key of 24 to 64 bytes",
            ));
        }
        let events = match e.events {
            None => EventType::ALL.to_vec(),
            Some(names) => {
                if names.is_empty() {
                    return Err(ServiceError::bad(
                        at("events"),
                        "must name at least one event, or be left out",
                    ));
                }
                let mut events = Vec::with_capacity(names.len());
                for (j, name) in names.iter().enumerate() {
                    let Some(kind) = EventType::parse(name) else {
                        let known: Vec<_> =
                            EventType::ALL.iter().map(|e| format!("`{}`", e.name())).collect();
                        return Err(ServiceError::bad(
                            format!("/endpoints/{i}/events/{j}"),
                            format!("`{name}` is not an event: {}", known.join(", ")),
                        ));
                    };
                    if events.contains(&kind) {
                        return Err(ServiceError::bad(
                            format!("/endpoints/{i}/events/{j}"),
                            format!("`{name}` is given twice"),
                        ));
                    }
                    events.push(kind);
                }
                events
            }
        };
        if let Some(n) = e.max_attempts
            && !(1..=MAX_ATTEMPTS).contains(&n)
        {
            return Err(ServiceError::bad(at("max_attempts"), format!("must be 1 to {MAX_ATTEMPTS}")));
        }
        out.push(Endpoint { id: e.id, url: e.url, secret: e.secret, events, max_attempts: e.max_attempts });
    }
    Ok(out)
}

/// Reads a stored endpoint's events.
pub(crate) fn parse_events(names: &[String]) -> Vec<EventType> {
    let mut events: Vec<EventType> = names.iter().filter_map(|n| EventType::parse(n)).collect();
    events.sort();
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's example: its secret, id, timestamp and body
    /// give its signature.
    #[test]
    fn signatures_are_the_specifications() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, r#"{"test": 2432232314}"#)
            .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_whsec_and_base64_of_24_to_64_bytes() {
        assert!(secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_some());
        assert!(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none(), "no prefix");
        assert!(secret_key("whsec_c2hvcnQ=").is_none(), "5 bytes");
        assert!(secret_key("whsec_not base64!").is_none());
    }

    #[test]
    fn an_expired_request_has_one_key_per_request() {
        assert_eq!(expired_key("a", "b", 1), expired_key("a", "b", 1));
        assert_ne!(expired_key("a", "b", 1), expired_key("a", "b", 2));
        assert_ne!(expired_key("a\0b", "c", 1), expired_key("a", "b\0c", 1));
    }
}
