//! Policy documents as arbitrary bytes: parsing, validation and compilation never panic,
//! `validate` and `Policy::from_json` agree, and every error names a code and a pointer
//! (`mdm_testkit::invariants::policy_document`, which the test suite also runs on this
//! target's corpus).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = mdm_testkit::invariants::policy_document(data) {
        panic!("{broken}");
    }
});
