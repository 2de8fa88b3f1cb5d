//! Validation messages: the code, the JSON Pointer and the words a person reads.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mdm_engine::{ErrorCode, Event, Policy, UserState, validate};

fn policy_error(doc: &str) -> (String, String) {
    let e = Policy::from_json(doc).expect_err("the policy is invalid");
    assert_eq!(e.code(), ErrorCode::InvalidPolicy);
    (e.pointer().to_string(), e.message())
}

#[test]
fn max_devices_below_one() {
    let (p, m) = policy_error(r#"{"schema":"mdm.policy/v1","assigned":{"max_devices":0}}"#);
    assert_eq!(p, "/assigned/max_devices");
    assert_eq!(m, "must be at least 1, got 0");
}

#[test]
fn unknown_field_points_at_the_field() {
    let (p, m) = policy_error(r#"{"schema":"mdm.policy/v1","assignment":{"group":["sales"]}}"#);
    assert_eq!(p, "/assignment/group");
    assert!(m.starts_with("unknown field `group`"), "{m}");
}

#[test]
fn missing_schema() {
    let (p, m) = policy_error(r#"{"enabled":true}"#);
    assert_eq!(p, "/schema");
    assert_eq!(m, "missing field `schema`");
}

#[test]
fn wrong_schema() {
    let (p, m) = policy_error(r#"{"schema":"mdm.policy/v9"}"#);
    assert_eq!(p, "/schema");
    assert_eq!(m, "unsupported schema `mdm.policy/v9`, expected `mdm.policy/v1` or `mdm.policy/v2`");
}

#[test]
fn wrong_type() {
    let (p, m) = policy_error(r#"{"schema":"mdm.policy/v1","enabled":"yes"}"#);
    assert_eq!(p, "/enabled");
    assert!(m.starts_with("invalid type: string \"yes\", expected a boolean"), "{m}");
}

#[test]
fn unknown_platform_points_at_the_element() {
    let (p, m) = policy_error(r#"{"schema":"mdm.policy/v1","requirements":{"platforms":["ios","windows"]}}"#);
    assert_eq!(p, "/requirements/platforms/1");
    assert!(m.contains("unknown variant `windows`"), "{m}");
}

#[test]
fn unknown_os_in_min_version() {
    let (p, m) =
        policy_error(r#"{"schema":"mdm.policy/v1","requirements":{"min_os_version":{"windows":"10"}}}"#);
    assert_eq!(p, "/requirements/min_os_version/windows");
    assert_eq!(m, "unknown OS type `windows`, expected `ios`, `android` or `other`");
}

#[test]
fn bad_version() {
    let (p, m) =
        policy_error(r#"{"schema":"mdm.policy/v1","requirements":{"min_os_version":{"ios":"16.x"}}}"#);
    assert_eq!(p, "/requirements/min_os_version/ios");
    assert!(m.starts_with("`16.x` is not a version"), "{m}");
}

#[test]
fn pin_too_long() {
    let (p, m) = policy_error(r#"{"schema":"mdm.policy/v1","requirements":{"min_pin_length":17}}"#);
    assert_eq!(p, "/requirements/min_pin_length");
    assert_eq!(m, "must be at most 16, got 17");
}

#[test]
fn empty_id() {
    let (p, m) = policy_error(r#"{"schema":"mdm.policy/v1","assignment":{"exclude_groups":["ok",""]}}"#);
    assert_eq!(p, "/assignment/exclude_groups/1");
    assert_eq!(m, "must not be an empty id");
}

#[test]
fn not_json_at_all() {
    let e = Policy::from_json("{").expect_err("invalid");
    assert_eq!(e.code(), ErrorCode::InvalidPolicy);
    assert!(e.message().contains("EOF"), "{}", e.message());
    let e = Policy::from_json(r#"{"schema":"mdm.policy/v1"} x"#).expect_err("trailing");
    assert_eq!(e.code(), ErrorCode::InvalidPolicy);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = Policy::from_json(&deep).expect_err("invalid");
    assert_eq!(e.code(), ErrorCode::InvalidPolicy);
    // serde_json's depth limit stops a deep document before anything recurses further.
    let event = format!(r#"{{"type":"login","extra":{deep}}}"#);
    let e = Event::from_json(&event).expect_err("invalid");
    assert_eq!(e.code(), ErrorCode::InvalidEvent);
    assert!(e.message().contains("recursion limit"), "{}", e.message());
}

#[test]
fn validate_lists_every_error_and_warning() {
    let v = validate(
        r#"{"schema":"mdm.policy/v1",
            "assignment":{"users":["alice","bob"],"exclude_users":["bob"],"groups":["x"],"exclude_groups":["x"]},
            "assigned":{"max_devices":0},"unassigned":{"max_devices":0},
            "requirements":{"min_pin_length":20}}"#,
    );
    let errors: Vec<&str> = v.errors.iter().map(|i| i.pointer.as_str()).collect();
    assert_eq!(errors, ["/assigned/max_devices", "/unassigned/max_devices", "/requirements/min_pin_length"]);
    let warnings: Vec<(&str, &str)> =
        v.warnings.iter().map(|i| (i.pointer.as_str(), i.message.as_str())).collect();
    assert_eq!(
        warnings,
        [
            (
                "/assignment/exclude_users/0",
                "user `bob` is both in `users` and in `exclude_users`; the exclusion wins"
            ),
            (
                "/assignment/exclude_groups/0",
                "group `x` is both in `groups` and in `exclude_groups`; the exclusion wins"
            ),
        ]
    );
}

#[test]
fn a_warning_does_not_stop_the_policy() {
    let p =
        Policy::from_json(r#"{"schema":"mdm.policy/v1","assignment":{"users":["a"],"exclude_users":["a"]}}"#)
            .expect("warnings only");
    assert_eq!(p.warnings().len(), 1);
}

#[test]
fn event_errors_point_into_the_event() {
    let cases = [
        (
            r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"os_type":"ios"}}"#,
            "/device/device_id",
            "missing field `device_id`",
        ),
        (
            r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"device_id":"A","os_type":"windows"}}"#,
            "/device/os_type",
            "unknown variant `windows`",
        ),
        (
            r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"device_id":"A","os_type":"ios","os_version":"17.x"}}"#,
            "/device/os_version",
            "`17.x` is not a version",
        ),
        (
            r#"{"type":"login","user":"a","at":"yesterday","device":{"device_id":"A","os_type":"ios"}}"#,
            "/at",
            "`yesterday` is not an RFC 3339 time",
        ),
        (
            r#"{"type":"reboot","user":"a","at":"2026-11-22T10:00:00Z"}"#,
            "/type",
            "unknown event type `reboot`",
        ),
        (
            r#"{"type":"approve","user":"a","at":"2026-11-22T10:00:00Z"}"#,
            "/device_id",
            "missing field `device_id`",
        ),
        (
            r#"{"type":"login","user":"","at":"2026-11-22T10:00:00Z","device":{"device_id":"A","os_type":"ios"}}"#,
            "/user",
            "must not be an empty id",
        ),
        (
            r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"device_id":"","os_type":"ios"}}"#,
            "/device/device_id",
            "must not be empty",
        ),
    ];
    for (doc, pointer, start) in cases {
        let e = Event::from_json(doc).expect_err(doc);
        assert_eq!(e.code(), ErrorCode::InvalidEvent, "{doc}");
        assert_eq!(e.pointer(), pointer, "{doc}");
        assert!(e.message().starts_with(start), "{doc}: {}", e.message());
    }
}

#[test]
fn state_errors() {
    let e = UserState::from_json(r#"{"devices":[{"device_id":"A","os_type":"ios"}]}"#).expect_err("no time");
    assert_eq!(e.code(), ErrorCode::InvalidState);
    assert_eq!(e.pointer(), "/devices/0/registered_at");
    let e = UserState::from_json(
        r#"{"devices":[{"device_id":"A","os_type":"ios","registered_at":"2026-01-01T00:00:00Z"},
                       {"device_id":"A","os_type":"ios","registered_at":"2026-01-02T00:00:00Z"}]}"#,
    )
    .expect_err("twice");
    assert_eq!(e.pointer(), "/devices/1");
    assert_eq!(e.message(), "device `A` is listed twice");
    let e = UserState::from_json(r#"{"devices":[],"extra":1}"#).expect_err("unknown");
    assert_eq!(e.pointer(), "/extra");
}

#[test]
fn unknown_device_attributes_are_not_kept() {
    let e = Event::from_json(
        r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"device_id":"A","os_type":"ios","imei":"1","contacts":["x"]}}"#,
    )
    .expect("valid");
    let Event::Login(l) = e else { panic!("a login") };
    let kept = serde_json::to_value(&l.device).expect("serialises");
    assert_eq!(kept, serde_json::json!({"device_id":"A","os_type":"ios"}));
}
