//! Decisions beyond the scenario corpus: remediation texts, effects, and the JSON shape.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mdm_engine::{Decision, Event, Policy, UserState, decide};
use serde_json::json;

fn run(policy: &str, groups: &[&str], state: &str, event: &str) -> serde_json::Value {
    let policy = Policy::from_json(policy).expect("policy");
    let state = UserState::from_json(state).expect("state");
    let event = Event::from_json(event).expect("event");
    serde_json::to_value(decide(&policy, groups, &state, &event).expect("decision")).expect("json")
}

#[test]
fn posture_deny_carries_remediation_per_failure() {
    let d = run(
        r#"{"schema":"mdm.policy/v1","assignment":{"organization":true},
            "requirements":{"platforms":["ios","android"],"min_os_version":{"ios":"16.0"},"min_pin_length":4,
                            "require_encryption":true,"block_compromised":true}}"#,
        &[],
        "{}",
        r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z",
            "device":{"device_id":"A1","os_type":"ios","os_version":"15.7","pin_length":0,"encrypted":false,"compromised":true}}"#,
    );
    assert_eq!(
        d,
        json!({
            "outcome": "deny", "assigned": true,
            "access": {"app": false, "sso": false, "push_mfa": false},
            "reasons": ["scope.organization", "posture.os_version", "posture.pin", "posture.encryption", "posture.compromised"],
            "remediation": ["update iOS to 16.0 or later", "set a PIN of at least 4 digits",
                            "turn on device encryption", "use a device that is not jailbroken or rooted"],
            "effects": []
        })
    );
}

#[test]
fn platform_remediation_names_the_allowed_platforms() {
    let d = run(
        r#"{"schema":"mdm.policy/v1","assignment":{"organization":true},"requirements":{"platforms":["ios","android"]}}"#,
        &[],
        "{}",
        r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"device_id":"A1","os_type":"other"}}"#,
    );
    assert_eq!(d["remediation"], json!(["use a device running iOS or Android"]));
}

#[test]
fn approval_request_after_expiry_lists_its_effects_in_order() {
    let d = run(
        r#"{"schema":"mdm.policy/v1","assignment":{"users":["a"]},"assigned":{"approval_ttl_hours":1}}"#,
        &[],
        r#"{"devices":[{"device_id":"A1","os_type":"ios","registered_at":"2026-11-01T00:00:00Z"}],
            "pending":[{"device":{"device_id":"A2","os_type":"ios"},"requested_at":"2026-11-22T08:00:00Z"}]}"#,
        r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"device_id":"A2","os_type":"ios","model":"iPhone15,2"}}"#,
    );
    assert_eq!(d["reasons"], json!(["scope.user", "device.approval_requested", "device.request_expired"]));
    assert_eq!(
        d["effects"],
        json!([
            {"op": "remove_pending", "device_id": "A2"},
            {"op": "add_pending", "device": {"device_id": "A2", "os_type": "ios", "model": "iPhone15,2"}, "at": "2026-11-22T10:00:00Z"}
        ])
    );
}

#[test]
fn replace_removes_then_registers() {
    let policy = Policy::from_json(r#"{"schema":"mdm.policy/v1"}"#).expect("policy");
    let mut state = UserState::from_json(
        r#"{"devices":[{"device_id":"B1","os_type":"ios","registered_at":"2026-11-01T00:00:00Z"}]}"#,
    )
    .expect("state");
    let event = Event::from_json(
        r#"{"type":"login","user":"b","at":"2026-11-22T10:00:00Z","device":{"device_id":"B2","os_type":"android"}}"#,
    )
    .expect("event");
    let d = decide(&policy, &[] as &[&str], &state, &event).expect("decision");
    let Decision::Login(login) = &d else { panic!("a login") };
    assert_eq!(
        serde_json::to_value(&login.effects).expect("json"),
        json!([
            {"op": "remove_device", "device_id": "B1"},
            {"op": "add_device", "device": {"device_id": "B2", "os_type": "android"}, "at": "2026-11-22T10:00:00Z"}
        ])
    );
    state.apply(d.effects());
    assert_eq!(
        serde_json::to_value(&state).expect("json"),
        json!({"devices": [{"device_id": "B2", "os_type": "android", "registered_at": "2026-11-22T10:00:00Z"}],
               "pending": [], "rejected": []})
    );
}

#[test]
fn admin_errors_name_the_device() {
    let policy = Policy::from_json(r#"{"schema":"mdm.policy/v1"}"#).expect("policy");
    let event =
        Event::from_json(r#"{"type":"approve","user":"a","device_id":"A9","at":"2026-11-22T10:00:00Z"}"#)
            .expect("event");
    let e = decide(&policy, &[] as &[&str], &UserState::default(), &event).expect_err("nothing pending");
    assert_eq!(e.code().as_str(), "no_pending_request");
    assert_eq!(e.pointer(), "/device_id");
    assert_eq!(e.to_string(), "no pending request for device `A9`");
}
