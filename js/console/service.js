// The admin's side of `mdm serve`: when the console is served by the service (same
// origin), the approval inbox, the device inventory, a user's devices and requests with
// approve / reject / remove / deprovision / wipe, the decision log, the shadow policy's
// report and the dead webhook deliveries to replay. Served as static files, the console
// has no service and this panel stays hidden. Every decision is the service's; this only
// renders it, in words (words.js), with the codes on hover.
import { Policy } from "../index.mjs";
import { METHOD, OUTCOME, REASON, SUMMARY, word as worded } from "./words.js";

const $ = (sel, root = document) => root.querySelector(sel);
const panel = $("#service");
let token = sessionStorage.getItem("mdm-admin-token") ?? "";
let connected = false;
// The live policy document, for what an approval will do (read when connecting).
let live = null;
// The inventory's pages: the cursor that opens each page found so far (the first has
// none), and the page on screen.
let pages = [null];
let current = 0;
let poller = null;

function say(text, error = false) {
  const p = $("#service-status");
  p.textContent = text;
  p.classList.toggle("form-errors", error);
}

/// An error of the API in words, its code kept for searching.
class ApiError extends Error {
  constructor(status, code, message) {
    super(`${message} (${code})`);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: said below */ }
  if (!res.ok) throw new ApiError(res.status, json?.code ?? `http.${res.status}`, json?.message ?? (text || res.statusText));
  return json;
}

function cell(tr, text, cls, title) {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  if (title) td.title = title;
  return td;
}

function button(td, label, action, name = label.toLowerCase()) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = name;
  b.addEventListener("click", action);
  td.append(b, " ");
  return b;
}

/// A time as the admin's clock shows it, and how long ago.
function when(iso) {
  if (!iso) return "";
  const t = new Date(iso);
  const seconds = Math.round((Date.now() - t.getTime()) / 1000);
  const local = t.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  return `${local} (${ago(seconds)})`;
}

function ago(seconds) {
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const span = s < 60 ? "just now" : s < 3600 ? `${Math.round(s / 60)} min` : s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} days`;
  if (span === "just now") return span;
  return future ? `in ${span}` : `${span} ago`;
}

function timeCell(tr, iso) {
  return cell(tr, when(iso), "time", iso);
}

/// Who asked, as a role: the log keeps a token's fingerprint, shown on hover.
function actor(d) {
  if (!d.actor) return "";
  if (d.actor === "startup") return "the service";
  return d.event === "login" ? "gateway" : "admin";
}

function deviceText(d) {
  const os = { ios: "iOS", android: "Android", other: "other OS" }[d.os_type] ?? d.os_type;
  const parts = [`${os}${d.os_version ? ` ${d.os_version}` : ""}`];
  if (d.model) parts.push(d.model);
  if (d.name) parts.push(`“${d.name}”`);
  return `${d.device_id} (${parts.join(", ")})`;
}

/// What an admin event did, from its effects and commands.
function did(type, user, deviceId, r) {
  const done = [];
  for (const e of r.effects ?? []) {
    if (e.op === "add_device") done.push(`registered ${e.device.device_id}`);
    else if (e.op === "remove_device") done.push(`removed ${e.device_id}`);
    else if (e.op === "add_rejected") done.push(`blocked ${e.device_id}`);
    else if (e.op === "remove_rejected") done.push(`unblocked ${e.device_id}`);
    else if (e.op === "set_enrollment") done.push(`marked ${e.device_id} enrolled`);
  }
  for (const c of r.commands ?? []) done.push(`sent ${c.action} to ${c.device_id}`);
  const verb = { approve: "Approved", reject: "Rejected", unblock: "Unblocked", remove_device: "Removed", deprovision: "Deprovisioned", wipe: "Wiped" }[type] ?? type;
  return `${verb} ${deviceId} of ${user}${done.length ? `: ${done.join(", ")}` : ""}.`;
}

/// The policy that decides for `user` under the live document: the single policy, or
/// the set's policy the service says the user is under.
function policyOf(userBody) {
  if (!live) return null;
  if (!Array.isArray(live.policies)) return live;
  return live.policies.find((p) => p.name === userBody.policy) ?? null;
}

/// What approving `deviceId` will do, said before it is done; null when nothing beyond
/// registering it.
async function approvalWarning(user, deviceId) {
  const u = await api("GET", `/v1/users/${encodeURIComponent(user)}`);
  const p = policyOf(u);
  const assigned = p?.assigned;
  if (!assigned || assigned.on_approve !== "replace") return null;
  const max = assigned.max_devices ?? 1;
  const devices = [...u.state.devices].sort((a, b) => a.registered_at.localeCompare(b.registered_at));
  const over = devices.length + 1 - max;
  if (over <= 0) return null;
  const gone = devices.slice(0, over).map((d) => d.device_id);
  return `Approving ${deviceId} will remove ${gone.join(", ")} of ${user}: this policy replaces the oldest device (at most ${max}).`;
}

/// Sends an admin event for one device, after saying what it will do, then shows
/// everything anew and says what it did.
async function act(type, user, deviceId) {
  try {
    if (type === "approve") {
      const warning = await approvalWarning(user, deviceId);
      if (warning) {
        say(warning);
        if (!confirm(warning)) return say(`Nothing done: ${deviceId} of ${user} is still waiting.`);
      }
    }
    const question = {
      wipe: `Wipe ${deviceId} of ${user}? The phone is erased at its next check-in, and removed from the user's devices.`,
      deprovision: `Deprovision ${deviceId} of ${user}? Its managed apps and settings are removed, and the device from the user's devices.`,
      remove_device: `Remove ${deviceId} from ${user}'s devices? Its next login is a new device.`,
    }[type];
    if (question && !confirm(question)) return;
    const r = await api("POST", "/v1/events", { type, user, device_id: deviceId });
    say(did(type, user, deviceId, r));
  } catch (e) {
    say(`${type} ${deviceId} of ${user}: ${e.message}`, true);
  }
  await refresh();
  if ($("#user-form").user.value === user) await showUser(user);
}

