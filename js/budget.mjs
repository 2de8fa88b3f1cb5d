// The browser module's size budget: the wasm-bindgen module after wasm-opt, in bytes. One
// place for the figure: the size test (test/size.test.mjs) and `make budgets`
// (budgets.mjs) hold the module to it, and the docs cite it by name.
export const BROWSER_MODULE_BUDGET = 215_000;
