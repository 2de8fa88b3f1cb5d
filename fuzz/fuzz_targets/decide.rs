//! Decisions over fuzzed policies (version 1, 2, and version 3 sets of named policies),
//! directories, stored states and event sequences, built from structured input: no
//! panic, the contract's invariants at every step, determinism, `evaluate` = `decide` +
//! effects (`mdm_testkit::invariants::decide_sequence`, which the test suite also runs on
//! this target's corpus).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = mdm_testkit::invariants::decide_sequence(data) {
        panic!("{broken}");
    }
});
