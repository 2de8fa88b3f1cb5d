//! The decision log and the shadow policy of the host library: what a gateway that
//! embeds `mdm-host` gets without the service.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use mdm_engine::{
    Admin, AdminAction, Device, Effect, Login, OsType, Outcome, Reason, Text, Timestamp, UserState,
};
use mdm_host::{Config, DecisionRecord, Runtime};

const POLICY: &str = r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},
    "assigned":{"max_devices":1,"on_new_device":"approval"}}"#;
const STRICT: &str = r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},
    "requirements":{"min_pin_length":6}}"#;

fn at() -> Timestamp {
    Timestamp::parse("2026-11-22T10:00:00Z").unwrap()
}

fn device(id: &str, serial: &str) -> Device {
    let mut d = Device::new(Text::new(id).unwrap(), OsType::Ios);
    d.serial_number = Some(Text::new(serial).unwrap());
    d
}

fn collect(gateway: &mdm_host::Gateway) -> Arc<Mutex<Vec<DecisionRecord>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    gateway.on_decision(move |r| sink.lock().unwrap().push(r.clone()));
    log
}

#[test]
fn every_decision_reaches_the_hook_with_its_policy_engine_and_masked_serial() {
    let runtime = Runtime::new(Config::default()).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    let log = collect(&gateway);
    let login = Login::new("alice", device("A1", "F2LXK0QJHG7F"), at());
    let verdict = gateway.decide_login(&login, &["sales"], &UserState::default());
    assert_eq!(verdict.outcome(), Outcome::Allow);

    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1);
    let r = &log[0];
    assert_eq!((r.event, r.user.as_str(), r.device_id.as_str()), ("login", "alice", "A1"));
    assert_eq!(r.outcome, Some(Outcome::Allow));
    assert_eq!(r.at, at());
    assert_eq!(r.policy_digest, gateway.policy_digest());
    assert!(r.policy_digest.starts_with("sha256:") && r.policy_digest.len() == 71);
    assert_eq!(&*r.engine_version, runtime.engine_version().unwrap());
    assert!(r.fault.is_none() && r.shadow.is_none());
    // The gateway's own decision keeps the serial; the log keeps its last four characters.
    let Effect::AddDevice { device, .. } = &verdict.decision().unwrap().effects[0] else { panic!() };
    assert_eq!(device.serial_number.as_ref().unwrap().as_str(), "F2LXK0QJHG7F");
    let Effect::AddDevice { device, .. } = &r.effects[0] else { panic!("{:?}", r.effects) };
    assert_eq!(device.serial_number.as_ref().unwrap().as_str(), "****HG7F");
    let json = serde_json::to_value(r).unwrap();
    assert!(!json.to_string().contains("F2LXK0QJ"), "{json}");
    assert_eq!(json["outcome"], "allow");
}

#[test]
fn serial_numbers_are_kept_whole_only_when_asked() {
    let runtime = Runtime::new(Config { reveal_serial_numbers: true, ..Config::default() }).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    let login = Login::new("alice", device("A1", "F2LXK0QJHG7F"), at());
    let (_, r) = gateway.decide_login_recorded(&login, &["sales"], &UserState::default());
    let Effect::AddDevice { device, .. } = &r.effects[0] else { panic!() };
    assert_eq!(device.serial_number.as_ref().unwrap().as_str(), "F2LXK0QJHG7F");
}

#[test]
fn admin_events_are_recorded_with_their_commands_and_refusals() {
    let runtime = Runtime::new(Config::default()).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    let log = collect(&gateway);
    let mut state = UserState::default();
    let first = gateway.decide_login(&Login::new("alice", device("A1", "S1"), at()), &["sales"], &state);
    state.apply(&first.decision().unwrap().effects);
    let wipe = Admin::new(AdminAction::Wipe, "alice", Text::new("A1").unwrap(), at());
    gateway.decide_admin(&wipe, &["sales"], &state).unwrap();
    let approve = Admin::new(AdminAction::Approve, "alice", Text::new("B2").unwrap(), at());
    let refused = gateway.decide_admin(&approve, &["sales"], &state).unwrap_err();

    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[1].event, "wipe");
    assert_eq!(log[1].outcome, None);
    assert_eq!(log[1].commands.len(), 1);
    assert_eq!(log[2].event, "approve");
    assert_eq!(log[2].fault.as_ref().unwrap().code, refused.code());
    let ids: std::collections::HashSet<_> = log.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 3, "record ids are unique");
}

#[test]
fn a_shadow_policy_is_decided_beside_the_live_one_without_effects() {
    let runtime = Runtime::new(Config::default()).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    let log = collect(&gateway);
    assert!(gateway.set_shadow(Some("{not json")).is_err());
    assert!(gateway.shadow_digest().is_none(), "a refused shadow leaves none");
    gateway.set_shadow(Some(STRICT)).unwrap();
    assert!(gateway.shadow_digest().is_some());

    let mut weak = device("A1", "S1");
    weak.pin_length = Some(4);
    let verdict = gateway.decide_login(&Login::new("alice", weak, at()), &["sales"], &UserState::default());
    // The live policy decides and registers; the shadow only reports.
    assert_eq!(verdict.outcome(), Outcome::Allow);
    assert_eq!(verdict.decision().unwrap().effects.len(), 1);
    {
        let log = log.lock().unwrap();
        let shadow = log[0].shadow.as_ref().unwrap();
        assert_eq!(shadow.outcome, Outcome::Deny);
        assert!(shadow.reasons.contains(Reason::PosturePin));
        assert!(shadow.differs_from(log[0].outcome.unwrap()));
        assert_eq!(Some(&shadow.policy_digest), gateway.shadow_digest().as_ref());
    }

    gateway.set_shadow(None).unwrap();
    gateway.decide_login(&Login::new("alice", device("A1", "S1"), at()), &["sales"], &UserState::default());
    assert!(log.lock().unwrap()[1].shadow.is_none());
}
