//! Event and state documents as arbitrary bytes: decoding never panics, errors carry the
//! right code and a pointer, and a decoded state survives a round trip through JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdm_engine::{ErrorCode, Event, UserState};

fn well_formed(e: &mdm_engine::Error, code: ErrorCode) {
    assert_eq!(e.code(), code);
    assert!(e.pointer().is_empty() || e.pointer().starts_with('/'), "pointer `{}`", e.pointer());
    assert!(!e.message().is_empty());
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Event::from_json(&text) {
        Ok(event) => assert!(!event.user().is_empty()),
        Err(e) => well_formed(&e, ErrorCode::InvalidEvent),
    }
    match UserState::from_json(&text) {
        Ok(state) => {
            assert!(state.check().is_ok());
            let json = serde_json::to_string(&state).expect("a state serialises");
            let again = UserState::from_json(&json).expect("a decoded state reparses");
            assert_eq!(state, again, "state round trip through `{json}`");
        }
        Err(e) => well_formed(&e, ErrorCode::InvalidState),
    }
});
