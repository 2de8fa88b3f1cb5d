//! One login decision: natively, through the wasmtime host with a warm instance, and
//! with a fresh instance per call. Workload of the host issue: a policy naming 10k users
//! and 1k groups; the user is in 20 groups and has 3 registered devices; the login is
//! from one of them. `login_with_apps`: the same under a version 2 policy with a store of
//! 20 apps, the device reporting 6 installed ones. `login_policy_set`: the same login under
//! a version 3 set of 1, 10 and 1,000 policies, the user's being the last: the cost must
//! not grow with the policies that do not name the user.

// Bench code: a panic is a failed setup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mdm_engine::{Device, Login, OsType, Policy, Registered, Text, Timestamp, UserState};
use mdm_host::{Config, Runtime};

struct Workload {
    policy: String,
    login: Login,
    groups: Vec<String>,
    state: UserState,
}

/// The same workload under a version 2 policy with a store of 20 apps (10 per platform,
/// half of them for one of the user's groups), the device reporting 6 installed apps of
/// which 4 the policy names.
fn workload_with_apps() -> Workload {
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

fn workload() -> Workload {
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
fn workload_with_policies(n: usize) -> Workload {
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

/// A login under sets of 1, 10 and 1,000 policies, natively and through the host.
fn policy_sets(c: &mut Criterion) {
    let mut g = c.benchmark_group("login_policy_set");
    for n in [1, 10, 1_000] {
        let w = workload_with_policies(n);
        let native = Policy::from_json(&w.policy).unwrap();
        let gateway = Runtime::new(Config::default()).unwrap().gateway(&w.policy).unwrap();
        let expected = native.decide_login(&w.login, &w.groups, &w.state);
        assert_eq!(expected, gateway.decide_login(&w.login, &w.groups, &w.state).into_result().unwrap());
        assert_eq!(expected.outcome, mdm_engine::Outcome::Allow);
        assert_eq!(
            expected.policy.name().map(|p| p.name().to_string()),
            Some(format!("policy-{:04}", n - 1))
        );
        g.bench_function(format!("native/{n}"), |b| {
            b.iter(|| black_box(native.decide_login(black_box(&w.login), black_box(&w.groups), &w.state)))
        });
        g.bench_function(format!("wasmtime_warm/{n}"), |b| {
            b.iter(|| black_box(gateway.decide_login(black_box(&w.login), black_box(&w.groups), &w.state)))
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    for (group, w, fresh) in [("login", workload(), true), ("login_with_apps", workload_with_apps(), false)] {
        let native = Policy::from_json(&w.policy).unwrap();
        let runtime = Runtime::new(Config::default()).unwrap();
        let gateway = runtime.gateway(&w.policy).unwrap();
        // Same answer everywhere before timing anything.
        let login = &w.login;
        let expected = native.decide_login(login, &w.groups, &w.state);
        let got = gateway.decide_login(login, &w.groups, &w.state).into_result().unwrap();
        assert_eq!(expected, got);
        assert_eq!(expected.outcome, mdm_engine::Outcome::Allow);
        let apps = expected.apps.as_deref().unwrap_or_default();
        assert_eq!(apps.len(), if group == "login" { 0 } else { 10 }, "{apps:?}");

        let mut g = c.benchmark_group(group);
        g.bench_function("native", |b| {
            b.iter(|| {
                black_box(native.decide_login(black_box(login), black_box(&w.groups), black_box(&w.state)))
            })
        });
        g.bench_function("wasmtime_warm", |b| {
            b.iter(|| black_box(gateway.decide_login(black_box(login), black_box(&w.groups), &w.state)))
        });
        if fresh {
            g.sample_size(20);
            g.bench_function("wasmtime_fresh_instance", |b| {
                b.iter(|| {
                    let fresh = runtime.gateway(black_box(&w.policy)).unwrap();
                    black_box(fresh.decide_login(login, &w.groups, &w.state))
                })
            });
        }
        g.finish();
    }
}

/// Cold start: a `Runtime` compiling the component, or loading it from the cache.
fn startup(c: &mut Criterion) {
    // Under target/, like everything the project's tests and benches write.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-cache");
    let cached = Config { cache_dir: Some(dir.clone()), ..Config::default() };
    Runtime::new(cached.clone()).unwrap();
    let mut g = c.benchmark_group("startup");
    g.sample_size(10);
    g.bench_function("runtime_compile", |b| {
        b.iter(|| black_box(Runtime::new(Config { cache_dir: None, ..Config::default() }).unwrap()))
    });
    g.bench_function("runtime_from_cache", |b| b.iter(|| black_box(Runtime::new(cached.clone()).unwrap())));
    g.finish();
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench, policy_sets, startup);
criterion_main!(benches);
