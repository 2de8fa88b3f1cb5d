// What the console says for the engine's codes. The codes stay on screen as secondary text
// (they are what the contract, the logs and the gateway's answers use, so an admin can
// search for them); the words are what an admin reads first. A code missing here is shown
// as itself, never hidden.

import { messages } from "../pkg/messages.mjs";

// The catalogue is the package's (schemas/messages.json): the CLI says the same.
export const OUTCOME = messages.outcome;
export const NEW_DEVICE = messages.new_device;
export const REASON = messages.reason;
export const METHOD = messages.method;
export const ISSUE = messages.issue;
export const SCHEMA = messages.schema;

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
