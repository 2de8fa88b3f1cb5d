//! Random valid worlds for differential and invariant testing: a policy (v1, v2 or a v3
//! set), a directory and a
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
const METHODS: &[&str] = &["ios_profile", "android_work_profile", "samsung_knox", "android_device_admin"];
/// App ids; `mail` exists on both platforms, as two apps.
const APPS: &[(&str, &str)] = &[("mail", "ios"), ("mail", "android"), ("crm", "ios"), ("docs", "android")];

fn subset(items: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(items, 0..=items.len())
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![1 => Just(None), 2 => s.prop_map(Some)].boxed()
}

/// A valid policy document of any version: one policy (v1 or v2), or a set of them (v3).
pub fn policy() -> impl Strategy<Value = Value> {
    prop_oneof![3 => single_policy(), 1 => policy_set()]
}

/// A valid version 3 document: up to four policies, each one of [`single_policy`]'s
/// settings under a name, some disabled; the organisation's settings those of the first.
fn policy_set() -> impl Strategy<Value = Value> {
    let entries = prop::collection::vec((single_policy(), prop::bool::weighted(0.85)), 0..=4);
    (entries, prop::bool::weighted(0.9)).prop_map(|(policies, enabled)| {
        let mut set = Map::new();
        set.insert("schema".into(), json!("mdm.policy/v3"));
        set.insert("enabled".into(), json!(enabled));
        if let Some((first, _)) = policies.first() {
            for key in ["device_match", "unassigned", "apps"] {
                if let Some(value) = first.get(key) {
                    set.insert(key.into(), value.clone());
                }
            }
        }
        let entries: Vec<Value> = policies
            .iter()
            .enumerate()
            .map(|(i, (p, on))| {
                let mut entry = Map::new();
                entry.insert("name".into(), json!(format!("p{i}")));
                entry.insert("enabled".into(), json!(on));
                for key in ["assignment", "assigned", "requirements", "enrollment", "configuration"] {
                    if let Some(value) = p.get(key) {
                        entry.insert(key.into(), value.clone());
                    }
                }
                Value::Object(entry)
            })
            .collect();
        set.insert("policies".into(), Value::Array(entries));
        Value::Object(set)
    })
}

/// A valid version 1 or 2 document.
fn single_policy() -> impl Strategy<Value = Value> {
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
    let v1 = (prop::bool::weighted(0.9), assignment, prop::sample::select(vec!["device_id", "device_id_and_serial"]), assigned, unassigned, requirements)
        .prop_map(|(enabled, assignment, device_match, assigned, unassigned, requirements)| {
            json!({ "schema": "mdm.policy/v1", "enabled": enabled, "assignment": assignment, "device_match": device_match,
                    "assigned": assigned, "unassigned": unassigned, "requirements": requirements })
        });
    (v1, maybe(version_2())).prop_map(|(mut policy, v2)| {
        if let (Some(v2), Some(doc)) = (v2, policy.as_object_mut()) {
            let Value::Object(v2) = v2 else { return policy };
            doc.insert("schema".into(), json!("mdm.policy/v2"));
            for (key, value) in v2 {
                match (doc.get_mut(&key), value) {
                    (Some(Value::Object(section)), Value::Object(more)) => section.extend(more),
                    (_, value) => {
                        doc.insert(key, value);
                    }
                }
            }
        }
        policy
    })
}

/// Version 2's settings, merged into a version 1 policy.
fn version_2() -> impl Strategy<Value = Value> {
    let approvers = prop::sample::select(vec![vec!["admin"], vec!["self"], vec!["admin", "self"]]);
    let methods = proptest::sample::subsequence(METHODS, 1..=METHODS.len());
    let app = (subset(USERS), subset(GROUPS)).prop_map(|(u, g)| {
        // Most apps go to a few people or to everyone.
        (u.into_iter().take(1).collect::<Vec<_>>(), g.into_iter().take(2).collect::<Vec<_>>())
    });
    let apps = (proptest::sample::subsequence(APPS, 0..=APPS.len()), prop::collection::vec(app, APPS.len()));
    (approvers, prop::sample::select(vec![0u32, 24, 48]), any::<bool>(), methods, any::<bool>(), apps).prop_map(
        |(approvers, grace, required, methods, separation, (apps, audiences))| {
            let apps: Vec<Value> = apps
                .into_iter()
                .zip(audiences)
                .map(|((id, platform), (users, groups))| {
                    json!({ "id": id, "name": id.to_uppercase(), "platform": platform, "users": users, "groups": groups })
                })
                .collect();
            json!({ "assigned": { "approvers": approvers }, "requirements": { "grace_hours": grace },
                    "enrollment": { "required": required, "methods": methods },
                    "configuration": { "data_separation": separation }, "apps": apps })
        },
    )
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
        (
            maybe(prop::sample::select(vec!["samsung", "SAMSUNG", "Google"])),
            maybe(any::<bool>()),
            maybe(prop::collection::vec(
                (prop::sample::select(vec!["mail", "crm", "docs", "game"]), any::<bool>()),
                0..3,
            )),
        ),
    )
        .prop_map(|(id, os, version, serial, pin, enc, comp, (maker, work, apps))| {
            let mut d = Map::new();
            d.insert("device_id".into(), json!(id));
            d.insert("os_type".into(), json!(os));
            let fields = [
                ("os_version", version.map(|v| json!(v))),
                ("serial_number", serial.map(|v| json!(v))),
                ("pin_length", pin.map(|v| json!(v))),
                ("encrypted", enc.map(|v| json!(v))),
                ("compromised", comp.map(|v| json!(v))),
                ("manufacturer", maker.map(|v| json!(v))),
                ("work_profile", work.map(|v| json!(v))),
                (
                    "apps",
                    apps.map(|a| {
                        a.into_iter()
                            .map(|(id, managed)| json!({ "id": id, "managed": managed }))
                            .collect::<Value>()
                    }),
                ),
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
        2 => (user(), prop::sample::select(DEVICES), prop::sample::select(METHODS))
            .prop_map(|(u, d, m)| json!({ "type": "enrolled", "user": u, "device_id": d, "method": m })),
        1 => (user(), prop::sample::select(DEVICES), prop::sample::select(vec!["deprovision", "wipe"]))
            .prop_map(|(u, d, kind)| json!({ "type": kind, "user": u, "device_id": d })),
        1 => (user(), prop::sample::select(DEVICES), prop::sample::select(DEVICES))
            .prop_map(|(u, d, from)| json!({ "type": "approve", "user": u, "device_id": d, "by": "self", "from_device": from })),
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
