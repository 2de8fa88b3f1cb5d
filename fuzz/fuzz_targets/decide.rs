//! Decisions over fuzzed policies, directories, stored states and event sequences, built
//! from structured input so that most cases reach the rules rather than the parser. At
//! every step: no panic, the contract's invariants hold (`mdm_testkit::invariants::check`), decisions
//! are deterministic, `evaluate` equals `decide` plus the effects, and an error changes
//! nothing. A policy's own state is never another user's: each sequence is one user.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mdm_testkit::invariants::check as check_invariants;
use mdm_engine::{Event, Policy, UserState, decide, evaluate};
use serde_json::{Value, json};

const IDS: [&str; 4] = ["u", "g0", "g1", "g2"];
const DEVICES: [&str; 5] = ["d0", "d1", "d2", "d3", "d4"];
const OS: [&str; 3] = ["ios", "android", "other"];
const VERSIONS: [&str; 8] = ["0", "9", "12", "12.1", "16.0.1", "17.2", "4294967295", "1.2.3.4"];
const METHODS: [&str; 4] = ["ios_profile", "android_work_profile", "samsung_knox", "android_device_admin"];
const APPS: [(&str, &str); 4] = [("mail", "ios"), ("mail", "android"), ("crm", "ios"), ("docs", "android")];
const ADMIN: [&str; 7] = ["approve", "reject", "unblock", "remove_device", "enrolled", "deprovision", "wipe"];
const BASE_MS: i64 = 1_790_000_000_000;

#[derive(Arbitrary, Debug)]
struct Knobs {
    enabled: bool,
    organization: bool,
    users: u8,
    groups: u8,
    exclude_users: u8,
    exclude_groups: u8,
    serial: bool,
    max_devices: u8,
    on_new_device: u8,
    on_approve: bool,
    ttl_hours: u8,
    push_mfa: bool,
    unassigned_max: u8,
    unassigned_add: bool,
    unassigned_full: bool,
    unassigned_push: bool,
    platforms: u8,
    min_ios: Option<u8>,
    min_android: Option<u8>,
    min_pin: u8,
    encryption: bool,
    compromised: bool,
    v2: Option<V2>,
}

/// Version 2's settings; `None`: a version 1 policy.
#[derive(Arbitrary, Debug)]
struct V2 {
    approvers: u8,
    grace: u8,
    required: bool,
    methods: u8,
    separation: bool,
    apps: u8,
    audiences: u8,
}

#[derive(Arbitrary, Debug)]
struct Dev {
    id: u8,
    os: u8,
    version: Option<u8>,
    serial: Option<bool>,
    pin: Option<u8>,
    encrypted: Option<bool>,
    compromised: Option<bool>,
    maker: Option<u8>,
    work_profile: Option<bool>,
    /// Installed apps: bit i installs APPS[i], bit i + 4 says it is managed.
    apps: Option<u8>,
    /// For a registered device: an enrollment (method, minutes) and a noncompliant_since.
    enrollment: Option<(u8, u16)>,
    noncompliant: Option<u16>,
}

