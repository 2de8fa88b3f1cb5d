// The browser module's size budget (BROWSER_MODULE_BUDGET), checked on every test run;
// docs/performance.md, "Module sizes", says what takes the bytes, and `make budgets`
// reports the size beside its gzip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BROWSER_MODULE_BUDGET as BUDGET } from "../budget.mjs";

test("the browser module is within its budget", () => {
  const size = readFileSync(new URL("../pkg/mdm_js_bg.wasm", import.meta.url)).length;
  console.log(`browser module: ${size} B (budget ${BUDGET} B)`);
  assert.ok(size <= BUDGET, `the browser module grew to ${size} B, over its budget of ${BUDGET} B`);
});
