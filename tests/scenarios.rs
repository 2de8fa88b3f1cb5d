//! The scenario corpus, one test case per file and runtime: `native::<file>` runs the
//! engine directly; `wasmtime::<file>` runs it in the sandboxed component and also
//! requires the same trace (every decision, error and state) as the native run.

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use mdm_testkit::scenario::{self, Run};
use mdm_testkit::{Native, corpus};

fn verdict(run: &Run) -> Result<(), Failed> {
    if run.passed() { Ok(()) } else { Err(format!("{}:\n  {}", run.name, run.failures.join("\n  ")).into()) }
}

fn read(file: &PathBuf) -> Result<String, Failed> {
    std::fs::read_to_string(file).map_err(|e| Failed::from(format!("{}: {e}", file.display())))
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let root = mdm_tests::scenarios_dir();
    let files = match corpus::json_files(&root) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot list {}: {e}", root.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut trials = Vec::new();
    for file in files {
        let name = corpus::case_name(&root, &file);
        let file: Arc<PathBuf> = Arc::new(file);
        let f = file.clone();
        trials.push(Trial::test(format!("native::{name}"), move || {
            verdict(&scenario::run(&mut Native, &f.display().to_string(), &read(&f)?))
        }));
        trials.push(Trial::test(format!("wasmtime::{name}"), move || {
            let text = read(&file)?;
            let label = file.display().to_string();
            let wasm = scenario::run(&mut mdm_tests::wasm()?, &label, &text);
            verdict(&wasm)?;
            let native = scenario::run(&mut Native, &label, &text);
            match native.first_difference(&wasm) {
                Some((i, n, w)) => Err(format!("step {i} differs:\n  native:   {n}\n  wasmtime: {w}").into()),
                None => Ok(()),
            }
        }));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
