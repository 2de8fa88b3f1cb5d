//! The scenario corpus, one test case per file and runtime: `native::<file>` runs the
//! engine directly; `wasmtime::<file>` runs it in the sandboxed component and also
//! requires the same trace (every decision, error and state) as the native run.

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use mdm_engine::scenario::{self, Native, Run};
use mdm_host::scenario::Wasm;

fn runtime() -> Result<mdm_host::Runtime, Failed> {
    mdm_tests::wasm_runtime().map_err(Failed::from)
}

fn verdict(run: &Run) -> Result<(), Failed> {
    if run.passed() { Ok(()) } else { Err(format!("{}:\n  {}", run.name, run.failures.join("\n  ")).into()) }
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let root = mdm_tests::corpus_dir();
    let files = match mdm_tests::json_files(&root) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot list {}: {e}", root.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut trials = Vec::new();
    for file in files {
        let name = mdm_tests::case_name(&root, &file);
        let file: Arc<PathBuf> = Arc::new(file);
        let f = file.clone();
        trials.push(Trial::test(format!("native::{name}"), move || {
            let text = std::fs::read_to_string(&*f).map_err(|e| Failed::from(e.to_string()))?;
            verdict(&scenario::run(&mut Native, &f.display().to_string(), &text))
        }));
        trials.push(Trial::test(format!("wasmtime::{name}"), move || {
            let text = std::fs::read_to_string(&*file).map_err(|e| Failed::from(e.to_string()))?;
            let label = file.display().to_string();
            let wasm = scenario::run(&mut Wasm(runtime()?), &label, &text);
            verdict(&wasm)?;
            let native = scenario::run(&mut Native, &label, &text);
            for (i, (n, w)) in native.trace.iter().zip(&wasm.trace).enumerate() {
                if n != w {
                    return Err(format!("step {i} differs:\n  native:   {n}\n  wasmtime: {w}").into());
                }
            }
            if native.trace.len() != wasm.trace.len() {
                return Err("the runs have different numbers of steps".into());
            }
            Ok(())
        }));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
