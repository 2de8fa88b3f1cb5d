//! The decision log's records: what a gateway keeps of each decision, and the shadow
//! policy's answer beside it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mdm_engine::{Command, Device, Effect, Outcome, PolicyKey, Reasons, Text, Timestamp};
use serde::Serialize;

use crate::HostError;

/// One decision as the log keeps it: who, which device, what was decided under which
/// policy and engine, why, what changed, how long it took. Serial numbers are masked
/// unless [`crate::Config::reveal_serial_numbers`] is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    /// Unique among the records of one process (a prefix of the process's start, then a
    /// sequence number), so a log shipped from several replicas keeps them apart.
    pub id: String,
    /// When the host decided, by its clock.
    pub time: Timestamp,
    /// The event's own time, which the engine decided at.
    pub at: Timestamp,
    /// The SHA-256 of the policy document that decided (`sha256:` and 64 hex digits).
    pub policy_digest: Arc<str>,
    /// Under a policy set (version 3), the user's policy: its name, `null` when no policy
    /// assigns the user (or the sandbox failed); no key under version 1 and 2.
    #[serde(skip_serializing_if = "PolicyKey::is_absent")]
    pub policy: PolicyKey,
    /// The version of the engine inside the sandbox.
    pub engine_version: Arc<str>,
    /// `login`, or the admin event's type (`approve`, `wipe`...).
    pub event: &'static str,
    /// Whose decision.
    pub user: String,
    /// Which device.
    pub device_id: Text,
    /// A login's outcome (`deny` for a fault); `None` for an admin event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Why, in firing order (logins only).
    #[serde(skip_serializing_if = "no_reasons")]
    pub reasons: Reasons,
    /// The state changes, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
    /// The device commands of an admin event (`deprovision`, `wipe`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Command>,
    /// Why there is no decision: a sandbox fault (`host.*`, the login is denied) or the
    /// contract's error for a refused admin event (`no_pending_request`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// How long the sandboxed call took, in microseconds.
    pub elapsed_us: u64,
    /// The shadow policy's answer to the same login, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowDecision>,
}

fn no_reasons(r: &Reasons) -> bool {
    r.is_empty()
}

/// Why a record has no decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// The stable code ([`HostError::code`]).
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl From<&HostError> for Fault {
    fn from(e: &HostError) -> Self {
        Fault { code: e.code(), message: e.to_string() }
    }
}

/// What a report-only policy would have decided: never applied, only logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowDecision {
    /// The SHA-256 of the shadow policy.
    pub policy_digest: Arc<str>,
    /// Its outcome (`deny` for a fault).
    pub outcome: Outcome,
    /// Under a policy set, the policy it would have placed the user under.
    #[serde(skip_serializing_if = "PolicyKey::is_absent")]
    pub policy: PolicyKey,
    /// Its reasons.
    #[serde(skip_serializing_if = "no_reasons")]
    pub reasons: Reasons,
    /// Its fault, if the sandbox failed on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
}

impl ShadowDecision {
    /// Whether the shadow policy would have answered otherwise than the live one.
    pub fn differs_from(&self, live: Outcome) -> bool {
        self.outcome != live
    }

    /// Whether, both being policy sets, the shadow would have placed the user under a
    /// policy of another name than the live one (`live`, the record's own key).
    pub fn policy_differs_from(&self, live: &PolicyKey) -> bool {
        let name = |k: &PolicyKey| k.name().map(|n| n.name().to_owned());
        !self.policy.is_absent() && !live.is_absent() && name(&self.policy) != name(live)
    }
}

/// Hands out record ids: the process's start time and id, then a counter.
pub(crate) struct Ids {
    prefix: String,
    next: AtomicU64,
}

impl Ids {
    pub(crate) fn new() -> Self {
        let started = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_micros();
        Ids { prefix: format!("{started:x}{:04x}", std::process::id() & 0xffff), next: AtomicU64::new(1) }
    }

    pub(crate) fn next(&self) -> String {
        format!("{}-{}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// The host's clock as a [`Timestamp`].
pub(crate) fn now() -> Timestamp {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    Timestamp::from_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// `sha256:` and the hex digest of `document`.
pub(crate) fn digest(document: &str) -> Arc<str> {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(document.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out.into()
}

/// The effects as the log keeps them: serial numbers masked unless `reveal`.
pub(crate) fn logged_effects(effects: &[Effect], reveal: bool) -> Vec<Effect> {
    let mut effects = effects.to_vec();
    if !reveal {
        for e in &mut effects {
            if let Effect::AddDevice { device, .. } | Effect::AddPending { device, .. } = e {
                mask(device);
            }
        }
    }
    effects
}

/// Keeps the last four characters of a serial number, enough for a help desk to match a
/// device in hand, not enough to enroll a cloned one.
fn mask(device: &mut Device) {
    if let Some(serial) = &device.serial_number {
        device.serial_number = Text::new(&masked_serial(serial.as_str())).ok();
    }
}

/// A serial number as the log and the service's inventory show it unless
/// [`crate::Config::reveal_serial_numbers`] is set: `****` and, of a serial longer than
/// eight characters, its last four.
pub fn masked_serial(serial: &str) -> String {
    let chars: Vec<char> = serial.chars().collect();
    let kept = if chars.len() > 8 { chars.len() - 4 } else { chars.len() };
    std::iter::repeat_n('*', 4).chain(chars.into_iter().skip(kept)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_engine::OsType;

    #[test]
    fn serial_numbers_keep_at_most_their_last_four_characters() {
        let masked = |s: &str| {
            let mut d = Device::new(Text::new("A1").unwrap(), OsType::Ios);
            d.serial_number = Some(Text::new(s).unwrap());
            mask(&mut d);
            d.serial_number.unwrap().as_str().to_string()
        };
        assert_eq!(masked("F2LXK0QJHG7F"), "****HG7F");
        assert_eq!(masked("SHORT123"), "****");
        assert_eq!(masked("é"), "****");
    }

    #[test]
    fn digests_are_sha256_in_hex() {
        assert_eq!(&*digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn ids_are_unique_and_ordered_within_a_process() {
        let ids = Ids::new();
        let (a, b) = (ids.next(), ids.next());
        assert_ne!(a, b);
        assert!(a.ends_with("-1") && b.ends_with("-2"));
    }
}
