//! One login decision: natively, through the wasmtime host with a warm instance, and
//! with a fresh instance per call. Workload of the host issue: a policy naming 10k users
//! and 1k groups; the user is in 20 groups and has 3 registered devices; the login is
//! from one of them. `login_with_apps`: the same under a version 2 policy with a store of
//! 20 apps, the device reporting 6 installed ones. `login_policy_set`: the same login under
//! a version 3 set of 1, 10 and 1,000 policies, the user's being the last: the cost must
//! not grow with the policies that do not name the user.

// Bench code: a panic is a failed setup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mdm_engine::Policy;
use mdm_host::{Config, Runtime};

mod common;
use common::{workload, workload_with_apps, workload_with_policies};

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

/// The seeds' first login once the phone is registered (a known device under a one-group
/// v1 policy): the login `python/bench.py` times through the Python package and over HTTP.
fn story_login(c: &mut Criterion) {
    let story: serde_json::Value =
        serde_json::from_str(include_str!("../../examples/seeds-story.json")).unwrap();
    let policy = story["policy"].to_string();
    let event = mdm_engine::Event::from_value(&story["steps"][0]["event"]).unwrap();
    let mdm_engine::Event::Login(login) = event else { panic!("the story starts with a login") };
    let groups = ["sales"];
    let native = Policy::from_json(&policy).unwrap();
    let mut state = mdm_engine::UserState::default();
    state.apply(&native.decide_login(&login, &groups, &state).effects);
    let gateway = Runtime::new(Config::default()).unwrap().gateway(&policy).unwrap();
    let expected = native.decide_login(&login, &groups, &state);
    assert_eq!(expected, gateway.decide_login(&login, &groups, &state).into_result().unwrap());
    assert!(expected.reasons.contains(mdm_engine::Reason::DeviceKnown));
    let mut g = c.benchmark_group("story_login");
    g.bench_function("native", |b| {
        b.iter(|| black_box(native.decide_login(black_box(&login), &groups, &state)))
    });
    g.bench_function("wasmtime_warm", |b| {
        b.iter(|| black_box(gateway.decide_login(black_box(&login), &groups, &state)))
    });
    g.finish();
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

criterion_group!(benches, bench, policy_sets, story_login, startup);
criterion_main!(benches);