async function inbox() {
  const { pending } = await api("GET", "/v1/pending?limit=200");
  const body = $("#inbox tbody");
  body.replaceChildren();
  for (const p of pending) {
    const tr = body.insertRow();
    tr.dataset.user = p.user;
    tr.dataset.device = p.device_id;
    cell(tr, p.user);
    cell(tr, deviceText(p.device));
    cell(tr, ago(p.age_seconds), "time", p.requested_at);
    const td = tr.insertCell();
    button(td, "Approve", () => act("approve", p.user, p.device_id));
    button(td, "Reject", () => act("reject", p.user, p.device_id));
  }
  badge(pending.length);
  $("#inbox-empty").hidden = pending.length > 0;
}

function badge(n) {
  const b = $("#inbox-count");
  b.textContent = String(n);
  b.hidden = false;
  b.classList.toggle("waiting", n > 0);
  b.title = `${n} request(s) waiting`;
}

async function showUser(user) {
  const body = $("#user-devices tbody");
  body.replaceChildren();
  $("#user-form").user.value = user;
  try {
    const u = await api("GET", `/v1/users/${encodeURIComponent(user)}`);
    const policy = "policy" in u ? `; policy: ${u.policy ?? "none (not assigned)"}` : "";
    $("#user-groups").textContent = `${user}: groups ${u.groups.join(", ") || "none"}${policy}; last seen ${when(u.updated_at)}`;
    for (const d of u.state.devices) {
      const tr = body.insertRow();
      tr.dataset.device = d.device_id;
      cell(tr, deviceText(d));
      cell(tr, when(d.registered_at), "time", d.registered_at);
      const state = d.enrollment ? `enrolled (${worded(METHOD, d.enrollment.method)})` : "registered, not enrolled";
      cell(tr, d.noncompliant_since ? `${state}; failing a rule since ${when(d.noncompliant_since)}` : state, d.noncompliant_since ? "limited" : "allow", d.enrollment?.method);
      const td = tr.insertCell();
      for (const [label, type] of [["Remove", "remove_device"], ["Deprovision", "deprovision"], ["Wipe", "wipe"]]) {
        button(td, label, () => act(type, user, d.device_id), type === "remove_device" ? "remove" : type);
      }
    }
    for (const p of u.state.pending ?? []) {
      const tr = body.insertRow();
      tr.dataset.device = p.device.device_id;
      cell(tr, deviceText(p.device));
      cell(tr, when(p.requested_at), "time", p.requested_at);
      cell(tr, "waiting for approval", "pending_approval");
      const td = tr.insertCell();
      button(td, "Approve", () => act("approve", user, p.device.device_id));
      button(td, "Reject", () => act("reject", user, p.device.device_id));
    }
    for (const r of u.state.rejected ?? []) {
      const tr = body.insertRow();
      tr.dataset.device = r.device_id;
      cell(tr, r.device_id);
      cell(tr, when(r.rejected_at), "time", r.rejected_at);
      cell(tr, "rejected by an admin", "deny");
      button(tr.insertCell(), "Unblock", () => act("unblock", user, r.device_id));
    }
    if (!body.rows.length) cell(body.insertRow(), "No device, request or rejection is stored for this user.").colSpan = 4;
  } catch (e) {
    $("#user-groups").textContent = e.status === 404 ? `No user ${user} is stored: they have not logged in yet.` : e.message;
  }
}

