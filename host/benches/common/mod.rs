//! The workloads of the decide bench, shared with the callgrind example
//! (`examples/warm_login.rs`), so that both measure the same login.

// Bench code: a panic is a failed setup; each user of the module takes what it needs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs, dead_code)]

use mdm_engine::{Device, Login, OsType, Registered, Text, Timestamp, UserState};

/// A policy, a login, the user's groups and stored state.
pub struct Workload {
    pub policy: String,
    pub login: Login,
    pub groups: Vec<String>,
    pub state: UserState,
}

/// The same workload under a version 2 policy with a store of 20 apps (10 per platform,
/// half of them for one of the user's groups), the device reporting 6 installed apps of
/// which 4 the policy names.
pub fn workload_with_apps() -> Workload {
    let mut w = workload();
    let mut policy: serde_json::Value = serde_json::from_str(&w.policy).unwrap();
    policy["schema"] = "mdm.policy/v2".into();
    let apps: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            let platform = if i % 2 == 0 { "ios" } else { "android" };
            let groups = if i % 4 < 2 { vec!["group-0450"] } else { Vec::new() };
            serde_json::json!({ "id": format!("com.example.app{}", i / 2), "name": format!("App {i}"),
                                "platform": platform, "groups": groups })
        })
        .collect();
    policy["apps"] = apps.into();
    w.policy = policy.to_string();
    w.login.apps = [
        "com.example.app0",
        "com.example.app1",
        "com.example.app2",
        "com.example.app3",
        "org.game",
        "org.chat",
    ]
    .iter()
    .enumerate()
    .map(|(i, id)| mdm_engine::InstalledApp { id: (*id).into(), managed: i % 3 != 0 })
    .collect();
    w
}

pub fn workload() -> Workload {
    let users: Vec<String> = (0..10_000).map(|i| format!("user-{i:05}")).collect();
    let groups: Vec<String> = (0..1_000).map(|i| format!("group-{i:04}")).collect();
    let policy = serde_json::json!({
        "schema": "mdm.policy/v1",
        "assignment": {
            "users": users[..9_000],
            "groups": groups[..900],
            "exclude_users": users[9_000..],
            "exclude_groups": groups[900..],
        },
        "assigned": { "max_devices": 3 },
        "requirements": { "platforms": ["ios", "android"], "min_os_version": { "ios": "16.0", "android": "12" },
                          "min_pin_length": 6, "require_encryption": true, "block_compromised": true }
    })
    .to_string();
    // 20 groups: 19 the policy does not name, then one it assigns.
    let mut user_groups: Vec<String> = (0..19).map(|i| format!("team-{i}")).collect();
    user_groups.push("group-0450".into());
    let mk = |id: &str, os: OsType| Device {
        os_version: Some("17.2".parse().unwrap()),
        pin_length: Some(6),
        encrypted: Some(true),
        compromised: Some(false),
        serial_number: Some(Text::new(&format!("SN-{id}")).unwrap()),
        ..Device::new(Text::new(id).unwrap(), os)
    };
    let state = UserState {
        devices: vec![
            Registered::new(mk("phone-1", OsType::Ios), Timestamp::from_millis(1_700_000_000_000)),
            Registered::new(mk("phone-2", OsType::Android), Timestamp::from_millis(1_710_000_000_000)),
            Registered::new(mk("tablet-3", OsType::Ios), Timestamp::from_millis(1_720_000_000_000)),
        ],
        ..UserState::default()
    };
    let at = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
    Workload {
        login: Login::new(USER, mk("phone-2", OsType::Android), at),
        policy,
        groups: user_groups,
        state,
    }
}

const USER: &str = "user-12345";

/// The workload's login under a set of `n` policies, each assigning a group of its own
/// with the workload's requirements; the user is in the last policy's group (and in 19
/// groups no policy names), so every policy before it would be looked at by a scan.
pub fn workload_with_policies(n: usize) -> Workload {
    let mut w = workload();
    let base: serde_json::Value = serde_json::from_str(&w.policy).unwrap();
    let policies: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({ "name": format!("policy-{i:04}"), "assignment": { "groups": [format!("pg-{i:04}")] },
                                "assigned": base["assigned"], "requirements": base["requirements"] })
        })
        .collect();
    w.policy = serde_json::json!({ "schema": "mdm.policy/v3", "policies": policies }).to_string();
    *w.groups.last_mut().unwrap() = format!("pg-{:04}", n - 1);
    w
}
