// The random sequences of `tests/differential.rs` through the JS package: every step must
// give the native engine's trace (written by that test to target/generated/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runScenario } from "./runner.mjs";

const file = fileURLToPath(new URL("../../target/generated/differential.jsonl", import.meta.url));

test("random sequences: JS = native", () => {
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  assert.ok(lines.length >= 2000, `${lines.length} sequences in ${file}; cargo test writes them`);
  let steps = 0;
  for (const line of lines) {
    const { seed, scenario, trace } = JSON.parse(line);
    const js = runScenario(scenario);
    assert.equal(js.length, trace.length, `seed ${seed}`);
    js.forEach((step, i) => assert.deepEqual(step, trace[i], `seed ${seed}, step ${i}`));
    steps += js.length;
  }
  console.log(`${lines.length} sequences, ${steps} steps: JS = native`);
});
