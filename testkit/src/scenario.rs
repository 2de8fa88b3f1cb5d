//! Scenario files (spec section 4) and their runner, over any implementation under test.
//!
//! The runner gets a scenario's text and an [`UnderTest`], and returns what failed plus a
//! typed trace of every step. Two implementations agree when their traces are equal.

use std::collections::{BTreeMap, BTreeSet};

use mdm_engine::{Decision, DocumentKind, PolicyKey, Reason, UserState};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Failure, UnderTest};

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// An editor's hint to a JSON Schema; ignored.
    #[serde(rename = "$schema", default)]
    pub json_schema: Option<String>,
    /// What it shows.
    pub name: String,
    /// The policy at the start.
    #[cfg_attr(feature = "schema", schemars(with = "mdm_engine::PolicyDocument"))]
    pub policy: Value,
    /// User id to group ids.
    #[serde(default)]
    pub directory: BTreeMap<String, Vec<String>>,
    /// User id to initial state.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, mdm_engine::UserState>"))]
    pub state: BTreeMap<String, Value>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One event and what must follow.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The event (or `set_policy` / `set_groups`), as written: an event the engine must
    /// refuse is a step too.
    #[cfg_attr(feature = "schema", schemars(with = "schema::StepEvent"))]
    pub event: Value,
    /// What must hold after it.
    #[serde(default)]
    pub expect: Expect,
}

/// What must hold after a step; every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// The method in the decision's `enroll`; `null`: none.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub enroll: Option<Option<String>>,
    /// The decision's `grace_until` (RFC 3339); `null`: none.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub grace_until: Option<Option<String>>,
    /// App id to status: the decision's store exactly (`{}`: none).
    pub apps: Option<BTreeMap<String, String>>,
    /// The decision's configuration, exactly; `null`: none.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Value>"))]
    pub configuration: Option<Option<Value>>,
    /// The decision's commands, exactly (`[]`: none).
    pub commands: Option<Vec<Value>>,
    /// The exact set of active device ids with an `enrollment` after the step.
    pub enrolled: Option<Vec<String>>,
    /// The exact set of active device ids with a `noncompliant_since` after the step.
    pub noncompliant: Option<Vec<String>>,
    /// The decision's `policy` (version 3): the name of the user's policy; `null`: no
    /// policy assigns the user. A step decided under a version 1 or 2 document fails it.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub policy: Option<Option<String>>,
}

/// A key whose `null` means something: present (`Some`), with `None` for `null`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Expected access flags.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExpectAccess {
    /// The mobile app.
    pub app: bool,
    /// SSO apps.
    pub sso: bool,
    /// Push MFA.
    pub push_mfa: bool,
}

/// The scenario file's JSON Schema.
#[cfg(feature = "schema")]
pub fn schema() -> schemars::Schema {
    mdm_engine::schema::root::<Scenario>("mdm-policy scenario")
}

#[cfg(feature = "schema")]
mod schema {
    #![allow(dead_code)]
    use mdm_engine::schema::{EventDoc, Id};

    /// An event of the contract, a change of the world, or any other object: an event the
    /// engine must refuse is a step too.
    #[derive(schemars::JsonSchema)]
    #[serde(untagged)]
    pub(super) enum StepEvent {
        /// An event for the engine.
        Event(EventDoc),
        /// A change of the world.
        World(World),
        /// An event the engine must refuse.
        Refused(serde_json::Map<String, serde_json::Value>),
    }

    /// A change of the world between events.
    #[derive(schemars::JsonSchema)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub(super) enum World {
        /// The admin saves another policy.
        SetPolicy {
            /// The new policy (an invalid one is refused, and the old one stays).
            policy: serde_json::Value,
        },
        /// The directory changes a user's groups.
        SetGroups {
            /// Whose.
            user: Id,
            /// The new groups.
            groups: Vec<Id>,
        },
    }
}

/// A step's event as the runner reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum StepEvent {
    /// `set_policy`: the admin saves another policy.
    SetPolicy(Value),
    /// `set_groups`: the directory changes a user's groups.
    SetGroups {
        /// Whose.
        user: String,
        /// The new groups.
        groups: Vec<String>,
    },
    /// An event for the implementation under test, as written; `user` picks the state
    /// and groups it is decided with ("" when the event names nobody).
    Decide {
        /// The user the event names.
        user: String,
    },
}

impl StepEvent {
    /// Reads a step's event. A malformed `set_policy` or `set_groups` is an error of the
    /// step (`invalid_event`), as it is in the JS runner; anything else is the engine's
    /// to judge.
    pub fn read(event: &Value) -> Result<StepEvent, Failure> {
        let user = event.get("user").and_then(Value::as_str).unwrap_or_default().to_string();
        match event.get("type").and_then(Value::as_str) {
            Some("set_policy") => match event.get("policy") {
                Some(p) => Ok(StepEvent::SetPolicy(p.clone())),
                None => Err(step_error("/policy", "missing field `policy`")),
            },
            Some("set_groups") => {
                let groups = event.get("groups").and_then(|g| serde_json::from_value(g.clone()).ok());
                match groups {
                    Some(groups) if !user.is_empty() => Ok(StepEvent::SetGroups { user, groups }),
                    _ => Err(step_error("/groups", "`set_groups` needs a `user` and a list of `groups`")),
                }
            }
            _ => Ok(StepEvent::Decide { user }),
        }
    }
}

