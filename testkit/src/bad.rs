//! The bad-input corpus: one file per case under `policy/`, `event/` or `state/` (the
//! document that is bad), its expected error code and JSON Pointer in `expect.json`, and
//! the good documents it is decided with in `context.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::{Failure, UnderTest};

/// Which document of a case is the bad one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A policy document.
    Policy,
    /// An event.
    Event,
    /// A user's stored state.
    State,
}

impl Document {
    /// Every document, as the corpus's directories name them.
    pub const ALL: [(Document, &'static str); 3] =
        [(Document::Policy, "policy"), (Document::Event, "event"), (Document::State, "state")];
}

/// The good documents a case is decided with: a bad event is decided under this policy
/// and state, a bad state with this event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// A valid policy.
    pub policy: Value,
    /// The user's groups.
    pub groups: Vec<String>,
    /// A valid stored state.
    pub state: Value,
    /// A valid event.
    pub event: Value,
}

/// What a case must fail with.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// The contract's error code.
    pub code: String,
    /// The JSON Pointer of the offending field, in the bad document.
    pub pointer: String,
}

/// One bad input.
#[derive(Debug, Clone)]
pub struct Case {
    /// Its path under the corpus, as `expect.json` names it.
    pub name: String,
    /// The file.
    pub file: PathBuf,
    /// Which document it is.
    pub document: Document,
    /// What it must fail with.
    pub expected: Expected,
}

/// The corpus under `root`: the context and every case. Every file must have an
/// expectation and every expectation a file, so that a case can be neither forgotten nor
/// silently dropped.
pub fn load(root: &Path) -> Result<(Context, Vec<Case>), String> {
    let read =
        |name: &str| std::fs::read_to_string(root.join(name)).map_err(|e| format!("cannot read {name}: {e}"));
    let context: Context =
        serde_json::from_str(&read("context.json")?).map_err(|e| format!("context.json: {e}"))?;
    let mut expected: BTreeMap<String, Expected> =
        serde_json::from_str(&read("expect.json")?).map_err(|e| format!("expect.json: {e}"))?;
    let mut cases = Vec::new();
    for (document, dir) in Document::ALL {
        let files = crate::corpus::json_files(&root.join(dir)).map_err(|e| format!("{dir}: {e}"))?;
        for file in files {
            let name = file.strip_prefix(root).unwrap_or(&file).display().to_string();
            let expected =
                expected.remove(&name).ok_or_else(|| format!("`{name}` has no entry in expect.json"))?;
            cases.push(Case { name, file, document, expected });
        }
    }
    match expected.keys().next() {
        Some(orphan) => Err(format!("expect.json names `{orphan}`, which is not a file")),
        None => Ok((context, cases)),
    }
}

/// Runs one case: the failure the implementation reports, or what it answered instead of
/// failing.
pub fn run<R: UnderTest>(
    rt: &mut R,
    context: &Context,
    document: Document,
    bytes: &[u8],
) -> Result<Failure, String> {
    let json = |value: &Value| value.to_string().into_bytes();
    let policy = match document {
        Document::Policy => {
            return match rt.load_policy(bytes) {
                Ok(_) => Err("expected an error, got a loaded policy".into()),
                Err(f) => Ok(f),
            };
        }
        Document::Event | Document::State => {
            rt.load_policy(&json(&context.policy)).map_err(|f| format!("the context's policy: {f:?}"))?
        }
    };
    let (state, event) = match document {
        Document::State => (bytes.to_vec(), json(&context.event)),
        Document::Event | Document::Policy => (json(&context.state), bytes.to_vec()),
    };
    match rt.decide(&policy, &context.groups, &state, &event) {
        Ok(d) => Err(format!("expected an error, got {:?}", d.effects())),
        Err(f) => Ok(f),
    }
}
