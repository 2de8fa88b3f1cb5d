//! The bad-input corpus (`tests/bad/`), one test case per file and runtime: each must fail
//! with its expected code and JSON Pointer, natively and in the wasmtime sandbox, and the
//! sandbox must report exactly what the engine reports natively (message included).

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use mdm_testkit::bad::{self, Case, Context};
use mdm_testkit::{Failure, Native, UnderTest};

fn run<R: UnderTest>(rt: &mut R, context: &Context, case: &Case) -> Result<Failure, Failed> {
    let bytes = std::fs::read(&case.file).map_err(|e| Failed::from(format!("{}: {e}", case.name)))?;
    let failure = bad::run(rt, context, case.document, &bytes).map_err(Failed::from)?;
    if failure.code != case.expected.code || failure.pointer != case.expected.pointer {
        return Err(format!(
            "expected `{}` at `{}`, got `{}` at `{}`: {}",
            case.expected.code, case.expected.pointer, failure.code, failure.pointer, failure.message
        )
        .into());
    }
    if failure.message.is_empty() {
        return Err("the error has no message".into());
    }
    Ok(failure)
}

/// What the engine says natively for every case, for the JS package's test to compare.
fn write_native(context: &Context, cases: &[Case]) -> std::io::Result<()> {
    let mut out = serde_json::Map::new();
    for case in cases {
        let bytes = std::fs::read(&case.file)?;
        let answer = match bad::run(&mut Native, context, case.document, &bytes) {
            Ok(failure) => serde_json::json!({ "error": failure }),
            Err(accepted) => serde_json::json!({ "accepted": accepted }),
        };
        out.insert(case.name.clone(), answer);
    }
    let dir = mdm_tests::generated_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("bad.json"), serde_json::Value::Object(out).to_string())
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let (context, cases) = match bad::load(&mdm_tests::bad_dir()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("tests/bad: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Err(e) = write_native(&context, &cases) {
        eprintln!("cannot write target/generated/bad.json: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let context = Arc::new(context);
    let mut trials = Vec::new();
    for case in cases {
        let case = Arc::new(case);
        let name = case.name.trim_end_matches(".json").to_string();
        let (c, ctx) = (case.clone(), context.clone());
        trials.push(Trial::test(format!("native::{name}"), move || run(&mut Native, &ctx, &c).map(drop)));
        let ctx = context.clone();
        trials.push(Trial::test(format!("wasmtime::{name}"), move || {
            let wasm = run(&mut mdm_tests::wasm()?, &ctx, &case)?;
            let native = run(&mut Native, &ctx, &case)?;
            if wasm != native {
                return Err(format!("native: {native:?}\nwasmtime: {wasm:?}").into());
            }
            Ok(())
        }));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
