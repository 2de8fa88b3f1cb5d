//! The compiled-code cache: compiling the component takes most of a cold start, so the
//! compiled artifact is kept on disk, keyed by wasmtime's compatibility hash (engine
//! version and settings) and the component's bytes.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::HostError;

const PREFIX: &str = "mdm-";
const SUFFIX: &str = ".cwasm";

/// The usual place for the compiled-code cache: `$MDM_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/mdm-policy`, else `$HOME/.cache/mdm-policy`. Nothing is written there
/// unless a [`Config::cache_dir`](crate::Config::cache_dir) names it.
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("MDM_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("mdm-policy")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/mdm-policy")))
}

/// Feeds what `Hash` writes into SHA-256, whose output, unlike `DefaultHasher`'s, does
/// not change with the Rust release that built the binary.
struct Sha(Sha256);

impl Hasher for Sha {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Only `key` reads the digest, in full.
        0
    }
}

/// The artifact's key: SHA-256 of wasmtime's compatibility hash and the component.
fn key(engine: &wasmtime::Engine, bytes: &[u8]) -> String {
    let mut h = Sha(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    h.0.update(bytes);
    h.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The compiled component: from the cache when a matching artifact is there, else
/// compiled now (and cached when a directory is given).
pub(crate) fn load(
    engine: &wasmtime::Engine,
    bytes: &[u8],
    dir: Option<&Path>,
) -> Result<Component, HostError> {
    let Some(dir) = dir else {
        return Component::new(engine, bytes).map_err(|e| HostError::load("compiling the component", &e));
    };
    let path = dir.join(format!("{PREFIX}{}{SUFFIX}", key(engine, bytes)));
    if path.is_file()
        && let Ok(c) = deserialize(engine, &path)
    {
        return Ok(c);
    }
    // A stale or damaged artifact: compile again and overwrite it.
    let component =
        Component::new(engine, bytes).map_err(|e| HostError::load("compiling the component", &e))?;
    // The cache is an optimisation: a read-only or full disk must not stop the host.
    if store(&component, dir, &path).is_ok() {
        remove_others(dir, &path);
    }
    Ok(component)
}

#[allow(unsafe_code)]
fn deserialize(engine: &wasmtime::Engine, path: &Path) -> wasmtime::Result<Component> {
    // Read into memory rather than map the file: a mapped file that another process
    // truncates kills this one with SIGBUS.
    let bytes = std::fs::read(path)?;
    // SAFETY: wasmtime runs a precompiled artifact without re-validating its code. The
    // file is one this module wrote with `Component::serialize` for an engine with the
    // same compatibility hash (the name is that hash), in a directory the operator
    // trusts as much as this binary (see `Config::cache_dir`); wasmtime still checks
    // the header's version and settings and refuses a mismatch.
    unsafe { Component::deserialize(engine, bytes) }
}

/// Removes the artifacts of other engines or components: the one just written replaces
/// them (an upgrade would otherwise leave one more file per release).
fn remove_others(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path != keep && name.starts_with(PREFIX) && name.ends_with(SUFFIX) {
            // Another process may be using or removing it: best effort.
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn store(component: &Component, dir: &Path, path: &Path) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    std::fs::create_dir_all(dir)?;
    // Write then rename, so a concurrent reader never sees half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