/// The inventory's query from its filter form.
function inventoryQuery() {
  const f = $("#devices-form");
  const q = new URLSearchParams();
  for (const name of ["q", "os_type", "model", "enrolled", "noncompliant"]) {
    const v = f[name].value.trim();
    if (v) q.set(name, v);
  }
  q.set("sort", f.sort.value);
  return { q };
}

async function devices(page = current) {
  const { q } = inventoryQuery();
  q.set("limit", $("#devices-form").limit.value);
  const cursor = pages[page];
  if (cursor) q.set("cursor", cursor);
  const r = await api("GET", `/v1/devices?${q}`);
  pages = pages.slice(0, page + 1);
  if (r.next_cursor) pages.push(r.next_cursor);
  current = page;
  const body = $("#devices tbody");
  body.replaceChildren();
  for (const d of r.devices) {
    const tr = body.insertRow();
    tr.dataset.user = d.user;
    tr.dataset.device = d.device_id;
    const who = cell(tr, "");
    const link = Object.assign(document.createElement("a"), { href: "#user-form", textContent: d.user });
    link.addEventListener("click", (e) => {
      e.preventDefault();
      showUser(d.user).then(() => $("#user-form").scrollIntoView({ block: "start" }));
    });
    who.append(link);
    cell(tr, deviceText(d));
    cell(tr, d.serial_number ?? "", "", "serial number (masked unless the service reveals them)");
    cell(tr, when(d.registered_at), "time", d.registered_at);
    const state = d.enrollment ? `enrolled (${worded(METHOD, d.enrollment.method)})` : "not enrolled";
    cell(tr, d.noncompliant_since ? `${state}; failing since ${when(d.noncompliant_since)}` : state, d.noncompliant_since ? "limited" : "");
  }
  $("#devices-page").textContent = r.devices.length
    ? `Page ${page + 1}: ${r.devices.length} device(s)${r.next_cursor ? "; more on the next page" : "; the last page"}`
    : page === 0 ? "No device matches these filters." : "No more devices.";
  $("#devices-prev").disabled = page === 0;
  $("#devices-next").disabled = !r.next_cursor;
  $("#devices").dataset.page = String(page + 1);
}

/// The filtered inventory as a CSV file, fetched with the token (a plain link could not
/// carry it) and handed to the browser as a download.
async function downloadCsv() {
  const { q } = inventoryQuery();
  try {
    const res = await fetch(`/v1/devices?${q}`, { headers: { authorization: `Bearer ${token}`, accept: "text/csv" } });
    if (!res.ok) {
      const e = await res.json().catch(() => ({}));
      throw new ApiError(res.status, e.code ?? `http.${res.status}`, e.message ?? res.statusText);
    }
    const blob = await res.blob();
    const a = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: "devices.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    say(`Downloaded devices.csv (${Math.round(blob.size / 1024)} KB).`);
  } catch (e) {
    say(`CSV export: ${e.message}`, true);
  }
}

async function log() {
  const { decisions } = await api("GET", "/v1/decisions?limit=25");
  const body = $("#log tbody");
  body.replaceChildren();
  for (const d of decisions) {
    const tr = body.insertRow();
    timeCell(tr, d.time);
    cell(tr, d.user);
    cell(tr, d.device_id);
    cell(tr, d.event === "login" ? "login" : d.event.replace("_", " "));
    const outcome = d.outcome ? worded(OUTCOME, d.outcome) : d.fault ? `failed: ${d.fault.message ?? d.fault.code}` : "done";
    cell(tr, outcome, d.outcome ?? (d.fault ? "deny" : ""), d.outcome ?? d.fault?.code);
    const reasons = d.reasons ?? [];
    cell(tr, reasons.map((r) => worded(REASON, r)).join(", "), "", reasons.join(", "));
    cell(tr, actor(d), "", d.actor);
  }
}

