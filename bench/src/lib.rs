//! The same login rule three ways: mdm-policy (natively and in the wasmtime host), Cedar
//! and Rego (regorus, RVM). Each gets its best practice: policies parsed and compiled once,
//! entities or data loaded once, only the request built per decision.
//!
//! What Cedar and Rego cannot express, and so is not compared: approval versus
//! replacement and every other state change (they answer yes or no; they do not say what
//! the gateway must store), request expiry, remediation texts. The question all answer is
//! the one a gateway asks first: does this login get access (`allow` or `limited`)?
//! The workloads use `device_match: device_id`, no pending requests and MDM enabled
//! without organisation-wide assignment.

// Measurement code, like a bench: a panic is a broken setup, and the run reports it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;

// Cedar and regorus take minutes to compile: only the comparison (`make bench`) builds
// them, behind the `compare` feature.
#[cfg(feature = "compare")]
mod others;
#[cfg(feature = "compare")]
pub use others::{Cedar, Rego};

use mdm_engine::{Device, Login, OsType, Policy, Registered, Rejected, Text, Timestamp, UserState};

/// When every workload's logins happen.
const AT: Timestamp = Timestamp::from_millis(1_795_000_000_000);
use serde_json::{Value, json};

/// One login to decide.
#[derive(Debug, Clone)]
pub struct Request {
    /// Who.
    pub user: String,
    /// On what.
    pub device: Device,
    /// The same as mdm-policy's login event, built before timing.
    pub login: Login,
}

/// A policy, a directory, the users' states and the logins to decide.
pub struct Workload {
    /// Its name in the table.
    pub name: &'static str,
    /// The mdm-policy document.
    pub policy: Value,
    /// User to groups.
    pub directory: BTreeMap<String, Vec<String>>,
    /// User to stored state.
    pub states: BTreeMap<String, UserState>,
    /// Logins, decided in turn.
    pub requests: Vec<Request>,
    /// When.
    pub at: Timestamp,
}

/// A small deterministic generator (xorshift), so the workloads are the same everywhere.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn text(s: &str) -> Text {
    Text::new(s).expect("generated ids are valid")
}

const VERSIONS: &[&str] = &["11", "12", "13.1", "15.7", "16.0", "16.4.1", "17.2", "18"];

fn device(rng: &mut Rng, id: String) -> Device {
    let os = match rng.below(20) {
        0 => OsType::Other,
        1..=10 => OsType::Ios,
        _ => OsType::Android,
    };
    Device {
        os_version: rng.chance(90).then(|| VERSIONS[rng.below(VERSIONS.len())].parse().ok()).flatten(),
        pin_length: rng.chance(90).then(|| [0, 4, 6][rng.below(3)]),
        encrypted: rng.chance(90).then(|| rng.chance(90)),
        compromised: rng.chance(90).then(|| rng.chance(5)),
        ..Device::new(text(&id), os)
    }
}

