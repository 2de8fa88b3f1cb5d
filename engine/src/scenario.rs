//! Scenario files (spec section 4) and their runner, over any implementation under test.
//!
//! The runner is pure: it gets a scenario's text and a [`Runtime`], and returns what
//! failed plus a trace of every step. The same corpus runs natively ([`Native`]), in the
//! wasmtime host and in the JS package; traces of two runtimes must be equal.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::decide::Access;
use crate::device::UserState;
use crate::error::{Error, ErrorCode};
use crate::{AdminAction, Decision, Event, OnApprove, Policy, UnassignedAccess, decide};

/// An error as any runtime reports it: code, pointer and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The contract's error code, or a host's own (`host.trap`) for a sandbox fault.
    pub code: String,
    /// JSON Pointer of the offending field ("" for none or the root).
    pub pointer: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            code: e.code().as_str().to_string(),
            pointer: e.pointer().to_string(),
            message: e.message(),
        }
    }
}

/// The implementation under test: the engine natively, in wasmtime, or in JS.
pub trait Runtime {
    /// A loaded policy.
    type Policy;

    /// Parses, validates and compiles a policy document.
    fn load_policy(&mut self, policy: &Value) -> Result<Self::Policy, Failure>;

    /// Decides an event document for a user in `groups` with state `state`.
    fn decide(
        &mut self,
        policy: &Self::Policy,
        groups: &[String],
        state: &UserState,
        event: &Value,
    ) -> Result<Decision, Failure>;

    /// Loads a policy document from the bytes a caller received (UTF-8 is checked too).
    fn load_policy_bytes(&mut self, bytes: &[u8]) -> Result<Self::Policy, Failure>;

    /// Decides an event for a user in `groups`, with the stored state and the event as
    /// the bytes a caller received.
    fn decide_bytes(
        &mut self,
        policy: &Self::Policy,
        groups: &[String],
        state: &[u8],
        event: &[u8],
    ) -> Result<Decision, Failure>;
}

/// The engine, called directly.
#[derive(Debug, Default, Clone, Copy)]
pub struct Native;

impl Runtime for Native {
    type Policy = Policy;

    fn load_policy(&mut self, policy: &Value) -> Result<Policy, Failure> {
        Policy::from_value(policy).map_err(Failure::from)
    }

    fn decide(
        &mut self,
        policy: &Policy,
        groups: &[String],
        state: &UserState,
        event: &Value,
    ) -> Result<Decision, Failure> {
        let event = Event::from_value(event)?;
        Ok(decide(policy, groups, state, &event)?)
    }

    fn load_policy_bytes(&mut self, bytes: &[u8]) -> Result<Policy, Failure> {
        Policy::from_slice(bytes).map_err(Failure::from)
    }

    fn decide_bytes(
        &mut self,
        policy: &Policy,
        groups: &[String],
        state: &[u8],
        event: &[u8],
    ) -> Result<Decision, Failure> {
        let state = UserState::from_slice(state)?;
        let event = Event::from_slice(event)?;
        Ok(decide(policy, groups, &state, &event)?)
    }
}

/// Which document of a bad-input case is the bad one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A policy document.
    Policy,
    /// An event.
    Event,
    /// A user's stored state.
    State,
}

impl Document {
    /// The document named by a corpus directory (`policy`, `event`, `state`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "policy" => Some(Document::Policy),
            "event" => Some(Document::Event),
            "state" => Some(Document::State),
            _ => None,
        }
    }
}

/// The good documents a bad-input case is decided with: a bad event is decided under
/// this policy and state, a bad state with this event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// A valid policy.
    pub policy: Value,
    /// The user's groups.
    pub groups: Vec<String>,
    /// A valid stored state.
    pub state: Value,
    /// A valid event.
    pub event: Value,
}

/// Runs one bad-input case (`tests/bad/`): the failure the runtime reports, or what it
/// answered instead of failing.
pub fn run_bad<R: Runtime>(
    rt: &mut R,
    context: &Context,
    document: Document,
    bytes: &[u8],
) -> Result<Failure, String> {
    let answered = |what: &str| Err(format!("expected an error, got {what}"));
    let policy = match document {
        Document::Policy => {
            return match rt.load_policy_bytes(bytes) {
                Ok(_) => answered("a loaded policy"),
                Err(f) => Ok(f),
            };
        }
        Document::Event | Document::State => rt
            .load_policy_bytes(&json_bytes(&context.policy))
            .map_err(|f| format!("the context's policy: {f:?}"))?,
    };
    let (state, event) = match document {
        Document::State => (bytes.to_vec(), json_bytes(&context.event)),
        Document::Event | Document::Policy => (json_bytes(&context.state), bytes.to_vec()),
    };
    match rt.decide_bytes(&policy, &context.groups, &state, &event) {
        Ok(d) => answered(&format!("{:?}", d.effects())),
        Err(f) => Ok(f),
    }
}

