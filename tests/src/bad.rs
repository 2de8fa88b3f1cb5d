//! The bad-input corpus, `tests/bad/`: one file per case under `policy/`, `event/` or
//! `state/` (the document that is bad), its expected error code and JSON Pointer in
//! `expect.json`, and the good documents it is decided with in `context.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mdm_engine::scenario::{Context, Document};
use serde::Deserialize;

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
    /// Its path under `tests/bad/`, as `expect.json` names it.
    pub name: String,
    /// The file.
    pub file: PathBuf,
    /// Which document it is.
    pub document: Document,
    /// What it must fail with.
    pub expected: Expected,
}

/// The corpus directory.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bad")
}

/// The context and every case. Every file must have an expectation and every expectation
/// a file, so that a case can be neither forgotten nor silently dropped.
pub fn load() -> Result<(Context, Vec<Case>), String> {
    let root = dir();
    let read = |name: &str| {
        std::fs::read_to_string(root.join(name)).map_err(|e| format!("cannot read tests/bad/{name}: {e}"))
    };
    let context: Context =
        serde_json::from_str(&read("context.json")?).map_err(|e| format!("context.json: {e}"))?;
    let mut expected: BTreeMap<String, Expected> =
        serde_json::from_str(&read("expect.json")?).map_err(|e| format!("expect.json: {e}"))?;
    let mut cases = Vec::new();
    for kind in ["policy", "event", "state"] {
        let document = Document::parse(kind).ok_or_else(|| format!("unknown document `{kind}`"))?;
        for file in crate::json_files(&root.join(kind)).map_err(|e| format!("tests/bad/{kind}: {e}"))? {
            let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
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
