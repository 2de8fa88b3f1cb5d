// What the console says for the engine's codes. The codes stay on screen as secondary text
// (they are what the contract, the logs and the gateway's answers use, so an admin can
// search for them); the words are what an admin reads first. A code missing here is shown
// as itself, never hidden.

export const OUTCOME = {
  allow: "allowed",
  limited: "limited (app only)",
  pending_approval: "waiting for approval",
  deny: "denied",
};

export const NEW_DEVICE = {
  register: "registered",
  approval: "asks for approval",
  replace: "replaces the oldest",
  add: "added beside",
  deny: "denied",
};

export const REASON = {
  "scope.disabled": "MDM is off",
  "scope.excluded_user": "excluded by name",
  "scope.excluded_group": "excluded by a group",
  "scope.user": "assigned by name",
  "scope.group": "assigned by a group",
  "scope.organization": "assigned: whole organisation",
  "scope.none": "not assigned",
  "device.rejected": "rejected by the admin",
  "device.serial_mismatch": "serial number differs",
  "posture.platform": "platform not allowed",
  "posture.os_version": "OS too old",
  "posture.pin": "PIN too short",
  "posture.encryption": "not encrypted",
  "posture.compromised": "jailbroken or rooted",
  "enrollment.unsupported": "cannot enroll",
  "posture.grace": "in a grace period",
  "posture.grace_expired": "grace period over",
  "device.known": "known device",
  "device.first": "first device",
  "device.within_limit": "within the limit",
  "device.pending": "already waiting",
  "device.approval_requested": "approval requested",
  "device.request_expired": "earlier request expired",
  "device.limit_reached": "limit reached",
  "device.replaced": "replaced the oldest",
  "enrollment.required": "must enroll",
  "apps.unmanaged": "unmanaged copy installed",
};

export const METHOD = {
  ios_profile: "iOS management profile",
  android_work_profile: "Android work profile",
  samsung_knox: "Samsung Knox",
  android_device_admin: "Android device administrator",
};

export const ISSUE = {
  syntax: "not JSON",
  unknown_field: "unknown setting",
  missing_field: "missing",
  invalid_type: "wrong kind of value",
  invalid_value: "invalid value",
  out_of_range: "out of range",
  invalid_id: "invalid id or name",
  invalid_version: "not a version",
  duplicate: "repeated",
  empty: "empty",
  unsupported_schema: "unknown schema",
  included_and_excluded: "both included and excluded",
};

/** A preview's summary counts: the key, what it counts, and which way is good news. */
export const SUMMARY = [
  ["users", "users"],
  ["assigned_before", "assigned now"],
  ["assigned_after", "assigned after"],
  ["became_assigned", "become assigned", "up"],
  ["became_unassigned", "become unassigned", "down"],
  ["policy_changed", "change policy"],
  ["push_mfa_gained", "gain push MFA", "up"],
  ["push_mfa_lost", "lose push MFA", "down"],
  ["sso_gained", "gain SSO apps", "up"],
  ["sso_lost", "lose SSO apps", "down"],
  ["devices_blocked", "devices blocked", "down"],
  ["devices_unblocked", "devices unblocked", "up"],
  ["new_device_changed", "next phone handled differently"],
  ["devices_need_enrollment", "devices must enroll", "down"],
  ["devices_in_grace", "devices in a grace period", "down"],
  ["apps_gained", "apps gained", "up"],
  ["apps_lost", "apps lost", "down"],
];

export const SCHEMA = {
  "mdm.policy/v1": "One policy, version 1",
  "mdm.policy/v2": "One policy, version 2",
  "mdm.policy/v3": "Several policies, by priority",
};

export function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** `words` with the code beside it in the secondary style, as HTML. */
export function worded(table, code, cls = "") {
  const word = table[code];
  if (!word) return `<span class="${esc(cls)}">${esc(code)}</span>`;
  return `<span class="${esc(cls)}" data-code="${esc(code)}">${esc(word)}</span> <code>${esc(code)}</code>`;
}

/** The same without the code: where a list of them would drown the row. */
export function word(table, code) {
  return table[code] ?? code;
}
