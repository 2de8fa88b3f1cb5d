//! Arbitrary bytes through the engine's JSON reader and `serde_json`: the same value, or
//! the same refusal in the same words at the same line and column, but where they differ
//! by design (`mdm_testkit::invariants::json_text`, which says how, and which the test
//! suite also runs on this target's corpus).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = mdm_testkit::invariants::json_text(data) {
        panic!("{broken}");
    }
});
