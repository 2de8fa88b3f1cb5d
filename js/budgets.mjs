// Measures the JS package's budgets and prints them: module size (raw and gzip), preview
// time for 10k and 100k users in Node, and the console's first render (from the browser
// test's last run). Exits 1 if the module is over 250 KiB (256,000 bytes); timings are reported, not asserted.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Policy, Population, preview } from "./node.mjs";

const wasm = readFileSync(new URL("./pkg/mdm_js_bg.wasm", import.meta.url));
const gz = gzipSync(wasm, { level: 9 }).length;

function population(n) {
  const directory = {}, state = {};
  for (let i = 0; i < n; i++) {
    const u = `u${i}`;
    directory[u] = [`g${i % 30}`, `g${(i * 7) % 30}`];
    state[u] = { devices: [{ device_id: `${u}-1`, os_type: i % 2 ? "ios" : "android", os_version: i % 3 ? "17.1" : "11",
      pin_length: 6, registered_at: "2026-01-01T00:00:00Z" }] };
  }
  return JSON.stringify({ directory, state });
}

const current = new Policy('{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2"]}}');
const proposed = new Policy('{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2","g3"],"exclude_groups":["g4"]},"requirements":{"min_os_version":{"android":"12"}}}');
const rows = [["module (wasm-bindgen, wasm-opt -Oz)", `${wasm.length} B raw, ${gz} B gzip`, "≤ 250 KiB raw"]];
for (const n of [10_000, 100_000]) {
  const text = population(n);
  const t0 = performance.now();
  const pop = new Population(text);
  const t1 = performance.now();
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    preview(current, proposed, pop, "2026-11-22T10:00:00Z");
    best = Math.min(best, performance.now() - s);
  }
  rows.push([`preview of ${n.toLocaleString("en")} users (Node)`, `${best.toFixed(0)} ms (+ ${(t1 - t0).toFixed(0)} ms to parse the population once)`, n === 100_000 ? "≤ 500 ms" : ""]);
}
const metrics = new URL("../target/console-metrics.json", import.meta.url);
if (existsSync(metrics)) {
  const { firstRenderMs } = JSON.parse(readFileSync(metrics, "utf8"));
  rows.push(["console first render, 2,000-user sample (Chromium)", `${firstRenderMs.toFixed(0)} ms`, "≤ 1 s"]);
}
for (const [what, value, budget] of rows) console.log(`${what.padEnd(55)} ${value.padEnd(50)} ${budget}`);
process.exit(wasm.length <= 250 * 1024 ? 0 : 1);
