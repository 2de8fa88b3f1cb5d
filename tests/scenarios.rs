//! One test case per scenario file under `tests/scenarios`, run by the engine natively.

use libtest_mimic::{Arguments, Failed, Trial};
use mdm_engine::scenario::{self, Native};

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
    let trials = files
        .into_iter()
        .map(|file| {
            let name = format!("native::{}", mdm_tests::case_name(&root, &file));
            Trial::test(name, move || {
                let text = std::fs::read_to_string(&file).map_err(|e| Failed::from(e.to_string()))?;
                let run = scenario::run(&mut Native, &file.display().to_string(), &text);
                if run.passed() {
                    Ok(())
                } else {
                    Err(format!("{}:\n  {}", run.name, run.failures.join("\n  ")).into())
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