#[derive(Arbitrary, Debug)]
enum Step {
    Login { minutes: u16, device: Dev },
    Admin { action: u8, minutes: u16, device: u8, by_self: bool, from: u8, method: u8 },
    SetPolicy(Knobs),
    SetGroups(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    policy: Knobs,
    groups: u8,
    devices: Vec<(Dev, u16)>,
    pending: Vec<(Dev, u16)>,
    rejected: Vec<(u8, u16)>,
    steps: Vec<Step>,
}

fn pick<T: Copy>(items: &[T], i: u8) -> T {
    items[usize::from(i) % items.len()]
}

/// The members of `pool` whose bit is set in `mask`.
fn subset(pool: &[&'static str], mask: u8) -> Vec<&'static str> {
    pool.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| *s).collect()
}

fn time(minutes: u16) -> String {
    let at = BASE_MS + i64::from(minutes) * 60_000;
    let secs = at / 1000;
    // RFC 3339 in UTC by hand: the fuzz crate keeps to the engine's own dependencies.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn policy_doc(k: &Knobs) -> Value {
    let mut min = serde_json::Map::new();
    if let Some(v) = k.min_ios {
        min.insert("ios".into(), json!(pick(&VERSIONS, v)));
    }
    if let Some(v) = k.min_android {
        min.insert("android".into(), json!(pick(&VERSIONS, v)));
    }
    let mut doc = json!({
        "schema": "mdm.policy/v1",
        "enabled": k.enabled,
        "assignment": {
            "organization": k.organization,
            "users": subset(&IDS[..1], k.users),
            "groups": subset(&IDS[1..], k.groups),
            "exclude_users": subset(&IDS[..1], k.exclude_users),
            "exclude_groups": subset(&IDS[1..], k.exclude_groups),
        },
        "device_match": if k.serial { "device_id_and_serial" } else { "device_id" },
        "assigned": {
            "max_devices": 1 + k.max_devices % 3,
            "on_new_device": pick(&["approval", "replace", "deny"], k.on_new_device),
            "on_approve": if k.on_approve { "add" } else { "replace" },
            "approval_ttl_hours": pick(&[0u32, 1, 72], k.ttl_hours),
            "push_mfa": k.push_mfa,
        },
        "unassigned": {
            "max_devices": 1 + k.unassigned_max % 2,
            "on_new_device": if k.unassigned_add { "add" } else { "replace" },
            "access": if k.unassigned_full { "full" } else { "limited" },
            "push_mfa": k.unassigned_push,
        },
        "requirements": {
            "platforms": subset(&["ios", "android"], k.platforms),
            "min_os_version": min,
            "min_pin_length": pick(&[0u32, 4, 6, 16], k.min_pin),
            "require_encryption": k.encryption,
            "block_compromised": k.compromised,
        },
    });
    if let Some(v) = &k.v2 {
        doc["schema"] = json!("mdm.policy/v2");
        doc["assigned"]["approvers"] = json!(pick(&[&["admin"][..], &["self"], &["admin", "self"]], v.approvers));
        doc["requirements"]["grace_hours"] = json!(pick(&[0u32, 1, 24], v.grace));
        let mut methods = subset(&METHODS, v.methods);
        if methods.is_empty() {
            methods.push(METHODS[0]);
        }
        doc["enrollment"] = json!({ "required": v.required, "methods": methods });
        doc["configuration"] = json!({ "data_separation": v.separation });
        let apps: Vec<Value> = APPS
            .iter()
            .enumerate()
            .filter(|(i, _)| v.apps & (1 << i) != 0)
            .map(|(i, (id, platform))| {
                let groups = if v.audiences & (1 << i) != 0 { vec![IDS[1 + i % 3]] } else { Vec::new() };
                json!({ "id": id, "name": id, "platform": platform, "groups": groups })
            })
            .collect();
        doc["apps"] = json!(apps);
    }
    doc
}

fn device(d: &Dev) -> Value {
    let mut v = json!({ "device_id": pick(&DEVICES, d.id), "os_type": pick(&OS, d.os) });
    if let Some(x) = d.version {
        v["os_version"] = json!(pick(&VERSIONS, x));
    }
    if let Some(s) = d.serial {
        v["serial_number"] = json!(if s { "s1" } else { "s0" });
    }
    if let Some(p) = d.pin {
        v["pin_length"] = json!(p % 20);
    }
    if let Some(e) = d.encrypted {
        v["encrypted"] = json!(e);
    }
    if let Some(c) = d.compromised {
        v["compromised"] = json!(c);
    }
    if let Some(m) = d.maker {
        v["manufacturer"] = json!(pick(&["samsung", "Samsung", "Google"], m));
    }
    if let Some(w) = d.work_profile {
        v["work_profile"] = json!(w);
    }
    v
}

/// A login device: also the apps it reports.
fn login_device(d: &Dev) -> Value {
    let mut v = device(d);
    if let Some(mask) = d.apps {
        let apps: Vec<Value> = APPS
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(i, (id, _))| json!({ "id": id, "managed": mask & (1 << (i + 4)) != 0 }))
            .collect();
        v["apps"] = json!(apps);
    }
    v
}

fn registered(list: &[(Dev, u16)]) -> Vec<Value> {
    list.iter()
        .map(|(d, m)| {
            let mut v = device(d);
            v["registered_at"] = json!(time(*m));
            if let Some((method, at)) = d.enrollment {
                v["enrollment"] = json!({ "method": pick(&METHODS, method), "at": time(at) });
            }
            if let Some(at) = d.noncompliant {
                v["noncompliant_since"] = json!(time(at));
            }
            v
        })
        .collect()
}

fn step(policy: &Policy, groups: &[&str], state: &mut UserState, event: &Value) {
    let Ok(event) = Event::from_value(event) else { return };
    let first = decide(policy, groups, state, &event);
    assert_eq!(first, decide(policy, groups, state, &event), "decisions are deterministic");
    let evaluated = evaluate(policy, groups, state, &event);
    match (first, evaluated) {
        (Ok(decision), Ok(evaluation)) => {
            if let Err(broken) = check_invariants(policy, state, &event, &decision) {
                panic!("{broken}: {decision:?} for {event:?} in {state:?}");
            }
            let mut after = state.clone();
            after.apply(decision.effects());
            assert_eq!(evaluation.decision, decision);
            assert_eq!(evaluation.state, after, "evaluate's state is decide's effects applied");
            *state = after;
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("decide and evaluate disagree: {a:?} / {b:?}"),
    }
}

fuzz_target!(|input: Input| {
    let Ok(mut policy) = Policy::from_value(&policy_doc(&input.policy)) else {
        panic!("a generated policy is valid: {:?}", input.policy);
    };
    let mut groups = subset(&IDS[1..], input.groups);
    let doc = json!({
        "devices": registered(&input.devices),
        "pending": input.pending.iter()
            .map(|(d, m)| json!({ "device": device(d), "requested_at": time(*m) }))
            .collect::<Vec<_>>(),
        "rejected": input.rejected.iter()
            .map(|(d, m)| json!({ "device_id": pick(&DEVICES, *d), "rejected_at": time(*m) }))
            .collect::<Vec<_>>(),
    });
    // Duplicates and overlaps are invalid states: the decoder must say so, not decide.
    let Ok(mut state) = UserState::from_value(&doc) else { return };
    for s in input.steps.iter().take(32) {
        match s {
            Step::Login { minutes, device: d } => {
                let event =
                    json!({ "type": "login", "user": "u", "at": time(*minutes), "device": login_device(d) });
                step(&policy, &groups, &mut state, &event);
            }
            Step::Admin { action, minutes, device, by_self, from, method } => {
                let mut event = json!({
                    "type": pick(&ADMIN, *action),
                    "user": "u", "at": time(*minutes), "device_id": pick(&DEVICES, *device),
                    "method": pick(&METHODS, *method),
                });
                if *by_self {
                    event["by"] = json!("self");
                    event["from_device"] = json!(pick(&DEVICES, *from));
                }
                step(&policy, &groups, &mut state, &event);
            }
            Step::SetPolicy(k) => match Policy::from_value(&policy_doc(k)) {
                Ok(p) => policy = p,
                Err(e) => panic!("a generated policy is valid: {e}"),
            },
            Step::SetGroups(mask) => groups = subset(&IDS[1..], *mask),
        }
    }
});
