//! The component's size budget, checked on every test run: 250,000 B, the speed-and-size
//! issue's budget (217,322 B on 2026-11-23; docs/performance.md, "Module sizes", says what
//! takes the bytes). The size counts binaryen's `wasm-opt`, which the build script runs
//! when it finds it (`make test` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The budget.
const BUDGET: usize = 250_000;

#[test]
fn the_component_is_within_its_budget() {
    let size = mdm_host::COMPONENT.len();
    eprintln!("component: {size} B (budget {BUDGET} B)");
    assert!(
        size <= BUDGET,
        "the component grew to {size} B, over its budget of {BUDGET} B; if the build warned \
         that it was not shrunk, install binaryen and build again"
    );
}
