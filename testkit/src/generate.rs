//! Random valid worlds for differential and invariant testing: a policy, a directory and a
//! sequence of events (logins with random attributes, admin actions, `set_policy`,
//! `set_groups`), as a scenario document. Seeded and reproducible: the same seed gives
//! the same scenario on every machine.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value, json};

const USERS: &[&str] = &["u0", "u1", "u2", "u3"];
const GROUPS: &[&str] = &["g0", "g1", "g2", "g3", "g4"];
const DEVICES: &[&str] = &["d0", "d1", "d2", "d3", "d4"];
const OS: &[&str] = &["ios", "android", "other"];
const VERSIONS: &[&str] = &["9", "11", "12", "12.1", "15.7", "16", "16.0.1", "17.2", "18"];

fn subset(items: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(items, 0..=items.len())
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![1 => Just(None), 2 => s.prop_map(Some)].boxed()
}

/// A valid policy document.
pub fn policy() -> impl Strategy<Value = Value> {
    let assignment = (any::<bool>(), subset(USERS), subset(GROUPS), subset(USERS), subset(GROUPS)).prop_map(
        |(org, users, groups, xu, xg)| {
            // Exclusions are rarer than inclusions, as in practice.
            let xu: Vec<_> = xu.into_iter().take(1).collect();
            let xg: Vec<_> = xg.into_iter().take(1).collect();
            json!({ "organization": org, "users": users, "groups": groups, "exclude_users": xu, "exclude_groups": xg })
        },
    );
    let assigned = (
        1u32..=3,
        prop::sample::select(vec!["approval", "replace", "deny"]),
        prop::sample::select(vec!["replace", "add"]),
        prop::sample::select(vec![0u32, 1, 72]),
        any::<bool>(),
    )
        .prop_map(|(max, new, approve, ttl, push)| {
            json!({ "max_devices": max, "on_new_device": new, "on_approve": approve, "approval_ttl_hours": ttl, "push_mfa": push })
        });
    let unassigned = (1u32..=2, prop::sample::select(vec!["replace", "add"]), prop::sample::select(vec!["limited", "full"]), any::<bool>())
        .prop_map(|(max, new, access, push)| json!({ "max_devices": max, "on_new_device": new, "access": access, "push_mfa": push }));
    let requirements = (
        subset(&["ios", "android"]),
        maybe(prop::sample::select(VERSIONS)),
        maybe(prop::sample::select(VERSIONS)),
        prop::sample::select(vec![0u32, 4, 6]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(platforms, ios, android, pin, enc, comp)| {
            let mut min = Map::new();
            if let Some(v) = ios {
                min.insert("ios".into(), json!(v));
            }
            if let Some(v) = android {
                min.insert("android".into(), json!(v));
            }
            json!({ "platforms": platforms, "min_os_version": min, "min_pin_length": pin,
                    "require_encryption": enc, "block_compromised": comp })
        });
    (prop::bool::weighted(0.9), assignment, prop::sample::select(vec!["device_id", "device_id_and_serial"]), assigned, unassigned, requirements)
        .prop_map(|(enabled, assignment, device_match, assigned, unassigned, requirements)| {
            json!({ "schema": "mdm.policy/v1", "enabled": enabled, "assignment": assignment, "device_match": device_match,
                    "assigned": assigned, "unassigned": unassigned, "requirements": requirements })
        })
}

fn device() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(DEVICES),
        prop::sample::select(OS),
        maybe(prop::sample::select(VERSIONS)),
        maybe(prop::sample::select(vec!["s0", "s1"])),
        maybe(prop::sample::select(vec![0u32, 4, 6, 8])),
        maybe(any::<bool>()),
        maybe(prop::bool::weighted(0.2)),
    )
        .prop_map(|(id, os, version, serial, pin, enc, comp)| {
            let mut d = Map::new();
            d.insert("device_id".into(), json!(id));
            d.insert("os_type".into(), json!(os));
            let fields = [
                ("os_version", version.map(|v| json!(v))),
                ("serial_number", serial.map(|v| json!(v))),
                ("pin_length", pin.map(|v| json!(v))),
                ("encrypted", enc.map(|v| json!(v))),
                ("compromised", comp.map(|v| json!(v))),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    d.insert(k.into(), v);
                }
            }
            Value::Object(d)
        })
}

/// One event without its time.
fn event() -> impl Strategy<Value = Value> {
    let user = || prop::sample::select(USERS);
    prop_oneof![
        10 => (user(), device()).prop_map(|(u, d)| json!({ "type": "login", "user": u, "device": d })),
        2 => (user(), prop::sample::select(DEVICES)).prop_map(|(u, d)| json!({ "type": "approve", "user": u, "device_id": d })),
        1 => (user(), prop::sample::select(DEVICES)).prop_map(|(u, d)| json!({ "type": "reject", "user": u, "device_id": d })),
        1 => (user(), prop::sample::select(DEVICES)).prop_map(|(u, d)| json!({ "type": "unblock", "user": u, "device_id": d })),
        1 => (user(), prop::sample::select(DEVICES)).prop_map(|(u, d)| json!({ "type": "remove_device", "user": u, "device_id": d })),
        1 => policy().prop_map(|p| json!({ "type": "set_policy", "policy": p })),
        1 => (user(), subset(GROUPS)).prop_map(|(u, g)| json!({ "type": "set_groups", "user": u, "groups": g })),
    ]
}

/// A scenario: policy, directory and 5 to 40 events, an hour to four days apart.
pub fn scenario() -> impl Strategy<Value = Value> {
    let directory = prop::collection::vec(subset(GROUPS), USERS.len());
    let steps =
        prop::collection::vec((event(), prop::sample::select(vec![0i64, 1, 2, 24, 71, 72, 73, 96])), 5..40);
    (policy(), directory, steps).prop_map(|(policy, directory, steps)| {
        let directory: Map<String, Value> =
            USERS.iter().zip(directory).map(|(u, g)| (u.to_string(), json!(g))).collect();
        let mut hour = 0i64;
        let steps: Vec<Value> = steps
            .into_iter()
            .map(|(mut event, gap)| {
                hour += gap;
                let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
                if kind != "set_policy"
                    && kind != "set_groups"
                    && let Some(fields) = event.as_object_mut()
                {
                    fields.insert("at".into(), json!(time_text(1_795_000_000 + hour * 3600)));
                }
                json!({ "event": event, "expect": {} })
            })
            .collect();
        json!({ "name": "generated", "policy": policy, "directory": directory, "steps": steps })
    })
}

fn time_text(unix: i64) -> String {
    mdm_engine::Timestamp::from_millis(unix * 1000).to_rfc3339()
}

/// The scenario of `seed`, the same on every machine.
pub fn scenario_for(seed: u64) -> Value {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    match scenario().new_tree(&mut runner) {
        Ok(tree) => tree.current(),
        // The strategies above never reject; an empty scenario would show up as a failure.
        Err(_) => json!({ "name": "unreachable", "policy": {}, "steps": [] }),
    }
}
