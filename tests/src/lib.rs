//! What the corpus harnesses share: where the corpora are, and one wasmtime runtime.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mdm_host::{Config, Runtime};
use mdm_testkit::Wasm;

/// The engine in one wasmtime runtime with the gateway's default limits, shared by a
/// harness's cases (compiling the component once); its error as text if it cannot start.
pub fn wasm() -> Result<Wasm, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(Config::default()).map_err(|e| e.to_string())).clone().map(Wasm)
}

/// The repository's scenario corpus.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The repository's bad-input corpus.
pub fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bad")
}

/// Where the harnesses write what the JS package's tests read: under `target/`.
pub fn generated_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/generated")
}