async function shadow() {
  const r = await api("GET", "/v1/shadow/report");
  const div = $("#shadow-report");
  div.replaceChildren();
  if (!r.shadow) {
    div.textContent = "No report-only policy is set: every login is decided by the live policy alone.";
    return;
  }
  const p = document.createElement("p");
  p.textContent = `A report-only policy is set since ${when(r.shadow.created_at)}: ${r.differences} login(s) would have been answered otherwise.`;
  p.title = r.shadow.digest;
  const table = document.createElement("table");
  table.createTHead().insertRow().append(...["Live policy", "Report-only policy", "Logins"].map((h) => Object.assign(document.createElement("th"), { textContent: h })));
  const tb = table.createTBody();
  for (const c of r.counts) {
    const tr = tb.insertRow();
    cell(tr, worded(OUTCOME, c.live), c.live, c.live);
    cell(tr, worded(OUTCOME, c.shadow), c.shadow, c.shadow);
    cell(tr, String(c.count));
  }
  div.append(p, table);
}

/// The webhook deliveries that ran out of attempts, each with a Replay button (built here:
/// the panel's page predates webhooks).
async function deadDeliveries() {
  let div = $("#webhook-dead");
  if (!div) {
    div = Object.assign(document.createElement("div"), { id: "webhook-dead" });
    $("#shadow-report").after(Object.assign(document.createElement("h3"), { textContent: "Notifications that could not be delivered" }), div);
  }
  const { deliveries } = await api("GET", "/v1/webhooks/deliveries?state=dead&limit=50");
  div.replaceChildren();
  if (!deliveries.length) {
    div.textContent = "None: every notification was delivered or is still being tried.";
    return;
  }
  const table = document.createElement("table");
  table.createTHead().insertRow().append(...["Event", "Endpoint", "Attempts", "Last error", ""].map((h) => Object.assign(document.createElement("th"), { textContent: h })));
  const tb = table.createTBody();
  for (const d of deliveries) {
    const tr = tb.insertRow();
    tr.dataset.delivery = String(d.id);
    cell(tr, d.event, "", d.event_id);
    cell(tr, d.endpoint);
    cell(tr, String(d.attempts));
    cell(tr, `${d.last_error ?? ""}${d.last_status ? ` ${d.last_status}` : ""}`);
    button(tr.insertCell(), "Replay", async () => {
      try {
        await api("POST", `/v1/webhooks/deliveries/${d.id}/replay`);
        say(`Sending ${d.event} to ${d.endpoint} again.`);
      } catch (e) {
        say(`replay: ${e.message}`, true);
      }
      await refresh();
    });
  }
  div.append(table);
}

/// The live policy's version line and its history.
async function livePolicy() {
  const [policy, versions] = await Promise.all([
    api("GET", "/v1/policy").catch((e) => (e.status === 404 ? null : Promise.reject(e))),
    api("GET", "/v1/policy/versions?limit=10"),
  ]);
  live = policy?.document ?? null;
  $("#live-policy").textContent = policy
    ? `Version ${policy.version}, stored ${when(policy.created_at)} by ${policy.actor === "startup" ? "the service at its start" : "an admin"}.`
    : "No live policy is stored yet.";
  $("#live-policy").title = policy?.digest ?? "";
  const body = $("#live-versions tbody");
  body.replaceChildren();
  for (const v of versions.versions ?? []) {
    const tr = body.insertRow();
    cell(tr, String(v.version));
    cell(tr, v.role === "live" ? "live" : v.digest ? "report-only" : "report-only cleared");
    timeCell(tr, v.created_at);
    cell(tr, v.actor === "startup" ? "the service" : "admin", "", v.actor ?? "");
  }
}

/// The form's policy (console.js), or null with the reason said.
function formPolicy() {
  const doc = window.__mdm?.readForm?.();
  if (!doc) say("The form is not ready yet.", true);
  return doc ?? null;
}