fn step_error(pointer: &str, message: &str) -> Failure {
    Failure::from(DocumentKind::Event.error(pointer, message))
}

/// What a step gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    /// The implementation decided.
    Decision(Decision),
    /// The world changed (`set_policy`, `set_groups`).
    Ok,
    /// The step failed; nothing changed.
    Error(Failure),
}

/// One step of a run: the event as written, what it gave, and its user's state after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    /// The step's event, as written.
    pub event: Value,
    /// The decision, `ok`, or the error.
    pub result: StepResult,
    /// The state of the user the event names, after the step.
    pub state: UserState,
}

/// What running one scenario gave.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// The scenario's name (or what the file was called, when it did not parse).
    pub name: String,
    /// Each step that failed, with what differed. Empty: the scenario passed.
    pub failures: Vec<String>,
    /// Every step, in order.
    pub trace: Vec<TraceStep>,
}

impl Run {
    /// Whether every step held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The first step where `self` and `other` differ, with both sides as JSON; a run
    /// that is longer than the other differs at the first extra step.
    pub fn first_difference(&self, other: &Run) -> Option<(usize, String, String)> {
        let show = |s: Option<&TraceStep>| s.map_or_else(|| "nothing".into(), json);
        let longest = self.trace.len().max(other.trace.len());
        (0..longest).find_map(|i| {
            let (a, b) = (self.trace.get(i), other.trace.get(i));
            (a != b).then(|| (i, show(a), show(b)))
        })
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("<cannot show: {e}>"))
}

/// A JSON Pointer (RFC 6901) from serde's path.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|seg| match seg {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", mdm_engine::abi::escape_pointer(key))),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// Reads a scenario file; a malformed one is a message with the JSON Pointer of the fault.
pub fn parse(text: &str) -> Result<Scenario, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let scenario: Scenario = serde_path_to_error::deserialize(de)
        .map_err(|e| format!("malformed scenario at `{}`: {}", pointer(e.path()), e.inner()))?;
    for (user, value) in &scenario.state {
        UserState::from_value(value).map_err(|e| {
            let at = format!("/state/{}{}", mdm_engine::abi::escape_pointer(user), e.pointer());
            format!("malformed scenario at `{at}`: {}", e.message())
        })?;
    }
    Ok(scenario)
}

/// Runs the scenario in `text` against `rt`. A malformed file is one failure, never a
/// panic. `fallback_name` names the run when the file has no readable name.
pub fn run<R: UnderTest>(rt: &mut R, fallback_name: &str, text: &str) -> Run {
    let mut out = Run { name: fallback_name.to_string(), ..Run::default() };
    let scenario = match parse(text) {
        Ok(s) => s,
        Err(e) => {
            out.failures.push(e);
            return out;
        }
    };
    out.name = scenario.name.clone();
    let mut policy = match rt.load_policy(scenario.policy.to_string().as_bytes()) {
        Ok(p) => p,
        Err(f) => {
            out.failures.push(format!("the scenario's policy is invalid at `{}`: {}", f.pointer, f.message));
            return out;
        }
    };
    let mut directory = scenario.directory;
    // Checked by `parse`; an entry that fails here cannot occur.
    let mut states: BTreeMap<String, UserState> = scenario
        .state
        .iter()
        .filter_map(|(user, value)| Some((user.clone(), UserState::from_value(value).ok()?)))
        .collect();
    for (index, step) in scenario.steps.into_iter().enumerate() {
        let read = StepEvent::read(&step.event);
        let user = match &read {
            Ok(StepEvent::Decide { user } | StepEvent::SetGroups { user, .. }) => user.clone(),
            Ok(StepEvent::SetPolicy(_)) | Err(_) => {
                step.event.get("user").and_then(Value::as_str).unwrap_or_default().to_string()
            }
        };
        let result = match read {
            Err(f) => StepResult::Error(f),
            Ok(StepEvent::SetPolicy(p)) => match rt.load_policy(p.to_string().as_bytes()) {
                Ok(p) => {
                    policy = p;
                    StepResult::Ok
                }
                Err(f) => StepResult::Error(f),
            },
            Ok(StepEvent::SetGroups { user, groups }) => {
                directory.insert(user, groups);
                StepResult::Ok
            }
            Ok(StepEvent::Decide { user }) => {
                let groups = directory.get(&user).map(Vec::as_slice).unwrap_or(&[]);
                let state = json(states.get(&user).unwrap_or(&UserState::default()));
                match rt.decide(&policy, groups, state.as_bytes(), step.event.to_string().as_bytes()) {
                    Ok(decision) => {
                        states.entry(user).or_default().apply(decision.effects());
                        StepResult::Decision(decision)
                    }
                    Err(f) => StepResult::Error(f),
                }
            }
        };
        let after = states.get(&user).cloned().unwrap_or_default();
        check(&step.expect, &result, &after, &format!("step {index}"), &mut out.failures);
        out.trace.push(TraceStep { event: step.event, result, state: after });
    }
    out
}

