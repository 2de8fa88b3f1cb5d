//! The sandbox fails closed: a trap, the memory cap and the deadline each give a deny,
//! never a crash, and the host keeps serving afterwards.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use mdm_engine::{Device, Login, OsType, Outcome, Registered, Text, Timestamp, UserState};
use mdm_host::{Config, HostError, Runtime, Verdict};

const POLICY: &str =
    r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},"assigned":{"on_new_device":"replace"}}"#;

fn at() -> Timestamp {
    Timestamp::parse("2026-11-22T10:00:00Z").unwrap()
}

fn device(id: &str) -> Device {
    Device::new(Text::new(id).unwrap(), OsType::Ios)
}

fn state_with(n: usize) -> UserState {
    UserState {
        devices: (0..n)
            .map(|i| Registered::new(device(&format!("D{i}")), Timestamp::from_millis(i as i64)))
            .collect(),
        ..UserState::default()
    }
}

fn config() -> Config {
    Config::default()
}

/// A directory of this test's own under `target/`: tests write nowhere else.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_library_writes_nothing_by_default() {
    assert_eq!(Config::default().cache_dir, None);
}

#[test]
fn memory_cap_denies_then_serves() {
    let runtime = Runtime::new(Config { memory_limit: 4 << 20, ..config() }).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    let huge = state_with(300_000);
    let v = gateway.decide_login(&Login::new("alice", device("NEW"), at()), &["sales"], &huge);
    assert!(
        matches!(v, Verdict::FailedClosed(HostError::MemoryLimit { limit }) if limit == 4 << 20),
        "{v:?}"
    );
    assert_eq!(v.outcome(), Outcome::Deny);
    assert!(!v.access().app && !v.access().sso && !v.access().push_mfa);
    let ok =
        gateway.decide_login(&Login::new("alice", device("A1"), at()), &["sales"], &UserState::default());
    assert_eq!(ok.outcome(), Outcome::Allow, "{ok:?}");
}

#[test]
fn deadline_denies_then_serves() {
    let runtime = Runtime::new(Config {
        memory_limit: 1 << 30,
        deadline: Duration::from_millis(2),
        tick: Duration::from_millis(1),
        ..config()
    })
    .unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    // Replacing among a million devices sorts them all: far past 2 ms in the guest.
    let huge = state_with(1_000_000);
    let v = gateway.decide_login(&Login::new("alice", device("NEW"), at()), &["sales"], &huge);
    assert!(matches!(v, Verdict::FailedClosed(HostError::Deadline)), "{v:?}");
    let ok =
        gateway.decide_login(&Login::new("alice", device("A1"), at()), &["sales"], &UserState::default());
    assert_eq!(ok.outcome(), Outcome::Allow, "{ok:?}");
}

/// A component of the same world whose every export traps (`unreachable`), made from
/// the WIT by wit-component.
fn trapping_component() -> Vec<u8> {
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve.push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../wit")).unwrap();
    let world = resolve.select_world(&[pkg], Some("mdm")).unwrap();
    let mut module = wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .unwrap();
    wit_component::ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap()
}

#[test]
fn guest_trap_is_an_error_not_a_crash() {
    let runtime = Runtime::with_component(config(), &trapping_component()).unwrap();
    let e = runtime.gateway(POLICY).err().expect("the guest traps");
    assert!(matches!(e, HostError::Trap(_)), "{e:?}");
    assert_eq!(e.code(), "host.trap");
    assert!(matches!(runtime.validate(POLICY), Err(HostError::Trap(_))));
    // The real engine in the same process is unaffected.
    let gateway = Runtime::new(config()).unwrap().gateway(POLICY).unwrap();
    let ok =
        gateway.decide_login(&Login::new("alice", device("A1"), at()), &["sales"], &UserState::default());
    assert_eq!(ok.outcome(), Outcome::Allow);
}

#[test]
fn invalid_policy_is_refused_and_the_old_one_stays() {
    let runtime = Runtime::new(config()).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    let e = gateway.set_policy(r#"{"schema":"mdm.policy/v1","assigned":{"max_devices":0}}"#).unwrap_err();
    let HostError::Engine(inner) = &e else { panic!("{e:?}") };
    assert_eq!((inner.code().as_str(), inner.pointer()), ("invalid_policy", "/assigned/max_devices"));
    let v = gateway.decide_login(&Login::new("alice", device("A1"), at()), &["sales"], &UserState::default());
    assert_eq!(v.outcome(), Outcome::Allow);
}

#[test]
fn hot_swap_applies_to_the_next_decision() {
    let runtime = Runtime::new(config()).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    let before =
        gateway.decide_login(&Login::new("alice", device("A1"), at()), &["sales"], &UserState::default());
    assert_eq!(before.outcome(), Outcome::Allow);
    gateway.set_policy(r#"{"schema":"mdm.policy/v1","enabled":false}"#).unwrap();
    let after =
        gateway.decide_login(&Login::new("alice", device("A1"), at()), &["sales"], &UserState::default());
    assert_eq!(after.outcome(), Outcome::Limited);
}

#[test]
fn many_threads_share_one_gateway() {
    let runtime = Runtime::new(config()).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let gateway = &gateway;
            s.spawn(move || {
                for i in 0..200 {
                    let group = if (t + i) % 2 == 0 { "sales" } else { "other" };
                    let v = gateway.decide_login(
                        &Login::new("u", device("X"), at()),
                        &[group],
                        &UserState::default(),
                    );
                    let want = if group == "sales" { Outcome::Allow } else { Outcome::Limited };
                    assert_eq!(v.outcome(), want);
                    if t == 0 && i % 50 == 0 {
                        // Swapping to the same rules mid-flight changes no answer.
                        gateway.set_policy(POLICY).unwrap();
                    }
                }
            });
        }
    });
}

