// Writes console/sample.json: a reproducible population of about 2,000 users in 30 groups,
// with devices, pending requests and rejections, and the policy in force.
// Usage: node console/make-sample.mjs
import { writeFileSync } from "node:fs";

function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const r = rng(20261122);
const pick = (xs) => xs[Math.floor(r() * xs.length)];
const groups = [
  "sales", "support", "engineering", "finance", "hr", "legal", "marketing", "operations", "it", "security",
  "contractors", "interns", "executives", "field-sales", "partners", "design", "research", "qa", "data",
  "procurement", "facilities", "customer-success", "emea", "apac", "americas", "remote", "onsite",
  "leavers", "pilot-mdm", "board",
];
const day = (d) => new Date(Date.UTC(2026, 0, 1) + d * 86400000).toISOString().replace(".000Z", "Z");
const directory = {};
const state = {};
for (let i = 0; i < 2000; i++) {
  const user = `user${String(i).padStart(4, "0")}`;
  const n = 1 + Math.floor(r() * 3);
  directory[user] = [...new Set(Array.from({ length: n }, () => pick(groups)))];
  const devices = [];
  const count = Math.floor(r() * 4);
  for (let k = 0; k < count; k++) {
    const os = r() < 0.55 ? "ios" : r() < 0.95 ? "android" : "other";
    const version = os === "ios" ? pick(["15.7", "16.4", "17.2", "18.1"]) : os === "android" ? pick(["11", "12", "13", "14"]) : "1.0";
    const device = { device_id: `${user}-d${k}`, os_type: os, os_version: version, registered_at: day(Math.floor(r() * 300)) };
    if (r() < 0.9) device.pin_length = pick([4, 6, 6, 8]);
    if (r() < 0.8) device.encrypted = r() < 0.9;
    if (r() < 0.8) device.compromised = r() < 0.03;
    devices.push(device);
  }
  const s = { devices };
  if (r() < 0.05) s.pending = [{ device: { device_id: `${user}-new`, os_type: "android", os_version: "14" }, requested_at: "2026-11-21T08:00:00Z" }];
  if (r() < 0.03) s.rejected = [{ device_id: `${user}-old`, rejected_at: "2026-10-01T08:00:00Z" }];
  if (devices.length || s.pending || s.rejected) state[user] = s;
}
const policy = {
  schema: "mdm.policy/v1",
  assignment: { groups: ["sales", "support"], exclude_groups: ["contractors"] },
  requirements: { min_os_version: { ios: "16.0", android: "12" }, min_pin_length: 4 },
};
const out = new URL("./sample.json", import.meta.url);
writeFileSync(out, JSON.stringify({ policy, at: "2026-11-22T10:00:00Z", population: { directory, state } }) + "\n");
console.log(`wrote ${out.pathname}: ${Object.keys(directory).length} users, ${groups.length} groups`);
