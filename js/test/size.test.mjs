// The browser module's size budget, checked on every test run: 200,000 B raw after
// wasm-opt, the speed-and-size issue's budget (199,456 B on 2026-11-23; docs/performance.md,
// "Module sizes", says what takes the bytes). `make budgets` reports it beside gzip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const BUDGET = 200_000;

test("the browser module is within its budget", () => {
  const size = readFileSync(new URL("../pkg/mdm_js_bg.wasm", import.meta.url)).length;
  console.log(`browser module: ${size} B (budget ${BUDGET} B)`);
  assert.ok(size <= BUDGET, `the browser module grew to ${size} B, over its budget of ${BUDGET} B`);
});