#[test]
fn compiled_code_cache_is_reused() {
    let dir = scratch("cache");
    // An artifact of another engine build, and a file that is not ours.
    let stale = dir.join(format!("mdm-{}.cwasm", "0".repeat(64)));
    std::fs::write(&stale, b"an older engine").unwrap();
    std::fs::write(dir.join("notes.txt"), b"kept").unwrap();
    let cfg = Config { cache_dir: Some(dir.clone()), ..Config::default() };
    Runtime::new(cfg.clone()).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "the new artifact replaced the stale one: {files:?}");
    assert!(files[0].starts_with("mdm-") && files[0].ends_with(".cwasm"), "{files:?}");
    assert!(!stale.exists(), "the replaced artifact is removed");
    assert_eq!(files[1], "notes.txt");
    // The key is a SHA-256: 64 hex digits, the same on every run.
    assert_eq!(files[0].len(), "mdm-".len() + 64 + ".cwasm".len());
    let gateway = Runtime::new(cfg).unwrap().gateway(POLICY).unwrap();
    let v = gateway.decide_login(&Login::new("alice", device("A1"), at()), &["sales"], &UserState::default());
    assert_eq!(v.outcome(), Outcome::Allow);
    // A damaged artifact is replaced, not trusted.
    let path = dir.join(&files[0]);
    std::fs::write(&path, b"not a component").unwrap();
    let gateway = Runtime::new(Config { cache_dir: Some(dir.clone()), ..Config::default() })
        .unwrap()
        .gateway(POLICY)
        .unwrap();
    assert!(
        gateway
            .decide_login(&Login::new("alice", device("A1"), at()), &["sales"], &UserState::default())
            .is_allowed()
    );
    assert!(std::fs::read(&path).unwrap().len() > 1000, "the damaged artifact was rewritten");
}

#[test]
fn oversized_documents_are_refused_before_the_guest() {
    let runtime = Runtime::new(Config { max_document_bytes: 1 << 20, ..config() }).unwrap();
    let big = format!(r#"{{"schema":"mdm.policy/v1","assignment":{{"users":["{}"]}}}}"#, "x".repeat(2 << 20));
    let e = runtime.gateway(&big).err().expect("refused");
    let HostError::Engine(inner) = &e else { panic!("{e:?}") };
    assert_eq!(inner.code().as_str(), "invalid_policy");
    assert!(inner.message().contains("more than the limit of 1048576"), "{}", inner.message());
}

#[test]
fn a_million_groups_and_a_hundred_thousand_devices_are_decided() {
    // What is held here is that such a login is decided at all, not how fast: the
    // gateway's 100 ms deadline is a speed on a quiet machine (`make bench` measures it),
    // and this test shares its machine with every other test.
    let runtime = Runtime::new(Config { deadline: std::time::Duration::from_secs(30), ..config() }).unwrap();
    let gateway = runtime.gateway(POLICY).unwrap();
    let mut groups: Vec<String> = (0..1_000_000).map(|i| format!("team-{i}")).collect();
    groups.push("sales".into());
    let state = state_with(100_000);
    let known = device("D99999");
    let v = gateway.decide_login(&Login::new("alice", known.clone(), at()), &groups, &state);
    assert_eq!(v.outcome(), Outcome::Allow, "{v:?}");
}

#[test]
fn documents_are_read_within_the_limit_and_checked_for_utf8() {
    use mdm_engine::{DocumentKind, ErrorCode};
    let runtime = Runtime::new(Config { max_document_bytes: 1 << 10, ..config() }).unwrap();
    let dir = scratch("read");
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let ok = runtime.read_document(&file("ok.json", POLICY.as_bytes()), DocumentKind::Policy).unwrap();
    assert_eq!(ok, POLICY);

    let big = file("big.json", &vec![b' '; 2 << 10]);
    let Err(HostError::Engine(e)) = runtime.read_document(&big, DocumentKind::State) else { panic!() };
    assert_eq!((e.code(), e.pointer()), (ErrorCode::InvalidState, ""));
    assert!(e.message().contains("2048 bytes, more than the limit of 1024"), "{}", e.message());

    let latin1 = file("latin1.json", b"{\"user\":\"ren\xe9\"}");
    let Err(HostError::Engine(e)) = runtime.read_document(&latin1, DocumentKind::Event) else { panic!() };
    assert_eq!(
        (e.code(), e.message().as_str()),
        (ErrorCode::InvalidEvent, "not UTF-8: invalid byte at offset 12")
    );

    // A file that claims no size but never ends: reading stops at the limit.
    #[cfg(target_os = "linux")]
    {
        let Err(HostError::Engine(e)) = runtime.read_document("/dev/zero".as_ref(), DocumentKind::Policy)
        else {
            panic!()
        };
        assert!(e.message().contains("1025 bytes, more than the limit of 1024"), "{}", e.message());
    }
    let missing = runtime.read_document(&dir.join("missing.json"), DocumentKind::Policy);
    assert_eq!(missing.map_err(|e| e.code()), Err("host.read"));
}
