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

use mdm_engine::{Decision, Event, Policy, UserState};
use mdm_testkit::scenario::{self, StepResult, TraceStep};
use mdm_testkit::{Failure, Native, UnderTest, invariants};

/// The native engine, checking the contract's invariants on every decision.
struct Checked {
    steps: usize,
}

impl UnderTest for Checked {
    type Policy = Policy;

    fn load_policy(&mut self, document: &[u8]) -> Result<Policy, Failure> {
        Native.load_policy(document)
    }

    fn decide(
        &mut self,
        policy: &Policy,
        groups: &[String],
        state: &[u8],
        event: &[u8],
    ) -> Result<Decision, Failure> {
        self.steps += 1;
        let first = Native.decide(policy, groups, state, event);
        let again = Native.decide(policy, groups, state, event);
        assert_eq!(first, again, "decisions are deterministic");
        if let (Ok(decision), Ok(state), Ok(event)) =
            (&first, UserState::from_slice(state), Event::from_slice(event))
            && let Err(broken) = invariants::check(policy, groups, &state, &event, decision)
        {
            panic!("{broken}");
        }
        first
    }
}

/// Errors leave the state unchanged: per user, the state after an error step is the state
/// after that user's previous step.
fn check_errors_change_nothing(trace: &[TraceStep]) {
    let mut last: BTreeMap<String, &UserState> = BTreeMap::new();
    for step in trace {
        let user = step.event.get("user").and_then(|u| u.as_str()).unwrap_or_default().to_string();
        if let (StepResult::Error(_), Some(before)) = (&step.result, last.get(&user)) {
            assert_eq!(&step.state, *before, "an error changed the state");
        }
        last.insert(user, &step.state);
    }
}

#[test]
fn native_and_wasmtime_agree_on_random_sequences() {
    let count: u64 =
        std::env::var("MDM_DIFFERENTIAL_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let first: u64 = std::env::var("MDM_DIFFERENTIAL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut wasm = mdm_tests::wasm().unwrap();
    let out_dir = mdm_tests::generated_dir();
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(out_dir.join("differential.jsonl")).unwrap());
    let mut checked = Checked { steps: 0 };
    let (mut errors, mut logins) = (0usize, 0usize);
    for seed in first..first + count {
        let scenario = mdm_testkit::generate::scenario_for(seed);
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
        let in_wasm = scenario::run(&mut wasm, "generated", &text);
        if let Some((i, n, w)) = native.first_difference(&in_wasm) {
            panic!("seed {seed}, step {i}: native and wasmtime differ\n  native:   {n}\n  wasmtime: {w}");
        }
        check_errors_change_nothing(&native.trace);
        errors += native.trace.iter().filter(|s| matches!(s.result, StepResult::Error(_))).count();
        logins += native
            .trace
            .iter()
            .filter(|s| matches!(&s.result, StepResult::Decision(Decision::Login(_))))
            .count();
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
