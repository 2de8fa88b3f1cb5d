//! Event and state documents as arbitrary bytes: decoding never panics, errors carry the
//! right code and a pointer, and a decoded state survives a round trip through JSON
//! (`mdm_testkit::invariants::event_or_state_document`, which the test suite also runs on
//! this target's corpus).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = mdm_testkit::invariants::event_or_state_document(data) {
        panic!("{broken}");
    }
});
