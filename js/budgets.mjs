// Measures the JS package's budgets and prints them: module size (raw and gzip), and for
// 10k, 100k and 1M users the population's parse, a first preview and a second one (the
// population already loaded), in Node. Exits 1 if the module is over its 200 KB budget;
// timings are reported next to their targets, not asserted (they move with the machine).
// MDM_BUDGET_USERS=10000,100000 limits the sizes.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Policy, Population, preview } from "./node.mjs";

const BUDGET = 200 * 1000;
const wasm = readFileSync(new URL("./pkg/mdm_js_bg.wasm", import.meta.url));
const gz = gzipSync(wasm, { level: 9 }).length;

/** The same population as `cargo run -p mdm-bench --bin table`, as UTF-8 bytes. */
function population(n) {
  const parts = ['{"directory":{'];
  for (let i = 0; i < n; i++) parts.push(`${i ? "," : ""}"u${i}":["g${i % 30}","g${(i * 7) % 30}"]`);
  parts.push('},"state":{');
  for (let i = 0; i < n; i++) {
    parts.push(`${i ? "," : ""}"u${i}":{"devices":[{"device_id":"u${i}-1","os_type":"${i % 2 ? "ios" : "android"}",` +
      `"os_version":"${i % 3 ? "17.1" : "11"}","pin_length":6,"registered_at":"2026-01-01T00:00:00Z"}]}`);
  }
  parts.push("}}");
  return new TextEncoder().encode(parts.join(""));
}

const current = new Policy('{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2"]}}');
const proposed = new Policy('{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2","g3"],"exclude_groups":["g4"]},"requirements":{"min_os_version":{"android":"12"}}}');
const rows = [["module (wasm-bindgen, wasm-opt -Oz)", `${wasm.length} B raw, ${gz} B gzip`, `≤ ${BUDGET.toLocaleString("en")} B raw`]];
const sizes = (process.env.MDM_BUDGET_USERS ?? "10000,100000,1000000").split(",").map(Number);
for (const n of sizes) {
  const bytes = population(n);
  const t0 = performance.now();
  const pop = new Population(bytes);
  const t1 = performance.now();
  const first = preview(current, proposed, pop, "2026-11-22T10:00:00Z");
  const t2 = performance.now();
  preview(current, proposed, pop, "2026-11-22T10:00:00Z");
  const t3 = performance.now();
  if (first.summary.users !== n) throw new Error(`preview counted ${first.summary.users} users, not ${n}`);
  pop.free();
  const ms = (x) => `${x.toFixed(0)} ms`;
  const big = n === 1_000_000;
  rows.push([`${n.toLocaleString("en")} users (${(bytes.length / 1e6).toFixed(0)} MB): parse + first preview (Node)`,
    `${ms(t1 - t0)} + ${ms(t2 - t1)} = ${ms(t2 - t0)}`, big ? "≤ 3,000 ms (in Chromium)" : ""]);
  rows.push([`${n.toLocaleString("en")} users: second preview (Node)`, ms(t3 - t2), big ? "≤ 500 ms (in Chromium)" : ""]);
}
const metrics = new URL("../target/console-metrics.json", import.meta.url);
if (existsSync(metrics)) {
  const { firstRenderMs } = JSON.parse(readFileSync(metrics, "utf8"));
  rows.push(["console first render, 2,000-user sample (Chromium)", `${firstRenderMs.toFixed(0)} ms`, "≤ 1 s"]);
}
for (const [what, value, budget] of rows) console.log(`${what.padEnd(60)} ${value.padEnd(36)} ${budget}`);
process.exit(wasm.length <= BUDGET ? 0 : 1);
