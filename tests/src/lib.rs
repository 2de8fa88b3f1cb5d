//! Helpers shared by the test harnesses: where the scenario corpus is, and how to list it.

pub mod bad;
pub mod generate;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mdm_host::{Config, Runtime};

/// One wasmtime runtime with the gateway's default limits, shared by a harness's cases
/// (compiling the component once); its error as text if it cannot start.
pub fn wasm_runtime() -> Result<Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(Config::default()).map_err(|e| e.to_string())).clone()
}

/// The repository's scenario corpus.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every `*.json` file under `root`, recursively, sorted.
pub fn json_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.is_file() {
            out.push(dir);
            continue;
        }
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A file's path relative to `root`, for naming a test case.
pub fn case_name(root: &Path, file: &Path) -> String {
    file.strip_prefix(root).unwrap_or(file).with_extension("").display().to_string()
}
