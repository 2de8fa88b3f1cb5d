// Hostile input through the `mdm` CLI (the wasmtime host): each case is generated into
// target/hostile/, run once with the CLI's admin limits and once with a gateway's
// (64 MiB documents, 64 MiB engine memory, 100 ms), and reported with its exit status,
// what it said and its peak memory (GNU time's maximum resident set size).
//
// Exits 1 if any run crashed (a signal, or an exit status other than mdm's 0 to 3), so that
// "never a crash" is checked, not just printed. Usage: node bench/hostile.mjs [--markdown]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, writeSync, closeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../", import.meta.url));
const dir = join(repo, "target/hostile");
const mdm = join(repo, "target/release/mdm");
mkdirSync(dir, { recursive: true });
const at = "2026-11-22T10:00:00Z";
const policy = { schema: "mdm.policy/v1", assignment: { groups: ["sales"] } };
const login = (extra = {}) => ({ type: "login", user: "alice", at, device: { device_id: "A1", os_type: "ios", ...extra } });

/** Writes `parts` (strings, or [string, count] to repeat) without building it in memory. */
function write(name, parts) {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  for (const part of parts) {
    if (Array.isArray(part)) {
      const [chunk, count] = part;
      const block = chunk.repeat(Math.min(count, 4096));
      for (let left = count; left > 0; left -= 4096) writeSync(fd, left >= 4096 ? block : chunk.repeat(left));
    } else writeSync(fd, part);
  }
  closeSync(fd);
  return path;
}
const json = (name, value) => write(name, [JSON.stringify(value)]);

/** A list of `n` ids `prefix0000000`, as JSON, streamed. */
function idList(prefix, n) {
  const parts = ["["];
  for (let i = 0; i < n; i += 100_000) {
    const ids = [];
    for (let j = i; j < Math.min(n, i + 100_000); j++) ids.push(`"${prefix}${String(j).padStart(7, "0")}"`);
    parts.push((i ? "," : "") + ids.join(","));
  }
  parts.push("]");
  return parts;
}

const p = json("policy.json", policy);
const e = json("login.json", login());
const big = "x".repeat(10 << 20);
const device = (i) => `{"device_id":"D${i}","os_type":"ios","registered_at":"2026-01-01T00:00:00Z"}`;
const state100k = write("state-100k.json", [
  '{"devices":[',
  ...Array.from({ length: 100 }, (_, k) => (k ? "," : "") + Array.from({ length: 1000 }, (_, i) => device(k * 1000 + i)).join(",")),
  "]}",
]);
// Latin-1 `é` (0xE9) where UTF-8 wants two bytes.
const latin1 = join(dir, "policy-latin1.json");
writeFileSync(latin1, Buffer.concat([Buffer.from('{"schema":"mdm.policy/v1","assignment":{"groups":["ventes-'), Buffer.from([0xe9]), Buffer.from('"]}}')]));
const cases = [
  ["policy of 100 MB (8.3M group ids)", ["validate", write("policy-100mb.json", ['{"schema":"mdm.policy/v1","assignment":{"groups":', ...idList("g", 8_300_000), "}}"])]],
  ["policy of 60 MB (5M group ids)", ["validate", write("policy-60mb.json", ['{"schema":"mdm.policy/v1","assignment":{"groups":', ...idList("g", 5_000_000), "}}"])]],
  ["policy nested 100k deep", ["validate", write("policy-deep.json", ['{"schema":"mdm.policy/v1","assignment":', ["[", 100_000], ["]", 100_000], "}"])]],
  ["event nested 100k deep", ["eval", "--policy", p, "--event", write("event-deep.json", ['{"type":"login","device":', ['{"a":', 100_000], "1", ["}", 100_000], "}"])]],
  ["group list of 1M ids", ["eval", "--policy", p, "--event", e, "--groups-file", write("groups-1m.json", idList("team-", 1_000_000))]],
  ["10 MB group id in a policy", ["validate", json("policy-10mb-id.json", { ...policy, assignment: { groups: [big] } })]],
  ["10 MB user id in an event", ["eval", "--policy", p, "--event", json("event-10mb-user.json", { ...login(), user: big })]],
  ["10 MB device name in an event", ["eval", "--policy", p, "--event", json("event-10mb-name.json", login({ name: big }))]],
  ["policy that is not UTF-8", ["validate", latin1]],
  ["state with 100k devices, assigned", ["eval", "--policy", p, "--groups", "sales", "--event", json("login-known.json", login({ device_id: "D99999" })), "--state", state100k]],
  ["state with 100k devices, unassigned", ["eval", "--policy", p, "--event", e, "--state", state100k]],
];

const gateway = ["--max-document-mib", "64", "--memory-mib", "64", "--deadline-ms", "100"];
const hasTime = existsSync("/usr/bin/time");
let crashed = false;
const rows = [];
for (const [what, args] of cases) {
  for (const [limits, extra] of [["admin", []], ["gateway", gateway]]) {
    // JSON, so that an eval's decision is read back rather than its pretty line.
    const argv = [...args, ...extra, "--format", "json"];
    const started = process.hrtime.bigint();
    const r = hasTime
      ? spawnSync("/usr/bin/time", ["-f", "%M", mdm, ...argv], { encoding: "utf8", maxBuffer: 1 << 30 })
      : spawnSync(mdm, argv, { encoding: "utf8", maxBuffer: 1 << 30 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // GNU time adds "Command exited with non-zero status N" and, last, the peak in KiB.
    const errLines = r.stderr.trim().split("\n");
    const peak = hasTime ? `${Math.round(Number(errLines.pop()) / 1024)} MiB` : "n/a";
    const stderr = errLines.filter((l) => !l.startsWith("Command exited with")).join(" ");
    let said = (stderr || r.stdout.trim().split("\n")[0]).replace(/\s+/g, " ");
    if (r.status === 0 && args[0] === "eval") {
      const out = JSON.parse(r.stdout);
      const stored = out.state.devices.at(-1)?.name?.length;
      said = `${out.decision.outcome} (${out.decision.reasons.join(", ")})${stored ? `; name stored as ${stored} chars` : ""}, state ${out.state.devices.length} devices`;
    }
    if (said.length > 110) said = said.slice(0, 107) + "...";
    const ok = r.signal === null && [0, 1, 2, 3].includes(r.status);
    crashed ||= !ok;
    rows.push([what, limits, ok ? `exit ${r.status}` : `CRASH ${r.signal ?? r.status}`, said, peak, `${seconds.toFixed(2)} s`]);
  }
}
const header = ["input", "limits", "result", "what it said", "peak RSS", "time"];
if (process.argv.includes("--markdown")) {
  console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${r.map((c) => c.replaceAll("|", "\\|").replaceAll("`", "'")).join(" | ")} |`);
} else {
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd([30, 8, 8, 112, 9, 8][i])).join(" "));
}
process.exit(crashed ? 1 : 0);
