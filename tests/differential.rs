//! Random sequences run natively and in wasmtime: every decision, error and state must be
//! identical, and invariants of the contract must hold at every step. The native traces
//! are written to `target/generated/differential.jsonl` for the JS package's test.
//!
//! `MDM_DIFFERENTIAL_CASES` sets how many sequences (default 2,000; `make differential`
//! runs 100,000); `MDM_DIFFERENTIAL_SEED` the first seed (default 0).

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::io::Write;

use mdm_engine::scenario::{self, Failure, Native, Runtime as UnderTest};
use mdm_engine::{Decision, Event, Policy, UserState};
use mdm_host::scenario::Wasm;
use mdm_host::{Config, Runtime};
use serde_json::Value;

/// The native engine, checking the contract's invariants on every decision.
struct Checked {
    steps: usize,
}

impl UnderTest for Checked {
    type Policy = Policy;

    fn load_policy(&mut self, policy: &Value) -> Result<Policy, Failure> {
        Native.load_policy(policy)
    }

    fn decide(
        &mut self,
        policy: &Policy,
        groups: &[String],
        state: &UserState,
        event: &Value,
    ) -> Result<Decision, Failure> {
        self.steps += 1;
        let first = Native.decide(policy, groups, state, event);
        let again = Native.decide(policy, groups, state, event);
        assert_eq!(first, again, "decisions are deterministic");
        if let (Ok(decision), Ok(event)) = (&first, Event::from_value(event))
            && let Err(broken) = scenario::check_invariants(policy, state, &event, decision)
        {
            panic!("{broken}");
        }
        first
    }

    fn load_policy_bytes(&mut self, bytes: &[u8]) -> Result<Policy, Failure> {
        Native.load_policy_bytes(bytes)
    }

    fn decide_bytes(&mut self, p: &Policy, g: &[String], s: &[u8], e: &[u8]) -> Result<Decision, Failure> {
        Native.decide_bytes(p, g, s, e)
    }
}

/// Errors leave the state unchanged: per user, the state after an error step is the state
/// after that user's previous step.
fn check_errors_change_nothing(scenario: &Value, trace: &[Value]) {
    let mut last: BTreeMap<String, Value> = BTreeMap::new();
    for (step, record) in scenario["steps"].as_array().unwrap().iter().zip(trace) {
        let user = step["event"]["user"].as_str().unwrap_or("").to_string();
        let before = last.get(&user).cloned();
        if record["result"].get("error").is_some()
            && let Some(before) = before
        {
            assert_eq!(record["state"], before, "an error changed the state");
        }
        last.insert(user, record["state"].clone());
    }
}

#[test]
fn native_and_wasmtime_agree_on_random_sequences() {
    let count: u64 =
        std::env::var("MDM_DIFFERENTIAL_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let first: u64 = std::env::var("MDM_DIFFERENTIAL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let runtime = Runtime::new(Config::default()).unwrap();
    let out_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/generated");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(out_dir.join("differential.jsonl")).unwrap());
    let mut checked = Checked { steps: 0 };
    let (mut errors, mut logins) = (0usize, 0usize);
    for seed in first..first + count {
        let scenario = mdm_tests::generate::scenario_for(seed);
        let text = scenario.to_string();
        // Generated steps expect nothing, so the runner reports each error as a failure;
        // only those may appear (a malformed scenario would fail otherwise).
        let native = scenario::run(&mut checked, "generated", &text);
        let steps = scenario["steps"].as_array().map_or(0, Vec::len);
        assert_eq!(native.trace.len(), steps, "seed {seed}: {:?}", native.failures);
        assert!(
            native.failures.iter().all(|f| f.contains("unexpected error")),
            "seed {seed}: {:?}",
            native.failures
        );
        let wasm = scenario::run(&mut Wasm(runtime.clone()), "generated", &text);
        for (i, (n, w)) in native.trace.iter().zip(&wasm.trace).enumerate() {
            assert_eq!(n, w, "seed {seed}, step {i}: native and wasmtime differ");
        }
        assert_eq!(native.trace.len(), wasm.trace.len());
        check_errors_change_nothing(&scenario, &native.trace);
        errors += native.trace.iter().filter(|r| r["result"].get("error").is_some()).count();
        logins += native.trace.iter().filter(|r| r["result"]["decision"].get("outcome").is_some()).count();
        // The JS package's test reads these and must produce the same traces.
        if seed < first + 2_000 {
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({ "seed": seed, "scenario": scenario, "trace": native.trace }),
            )
            .unwrap();
            out.write_all(b"\n").unwrap();
        }
    }
    out.flush().unwrap();
    // The generator must reach the interesting paths, or the comparison proves little.
    assert!(logins > checked.steps / 3, "{logins} logins of {} steps", checked.steps);
    assert!(errors > 0, "some steps are admin errors");
    println!(
        "{count} sequences, {} steps ({logins} logins, {errors} errors): native = wasmtime",
        checked.steps
    );
}
