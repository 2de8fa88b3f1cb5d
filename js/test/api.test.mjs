// The package's API: error objects, validation, the preview against the host's answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Policy, Population, isMdmError, messages, parseState, preview, validate, version } from "../node.mjs";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const example = (name) => readFileSync(`${repo}examples/${name}`, "utf8");

function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail("expected a throw");
}

test("an invalid policy throws an MdmError with code, pointer and message", () => {
  const e = thrown(() => new Policy('{"schema":"mdm.policy/v1","assigned":{"max_devices":0}}'));
  assert.ok(e instanceof Error);
  assert.equal(e.name, "MdmError");
  assert.equal(e.code, "invalid_policy");
  assert.equal(e.pointer, "/assigned/max_devices");
  assert.equal(e.message, "must be at least 1, got 0");
});

test("an invalid event throws invalid_event at the field", () => {
  const p = new Policy('{"schema":"mdm.policy/v1"}');
  const e = thrown(() => p.evaluate([], undefined, { type: "login", user: "a", at: "yesterday", device: { device_id: "A", os_type: "ios" } }));
  assert.equal(e.code, "invalid_event");
  assert.equal(e.pointer, "/at");
  const w = thrown(() => p.evaluate([], undefined, { type: "login", user: "a", at: "2026-11-22T10:00:00Z", device: { device_id: "A", os_type: "windows" } }));
  assert.equal(w.pointer, "/device/os_type");
});

test("admin errors carry their code and point at the device", () => {
  const p = new Policy('{"schema":"mdm.policy/v1"}');
  const e = thrown(() => p.evaluate([], undefined, { type: "approve", user: "a", device_id: "A9", at: "2026-11-22T10:00:00Z" }));
  assert.equal(e.code, "no_pending_request");
  assert.equal(e.pointer, "/device_id");
  assert.equal(e.message, "no pending request for device `A9`");
});

test("a bad state throws invalid_state", () => {
  const e = thrown(() => parseState({ devices: [{ device_id: "A", os_type: "ios" }] }));
  assert.equal(e.code, "invalid_state");
  assert.equal(e.pointer, "/devices/0/registered_at");
});

test("validate lists errors and warnings", () => {
  const v = validate('{"schema":"mdm.policy/v1","assignment":{"users":["a"],"exclude_users":["a"]},"requirements":{"min_pin_length":20}}');
  assert.deepEqual(v.errors, [{ code: "out_of_range", pointer: "/requirements/min_pin_length", message: "must be at most 16, got 20" }]);
  assert.equal(v.warnings[0].code, "included_and_excluded");
  assert.equal(v.warnings.length, 1);
  assert.equal(v.warnings[0].pointer, "/assignment/exclude_users/0");
});

test("a login decision has the contract's shape", () => {
  const p = new Policy(example("policy.json"));
  const { decision, state } = p.evaluate(["sales"], JSON.parse(example("alice-state.json")), JSON.parse(example("login-second-phone.json")));
  assert.equal(decision.outcome, "pending_approval");
  assert.deepEqual(decision.reasons, ["scope.group", "device.approval_requested"]);
  assert.deepEqual(decision.access, { app: false, sso: false, push_mfa: false });
  assert.equal(state.pending[0].device.device_id, "A2");
  assert.equal(state.pending[0].device.battery, undefined, "unknown attributes are not kept");
});

test("the preview equals the wasmtime host's", () => {
  const at = "2026-11-22T10:00:00Z";
  const js = preview(new Policy(example("policy.json")), new Policy(example("policy-engineering.json")), new Population(example("population.json")), at);
  const host = JSON.parse(execFileSync(`${repo}target/release/mdm`, [
    "--format", "json", "preview", "--current", `${repo}examples/policy.json`, "--proposed", `${repo}examples/policy-engineering.json`,
    "--population", `${repo}examples/population.json`, "--at", at,
  ], { encoding: "utf8" }));
  assert.deepEqual(js, host);
  assert.equal(js.summary.became_assigned, 2);
});

