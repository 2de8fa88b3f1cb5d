// The engine's WebAssembly component under a second, independent component host: jco
// transpiles it to JavaScript, and Node runs the whole scenario corpus (the conformance
// suites included) through its document-level entry point, `policy.evaluate`, as a
// gateway written in JS, Python or Go would. Every trace must equal the native engine's
// (`mdm run --native --json`), which the wasmtime host must also give (tests/scenarios.rs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { transpileBytes } from "@bytecodealliance/jco-transpile";
import { parseState } from "../node.mjs";
import { runScenario } from "./runner.mjs";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const corpus = join(repo, "tests/scenarios");
const mdm = join(repo, "target/release/mdm");

/** The component `cargo build --release` embedded in the host: the newest build's. */
function componentPath() {
  const build = join(repo, "target/release/build");
  const built = readdirSync(build)
    .filter((d) => d.startsWith("mdm-host-"))
    .map((d) => join(build, d, "out/mdm.wasm"))
    .filter(existsSync)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  assert.ok(built.length > 0, "no component under target/release/build: cargo build --release makes it");
  return built[0];
}

async function transpiled() {
  const { files } = await transpileBytes(readFileSync(componentPath()), { name: "mdm" });
  const out = join(repo, "target/jco");
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(out, name)), { recursive: true });
    writeFileSync(join(out, name), bytes);
  }
  return import(pathToFileURL(join(out, "mdm.js")).href);
}

/** An error result as jco throws it (the payload, or a ComponentError around it), as the contract spells it. */
function contractError(e) {
  const p = e?.payload ?? e;
  if (typeof p?.code !== "string") throw e;
  return Object.assign(new Error(p.message), { code: p.code.replaceAll("-", "_"), pointer: p.pointer });
}

function engineOf(mod) {
  const engine = mod.engine ?? mod["mdm:policy/engine@0.3.0"];
  assert.ok(engine?.Policy, `the component exports the engine: ${Object.keys(mod)}`);
  const call = (f) => {
    try {
      return f();
    } catch (e) {
      throw contractError(e);
    }
  };
  return {
    load: (document) => call(() => engine.Policy.parse(document)),
    evaluate: (policy, groups, state, event) =>
      JSON.parse(call(() => policy.evaluate(groups, state ? JSON.stringify(state) : "", JSON.stringify(event)))),
    free: (policy) => policy[Symbol.dispose]?.(),
    // Initial states are shown as the engine writes them; the JS package normalises them,
    // which decides nothing.
    state: (value) => parseState(value),
  };
}

function files(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith(".json") ? [path] : [];
  });
}

const engine = engineOf(await transpiled());

for (const file of files(corpus)) {
  test(`jco: ${relative(corpus, file)}`, () => {
    const scenario = JSON.parse(readFileSync(file, "utf8"));
    const native = JSON.parse(execFileSync(mdm, ["run", "--native", "--json", file], { encoding: "utf8" }));
    const trace = runScenario(scenario, engine);
    assert.equal(trace.length, native.trace.length);
    trace.forEach((step, i) => assert.deepEqual(step, native.trace[i], `step ${i}`));
  });
}
