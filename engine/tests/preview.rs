//! The what-if preview on a small population, checked by hand.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mdm_engine::preview::{NewDevice, Population, preview};
use mdm_engine::{Outcome, Policy, Timestamp};

fn policy(doc: &str) -> Policy {
    Policy::from_json(doc).expect("policy")
}

const POPULATION: &str = r#"{
  "directory": { "alice": ["sales"], "bob": ["engineering"], "carol": ["sales", "contractors"], "dave": [] },
  "state": {
    "alice": { "devices": [ { "device_id": "A1", "os_type": "ios", "os_version": "17.0", "registered_at": "2026-01-05T09:00:00Z" } ] },
    "bob":   { "devices": [ { "device_id": "B1", "os_type": "android", "os_version": "11", "registered_at": "2026-01-05T09:00:00Z" } ] },
    "erin":  { "devices": [ { "device_id": "E1", "os_type": "ios", "registered_at": "2026-01-05T09:00:00Z" } ],
               "rejected": [ { "device_id": "E2", "rejected_at": "2026-02-01T00:00:00Z" } ] }
  }
}"#;

fn at() -> Timestamp {
    Timestamp::parse("2026-11-22T10:00:00Z").expect("time")
}

#[test]
fn adding_a_group_assigns_its_members() {
    let current = policy(
        r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"],"exclude_groups":["contractors"]}}"#,
    );
    let proposed = policy(
        r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales","engineering"],"exclude_groups":["contractors"]}}"#,
    );
    let population = Population::from_json(POPULATION).expect("population");
    let r = preview(&current, &proposed, &population, at());
    let s = r.summary;
    // alice, bob, carol, dave, erin.
    assert_eq!(s.users, 5);
    // Before: alice. After: alice and bob; carol stays excluded.
    assert_eq!((s.assigned_before, s.assigned_after), (1, 2));
    assert_eq!((s.became_assigned, s.became_unassigned), (1, 0));
    // bob moves from limited (no push, no SSO) to assigned (push, SSO).
    assert_eq!((s.push_mfa_gained, s.push_mfa_lost, s.sso_gained, s.sso_lost), (1, 0, 1, 0));
    assert_eq!((s.devices_blocked, s.devices_unblocked), (0, 0));
    // bob's next phone: replace before, approval after.
    assert_eq!(s.new_device_changed, 1);
    assert_eq!(r.changes.len(), 1);
    let c = &r.changes[0];
    assert_eq!(c.user, "bob");
    assert_eq!(c.before.new_device, NewDevice::Replace);
    assert_eq!(c.after.new_device, NewDevice::Approval);
    assert_eq!(c.before.devices[0].outcome, Outcome::Limited);
    assert_eq!(c.after.devices[0].outcome, Outcome::Allow);
}

#[test]
fn posture_blocks_devices_of_assigned_users_only() {
    let current = policy(r#"{"schema":"mdm.policy/v1","assignment":{"organization":true}}"#);
    let proposed = policy(
        r#"{"schema":"mdm.policy/v1","assignment":{"organization":true,"exclude_users":["erin"]},
            "requirements":{"min_os_version":{"android":"12"}}}"#,
    );
    let population = Population::from_json(POPULATION).expect("population");
    let r = preview(&current, &proposed, &population, at());
    let s = r.summary;
    assert_eq!((s.assigned_before, s.assigned_after), (5, 4));
    assert_eq!(s.became_unassigned, 1);
    // bob's Android 11 is blocked; erin's phone goes from allow to limited, not blocked.
    assert_eq!((s.devices_blocked, s.devices_unblocked), (1, 0));
    assert_eq!((s.push_mfa_lost, s.sso_lost), (1, 1));
    let users: Vec<&str> = r.changes.iter().map(|c| c.user.as_str()).collect();
    assert_eq!(users, ["bob", "erin"]);
    // erin: assigned approval before, unassigned replace after.
    assert_eq!(s.new_device_changed, 1);
}

#[test]
fn the_same_policy_changes_nothing() {
    let p = policy(
        r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},"assigned":{"max_devices":2}}"#,
    );
    let population = Population::from_json(POPULATION).expect("population");
    let r = preview(&p, &p, &population, at());
    assert!(r.changes.is_empty());
    assert_eq!(r.summary.users, 5);
    assert_eq!(r.summary.new_device_changed, 0);
}

