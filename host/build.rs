//! Builds the engine as a WebAssembly component, so that a plain `cargo build` yields a
//! host with the component inside: the guest crate is compiled for
//! `wasm32-unknown-unknown` by a nested cargo (in its own target directory, so the
//! outer build's lock is not contended), then wrapped into a component by
//! `wit-component`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.parent().context("the host crate lives in the workspace")?.to_path_buf();
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    // OUT_DIR is <target>/<profile>/build/<pkg>/out: the guest gets <target>/guest.
    let target_dir = out.ancestors().nth(4).context("OUT_DIR has the usual shape")?.join("guest");

    // The workspace's manifest too: it holds the guest's profile (`[profile.guest]`).
    for watched in [
        "engine/src",
        "component/src",
        "component/Cargo.toml",
        "engine/Cargo.toml",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=WASM_OPT");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    check_target()?;
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--quiet",
            "-p",
            "mdm-component",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "guest",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // Flags meant for the host build must not leak into the guest build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().context("running cargo for the guest")?;
    if !status.success() {
        bail!("building the guest (mdm-component for wasm32-unknown-unknown) failed: {status}");
    }
    let core = target_dir.join("wasm32-unknown-unknown/guest/mdm_component.wasm");
    let module = shrink(&core, &target_dir)?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .context("reading the guest's component type")?
        .validate(true)
        .encode()
        .context("encoding the component")?;
    write(&out.join("mdm.wasm"), &component)?;
    Ok(())
}

/// The guest needs the standard library for `wasm32-unknown-unknown`. rustup adds the
/// targets of `rust-toolchain.toml` only when it installs the toolchain itself, so a
/// machine that already had stable lacks it: say so, with the command that fixes it,
/// rather than let the nested build fail with `can't find crate for core`.
fn check_target() -> Result<()> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-unknown-unknown"])
        .output()
        .context("asking rustc where the wasm32 standard library is")?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let present = out.status.success()
        && std::fs::read_dir(&libdir)
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libcore-")))
            .unwrap_or(false);
    if !present {
        bail!(
            "the Rust target `wasm32-unknown-unknown` is not installed; run \
             `rustup target add wasm32-unknown-unknown` (or `make toolchain`) and build again"
        );
    }
    Ok(())
}

/// The binaryen feature flags for what rustc emits for `wasm32-unknown-unknown`.
const FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The guest's core module, shrunk by binaryen's `wasm-opt -Os` when it is installed
/// (`WASM_OPT` names it, else `wasm-opt` on `PATH`): it takes about 11% off what LLVM
/// leaves (307 KB -> 273 KB) at no cost in speed, and the component's size budget counts
/// it. Without it the component still builds, larger, and cargo says so; `make test`
/// installs Debian's `binaryen`. "-Os", not "-Oz", for the same reason the guest profile
/// is "s": the gateway decodes policies through this module.
fn shrink(core: &Path, target_dir: &Path) -> Result<Vec<u8>> {
    let tool = std::env::var_os("WASM_OPT").unwrap_or_else(|| "wasm-opt".into());
    let shrunk = target_dir.join("mdm_component.opt.wasm");
    let run = Command::new(&tool).arg("-Os").args(FEATURES).arg(core).arg("-o").arg(&shrunk).output();
    let from = match run {
        Ok(out) if out.status.success() => &shrunk,
        Ok(out) => bail!(
            "`{}` failed on the guest module: {}",
            tool.to_string_lossy(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(err) => {
            println!(
                "cargo:warning=the component is not shrunk: binaryen's `{}` did not run ({err}); \
                 install binaryen (`apt-get install binaryen`) or set WASM_OPT",
                tool.to_string_lossy()
            );
            core
        }
    };
    std::fs::read(from).with_context(|| format!("reading {}", from.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
