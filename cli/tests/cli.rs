//! The `mdm` binary as a CI pipeline runs it: every flag, every exit code, and the JSON
//! and JUnit outputs read back by a parser.

// The helpers below are outside `#[test]` functions, where clippy.toml does not reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn mdm(args: &[&str]) -> Output {
    mdm_env(args, &[])
}

fn mdm_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mdm"));
    c.args(args).current_dir(repo()).env_remove("MDM_FORMAT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A scratch directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mdm-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const THREE_ERRORS: &str = r#"{"schema":"mdm.policy/v1","asigned":{},"requirements":{"min_pin_length":"six"},
    "unassigned":{"max_devices":0}}"#;

#[test]
fn validate_prints_every_error_and_exits_1() {
    let dir = scratch("validate");
    let bad = write(&dir, "bad.json", THREE_ERRORS);
    let o = mdm(&["validate", &bad]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    for want in [
        "error   unknown_field /asigned:",
        "error   invalid_type /requirements/min_pin_length:",
        "error   out_of_range /unassigned/max_devices:",
        "invalid (3 errors, 0 warnings)",
    ] {
        assert!(out.contains(want), "`{want}` not in:\n{out}");
    }
    let o = mdm(&["validate", "--format", "json", &bad]);
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    let codes: Vec<&str> =
        v["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["unknown_field", "invalid_type", "out_of_range"]);
    let o = mdm(&["validate", "examples/policy.json"]);
    assert_eq!((code(&o), stdout(&o).trim()), (0, "valid (0 warnings)"));
    // Not JSON at all: a validation error (exit 1) at the root, with line and column.
    let o = mdm(&["--format", "json", "validate", &write(&dir, "broken.json", "{\"schema\":")]);
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["errors"][0]["code"], "syntax");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("line 1 column"));
}

#[test]
fn errors_are_json_on_stderr_when_asked_and_exit_3() {
    let o = mdm(&["validate", "--format", "json", "no-such-file.json"]);
    assert_eq!(code(&o), 3);
    assert!(stdout(&o).is_empty());
    let e: Value = serde_json::from_str(stderr(&o).trim()).unwrap();
    assert_eq!(e["code"], "host.read");
    assert_eq!(e["pointer"], "");
    // MDM_FORMAT does the same, and a flag wins over it.
    let o = mdm_env(&["validate", "no-such-file.json"], &[("MDM_FORMAT", "json")]);
    assert_eq!(code(&o), 3);
    assert!(serde_json::from_str::<Value>(stderr(&o).trim()).is_ok(), "{}", stderr(&o));
    let o = mdm_env(&["validate", "--format", "pretty", "no-such-file.json"], &[("MDM_FORMAT", "json")]);
    assert!(stderr(&o).starts_with("mdm: host.read: cannot read"), "{}", stderr(&o));
    // An invalid event names its code and pointer.
    let dir = scratch("eval-bad");
    let event = write(&dir, "e.json", r#"{"type":"login","user":"a","at":"yesterday"}"#);
    let o = mdm(&["--format", "json", "eval", "--policy", "examples/policy.json", "--event", &event]);
    assert_eq!(code(&o), 3);
    let e: Value = serde_json::from_str(stderr(&o).trim()).unwrap();
    assert_eq!((e["code"].as_str(), e["pointer"].as_str()), (Some("invalid_event"), Some("/at")));
}

#[test]
fn usage_errors_exit_2() {
    let o = mdm(&["validate"]);
    assert_eq!(code(&o), 2);
    let o = mdm(&["--format", "json", "frobnicate"]);
    assert_eq!(code(&o), 2);
    let e: Value = serde_json::from_str(stderr(&o).trim()).unwrap();
    assert_eq!(e["code"], "usage");
    let o = mdm(&["test", "--run", "(", "tests/scenarios"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = mdm(&["validate", "--format", "junit", "examples/policy.json"]);
    assert_eq!(code(&o), 2);
    let o = mdm(&["test", "--coverage-min", "120", "tests/scenarios"]);
    assert_eq!(code(&o), 2);
    assert_eq!(code(&mdm(&["--help"])), 0);
    assert!(stdout(&mdm(&["--help"])).contains("Exit codes: 0 ok; 1 a negative result"));
}

#[test]
fn eval_fails_on_the_outcomes_asked_for() {
    let args = [
        "eval",
        "--policy",
        "examples/policy.json",
        "--state",
        "examples/alice-state.json",
        "--groups",
        "sales",
        "--event",
        "examples/login-second-phone.json",
    ];
    let o = mdm(&args);
    assert_eq!(code(&o), 0, "a decision is an answer: {}", stderr(&o));
    // In words first (schemas/messages.json), the code beside them.
    assert!(stdout(&o).starts_with("waiting for approval (pending_approval; "), "{}", stdout(&o));
    assert!(stdout(&o).contains("approval requested (device.approval_requested)"), "{}", stdout(&o));
    let o = mdm(&[&args[..], &["--fail-on", "deny,pending_approval"]].concat());
    assert_eq!(code(&o), 1);
    let o = mdm(&[&args[..], &["--fail-on", "deny"]].concat());
    assert_eq!(code(&o), 0);
    let o = mdm(&[&["--format", "json"], &args[..]].concat());
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["decision"]["outcome"], "pending_approval");
    assert_eq!(v["state"]["pending"][0]["device"]["device_id"], "A2");
    // A refused admin event: bad input (3) unless `--fail-on error` makes it the answer.
    let dir = scratch("eval-admin");
    let approve = write(
        &dir,
        "a.json",
        r#"{"type":"approve","user":"alice","device_id":"ZZ","at":"2026-11-22T10:00:00Z"}"#,
    );
    let admin = ["eval", "--policy", "examples/policy.json", "--event", &approve];
    assert_eq!(code(&mdm(&admin)), 3);
    let o = mdm(&[&admin[..], &["--fail-on", "error"]].concat());
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no_pending_request"), "{}", stderr(&o));
}

fn suite(dir: &Path) -> String {
    let pass = r#"{"name":"passes","policy":{"schema":"mdm.policy/v1"},"steps":[{"event":{"type":"login","user":"u","at":"2026-01-01T00:00:00Z","device":{"device_id":"A","os_type":"ios"}},"expect":{"outcome":"limited"}}]}"#;
    let fail = r#"{"name":"fails <on purpose> & \"quoted\"","policy":{"schema":"mdm.policy/v1"},"steps":[{"event":{"type":"login","user":"u","at":"2026-01-01T00:00:00Z","device":{"device_id":"A","os_type":"ios"}},"expect":{"outcome":"deny"}}]}"#;
    write(dir, "a-pass.json", pass);
    write(dir, "b-fail.json", fail);
    dir.display().to_string()
}

#[test]
fn test_filters_lists_and_reports_as_json() {
    let dir = scratch("suite");
    let suite = suite(&dir);
    let o = mdm(&["test", &suite]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("FAIL fails <on purpose>"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("ok   passes"), "only failures without -v");
    assert!(stdout(&o).contains("1 passed, 1 failed"));
    let o = mdm(&["test", "-v", "--run", "^pass", &suite]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("ok   passes ("), "{}", stdout(&o));
    assert!(stdout(&o).contains("1 passed, 0 failed"));
    // --run matches a path too.
    let o = mdm(&["test", "--run", "b-fail", &suite]);
    assert!(stdout(&o).contains("0 passed, 1 failed"), "{}", stdout(&o));
    let o = mdm(&["test", "--format", "json", "--native", &suite]);
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((v["passed"].as_u64(), v["failed"].as_u64()), (Some(1), Some(1)));
    let failed = &v["scenarios"][1];
    assert_eq!(failed["passed"], false);
    assert!(failed["failures"][0].as_str().unwrap().contains("outcome: expected `deny`, got `limited`"));
    assert!(failed["time_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn junit_is_xml_a_parser_reads() {
    let dir = scratch("junit");
    let suite = suite(&dir);
    let o = mdm(&["test", "--format", "junit", "--coverage", &suite]);
    assert_eq!(code(&o), 1);
    let xml = stdout(&o);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!((root.attribute("tests"), root.attribute("failures")), (Some("2"), Some("1")));
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[1].attribute("name"), Some("fails <on purpose> & \"quoted\""));
    let failure = cases[1].children().find(|n| n.has_tag_name("failure")).unwrap();
    assert!(failure.attribute("message").unwrap().contains("expected `deny`"));
    assert!(cases[0].children().all(|n| !n.has_tag_name("failure")));
    let coverage = doc.descendants().find(|n| n.attribute("name") == Some("coverage")).unwrap();
    assert!(coverage.attribute("value").unwrap().parse::<f64>().is_ok());
}

#[test]
fn coverage_lists_what_was_never_exercised_and_can_fail_the_run() {
    let dir = scratch("coverage");
    let suite = suite(&dir);
    std::fs::remove_file(dir.join("b-fail.json")).unwrap();
    let o = mdm(&["test", "--coverage", &suite]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("coverage "), "{out}");
    assert!(out.contains("never: ") && out.contains("device.approval_requested"), "{out}");
    let o = mdm(&["test", "--coverage-min", "90", &suite]);
    assert_eq!(code(&o), 1, "a tiny suite is far below 90%");
    assert!(stdout(&o).contains("below the minimum of 90%"));
    let o = mdm(&["test", "--coverage-min", "1", &suite]);
    assert_eq!(code(&o), 0);
    let o = mdm(&["test", "-v", "--format", "json", "--coverage", &suite]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["coverage"]["policies"].as_array().unwrap().len(), 1);
    let reasons = &v["coverage"]["total"]["rows"][0];
    assert_eq!(reasons["category"], "reasons");
    assert!(reasons["covered"]["scope.none"].as_u64().is_some(), "{reasons}");
}

#[test]
fn the_project_suite_exercises_every_reason_code() {
    let o = mdm(&["test", "--format", "json", "--coverage", "--native", "tests/scenarios"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let reasons = &v["coverage"]["total"]["rows"][0];
    assert_eq!(reasons["never"], serde_json::json!([]), "reasons never exercised");
    assert_eq!(reasons["covered"].as_object().unwrap().len(), mdm_engine::Reason::ALL.len());
}

#[test]
fn fmt_checks_writes_and_prints_the_canonical_form() {
    let dir = scratch("fmt");
    let policy = write(&dir, "p.json", r#"{"assigned":{"max_devices":2},"schema":"mdm.policy/v1"}"#);
    write(&dir, "state.json", r#"{"devices":[]}"#);
    let o = mdm(&["fmt", "--check", &dir.display().to_string()]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("not canonical:"), "{}", stdout(&o));
    let o = mdm(&["fmt", &policy]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "{ \"schema\": \"mdm.policy/v1\", \"assigned\": { \"max_devices\": 2 } }\n");
    let o = mdm(&["fmt", "--write", &dir.display().to_string()]);
    assert_eq!(code(&o), 0);
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), stdout(&mdm(&["fmt", &policy])));
    assert_eq!(std::fs::read_to_string(dir.join("state.json")).unwrap(), r#"{"devices":[]}"#, "left alone");
    let o = mdm(&["fmt", "--check", "--format", "json", &dir.display().to_string()]);
    assert_eq!(code(&o), 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["changed"], 0);
    // A file named on the command line must be one the formatter knows.
    assert_eq!(code(&mdm(&["fmt", &dir.join("state.json").display().to_string()])), 2);
    assert_eq!(code(&mdm(&["fmt", "--check", "examples"])), 0, "the examples are canonical");
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    for d in ["policy", "state", "event", "population", "scenario"] {
        let o = mdm(&["schema", d]);
        assert_eq!(code(&o), 0);
        let committed = std::fs::read_to_string(repo().join(format!("schemas/{d}.schema.json"))).unwrap();
        assert!(
            stdout(&o) == committed,
            "schemas/{d}.schema.json is stale: run `make schemas` and commit the result"
        );
    }
}

#[test]
fn a_policy_and_a_scenario_may_name_their_schema() {
    let dir = scratch("dollar-schema");
    let p = write(&dir, "p.json", r#"{"$schema":"../schemas/policy.schema.json","schema":"mdm.policy/v1"}"#);
    assert_eq!(code(&mdm(&["validate", &p])), 0);
    let s = write(
        &dir,
        "s.json",
        r#"{"$schema":"../schemas/scenario.schema.json","name":"n","policy":{"schema":"mdm.policy/v1"},"steps":[]}"#,
    );
    let o = mdm(&["test", &s]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn run_prints_the_trace_as_json_on_demand() {
    let a = mdm(&["run", "--json", "examples/seeds-story.json"]);
    let b = mdm(&["--format", "json", "run", "examples/seeds-story.json"]);
    assert_eq!(code(&a), 0);
    assert_eq!(stdout(&a), stdout(&b));
    let v: Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert!(!v["trace"].as_array().unwrap().is_empty());
}

#[test]
fn preview_prints_a_summary_or_the_report() {
    let args = [
        "preview",
        "--current",
        "examples/policy.json",
        "--proposed",
        "examples/policy-engineering.json",
        "--population",
        "examples/population.json",
        "--at",
        "2026-11-22T10:00:00Z",
    ];
    let o = mdm(&args);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("became assigned          2"), "{}", stdout(&o));
    let o = mdm(&[&["--format", "json"], &args[..]].concat());
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["summary"]["became_assigned"], 2);
}
