//! The component's size budget, checked on every test run (docs/performance.md, "Module
//! sizes", says what takes the bytes). The size counts binaryen's `wasm-opt`, which the
//! build script runs when it finds it (every `make` build installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The component's budget, in bytes: the one place for the figure, which the docs cite.
const COMPONENT_BUDGET: usize = 250_000;

#[test]
fn the_component_is_within_its_budget() {
    let size = mdm_host::COMPONENT.len();
    eprintln!("component: {size} B (budget {COMPONENT_BUDGET} B)");
    assert!(
        size <= COMPONENT_BUDGET,
        "the component grew to {size} B, over its budget of {COMPONENT_BUDGET} B; if the build warned \
         that it was not shrunk, install binaryen and build again"
    );
}