fn json_bytes(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// Checks the contract's invariants (issue #6) on one decided event: `state` is the
/// user's state before it. Returns the invariant that does not hold. Determinism is the
/// caller's to check (decide twice), and so is "an error leaves the state unchanged".
pub fn check_invariants(
    policy: &Policy,
    state: &UserState,
    event: &Event,
    decision: &Decision,
) -> Result<(), &'static str> {
    let mut after = state.clone();
    after.apply(decision.effects());
    if state.check().is_ok() && after.check().is_err() {
        return Err("effects turn a valid state into an invalid one");
    }
    let doc = policy.doc();
    // Devices the user already had may stay; only the decision must not add past the cap.
    let cap = state.devices.len().max(doc.assigned.max_devices as usize);
    match (decision, event) {
        (Decision::Login(d), Event::Login(login)) => {
            let allowed = d.outcome.is_allowed();
            if state.is_rejected(&login.device.device_id) && allowed {
                return Err("a rejected device is never allowed");
            }
            if !allowed && (d.access.app || d.access.sso || d.access.push_mfa) {
                return Err("no access unless allowed");
            }
            if d.assigned {
                if after.devices.len() > cap {
                    return Err("an assigned login never goes over max_devices");
                }
                if allowed && policy.posture(&login.device).has_posture_failure() {
                    return Err("a device failing posture is never allowed for an assigned user");
                }
            } else {
                if d.access.sso && doc.unassigned.access != UnassignedAccess::Full {
                    return Err("no SSO for an unassigned user unless the policy grants it");
                }
                if d.access.push_mfa && !doc.unassigned.push_mfa {
                    return Err("no push MFA for an unassigned user unless the policy grants it");
                }
            }
            Ok(())
        }
        (Decision::Admin { .. }, Event::Admin(a)) => {
            if a.action == AdminAction::Approve
                && doc.assigned.on_approve == OnApprove::Replace
                && after.devices.len() > cap
            {
                return Err("a replacing approval never goes over max_devices");
            }
            Ok(())
        }
        _ => Err("a decision of the wrong kind for its event"),
    }
}

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What it shows.
    pub name: String,
    /// The policy at the start.
    pub policy: Value,
    /// User id to group ids.
    #[serde(default)]
    pub directory: BTreeMap<String, Vec<String>>,
    /// User id to initial state.
    #[serde(default)]
    pub state: BTreeMap<String, Value>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One event and what must follow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The event (or `set_policy` / `set_groups`).
    pub event: Value,
    /// What must hold after it.
    #[serde(default)]
    pub expect: Expect,
}

/// What must hold after a step; every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The login's outcome.
    pub outcome: Option<String>,
    /// Whether the user is assigned.
    pub assigned: Option<bool>,
    /// All three access flags.
    pub access: Option<ExpectAccess>,
    /// Each of these reasons appears.
    pub reasons_include: Option<Vec<String>>,
    /// The step fails with this error code.
    pub error: Option<String>,
    /// The exact set of active device ids after the step.
    pub devices: Option<Vec<String>>,
    /// The exact set of pending device ids after the step.
    pub pending: Option<Vec<String>>,
    /// The exact set of rejected device ids after the step.
    pub rejected: Option<Vec<String>>,
}

/// Expected access flags.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpectAccess {
    /// The mobile app.
    pub app: bool,
    /// SSO apps.
    pub sso: bool,
    /// Push MFA.
    pub push_mfa: bool,
}

impl From<Access> for ExpectAccess {
    fn from(a: Access) -> Self {
        ExpectAccess { app: a.app, sso: a.sso, push_mfa: a.push_mfa }
    }
}

/// What running one scenario gave.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// The scenario's name (or what the file was called, when it did not parse).
    pub name: String,
    /// Each step that failed, with what differed. Empty: the scenario passed.
    pub failures: Vec<String>,
    /// Per step: the decision or error, and the user's state after it. Two runtimes
    /// agree when their traces are equal.
    pub trace: Vec<Value>,
}

impl Run {
    /// Whether every step held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

fn ids<'a>(it: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    it.map(str::to_string).collect()
}