/// What `after` changes in `before`, setting by setting: `[pointer, before, after]`, a
/// missing side `undefined`. Lists are compared whole (a reordered list is a change).
function diff(before, after, pointer = "", out = []) {
  const object = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (object(before) && object(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      diff(before[key], after[key], `${pointer}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`, out);
    }
  } else if (JSON.stringify(before) !== JSON.stringify(after)) {
    out.push([pointer || "/", before, after]);
  }
  return out;
}

function shown(v) {
  return v === undefined ? "(not set)" : JSON.stringify(v);
}

/// A document with every default filled in, as the engine reads it (console.js has
/// started the module this shares), so that a default written out is no change; as it is
/// when the engine refuses it.
function resolved(doc) {
  let policy;
  try {
    policy = new Policy(JSON.stringify(doc));
    return policy.document();
  } catch {
    return doc;
  } finally {
    policy?.free();
  }
}

/// The form's changes to the live policy, as a list on screen; their number.
function showDiff(proposed) {
  const changes = diff(resolved(live ?? {}), resolved(proposed));
  const div = $("#live-diff");
  div.replaceChildren();
  const p = document.createElement("p");
  p.textContent = changes.length ? `The form changes ${changes.length} setting(s) of the live policy:` : "The form is the live policy: nothing to save.";
  const ul = document.createElement("ul");
  for (const [pointer, before, after] of changes.slice(0, 50)) {
    const li = document.createElement("li");
    li.append(Object.assign(document.createElement("code"), { textContent: pointer }), ` ${shown(before)} → ${shown(after)}`);
    ul.append(li);
  }
  if (changes.length > 50) ul.append(Object.assign(document.createElement("li"), { textContent: `and ${changes.length - 50} more` }));
  div.append(p, ul);
  return changes.length;
}

/// The what-if of the form's policy over the users the service stores, in words.
async function previewLive() {
  const proposed = formPolicy();
  if (!proposed) return null;
  const settings = showDiff(proposed);
  const report = await api("POST", "/v1/preview", { proposed, limit: 20 });
  const s = report.summary ?? {};
  const div = $("#live-report");
  div.replaceChildren();
  const p = document.createElement("p");
  // The service answers a page of the changed users; `total_changes` counts them all.
  const changed = report.total_changes ?? (report.changes ?? []).length;
  p.textContent = `Over the ${s.users ?? 0} stored user(s), ${changed} would be decided otherwise.`;
  const ul = document.createElement("ul");
  ul.className = "live-summary";
  if ("assigned_before" in s) p.textContent += ` Assigned users: ${s.assigned_before} now, ${s.assigned_after} after.`;
  for (const [key, label, way] of SUMMARY) {
    // Totals are in the sentence above; the list holds what changes.
    if (!s[key] || ["users", "assigned_before", "assigned_after"].includes(key)) continue;
    const li = Object.assign(document.createElement("li"), { textContent: `${s[key]} ${label}` });
    if (way) li.className = way;
    li.title = key;
    ul.append(li);
  }
  div.append(p, ul);
  return { summary: s, changed, settings };
}

/// Saves the form's policy after its preview, as the live or the report-only policy.
async function savePolicy(role) {
  try {
    const preview = await previewLive();
    if (!preview) return;
    const where = role === "live" ? "the live policy: it decides every login from now on" : "the report-only policy: logins are decided under it too, without effect, and the differences reported";
    if (role === "live" && preview.settings === 0) return say("Nothing saved: the form is the live policy.");
    if (!confirm(`Save the form's policy as ${where}? It changes ${preview.settings} setting(s); ${preview.changed} stored user(s) would be decided otherwise.`)) {
      return say("Nothing saved.");
    }
    const r = await api("PUT", role === "live" ? "/v1/policy" : "/v1/policy/shadow", formPolicy());
    const warnings = (r.warnings ?? r.issues ?? []).length;
    say(`Saved as ${role === "live" ? "the live policy" : "the report-only policy"}: version ${r.version}${warnings ? `, with ${warnings} warning(s)` : ""}.`);
  } catch (e) {
    const first = e.code === "invalid_policy" ? " Fix the form's marked fields first." : "";
    say(`Not saved: ${e.message}.${first}`, true);
  }
  await refresh();
}

async function clearShadow() {
  if (!confirm("Clear the report-only policy? Its report stops; the live policy is unchanged.")) return;
  try {
    await api("DELETE", "/v1/policy/shadow");
    say("The report-only policy is cleared.");
  } catch (e) {
    say(`Not cleared: ${e.message}`, true);
  }
  await refresh();
}

