// The whole scenario corpus through the JS package: every step's decision, error and state
// must equal the native engine's (`mdm run --native --json`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runScenario } from "./runner.mjs";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const corpus = join(repo, "tests/scenarios");
const mdm = join(repo, "target/release/mdm");

function files(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith(".json") ? [path] : [];
  });
}

for (const file of files(corpus)) {
  test(relative(corpus, file), () => {
    const scenario = JSON.parse(readFileSync(file, "utf8"));
    const native = JSON.parse(execFileSync(mdm, ["run", "--native", "--json", file], { encoding: "utf8" }));
    assert.deepEqual(native.failures, [], "the scenario passes natively");
    const js = runScenario(scenario);
    assert.equal(js.length, native.trace.length);
    js.forEach((step, i) => assert.deepEqual(step, native.trace[i], `step ${i}`));
  });
}
