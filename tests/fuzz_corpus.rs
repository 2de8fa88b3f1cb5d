//! The fuzz targets' committed corpora (`fuzz/corpus/`), replayed natively on every test
//! run with the targets' own checks: the inputs the fuzzer found interesting keep their
//! answers well-formed without nightly Rust or a fuzzing session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use mdm_testkit::invariants;

fn replay(target: &str, check: fn(&[u8]) -> Result<(), String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut inputs = 0;
    let mut broken = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        inputs += 1;
        if let Err(e) = check(&data) {
            broken.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(inputs > 100, "the `{target}` corpus has {inputs} inputs");
    assert!(
        broken.is_empty(),
        "{} of {inputs} inputs break an invariant:\n{}",
        broken.len(),
        broken.join("\n")
    );
}

#[test]
fn the_policy_corpus_keeps_its_invariants() {
    replay("policy", invariants::policy_document);
}

#[test]
fn the_event_corpus_keeps_its_invariants() {
    replay("event", invariants::event_or_state_document);
}