#[test]
fn new_device_kinds() {
    let population = Population::from_json(
        r#"{"directory":{"a":["g"],"n":[]},
            "state":{"a":{"devices":[{"device_id":"A1","os_type":"ios","registered_at":"2026-01-05T09:00:00Z"}]}}}"#,
    )
    .expect("population");
    let kinds = |doc: &str| {
        let p = policy(doc);
        let r = preview(&p, &policy(r#"{"schema":"mdm.policy/v1","enabled":false}"#), &population, at());
        r.changes.iter().map(|c| (c.user.clone(), c.before.new_device)).collect::<Vec<_>>()
    };
    let a = r#"{"schema":"mdm.policy/v1","assignment":{"groups":["g"]}"#;
    assert_eq!(kinds(&format!("{a}}}"))[0], ("a".into(), NewDevice::Approval));
    assert_eq!(
        kinds(&format!(r#"{a},"assigned":{{"on_new_device":"deny"}}}}"#))[0],
        ("a".into(), NewDevice::Deny)
    );
    assert_eq!(
        kinds(&format!(r#"{a},"assigned":{{"max_devices":2}}}}"#))[0],
        ("a".into(), NewDevice::Register)
    );
    // Unassigned `add` with one device and max 1.
    let k = kinds(r#"{"schema":"mdm.policy/v1","unassigned":{"on_new_device":"add","access":"full"}}"#);
    assert_eq!(k[0], ("a".into(), NewDevice::Add));
}

#[test]
fn population_errors_point_into_the_state() {
    let e = Population::from_json(r#"{"state":{"al/ice":{"devices":[{"device_id":"","os_type":"ios","registered_at":"2026-01-05T09:00:00Z"}]}}}"#)
        .expect_err("empty id");
    assert_eq!(e.code().as_str(), "invalid_state");
    assert_eq!(e.pointer(), "/state/al~1ice/devices/0/device_id");
}

/// Version 2's four figures, and the rule that a scope reason changing alone lists nobody.
#[test]
fn version_2_figures_and_who_is_listed() {
    let population = Population::from_json(
        r#"{
      "directory": { "alice": ["sales"], "bob": ["sales"], "carol": ["support"], "dave": [] },
      "state": {
        "alice": { "devices": [ { "device_id": "A1", "os_type": "ios", "os_version": "17.0", "registered_at": "2026-01-05T09:00:00Z",
                                  "enrollment": { "method": "ios_profile", "at": "2026-01-05T09:05:00Z" } } ] },
        "bob":   { "devices": [ { "device_id": "B1", "os_type": "ios", "os_version": "16.0", "registered_at": "2026-01-05T09:00:00Z" },
                                { "device_id": "B2", "os_type": "android", "registered_at": "2026-01-06T09:00:00Z" } ] }
      }
    }"#,
    )
    .expect("population");
    let current = policy(
        r#"{"schema":"mdm.policy/v2","assignment":{"groups":["sales"]},"assigned":{"max_devices":2},
            "apps":[{"id":"mail","name":"Mail","platform":"ios"},{"id":"crm","name":"CRM","platform":"ios","groups":["support"]}]}"#,
    );
    let proposed = policy(
        r#"{"schema":"mdm.policy/v2","assignment":{"groups":["sales"],"exclude_groups":["support"]},"assigned":{"max_devices":2},
            "enrollment":{"required":true},"requirements":{"min_os_version":{"ios":"17.0"},"grace_hours":24},
            "apps":[{"id":"mail","name":"Mail","platform":"ios"},{"id":"mail","name":"Mail","platform":"android","groups":["sales"]}]}"#,
    );
    let r = preview(&current, &proposed, &population, at());
    let s = r.summary;
    // bob's B1 (iOS 16, never enrolled) goes into grace and must enroll; B2 must enroll.
    // alice's A1 is enrolled and up to date: neither.
    assert_eq!(s.devices_need_enrollment, 2, "{s:?}");
    assert_eq!(s.devices_in_grace, 1, "{s:?}");
    // alice and bob gain Android mail; nobody assigned had CRM (carol is not assigned), so
    // nothing is lost.
    assert_eq!((s.apps_gained, s.apps_lost), (2, 0), "{s:?}");
    // carol: scope.none -> scope.excluded_group, unassigned both times, same access: not
    // listed. dave: nothing changes.
    let users: Vec<&str> = r.changes.iter().map(|c| c.user.as_str()).collect();
    assert_eq!(users, ["alice", "bob"]);
    let bob = &r.changes[1];
    assert_eq!(bob.after.devices[0].outcome, Outcome::Limited);
    assert!(bob.after.apps.iter().any(|a| &*a.id == "mail"));
}

/// The fast decoder and the path-tracking one accept the same documents: a record given
/// as an array is an error in both, at the same pointer.
#[test]
fn population_records_must_be_objects() {
    for (doc, pointer) in [
        (r#"{"state":{"a":[]}}"#, "/state/a"),
        (r#"{"state":{"a":{"devices":[["A1","ios","17.0"]]}}}"#, "/state/a/devices/0"),
        (r#"{"state":{"a":{"pending":[["A1"]]}}}"#, "/state/a/pending/0"),
        (r#"{"state":{"a":{"rejected":[["A1","2026-01-05T09:00:00Z"]]}}}"#, "/state/a/rejected/0"),
        (r#"[{},{}]"#, ""),
    ] {
        let e = Population::from_json(doc).expect_err(doc);
        assert_eq!(e.code().as_str(), "invalid_state", "{doc}");
        assert_eq!(e.pointer(), pointer, "{doc}: {}", e.message());
    }
}

#[test]
fn population_users_come_sorted_and_a_repeated_name_is_refused_where_it_is() {
    let p = Population::from_json(
        r#"{"directory":{"u10":["a"],"u2":["b"]},"state":{"u1":{},"u2":{"devices":[]}}}"#,
    )
    .expect("population");
    assert_eq!(p.users().collect::<Vec<_>>(), ["u1", "u10", "u2"]);
    assert_eq!(p.get("u10").map(|(g, _)| g), Some(vec!["a"]));
    assert_eq!(p.get("u1").map(|(g, _)| g.len()), Some(0));
    assert!(p.get("u3").is_none());
    // A name given twice in one object is ambiguous (JSON parsers disagree on which one
    // wins), so it is refused at the name, in either map and at the top.
    for (doc, pointer) in [
        (r#"{"directory":{"u10":["a"],"u2":["b"],"u10":["c"]}}"#, "/directory/u10"),
        (r#"{"directory":{"a/b":[]},"state":{"a/b":{},"a/b":{}}}"#, "/state/a~1b"),
        (r#"{"directory":{"a":["g"]},"directory":{"b":[]}}"#, "/directory"),
        (r#"{"state":{"a":{"devices":[],"devices":[]}}}"#, "/state/a/devices"),
    ] {
        let err = Population::from_json(doc).expect_err(doc);
        assert_eq!((err.code().as_str(), err.pointer()), ("invalid_state", pointer), "{doc}: {err}");
        assert!(err.message().starts_with("duplicate field"), "{doc}: {err}");
    }
    // The same user in both maps is one user, not a repeat.
    let p = Population::from_json(r#"{"state":{"a":{}},"directory":{"a":["g"]}}"#).expect("population");
    assert_eq!(p.get("a").map(|(g, _)| g), Some(vec!["g"]));
}

/// The probe for "a further device" never takes the id of a device the user has, even the
/// id the preview usually gives it.
#[test]
fn the_further_device_probe_avoids_the_users_own_ids() {
    let population = Population::from_json(
        r#"{"directory":{"a":["sales"],"b":["sales"]},"state":{
          "a":{"devices":[{"device_id":"\u0001new-device-0","os_type":"ios","registered_at":"2026-01-05T09:00:00Z"}]},
          "b":{"devices":[{"device_id":"B1","os_type":"ios","registered_at":"2026-01-05T09:00:00Z"}]}}}"#,
    )
    .expect("population");
    let current = policy(
        r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},"assigned":{"max_devices":2}}"#,
    );
    let proposed = policy(
        r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},"assigned":{"max_devices":3}}"#,
    );
    // Nothing differs for a further device (both register), so nobody is listed...
    let report = preview(&current, &proposed, &population, at());
    assert_eq!(report.summary.new_device_changed, 0);
    // ...and with room for none, both users' further device needs approval alike.
    let full = policy(
        r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},"assigned":{"max_devices":1}}"#,
    );
    let report = preview(&current, &full, &population, at());
    let after: Vec<_> = report.changes.iter().map(|c| (c.user.as_str(), c.after.new_device)).collect();
    assert_eq!(after, [("a", NewDevice::Approval), ("b", NewDevice::Approval)]);
}

/// The same users as [`POPULATION`], one a line, in another order, with a blank line and
/// a CRLF line end.
const POPULATION_NDJSON: &str = concat!(
    r#"{"user":"erin","state":{"devices":[{"device_id":"E1","os_type":"ios","registered_at":"2026-01-05T09:00:00Z"}],"rejected":[{"device_id":"E2","rejected_at":"2026-02-01T00:00:00Z"}]}}"#,
    "\n",
    r#"{"user":"bob","groups":["engineering"],"state":{"devices":[{"device_id":"B1","os_type":"android","os_version":"11","registered_at":"2026-01-05T09:00:00Z"}]}}"#,
    "\r\n\n",
    r#"  {"user":"alice","groups":["sales"],"state":{"devices":[{"device_id":"A1","os_type":"ios","os_version":"17.0","registered_at":"2026-01-05T09:00:00Z"}]}}"#,
    "\n",
    r#"{"user":"dave"}"#,
    "\n",
    r#"{"groups":["sales","contractors"],"user":"carol"}"#,
    "\n",
);

#[test]
fn an_ndjson_population_is_the_same_population() {
    let document = Population::from_json(POPULATION).expect("document");
    let lines = Population::from_json(POPULATION_NDJSON).expect("ndjson");
    assert_eq!(lines.users().collect::<Vec<_>>(), ["alice", "bob", "carol", "dave", "erin"]);
    for user in document.users() {
        assert_eq!(lines.get(user), document.get(user), "{user}");
    }
    let current = policy(r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]}}"#);
    let proposed = policy(
        r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales","engineering"]},"requirements":{"min_os_version":{"ios":"17.1"}}}"#,
    );
    assert_eq!(preview(&current, &proposed, &lines, at()), preview(&current, &proposed, &document, at()));
}

#[test]
fn an_ndjson_population_reports_the_first_wrong_line() {
    let good = r#"{"user":"a","groups":["g"]}"#;
    let device = r#"{"device_id":"X","os_type":"ios","registered_at":"2026-01-05T09:00:00Z"}"#;
    for (doc, pointer, message) in [
        (format!("{good}\n{{\"user\":\"b\",\"groups\":[1]}}\n{{\"user\""), "/1/groups/0", "line 2: "),
        (format!("{good}\n\n{{\"user\":\"c\"}} x\n"), "/2", "line 3: "),
        (
            format!("{good}\n{{\"user\":\"b\",\"state\":{{\"devices\":[{device},{device}]}}}}"),
            "/1/state/devices/1",
            "line 2: ",
        ),
        (format!("{good}\n{{\"user\":\"b\"}}\n{{\"user\":\"a\"}}"), "/2/user", "line 3: duplicate user `a`"),
        (format!("{good}\n{{\"groups\":[]}}"), "/1/user", "line 2: missing field `user`"),
        (format!("{good}\n{{\"user\":\"b\",\"user\":\"c\"}}"), "/1/user", "line 2: duplicate field `user`"),
        (
            format!("{good}\n{{\"user\":\"b\",\"directory\":{{}}}}"),
            "/1/directory",
            "line 2: unknown field `directory`",
        ),
        (format!("{good}\n[]"), "/1", "line 2: "),
    ] {
        let e = Population::from_json(&doc).expect_err(&doc);
        assert_eq!((e.code().as_str(), e.pointer()), ("invalid_state", pointer), "{doc}: {e}");
        assert!(e.message().starts_with(message), "{doc}: {e}");
    }
    // A document whose first member is not `user` is read as one document, as before.
    let e = Population::from_json("{\"directory\":{}}\n{\"user\":\"a\"}").expect_err("two values");
    assert_eq!(e.pointer(), "");
    assert!(Population::from_json(" \n{ \"user\" : \"a\" }").is_ok());
}
