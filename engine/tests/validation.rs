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
    assert_eq!(
        m,
        "unsupported schema `mdm.policy/v9`, expected `mdm.policy/v1`, `mdm.policy/v2` or `mdm.policy/v3`"
    );
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
    // `validate` gives the same first error, though the document cannot be parsed whole.
    let doc = format!(r#"{{"schema":"mdm.policy/v1","assignment":{deep}}}"#);
    let e = Policy::from_json(&doc).expect_err("invalid");
    assert_eq!(e.pointer(), "/assignment");
    let v = validate(&doc);
    assert_eq!(v.errors.len(), 1);
    assert_eq!(
        (v.errors[0].pointer.as_str(), v.errors[0].message.as_str()),
        (e.pointer(), e.message().as_str())
    );
    // A field the engine does not read is skipped without recursing (serde_json skips
    // iteratively), so the event's own error is the one reported.
    let event = format!(r#"{{"type":"login","extra":{deep}}}"#);
    let e = Event::from_json(&event).expect_err("invalid");
    assert_eq!(e.code(), ErrorCode::InvalidEvent);
    assert_eq!((e.pointer(), e.message().as_str()), ("/user", "missing field `user`"));
    // A field it reads stops at serde_json's depth limit before anything recurses further.
    let event = format!(r#"{{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{deep}}}"#);
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

fn findings(v: &[mdm_engine::Issue]) -> Vec<(&str, &str)> {
    v.iter().map(|i| (i.code.as_str(), i.pointer.as_str())).collect()
}

#[test]
fn validate_reads_past_decoding_errors() {
    // Three independent mistakes: a misspelt field, a value of the wrong type and a
    // rule serde cannot express. serde alone stops at the first.
    let text = r#"{"schema":"mdm.policy/v1","asigned":{},"requirements":{"min_pin_length":"six"},
        "unassigned":{"max_devices":0}}"#;
    let v = validate(text);
    assert_eq!(
        findings(&v.errors),
        [
            ("unknown_field", "/asigned"),
            ("invalid_type", "/requirements/min_pin_length"),
            ("out_of_range", "/unassigned/max_devices"),
        ]
    );
    let first = Policy::from_json(text).expect_err("invalid");
    assert_eq!(
        (first.pointer(), first.message()),
        (v.errors[0].pointer.as_str(), v.errors[0].message.clone())
    );
}

#[test]
fn errors_in_array_elements_keep_their_indices() {
    let v = validate(
        r#"{"schema":"mdm.policy/v2",
            "requirements":{"platforms":["ios","symbian","android","palm"]},
            "apps":[{"id":"a","name":"A","platform":"beos"},{"id":"b","name":"B"},{"id":"","name":"C","platform":"ios"},
                    {"id":"d","name":"D","platform":"ios","colour":1}]}"#,
    );
    // Objects are decoded in `serde_json`'s key order, which a feature of it changes
    // (sorted, or as written): the set of findings is what holds.
    let mut found = findings(&v.errors);
    found.sort();
    let mut want = vec![
        ("invalid_value", "/apps/0/platform"),
        ("missing_field", "/apps/1/platform"),
        ("unknown_field", "/apps/3/colour"),
        ("invalid_value", "/requirements/platforms/1"),
        ("invalid_value", "/requirements/platforms/3"),
        ("invalid_id", "/apps/2/id"),
    ];
    want.sort();
    assert_eq!(found, want, "{v:#?}");
}

#[test]
fn a_removed_value_is_not_reported_again() {
    // `schema` of the wrong type is one error, not also "missing field `schema`".
    let v = validate(r#"{"schema":1,"assignment":{"users":[""]}}"#);
    assert_eq!(findings(&v.errors), [("invalid_type", "/schema"), ("invalid_id", "/assignment/users/0")]);
    // A syntax error stops validation: nothing after it can be read.
    let v = validate(r#"{"schema":"mdm.policy/v1","enabled":tru}"#);
    assert_eq!(findings(&v.errors), [("syntax", "")]);
    assert!(v.errors[0].message.contains("line 1 column"), "{}", v.errors[0].message);
}

#[test]
fn validation_stops_at_a_hundred_errors() {
    let users: Vec<String> = (0..300).map(|i| format!(r#""u{i}":1"#)).collect();
    let v = validate(&format!(r#"{{"schema":"mdm.policy/v1",{}}}"#, users.join(",")));
    assert_eq!(v.errors.len(), 100);
    assert!(v.errors.iter().all(|i| i.code == mdm_engine::IssueCode::UnknownField));
}

#[test]
fn every_warning_and_error_has_a_code() {
    let v = validate(
        r#"{"schema":"mdm.policy/v2","assignment":{"users":["a"],"exclude_users":["a"]},
            "assigned":{"approvers":[]},"enrollment":{"methods":["ios_profile","ios_profile"]},
            "requirements":{"min_os_version":{"ios":"x","beos":"1"}}}"#,
    );
    assert_eq!(
        findings(&v.errors),
        [
            ("empty", "/assigned/approvers"),
            ("duplicate", "/enrollment/methods/1"),
            ("invalid_value", "/requirements/min_os_version/beos"),
            ("invalid_version", "/requirements/min_os_version/ios"),
        ]
    );
    assert_eq!(findings(&v.warnings), [("included_and_excluded", "/assignment/exclude_users/0")]);
    let v = validate(r#"{"schema":"mdm.policy/v9"}"#);
    assert_eq!(findings(&v.errors), [("unsupported_schema", "/schema")]);
    let v = validate(r#"{"schema":"mdm.policy/v1","apps":[]}"#);
    assert_eq!(findings(&v.errors), [("unknown_field", "/apps")]);
}

#[test]
fn wrong_json_kinds_are_named_as_serde_names_them() {
    for (value, unexpected) in [
        ("1.5", "type: floating point `1.5`"),
        // A number is quoted as the document writes it.
        ("1e300", "type: floating point `1e300`"),
        ("12345678901234567890123", "value: integer `12345678901234567890123`"),
        ("-3", "value: integer `-3`"),
        ("true", "type: boolean `true`"),
        (r#""six""#, r#"type: string "six""#),
        ("[6]", "type: sequence"),
        ("{}", "type: map"),
    ] {
        let doc = format!(r#"{{"schema":"mdm.policy/v1","requirements":{{"min_pin_length":{value}}}}}"#);
        let (p, m) = policy_error(&doc);
        assert_eq!(p, "/requirements/min_pin_length", "{value}");
        assert_eq!(m, format!("invalid {unexpected}, expected u32"), "{value}");
    }
}

#[test]
fn errors_deep_in_arrays_point_at_the_element() {
    let (p, m) = policy_error(r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales",7]}}"#);
    assert_eq!(p, "/assignment/groups/1");
    assert!(m.starts_with("invalid type: integer `7`"), "{m}");
}

#[test]
fn a_value_is_read_as_documents_are() {
    use mdm_engine::DocumentKind;
    let v = DocumentKind::Event.value(r#"{"user":"alice","device":{"apps":[{"id":"a"}]}}"#).expect("value");
    assert_eq!(v["device"]["apps"][0]["id"], "a");
    let e = DocumentKind::Event.value(r#"{"device":{"apps":[{"id":"a","id":"b"}]}}"#).expect_err("repeated");
    assert_eq!((e.code(), e.pointer()), (ErrorCode::InvalidEvent, "/device/apps/0/id"));
    assert_eq!(e.message(), "duplicate field `id`");
    let e = DocumentKind::State.value(r#"{"devices": [}"#).expect_err("syntax");
    assert_eq!((e.code(), e.pointer()), (ErrorCode::InvalidState, ""));
}

/// A document decoded from a parsed value fails where and as its text does.
#[test]
fn values_and_texts_fail_alike() {
    let events = [
        r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"os_type":"ios"}}"#,
        r#"{"type":"login","user":"a","at":"yesterday","device":{"device_id":"A1","os_type":"ios"}}"#,
        r#"{"type":"login","user":7,"at":"2026-11-22T10:00:00Z"}"#,
        r#"{"type":"login","user":"a","at":"2026-11-22T10:00:00Z","device":{"device_id":"A1","os_type":"palm"}}"#,
    ];
    for text in events {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let (a, b) = (Event::from_json(text).unwrap_err(), Event::from_value(&value).unwrap_err());
        assert_eq!((a.pointer(), a.message()), (b.pointer(), b.message()), "{text}");
    }
    let states =
        [r#"{"devices":[{"device_id":"A1","os_type":"ios"}]}"#, r#"{"devices":{}}"#, r#"{"devicez":[]}"#];
    for text in states {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let (a, b) = (UserState::from_json(text).unwrap_err(), UserState::from_value(&value).unwrap_err());
        assert_eq!((a.pointer(), a.message()), (b.pointer(), b.message()), "{text}");
    }
    let policies = [
        r#"{"schema":"mdm.policy/v1","assignment":{"grups":[]}}"#,
        r#"{"schema":"mdm.policy/v1","assignment":[true]}"#,
        r#"{"schema":"mdm.policy/v1","assigned":{"on_new_device":"maybe"}}"#,
    ];
    for text in policies {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let (a, b) = (Policy::from_json(text).unwrap_err(), Policy::from_value(&value).unwrap_err());
        assert_eq!((a.pointer(), a.message()), (b.pointer(), b.message()), "{text}");
    }
}

#[test]
fn validate_reports_every_repeated_name_with_the_other_errors() {
    // Two names given twice, in different objects, around an element of the wrong type:
    // each is reported where it is, and the pointers after the left-out element are the
    // document's own.
    let text = r#"{"schema":"mdm.policy/v1","schema":"mdm.policy/v1",
        "assignment":{"groups":["a",7,"b",""],"users":["u"],"users":["v"]}}"#;
    let v = validate(text);
    assert_eq!(
        findings(&v.errors),
        [
            ("duplicate", "/schema"),
            ("invalid_type", "/assignment/groups/1"),
            ("duplicate", "/assignment/users"),
            ("invalid_id", "/assignment/groups/3"),
        ],
        "{:#?}",
        v.errors
    );
    assert!(v.errors.first().is_some_and(|i| i.message == "duplicate field `schema`"));
}

#[test]
fn an_issue_code_is_the_failure_kind_not_the_message_words() {
    // Values whose messages begin with another failure's words keep their own code.
    let text = r#"{"schema":"mdm.policy/v1","assigned":{"on_new_device":"missing field `x`"},
        "requirements":{"min_os_version":{"ios":"17","ios":"18"}}}"#;
    let v = validate(text);
    assert_eq!(
        findings(&v.errors),
        [("invalid_value", "/assigned/on_new_device"), ("duplicate", "/requirements/min_os_version/ios")],
        "{:#?}",
        v.errors
    );
}
