//! Policy documents as arbitrary bytes: parsing, validation and compilation never panic,
//! `validate` and `Policy::from_json` agree, and every error names a code and a pointer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdm_engine::{ErrorCode, Policy, validate};

fuzz_target!(|data: &[u8]| {
    // Hosts refuse invalid UTF-8 before the engine; lossy decoding keeps the bytes useful.
    let text = String::from_utf8_lossy(data);
    let report = validate(&text);
    match Policy::from_json(&text) {
        Ok(policy) => {
            assert!(report.errors.is_empty(), "compiled, yet validate found {:?}", report.errors);
            assert_eq!(policy.warnings(), report.warnings.as_slice());
            // A compiled policy's document survives a round trip unchanged.
            let again = serde_json::to_string(policy.doc()).expect("a document serialises");
            let reparsed = Policy::from_json(&again).expect("a compiled document reparses");
            assert_eq!(policy.doc(), reparsed.doc());
        }
        Err(e) => {
            assert!(!report.errors.is_empty(), "`{}` rejected, yet validate found nothing", e.message());
            assert_eq!(e.code(), ErrorCode::InvalidPolicy);
            assert!(e.pointer().is_empty() || e.pointer().starts_with('/'), "pointer `{}`", e.pointer());
            assert!(!e.message().is_empty());
        }
    }
});
