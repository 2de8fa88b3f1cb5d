//! The fuzz targets' committed corpora (`fuzz/corpus/`), replayed natively on every test
//! run with the targets' own checks: the inputs the fuzzer found interesting keep their
//! answers well-formed, their sequences within the contract's invariants and the JSON
//! reader in step with `serde_json`, without cargo-fuzz or a fuzzing session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use mdm_testkit::invariants;

/// Runs `check` on every input of `target`'s corpus, and gives what each returned.
fn replay<T>(target: &str, check: fn(&[u8]) -> Result<T, String>) -> Vec<T> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut inputs = 0;
    let mut broken = Vec::new();
    let mut answers = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        inputs += 1;
        match check(&data) {
            Ok(answer) => answers.push(answer),
            Err(e) => broken.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(inputs > 100, "the `{target}` corpus has {inputs} inputs");
    assert!(
        broken.is_empty(),
        "{} of {inputs} inputs break an invariant:\n{}",
        broken.len(),
        broken.join("\n")
    );
    answers
}

#[test]
fn the_policy_corpus_keeps_its_invariants() {
    replay("policy", invariants::policy_document);
}

#[test]
fn the_event_corpus_keeps_its_invariants() {
    replay("event", invariants::event_or_state_document);
}

#[test]
fn the_decide_corpus_keeps_its_invariants() {
    let reach = replay("decide", invariants::decide_sequence_reach)
        .into_iter()
        .fold(invariants::Reach::default(), |a, b| a + b);
    // What the invariants are about under a set, each reached many times, or they held
    // for want of a case.
    let least = [
        reach.named,
        reach.unassigned_in_set,
        reach.disabled_would_assign,
        reach.excluded_then_assigned,
        reach.managed,
        reach.errors,
    ];
    assert!(least.iter().all(|n| *n >= 50), "{reach:?}");
}

#[test]
fn the_json_corpus_reads_as_serde_json_reads_it() {
    replay("json", invariants::json_text);
}