/// `users` users in `groups` groups, each in `per_user` groups with up to `devices`
/// registered devices; the policy assigns most of them, excludes a few.
pub fn workload(
    name: &'static str,
    users: usize,
    groups: usize,
    per_user: usize,
    devices: usize,
    seed: u64,
) -> Workload {
    let mut rng = Rng(seed);
    let user = |i: usize| format!("user-{i:05}");
    let group = |i: usize| format!("group-{i:04}");
    let assigned_users: Vec<String> = (0..users).filter(|i| i % 2 == 0).map(user).collect();
    let excluded_users: Vec<String> = (0..users).filter(|i| i % 17 == 3).map(user).collect();
    let assigned_groups: Vec<String> = (0..groups).filter(|i| i % 3 != 2).map(group).collect();
    let excluded_groups: Vec<String> = (0..groups).filter(|i| i % 23 == 5).map(group).collect();
    let policy = json!({
        "schema": "mdm.policy/v1",
        "assignment": { "users": assigned_users, "groups": assigned_groups,
                        "exclude_users": excluded_users, "exclude_groups": excluded_groups },
        "assigned": { "max_devices": 3 },
        "requirements": { "platforms": ["ios", "android"], "min_os_version": { "ios": "16.0", "android": "12" },
                          "min_pin_length": 4, "require_encryption": true, "block_compromised": true }
    });
    let mut directory = BTreeMap::new();
    let mut states = BTreeMap::new();
    for i in 0..users {
        // Most of a user's groups are ones the policy does not name, as in a real directory.
        let mut gs: Vec<String> =
            (0..per_user.saturating_sub(1)).map(|k| format!("team-{}", (i * 31 + k) % 500)).collect();
        gs.push(group(rng.below(groups)));
        directory.insert(user(i), gs);
        let n = if devices == 0 { 0 } else { 1 + rng.below(devices) };
        let registered = (0..n)
            .map(|k| {
                Registered::new(
                    device(&mut rng, format!("{}-d{k}", user(i))),
                    Timestamp::from_millis(1_700_000_000_000 + k as i64),
                )
            })
            .collect();
        let rejected = if rng.chance(10) {
            vec![Rejected {
                device_id: text(&format!("{}-lost", user(i))),
                rejected_at: Timestamp::from_millis(1_700_000_000_000),
            }]
        } else {
            Vec::new()
        };
        states.insert(user(i), UserState { devices: registered, pending: Vec::new(), rejected });
    }
    let mut requests = Vec::new();
    for _ in 0..1_000 {
        let u = user(rng.below(users));
        let state = &states[&u];
        let id = match rng.below(10) {
            0..=5 if !state.devices.is_empty() => {
                state.devices[rng.below(state.devices.len())].device.device_id.to_string()
            }
            6 => format!("{u}-lost"),
            _ => format!("{u}-new{}", rng.below(3)),
        };
        // A registered device logs in with what it reported at registration most of the time.
        let registered = state.devices.iter().find(|d| *d.device.device_id == *id).map(|d| d.device.clone());
        let device = match registered {
            Some(d) if rng.chance(80) => d,
            _ => device(&mut rng, id),
        };
        let login = Login::new(u.clone(), device.clone(), AT);
        requests.push(Request { user: u, device, login });
    }
    Workload { name, policy, directory, states, requests, at: AT }
}

/// The engine, natively.
pub struct Native {
    policy: Policy,
}

impl Native {
    /// Parses and indexes the policy.
    pub fn new(w: &Workload) -> Native {
        Native { policy: Policy::from_value(&w.policy).expect("the workload's policy is valid") }
    }

    /// Whether the login gets access.
    pub fn allowed(&self, w: &Workload, r: &Request) -> bool {
        let groups = w.directory.get(&r.user).map(Vec::as_slice).unwrap_or(&[]);
        let state = &w.states[&r.user];
        self.policy.decide_login(&r.login, groups, state).outcome.is_allowed()
    }
}

/// The engine in the wasmtime host, warm.
pub struct Wasm {
    gateway: mdm_host::Gateway,
}

impl Wasm {
    /// Loads the component and the policy.
    pub fn new(w: &Workload) -> Result<Wasm, mdm_host::HostError> {
        let runtime = mdm_host::Runtime::new(mdm_host::Config::default())?;
        Ok(Wasm { gateway: runtime.gateway(&w.policy.to_string())? })
    }

    /// Whether the login gets access.
    pub fn allowed(&self, w: &Workload, r: &Request) -> bool {
        let groups = w.directory.get(&r.user).map(Vec::as_slice).unwrap_or(&[]);
        self.gateway.decide_login(&r.login, groups, &w.states[&r.user]).is_allowed()
    }
}

/// A version as one integer, for engines without a version type: each part below 1000.
pub fn version_number(v: &mdm_engine::Version) -> i64 {
    v.parts().iter().fold(0i64, |n, p| n * 1000 + i64::from((*p).min(999)))
}