/// Runs the scenario in `text` against `rt`. A malformed file is one failure, never a
/// panic. `fallback_name` names the run when the file has no readable name.
pub fn run<R: Runtime>(rt: &mut R, fallback_name: &str, text: &str) -> Run {
    let mut out = Run { name: fallback_name.to_string(), ..Run::default() };
    let scenario: Scenario = match crate::json::from_str(text, ErrorCode::InvalidState) {
        Ok(s) => s,
        Err(e) => {
            out.failures.push(format!("malformed scenario at `{}`: {}", e.pointer(), e.message()));
            return out;
        }
    };
    out.name = scenario.name.clone();
    let mut policy = match rt.load_policy(&scenario.policy) {
        Ok(p) => p,
        Err(f) => {
            out.failures.push(format!("the scenario's policy is invalid at `{}`: {}", f.pointer, f.message));
            return out;
        }
    };
    let mut directory = scenario.directory;
    let mut states: BTreeMap<String, UserState> = BTreeMap::new();
    for (user, value) in &scenario.state {
        match UserState::from_value(value) {
            Ok(s) => {
                states.insert(user.clone(), s);
            }
            Err(e) => {
                let pointer = format!("/state/{}{}", crate::json::escape_pointer(user), e.pointer());
                out.failures.push(format!("malformed scenario at `{pointer}`: {}", e.message()));
                return out;
            }
        }
    }
    for (index, step) in scenario.steps.iter().enumerate() {
        let kind = step.event.get("type").and_then(Value::as_str).unwrap_or("");
        let user = step.event.get("user").and_then(Value::as_str).unwrap_or("").to_string();
        let result: Result<Option<Decision>, Failure> = match kind {
            "set_policy" => match step.event.get("policy") {
                Some(p) => rt.load_policy(p).map(|p| {
                    policy = p;
                    None
                }),
                None => Err(scenario_error("/policy", "missing field `policy`")),
            },
            "set_groups" => {
                match step.event.get("groups").map(|g| serde_json::from_value::<Vec<String>>(g.clone())) {
                    Some(Ok(groups)) if !user.is_empty() => {
                        directory.insert(user.clone(), groups);
                        Ok(None)
                    }
                    _ => Err(scenario_error("/groups", "`set_groups` needs a `user` and a list of `groups`")),
                }
            }
            _ => {
                let groups = directory.get(&user).map(Vec::as_slice).unwrap_or(&[]);
                let state = states.get(&user).cloned().unwrap_or_default();
                rt.decide(&policy, groups, &state, &step.event).map(Some)
            }
        };
        if let Ok(Some(decision)) = &result {
            states.entry(user.clone()).or_default().apply(decision.effects());
        }
        let after = states.get(&user).cloned().unwrap_or_default();
        let prefix = format!("step {index}");
        check(&step.expect, &result, &after, &prefix, &mut out.failures);
        out.trace.push(json!({
            "result": match &result {
                Ok(Some(d)) => json!({ "decision": d }),
                Ok(None) => json!({ "ok": true }),
                Err(f) => json!({ "error": f }),
            },
            "state": after,
        }));
    }
    out
}

fn scenario_error(pointer: &str, message: &str) -> Failure {
    Failure {
        code: ErrorCode::InvalidEvent.as_str().to_string(),
        pointer: pointer.into(),
        message: message.into(),
    }
}

fn check(
    expect: &Expect,
    result: &Result<Option<Decision>, Failure>,
    after: &UserState,
    prefix: &str,
    failures: &mut Vec<String>,
) {
    let mut fail = |what: String| failures.push(format!("{prefix}: {what}"));
    match (&expect.error, result) {
        (Some(want), Err(f)) if f.code == *want => {}
        (Some(want), Err(f)) => fail(format!("error: expected `{want}`, got `{}` ({})", f.code, f.message)),
        (Some(want), Ok(_)) => fail(format!("error: expected `{want}`, got no error")),
        (None, Err(f)) => fail(format!("unexpected error `{}` at `{}`: {}", f.code, f.pointer, f.message)),
        (None, Ok(_)) => {}
    }
    let login = match result {
        Ok(Some(d)) => d.login(),
        _ => None,
    };
    let wants_login = expect.outcome.is_some()
        || expect.assigned.is_some()
        || expect.access.is_some()
        || expect.reasons_include.is_some();
    match login {
        None if wants_login => fail("expected a login decision, got none".into()),
        None => {}
        Some(d) => {
            if let Some(o) = &expect.outcome
                && d.outcome.as_str() != o
            {
                fail(format!("outcome: expected `{o}`, got `{}`", d.outcome.as_str()));
            }
            if let Some(a) = expect.assigned
                && d.assigned != a
            {
                fail(format!("assigned: expected {a}, got {}", d.assigned));
            }
            if let Some(a) = expect.access {
                let got = ExpectAccess::from(d.access);
                if got != a {
                    fail(format!("access: expected {a:?}, got {got:?}"));
                }
            }
            if let Some(rs) = &expect.reasons_include {
                let got: Vec<&str> = d.reasons.iter().map(|r| r.as_str()).collect();
                for r in rs {
                    if !got.contains(&r.as_str()) {
                        fail(format!("reasons: expected `{r}` among {got:?}"));
                    }
                }
            }
        }
    }
    let lists = [
        ("devices", &expect.devices, ids(after.devices.iter().map(|d| d.device.device_id.as_str()))),
        ("pending", &expect.pending, ids(after.pending.iter().map(|p| p.device.device_id.as_str()))),
        ("rejected", &expect.rejected, ids(after.rejected.iter().map(|r| r.device_id.as_str()))),
    ];
    for (what, want, got) in lists {
        if let Some(want) = want {
            let want = ids(want.iter().map(String::as_str));
            if want != got {
                fail(format!("{what}: expected {want:?}, got {got:?}"));
            }
        }
    }
}