async function refresh() {
  if (!connected) return;
  try {
    await Promise.all([inbox(), log(), shadow(), deadDeliveries(), devices(), livePolicy()]);
    panel.dataset.loaded = String(Number(panel.dataset.loaded ?? 0) + 1);
  } catch (e) {
    say(e.message, true);
  }
}

/// Resolves once console.js has its engine and form (it starts beside this file).
async function formReady() {
  for (let i = 0; i < 600 && !window.__mdm?.loadPolicy; i++) await new Promise((r) => setTimeout(r, 50));
  if (!window.__mdm?.loadPolicy) throw new Error("the form did not start");
}

/// Checks the token with one request, then shows everything and keeps the inbox's count
/// up to date.
async function connect() {
  token = $("#admin-token").value.trim();
  if (!token) return say("Enter an admin token to connect.");
  try {
    const policy = await api("GET", "/v1/policy");
    live = policy.document;
  } catch (e) {
    connected = false;
    panel.dataset.connected = "false";
    if (e.status === 401 || e.status === 403) return say(`This token is not an admin token of this service (${e.code}).`, true);
    if (e.status !== 404) return say(e.message, true);
    live = null;
  }
  sessionStorage.setItem("mdm-admin-token", token);
  connected = true;
  panel.dataset.connected = "true";
  pages = [null];
  current = 0;
  say(`Connected to mdm serve as an admin${live ? "" : " (no live policy is stored yet)"}.`);
  $("#service-body").hidden = false;
  await refresh();
  // The form shows the policy the service enforces, not the bundled sample's.
  if (live) {
    try {
      await formReady();
      await window.__mdm.loadPolicy(live);
      $("#file-note").textContent = "The form holds the live policy. “What this change does” below previews it over a population file (a bundled sample until you load yours); “Preview the form over the stored users” asks the service.";
    } catch (e) {
      say(`Connected, but the live policy cannot be put in the form: ${e.message}`, true);
    }
  }
  clearInterval(poller);
  // The badge follows new requests without a click.
  poller = setInterval(() => inbox().catch(() => {}), 10000);
}

async function detect() {
  try {
    const res = await fetch("/healthz");
    const health = await res.json();
    if (health.service !== "mdm") return;
  } catch {
    return; // a static console: no service
  }
  panel.hidden = false;
  document.body.classList.add("served");
  $("#file-note").textContent = "This page is served by mdm serve: connect with an admin token (“The live service”) to edit the policy it enforces. Until then the form and “What this change does” work on files (a bundled sample until you load yours).";
  $("#admin-token").value = token;
  $("#connect").addEventListener("click", connect);
  $("#admin-token").addEventListener("keydown", (e) => { if (e.key === "Enter") connect(); });
  $("#user-form").addEventListener("submit", (e) => {
    e.preventDefault();
    showUser($("#user-form").user.value.trim());
  });
  $("#refresh").addEventListener("click", refresh);
  $("#devices-form").addEventListener("submit", (e) => {
    e.preventDefault();
    pages = [null];
    devices(0).catch((err) => say(`devices: ${err.message}`, true));
  });
  $("#devices-next").addEventListener("click", () => devices(current + 1).catch((err) => say(err.message, true)));
  $("#devices-prev").addEventListener("click", () => devices(Math.max(0, current - 1)).catch((err) => say(err.message, true)));
  $("#devices-csv").addEventListener("click", downloadCsv);
  $("#live-load").addEventListener("click", async () => {
    if (!live) return say("No live policy is stored yet.", true);
    try {
      await window.__mdm.loadPolicy(live);
      say("The form now holds the live policy again. Edit it, preview it over the stored users, then save it.");
    } catch (e) {
      say(`The live policy cannot be put in the form: ${e.message}`, true);
    }
  });
  $("#live-preview").addEventListener("click", () => previewLive().then((r) => r && say("Preview over the stored users below.")).catch((e) => say(`Preview: ${e.message}`, true)));
  $("#live-save").addEventListener("click", () => savePolicy("live"));
  $("#shadow-save").addEventListener("click", () => savePolicy("shadow"));
  $("#shadow-clear").addEventListener("click", clearShadow);
  if (token) await connect();
  else say("This console is served by mdm serve: enter an admin token to see the inbox, the devices and the log.");
}

detect();
