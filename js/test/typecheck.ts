// Compiled by `tsc` (never run): the package's declarations type real uses, and reject
// wrong ones.
import { Policy, Population, preview, validate } from "mdm-policy";
import type { Event, Evaluation, LoginDecision, MdmError, PreviewReport, UserState, Validation } from "mdm-policy";

const policy = new Policy('{"schema":"mdm.policy/v1"}');
const state: UserState = { devices: [], pending: [], rejected: [] };
const login: Event = { type: "login", user: "alice", at: "2026-11-22T10:00:00Z", device: { device_id: "A1", os_type: "ios" } };
const result: Evaluation = policy.evaluate(["sales"], state, login);
if ("outcome" in result.decision) {
  const d: LoginDecision = result.decision;
  const push: boolean = d.access.push_mfa;
  void push;
}
// Documents as the bytes they arrived in (UTF-8 is checked by the engine).
const fromBytes = new Policy(new TextEncoder().encode('{"schema":"mdm.policy/v1"}'));
const fromText: Evaluation = fromBytes.evaluate([], new Uint8Array(), JSON.stringify(login));
void fromText;
// @ts-expect-error: a number is not a document.
new Policy(42);
const v: Validation = validate("{}");
const report: PreviewReport = preview(policy, policy, new Population('{"directory":{}}'), "2026-11-22T10:00:00Z");
const blocked: number = report.summary.devices_blocked;
try {
  new Policy("{}");
} catch (e) {
  const err = e as MdmError;
  const code: "invalid_policy" | string = err.code;
  void code;
}
// @ts-expect-error: an OS type the contract does not have.
const bad: Event = { type: "login", user: "a", at: "", device: { device_id: "A", os_type: "windows" } };
void [v, blocked, bad];
// The engine's defaults: every field present, once `schema` says which document it is.
const resolved = policy.document();
// @ts-expect-error: a set has no `assigned` of its own; read `schema` first.
void resolved.assigned;
if (resolved.schema !== "mdm.policy/v3") {
  const ttl: number = resolved.assigned.approval_ttl_hours;
  const platforms: string[] = resolved.requirements.platforms;
  void ttl;
  void platforms;
}
// Version 3: a set's policies, and the user's policy on a decision.
const set = new Policy('{"schema":"mdm.policy/v3","policies":[{"name":"sales","assignment":{"groups":["sales"]}}]}');
const setDoc = set.document();
if (setDoc.schema === "mdm.policy/v3") {
  const first: string | undefined = setDoc.policies[0]?.name;
  const maxDevices: number | undefined = setDoc.policies[0]?.assigned.max_devices;
  void [first, maxDevices];
}
const underSet = set.evaluate(["sales"], undefined, {
  type: "login", user: "alice", at: "2026-11-22T10:00:00Z", device: { device_id: "A1", os_type: "ios" },
}).decision;
const policyName: string | null | undefined = underSet.policy;
void policyName;
// Version 2.
const v2 = new Policy('{"schema":"mdm.policy/v2","enrollment":{"required":true}}');
const enrolled: Event = { type: "enrolled", user: "alice", device_id: "A1", at: "2026-11-22T10:00:00Z", method: "ios_profile" };
const selfApproval: Event = { type: "approve", user: "alice", device_id: "A2", at: "2026-11-22T10:00:00Z", by: "self", from_device: "A1" };
const withApps: Event = { type: "login", user: "alice", at: "2026-11-22T10:00:00Z",
  device: { device_id: "A1", os_type: "android", manufacturer: "samsung", apps: [{ id: "com.box", managed: false }] } };
const decided = v2.evaluate([], undefined, withApps).decision;
if ("outcome" in decided) {
  const method: string | undefined = decided.enroll?.method;
  const status: string | undefined = decided.apps?.[0]?.status;
  void method;
  void status;
}
void enrolled;
void selfApproval;
// @ts-expect-error: not an enrollment method.
const badMethod: Event = { type: "enrolled", user: "a", device_id: "A", at: "t", method: "bluetooth" };
void badMethod;

// The guard narrows `unknown` to the engine's error; `version()` is a string; validation
// takes bytes and reports codes.
import { isMdmError, version } from "mdm-policy";
import type { IssueCode } from "mdm-policy";
try {
  validate(new TextEncoder().encode("{}"));
} catch (e: unknown) {
  if (isMdmError(e)) {
    const pointer: string = e.pointer;
    void pointer;
  }
}
const codes: IssueCode[] = validate("{}").errors.map((i) => i.code);
const engineVersion: string = version();
new Population(new Uint8Array());
void codes;
void engineVersion;