test("document() gives the policy with the engine's defaults filled in", () => {
  const doc = new Policy('{"schema":"mdm.policy/v1","assigned":{"max_devices":2}}').document();
  assert.equal(doc.schema, "mdm.policy/v1");
  assert.equal(doc.enabled, true);
  assert.equal(doc.assigned.max_devices, 2);
  assert.equal(doc.assigned.approval_ttl_hours, 72);
  assert.equal(doc.assigned.on_new_device, "approval");
  assert.equal(doc.unassigned.push_mfa, false);
  assert.deepEqual(doc.requirements.platforms, []);
  // The resolved document is itself a valid policy with the same meaning.
  assert.deepEqual(new Policy(JSON.stringify(doc)).document(), doc);
});

test("the default export is an init that Node does not need but accepts", async () => {
  const { default: init } = await import("../node.mjs");
  await init();
  assert.equal(new Policy('{"schema":"mdm.policy/v1"}').document().enabled, true);
});

test("validate reports every error in one run, from text or bytes", () => {
  const text = '{"schema":"mdm.policy/v1","asigned":{},"requirements":{"min_pin_length":"six"},"unassigned":{"max_devices":0}}';
  const codes = (v) => v.errors.map((e) => [e.code, e.pointer]);
  const want = [["unknown_field", "/asigned"], ["invalid_type", "/requirements/min_pin_length"], ["out_of_range", "/unassigned/max_devices"]];
  assert.deepEqual(codes(validate(text)), want);
  assert.deepEqual(codes(validate(new TextEncoder().encode(text))), want);
  const notText = validate(new Uint8Array([0x7b, 0xff, 0x7d]));
  assert.deepEqual(codes(notText), [["syntax", ""]]);
  assert.match(notText.errors[0].message, /not UTF-8/);
});

test("a population is read from text or bytes alike", () => {
  const text = example("population.json");
  assert.equal(new Population(text).users, new Population(new TextEncoder().encode(text)).users);
  assert.ok(new Population(text).users > 0);
});

test("a population as NDJSON, one user a line, previews as its document does", () => {
  const doc = JSON.parse(example("population.json"));
  const users = [...new Set([...Object.keys(doc.directory ?? {}), ...Object.keys(doc.state ?? {})])].reverse();
  const lines = users.map((user) => JSON.stringify({ user, groups: doc.directory?.[user] ?? [], state: doc.state?.[user] ?? {} }));
  const ndjson = lines.join("\n") + "\n";
  const [current, proposed] = [new Policy(example("policy.json")), new Policy(example("policy-engineering.json"))];
  const at = "2026-11-22T10:00:00Z";
  assert.equal(new Population(ndjson).users, users.length);
  assert.deepEqual(preview(current, proposed, new Population(ndjson), at), preview(current, proposed, new Population(JSON.stringify(doc)), at));
  // The first line in error, at /LINE_INDEX/..., with the line number in the message.
  const bad = `${lines[0]}\n{"user":"x","groups":[7]}\n`;
  const e = thrown(() => new Population(bad));
  assert.equal(e.code, "invalid_state");
  assert.equal(e.pointer, "/1/groups/0");
  assert.match(e.message, /^line 2: /);
});

test("messages: the catalogue the CLI reads, with words for the codes the engine answers", () => {
  const catalogue = JSON.parse(readFileSync(new URL("../../schemas/messages.json", import.meta.url), "utf8"));
  assert.deepEqual(messages, catalogue);
  assert.equal(messages.outcome.pending_approval, "waiting for approval");
  assert.equal(messages.reason["device.approval_requested"], "approval requested");
});

test("isMdmError tells the engine's errors from anything else", () => {
  const e = thrown(() => new Policy("{}"));
  assert.equal(isMdmError(e), true);
  assert.equal(e.code, "invalid_policy");
  for (const other of [new Error("x"), new RangeError("y"), { name: "MdmError", code: "x", pointer: "" }, null, undefined, "MdmError"]) {
    assert.equal(isMdmError(other), false, String(other));
  }
});

test("version is the engine's, as the CLI and the WIT report it", () => {
  assert.match(version(), /^\d+\.\d+\.\d+$/);
  const cargo = readFileSync(`${repo}Cargo.toml`, "utf8").match(/^version = "(.+)"$/m)[1];
  assert.equal(version(), cargo);
});
