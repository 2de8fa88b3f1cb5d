//! The compiled-code cache: compiling the component takes most of a cold start, so the
//! compiled artifact is kept on disk, keyed by wasmtime's compatibility hash (engine
//! version and settings) and the component's bytes.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;

use crate::HostError;

/// `$MDM_CACHE_DIR`, else `$XDG_CACHE_HOME/mdm-policy`, else `$HOME/.cache/mdm-policy`.
pub(crate) fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("MDM_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("mdm-policy")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/mdm-policy")))
}

fn key(engine: &wasmtime::Engine, bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    bytes.hash(&mut h);
    h.finish()
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
    let path = dir.join(format!("mdm-{:016x}.cwasm", key(engine, bytes)));
    if path.is_file()
        && let Ok(c) = deserialize(engine, &path)
    {
        return Ok(c);
    }
    // A stale or damaged artifact: compile again and overwrite it.
    let component =
        Component::new(engine, bytes).map_err(|e| HostError::load("compiling the component", &e))?;
    // The cache is an optimisation: a read-only or full disk must not stop the host.
    let _ = store(&component, dir, &path);
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

fn store(component: &Component, dir: &Path, path: &Path) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    std::fs::create_dir_all(dir)?;
    // Write then rename, so a concurrent reader never sees half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