fn ids<'a>(it: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    it.map(str::to_string).collect()
}

fn check(expect: &Expect, result: &StepResult, after: &UserState, prefix: &str, failures: &mut Vec<String>) {
    let mut fail = |what: String| failures.push(format!("{prefix}: {what}"));
    match (&expect.error, result) {
        (Some(want), StepResult::Error(f)) if f.code == *want => {}
        (Some(want), StepResult::Error(f)) => {
            fail(format!("error: expected `{want}`, got `{}` ({})", f.code, f.message))
        }
        (Some(want), _) => fail(format!("error: expected `{want}`, got no error")),
        (None, StepResult::Error(f)) => {
            fail(format!("unexpected error `{}` at `{}`: {}", f.code, f.pointer, f.message))
        }
        (None, _) => {}
    }
    if let Some(want) = &expect.policy {
        match result {
            _ if expect.error.is_some() => fail("a step that expects an error names no `policy`".into()),
            StepResult::Decision(d) => match d.policy() {
                PolicyKey::Absent => fail(format!(
                    "policy: expected {want:?}, but a version 1 or 2 document decided this step (its decisions have no `policy`)"
                )),
                got => {
                    let got = got.name().map(|n| n.name().to_string());
                    if got != *want {
                        fail(format!("policy: expected {want:?}, got {got:?}"));
                    }
                }
            },
            _ => fail(format!("policy: expected {want:?}, got no decision")),
        }
    }
    let login = match result {
        StepResult::Decision(d) => d.login(),
        _ => None,
    };
    let wants_login = expect.outcome.is_some()
        || expect.assigned.is_some()
        || expect.access.is_some()
        || expect.reasons_include.is_some()
        || expect.enroll.is_some()
        || expect.grace_until.is_some()
        || expect.apps.is_some()
        || expect.configuration.is_some();
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
                let got = ExpectAccess { app: d.access.app, sso: d.access.sso, push_mfa: d.access.push_mfa };
                if got != a {
                    fail(format!("access: expected {a:?}, got {got:?}"));
                }
            }
            for r in expect.reasons_include.iter().flatten() {
                match Reason::parse(r) {
                    None => fail(format!("reasons: `{r}` is not a reason code of the contract")),
                    Some(want) if !d.reasons.contains(want) => {
                        let got: Vec<&str> = d.reasons.iter().map(Reason::as_str).collect();
                        fail(format!("reasons: expected `{r}` among {got:?}"));
                    }
                    Some(_) => {}
                }
            }
            if let Some(want) = &expect.enroll {
                let got = d.enroll.map(|e| e.method.as_str().to_string());
                if got != *want {
                    fail(format!("enroll: expected {want:?}, got {got:?}"));
                }
            }
            if let Some(want) = &expect.grace_until {
                let got = d.grace_until.map(|t| t.to_rfc3339());
                let want_t = want.as_deref().map(mdm_engine::Timestamp::parse);
                let same = match (&want_t, d.grace_until) {
                    (None, None) => true,
                    (Some(Ok(w)), Some(g)) => *w == g,
                    _ => false,
                };
                if !same {
                    fail(format!("grace_until: expected {want:?}, got {got:?}"));
                }
            }
            if let Some(want) = &expect.apps {
                let got: BTreeMap<String, String> = d
                    .apps
                    .iter()
                    .flatten()
                    .map(|a| (a.id.to_string(), a.status.as_str().to_string()))
                    .collect();
                if got != *want {
                    fail(format!("apps: expected {want:?}, got {got:?}"));
                }
            }
            if let Some(want) = &expect.configuration {
                let got = d.configuration.map(|c| serde_json::to_value(c).unwrap_or(Value::Null));
                if got != *want {
                    fail(format!("configuration: expected {want:?}, got {got:?}"));
                }
            }
        }
    }
    if let Some(want) = &expect.commands {
        let got: Vec<Value> = match result {
            StepResult::Decision(Decision::Admin { commands, .. }) => {
                commands.iter().map(|c| serde_json::to_value(c).unwrap_or(Value::Null)).collect()
            }
            _ => Vec::new(),
        };
        if got != *want {
            fail(format!("commands: expected {want:?}, got {got:?}"));
        }
    }
    let lists = [
        ("devices", &expect.devices, ids(after.devices.iter().map(|d| d.device.device_id.as_str()))),
        ("pending", &expect.pending, ids(after.pending.iter().map(|p| p.device.device_id.as_str()))),
        ("rejected", &expect.rejected, ids(after.rejected.iter().map(|r| r.device_id.as_str()))),
        (
            "enrolled",
            &expect.enrolled,
            ids(after.devices.iter().filter(|d| d.enrollment.is_some()).map(|d| d.device.device_id.as_str())),
        ),
        (
            "noncompliant",
            &expect.noncompliant,
            ids(after
                .devices
                .iter()
                .filter(|d| d.noncompliant_since.is_some())
                .map(|d| d.device.device_id.as_str())),
        ),
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
