// The policy form: built from the engine's document with every default filled in
// (`Policy.document()`), read back into the proposed document, and the engine's issues put
// at their fields. It knows the three schemas' shapes, never their rules: every judgement
// (ranges, names, duplicates) is the engine's, shown where it points.
//
// Between structural changes the DOM is the form's only state: `readForm` writes the
// document from it each time, and records which element each JSON Pointer of that document
// came from, so an issue at `/policies/2/assignment/groups/1` lands on the select that
// wrote that very entry.
import { Policy } from "../index.mjs";
import { METHOD, esc } from "./words.js";

export const V1 = "mdm.policy/v1";
export const V2 = "mdm.policy/v2";
export const V3 = "mdm.policy/v3";
const OS = { ios: "iOS", android: "Android", other: "other OS" };

let engineDefaults;
/** The engine's defaults, once: the console writes none of its own. */
export function defaults() {
  if (!engineDefaults) {
    const doc = (text) => {
      const p = new Policy(text);
      try {
        return p.document();
      } finally {
        p.free();
      }
    };
    engineDefaults = {
      v1: doc(`{"schema":"${V1}"}`),
      v2: doc(`{"schema":"${V2}"}`),
      set: doc(`{"schema":"${V3}"}`),
      entry: doc(`{"schema":"${V3}","policies":[{"name":"x"}]}`).policies[0],
    };
  }
  return structuredClone(engineDefaults);
}

// What the loaded document was: its schema decides what the form writes back, and a
// `$schema` (an editor's hint) is kept as it was.
let base = { schema: V1 };

export function baseSchema() {
  return base.schema;
}

// ---------------------------------------------------------------------------------------
// Rendering. Every field carries `data-rel`, its path below its scope (the form, a policy,
// an app), and `data-label`, the words the issue list names it by.

const label = (text, v2) => `${esc(text)}${v2 ? ' <span class="badge v2">version 2</span>' : ""}`;

function checkbox(rel, text, on, { v2 = false, hint = "" } = {}) {
  return `<label class="check"><input type="checkbox" name="${rel.replaceAll("/", ".")}" data-rel="${rel}"
    data-label="${esc(text)}"${on ? " checked" : ""}> ${label(text, v2)}${hint ? ` <small class="hint">${esc(hint)}</small>` : ""}</label>`;
}

function number(rel, text, value, { min = 0, max, v2 = false } = {}) {
  return `<label>${label(text, v2)} <input type="number" inputmode="numeric" step="1" min="${min}"${max === undefined ? "" : ` max="${max}"`}
    name="${rel.replaceAll("/", ".")}" data-rel="${rel}" data-label="${esc(text)}" value="${esc(value ?? "")}"></label>`;
}

function textInput(rel, text, value, { placeholder = "", hint = "" } = {}) {
  return `<label>${label(text)}${hint ? ` <small class="hint">${esc(hint)}</small>` : ""} <input name="${rel.replaceAll("/", ".")}" data-rel="${rel}"
    data-label="${esc(text)}" value="${esc(value)}" placeholder="${esc(placeholder)}" spellcheck="false"></label>`;
}

function select(rel, text, value, options) {
  const opts = options.map(([v, w]) => `<option value="${esc(v)}"${v === value ? " selected" : ""}>${esc(w)}</option>`).join("");
  return `<label>${label(text)} <select name="${rel.replaceAll("/", ".")}" data-rel="${rel}" data-label="${esc(text)}">${opts}</select></label>`;
}

/**
 * A set of ticks written as a list. `data-order` keeps the loaded list's order, so a
 * document read back unedited is the document loaded (the order means nothing to the
 * engine, but an admin comparing files would see it move).
 */
function choices(rel, text, chosen, all, { v2 = false, hint = "" } = {}) {
  const boxes = Object.entries(all)
    .map(([value, words]) => `<label class="check"><input type="checkbox" name="${rel.replaceAll("/", ".")}" value="${esc(value)}"${chosen.includes(value) ? " checked" : ""}> ${words}</label>`)
    .join("");
  return `<fieldset class="choices" data-rel="${rel}" data-label="${esc(text)}" data-order="${esc(JSON.stringify(chosen))}">
    <legend>${label(text, v2)}</legend>${hint ? `<small class="hint">${esc(hint)}</small>` : ""}${boxes}</fieldset>`;
}

function groupsBox(a, groups) {
  const all = [...new Set([...groups, ...a.groups, ...a.exclude_groups])].sort();
  const rows = all
    .map((g) => {
      const [inc, exc] = [a.groups.includes(g), a.exclude_groups.includes(g)];
      const mode = inc && exc ? "both" : exc ? "exclude" : inc ? "assign" : "";
      const opt = (v, w) => `<option value="${v}"${v === mode ? " selected" : ""}>${w}</option>`;
      // A group in both lists is valid (a warning: the exclusion wins); it keeps a choice
      // of its own, or reading the form back would quietly drop it from one list.
      const both = mode === "both" ? opt("both", "both (excluded)") : "";
      return `<div class="row"><span class="group-name">${esc(g)}</span><select data-group="${esc(g)}" aria-label="Group ${esc(g)}"
        data-label="Group ${esc(g)}">${opt("", "—")}${opt("assign", "assign")}${opt("exclude", "exclude")}${both}</select></div>`;
    })
    .join("");
  const order = JSON.stringify({ groups: a.groups, exclude_groups: a.exclude_groups });
  return `<div class="groups-field" data-rel="assignment/groups" data-label="Groups" data-order="${esc(order)}" role="group" aria-label="Groups">
    <div class="groups-head">Groups <small class="hint">assign or exclude each group</small></div>
    <div class="groups">${rows || '<p class="hint">No groups in the population.</p>'}</div></div>`;
}

/** The settings one policy carries: the whole of a v1/v2 document but the organisation's. */
function policyBody(p, groups, v2) {
  const a = p.assignment, as = p.assigned, rq = p.requirements;
  const os = Object.entries(OS)
    .map(([o, w]) => osMinimum(o, w, rq.min_os_version[o] ?? ""))
    .join("");
  return `
  <fieldset><legend>Who is assigned</legend>
    ${checkbox("assignment/organization", "The whole organisation", a.organization)}
    ${textInput("assignment/users", "Users", a.users.join(", "), { hint: "ids, comma-separated" })}
    ${groupsBox(a, groups)}
    ${textInput("assignment/exclude_users", "Excluded users", a.exclude_users.join(", "), { hint: "an exclusion beats every inclusion" })}
  </fieldset>
  <fieldset><legend>Devices and approvals</legend>
    ${number("assigned/max_devices", "Devices a user registers without approval", as.max_devices, { min: 1 })}
    ${select("assigned/on_new_device", "A further device", as.on_new_device,
      [["approval", "waits for approval"], ["replace", "replaces the oldest"], ["deny", "is denied"]])}
    ${select("assigned/on_approve", "An approved device", as.on_approve, [["replace", "replaces the oldest"], ["add", "is added beside them"]])}
    ${number("assigned/approval_ttl_hours", "A request expires after (hours, 0: never)", as.approval_ttl_hours)}
    ${choices("assigned/approvers", "Who may approve", as.approvers, { admin: "the admin", self: "the user, from one of their own devices" }, { v2 })}
    ${checkbox("assigned/push_mfa", "Push MFA", as.push_mfa)}
  </fieldset>
  <fieldset><legend>Device requirements</legend>
    ${choices("requirements/platforms", "Platforms allowed", rq.platforms, OS, { hint: "none ticked: every platform" })}
    <div class="os-min">${os}</div>
    ${number("requirements/min_pin_length", "Shortest PIN (0: not checked)", rq.min_pin_length, { max: 16 })}
    ${checkbox("requirements/require_encryption", "Require encryption", rq.require_encryption)}
    ${checkbox("requirements/block_compromised", "Block jailbroken or rooted devices", rq.block_compromised)}
    ${number("requirements/grace_hours", "Grace for a device that falls behind (hours, 0: none)", rq.grace_hours, { v2 })}
  </fieldset>
  <fieldset><legend>Enrollment${v2 ? ' <span class="badge v2">version 2</span>' : ""}</legend>
    ${checkbox("enrollment/required", "Devices must enroll before they get SSO and push MFA", p.enrollment.required)}
    ${choices("enrollment/methods", "Methods allowed", p.enrollment.methods,
      Object.fromEntries(Object.entries(METHOD).map(([m, w]) => [m, `${esc(w)} <code>${esc(m)}</code>`])))}
  </fieldset>
  <fieldset><legend>Configuration${v2 ? ' <span class="badge v2">version 2</span>' : ""}</legend>
    ${checkbox("configuration/data_separation", "Documents in managed apps open only in managed apps", p.configuration.data_separation)}
  </fieldset>`;
}

function osMinimum(os, words, value) {
  const rel = `requirements/min_os_version/${os}`;
  const text = `Lowest ${words} version`;
  return `<label>${esc(text)} <input name="${rel.replaceAll("/", ".")}" data-rel="${rel}" data-label="${esc(text)}"
    value="${esc(value)}" placeholder="${os === "ios" ? "e.g. 16.0" : os === "android" ? "e.g. 12" : ""}" spellcheck="false"></label>`;
}

function organisation(doc) {
  return `<fieldset><legend>Organisation</legend>
    ${checkbox("enabled", "MDM is on", doc.enabled, { hint: "when off, no one is assigned" })}
    ${select("device_match", "A login's device is a registered one when", doc.device_match,
      [["device_id", "its device id matches"], ["device_id_and_serial", "its device id and serial number match"]])}
  </fieldset>`;
}

function unassigned(u, set) {
  return `<fieldset><legend>${set ? "Users no policy assigns" : "Unassigned users"}</legend>
    ${number("unassigned/max_devices", "Devices they keep", u.max_devices, { min: 1 })}
    ${select("unassigned/on_new_device", "A further device", u.on_new_device, [["replace", "replaces the oldest"], ["add", "is added beside them"]])}
    ${select("unassigned/access", "Access", u.access, [["limited", "limited: the app only, no SSO apps"], ["full", "full: the app and SSO apps"]])}
    ${checkbox("unassigned/push_mfa", "Push MFA", u.push_mfa)}
  </fieldset>`;
}

export function appRow(app = { id: "", name: "", platform: "ios", users: [], groups: [] }) {
  return `<li class="app-row" data-scope="app">
    <div class="app-fields">
      ${textInput("id", "App id", app.id, { placeholder: "bundle id or package name" })}
      ${textInput("name", "Name in the store", app.name)}
      ${select("platform", "Platform", app.platform, [["ios", "iOS"], ["android", "Android"]])}
      ${textInput("users", "For users", app.users.join(", "), { hint: "comma-separated" })}
      ${textInput("groups", "For groups", app.groups.join(", "), { hint: "both empty: every assigned user" })}
    </div>
    <button type="button" data-action="remove-app">Remove this app</button>
  </li>`;
}

function appStore(apps, v2) {
  return `<fieldset class="apps" data-rel="apps" data-label="App store"><legend>App store${v2 ? ' <span class="badge v2">version 2</span>' : ""}</legend>
    <small class="hint">Managed apps offered to assigned users, in this order.</small>
    <ol class="app-list">${apps.map((a) => appRow(a)).join("")}</ol>
    <button type="button" data-action="add-app">Add an app</button>
  </fieldset>`;
}

/** One policy of a set: its name, its place, and its settings. */
export function policyCard(p, groups, open = true) {
  return `<li class="policy" data-scope="policy">
    <div class="policy-head">
      <span class="drag" draggable="true" title="Drag to change its priority" aria-hidden="true">⠿</span>
      <span class="rank" aria-hidden="true"></span>
      <label class="name">Policy name <input name="name" data-rel="name" data-label="Name" value="${esc(p.name)}" spellcheck="false"></label>
      <label class="check enabled"><input type="checkbox" name="enabled" data-rel="enabled" data-label="Enabled"${p.enabled ? " checked" : ""}> Enabled</label>
    </div>
    <div class="policy-actions">
      <button type="button" data-action="up">Move up</button>
      <button type="button" data-action="down">Move down</button>
      <button type="button" data-action="remove">Remove</button>
      <span class="policy-summary"></span>
    </div>
    <details${open ? " open" : ""}><summary>Settings <span class="problems"></span></summary>${policyBody(p, groups, false)}</details>
  </li>`;
}

/** A v1 document's form shows version 2's settings at the engine's defaults. */
function withV2(doc) {
  if (doc.schema !== V1) return doc;
  const d = defaults().v2;
  return {
    ...doc,
    assigned: { ...doc.assigned, approvers: d.assigned.approvers },
    requirements: { ...doc.requirements, grace_hours: d.requirements.grace_hours },
    enrollment: d.enrollment,
    configuration: d.configuration,
    apps: d.apps,
  };
}

/**
 * Builds the form for `resolved` (a document with every default filled in: the engine's
 * `document()`, or one the console assembled from such, such as `readForm`'s). `groups`
 * are offered in each policy's group list besides those the document names. `loadedAs` is
 * the schema the document was loaded with, when a draft is rebuilt (a v1 policy a v2
 * setting made v2 is still one that can go back).
 */
export function renderForm(form, resolved, groups, loadedAs = resolved.schema) {
  base = { schema: loadedAs, $schema: resolved.$schema };
  form.dataset.base = loadedAs;
  const body = form.querySelector("#form-body");
  if (resolved.schema === V3) {
    // Several policies are shown folded, each by its name and reach, so their order reads
    // at a glance; the admin opens the one to edit.
    const open = resolved.policies.length <= 1;
    body.innerHTML = `${organisation(resolved)}
      <section class="policies" data-rel="policies" data-label="Policies" aria-labelledby="policies-title">
        <h2 id="policies-title">Policies, by priority</h2>
        <p class="hint">Each user gets the first enabled policy that assigns them; the settings of users no policy assigns are below.</p>
        <ol class="policy-list">${resolved.policies.map((p) => policyCard(p, groups, open)).join("")}</ol>
        <p class="empty-set hint">No policy yet: everyone is unassigned.</p>
        <button type="button" data-action="add-policy">Add a policy</button>
      </section>
      ${unassigned(resolved.unassigned, true)}
      ${appStore(resolved.apps, false)}`;
  } else {
    const doc = withV2(resolved);
    const v2 = resolved.schema === V1;
    body.innerHTML = `${organisation(doc)}${policyBody(doc, groups, v2)}${unassigned(doc.unassigned, false)}${appStore(doc.apps, v2)}`;
  }
}

// ---------------------------------------------------------------------------------------
// Reading.

/** The field `rel` of `scope`, not of a scope inside it (a policy's `enabled` is not the set's). */
function field(scope, rel) {
  for (const el of scope.querySelectorAll(`[data-rel="${rel}"]`)) {
    if (el.parentElement.closest("[data-scope]") === scope) return el;
  }
  throw new Error(`the form has no field ${rel}`);
}

export function splitList(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

/** `items` in the order of `original` (by `key`), those it lacks after them as they come. */
function ordered(items, original, key = (x) => x) {
  const rank = (x) => {
    const i = original.indexOf(key(x));
    return i < 0 ? Infinity : i;
  };
  return items.map((x, i) => [x, i]).sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j).map(([x]) => x);
}

function reader(scope, prefix, reg) {
  const at = (rel) => {
    const el = field(scope, rel);
    reg(`${prefix}/${rel}`, el);
    return el;
  };
  return {
    bool: (rel) => at(rel).checked,
    // An empty box is written as null, not left out: the engine says it is missing a
    // number rather than the form quietly falling back to a default.
    num: (rel) => {
      const v = at(rel).value.trim();
      return v === "" ? null : Number(v);
    },
    str: (rel) => at(rel).value,
    list: (rel) => splitList(at(rel).value),
    choices: (rel) => {
      const box = at(rel);
      const ticked = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      return ordered(ticked, JSON.parse(box.dataset.order));
    },
  };
}

function readGroups(scope, prefix, reg) {
  const box = field(scope, "assignment/groups");
  reg(`${prefix}/assignment/exclude_groups`, box);
  reg(`${prefix}/assignment/groups`, box);
  const order = JSON.parse(box.dataset.order);
  const selects = [...box.querySelectorAll("select[data-group]")];
  const name = (s) => s.dataset.group;
  const pick = (mode, original, key) => {
    const chosen = ordered(selects.filter((s) => s.value === mode || s.value === "both"), original, name);
    chosen.forEach((s, i) => reg(`${prefix}/assignment/${key}/${i}`, s));
    return chosen.map(name);
  };
  return { groups: pick("assign", order.groups, "groups"), exclude_groups: pick("exclude", order.exclude_groups, "exclude_groups") };
}

function readBody(scope, prefix, reg) {
  const r = reader(scope, prefix, reg);
  const users = r.list("assignment/users");
  const organization = r.bool("assignment/organization");
  const { groups, exclude_groups } = readGroups(scope, prefix, reg);
  const min = {};
  for (const os of Object.keys(OS)) {
    const v = r.str(`requirements/min_os_version/${os}`).trim();
    if (v) min[os] = v;
  }
  return {
    assignment: { organization, users, groups, exclude_users: r.list("assignment/exclude_users"), exclude_groups },
    assigned: {
      max_devices: r.num("assigned/max_devices"),
      on_new_device: r.str("assigned/on_new_device"),
      on_approve: r.str("assigned/on_approve"),
      approval_ttl_hours: r.num("assigned/approval_ttl_hours"),
      push_mfa: r.bool("assigned/push_mfa"),
      approvers: r.choices("assigned/approvers"),
    },
    requirements: {
      platforms: r.choices("requirements/platforms"),
      min_os_version: min,
      min_pin_length: r.num("requirements/min_pin_length"),
      require_encryption: r.bool("requirements/require_encryption"),
      block_compromised: r.bool("requirements/block_compromised"),
      grace_hours: r.num("requirements/grace_hours"),
    },
    enrollment: { required: r.bool("enrollment/required"), methods: r.choices("enrollment/methods") },
    configuration: { data_separation: r.bool("configuration/data_separation") },
  };
}

function readApps(top, reg) {
  const box = field(top, "apps");
  reg("/apps", box);
  return [...box.querySelectorAll(".app-list > .app-row")].map((row, j) => {
    reg(`/apps/${j}`, row);
    const r = reader(row, `/apps/${j}`, reg);
    return { id: r.str("id"), name: r.str("name"), platform: r.str("platform"), users: r.list("users"), groups: r.list("groups") };
  });
}

/**
 * Whether a single policy uses anything of version 2: a v1 document stays v1 (no v2 key
 * written) until one of these leaves its default, and goes back when it returns to it.
 */
function v2Settings(doc) {
  const d = defaults().v2;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const on = [];
  if (!same(doc.assigned.approvers, d.assigned.approvers)) on.push("who may approve");
  if (!same(doc.requirements.grace_hours, d.requirements.grace_hours)) on.push("grace period");
  if (!same(doc.enrollment, d.enrollment)) on.push("enrollment");
  if (!same(doc.configuration, d.configuration)) on.push("configuration");
  if (!same(doc.apps, d.apps)) on.push("app store");
  return on;
}

/**
 * The proposed document, as the form describes it, and `fields`: each JSON Pointer of that
 * document (and of the containers above them) to the element that wrote it. `v2Because`
 * names the version 2 settings that made a v1 document version 2.
 */
export function readForm(form) {
  const top = form.querySelector("#form-body");
  const fields = new Map();
  const reg = (pointer, el) => {
    fields.set(pointer, el);
    if (el.dataset.pointer !== pointer) el.dataset.pointer = pointer;
  };
  const r = reader(top, "", reg);
  const head = base.$schema === undefined ? {} : { $schema: base.$schema };
  const enabled = r.bool("enabled");
  const device_match = r.str("device_match");
  const un = {
    max_devices: r.num("unassigned/max_devices"),
    on_new_device: r.str("unassigned/on_new_device"),
    access: r.str("unassigned/access"),
    push_mfa: r.bool("unassigned/push_mfa"),
  };
  const apps = readApps(top, reg);
  if (base.schema === V3) {
    reg("/policies", field(top, "policies"));
    const policies = [...top.querySelectorAll(".policy-list > .policy")].map((card, i) => {
      const prefix = `/policies/${i}`;
      reg(prefix, card);
      const own = reader(card, prefix, reg);
      return { name: own.str("name"), enabled: own.bool("enabled"), ...readBody(card, prefix, reg) };
    });
    return { doc: { ...head, schema: V3, enabled, device_match, unassigned: un, apps, policies }, fields, v2Because: [] };
  }
  const b = readBody(top, "", reg);
  const doc = { ...head, schema: V2, enabled, assignment: b.assignment, device_match, assigned: b.assigned, unassigned: un,
    requirements: b.requirements, enrollment: b.enrollment, configuration: b.configuration, apps };
  if (base.schema === V2) return { doc, fields, v2Because: [] };
  const v2Because = v2Settings(doc);
  if (v2Because.length) return { doc, fields, v2Because };
  delete doc.assigned.approvers;
  delete doc.requirements.grace_hours;
  for (const k of ["enrollment", "configuration", "apps"]) delete doc[k];
  return { doc: { ...doc, schema: V1 }, fields, v2Because };
}

/**
 * A single policy as a set of one: its settings become the first policy, the organisation's
 * (on or off, device match, unassigned users, the app store) stay at the set's level.
 */
export function toSet(doc, name) {
  const d = defaults();
  const full = withV2(doc);
  const head = doc.$schema === undefined ? {} : { $schema: doc.$schema };
  return {
    ...head,
    schema: V3,
    enabled: full.enabled,
    device_match: full.device_match,
    unassigned: full.unassigned,
    apps: full.apps ?? d.set.apps,
    policies: [{ name, enabled: true, assignment: full.assignment, assigned: full.assigned, requirements: full.requirements,
      enrollment: full.enrollment, configuration: full.configuration }],
  };
}

/** "policy N" for the lowest N no policy of the set is called. */
export function freshName(form) {
  const taken = new Set([...form.querySelectorAll('.policy [data-rel="name"]')].map((i) => i.value));
  let n = taken.size + 1;
  for (let i = 1; i <= n; i++) {
    if (!taken.has(`policy ${i}`)) return `policy ${i}`;
  }
  return `policy ${n}`;
}

// ---------------------------------------------------------------------------------------
// Issues at their fields.

/** The element an issue at `pointer` belongs to: the nearest pointer above it the form wrote. */
export function fieldOf(fields, pointer) {
  for (let p = pointer; ; p = p.slice(0, p.lastIndexOf("/"))) {
    const el = fields.get(p);
    if (el) return { el, at: p };
    if (!p) return null;
  }
}

/** Where a field is, in words: "Policy “executives”: Devices a user registers…". */
export function whereIs(el) {
  const parts = [];
  const card = el.closest(".policy");
  if (card) {
    // The place and the name: two policies may share a name, which is itself an issue.
    const name = card.querySelector('[data-rel="name"]').value;
    const place = [...card.parentElement.children].indexOf(card) + 1;
    parts.push(name ? `Policy ${place} “${name}”` : `Policy ${place}`);
  }
  const app = el.closest(".app-row");
  if (app) parts.push(`App ${[...app.parentElement.children].indexOf(app) + 1}`);
  if (el !== card && el !== app) parts.push(el.dataset.label ?? "");
  return parts.filter(Boolean).join(": ");
}

let noteIds = 0;

/** Marks each issue's field and writes its message beside it; returns the issues with their fields. */
export function markIssues(form, issues, fields) {
  for (const el of form.querySelectorAll(".invalid, .warned")) {
    el.classList.remove("invalid", "warned");
    el.removeAttribute("aria-invalid");
    el.removeAttribute("aria-describedby");
  }
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  const placed = issues.map((issue) => {
    const found = fieldOf(fields, issue.pointer);
    if (!found) return { issue };
    const { el, at } = found;
    // A warning marks its field too, in its own colour: the document is still valid.
    el.classList.add(issue.warning ? "warned" : "invalid");
    if (!issue.warning) el.setAttribute("aria-invalid", "true");
    const note = document.createElement("span");
    note.className = issue.warning ? "field-error warning" : "field-error";
    note.id = `issue-${++noteIds}`;
    note.dataset.errorFor = at;
    note.dataset.issuePointer = issue.pointer;
    note.textContent = issue.warning ? `warning: ${issue.message}` : issue.message;
    el.setAttribute("aria-describedby", `${el.getAttribute("aria-describedby") ?? ""} ${note.id}`.trim());
    // A group's select sits in a row with its name; the note goes under the row.
    (el.closest(".row") ?? el).after(note);
    return { issue, el, at };
  });
  // A folded policy says how many of its fields have errors.
  for (const details of form.querySelectorAll(".policy details")) {
    const n = details.querySelectorAll(".field-error:not(.warning)").length;
    details.querySelector(".problems").textContent = n ? `(${n} error${n > 1 ? "s" : ""})` : "";
  }
  return placed;
}

// ---------------------------------------------------------------------------------------
// A set's policies: their places, words, and reordering.

function describe(p) {
  const a = p.assignment;
  const who = [];
  if (a.organization) who.push("everyone");
  if (a.groups.length) who.push(`groups ${a.groups.join(", ")}`);
  if (a.users.length) who.push(`users ${a.users.join(", ")}`);
  const not = [...a.exclude_groups, ...a.exclude_users];
  const text = who.length ? `assigns ${who.join("; ")}` : "assigns no one";
  return `${text}${not.length ? `, except ${not.join(", ")}` : ""}${p.enabled ? "" : " (disabled: skipped)"}`;
}

/** Numbers the policies, names their buttons after them, and sums up each one's reach. */
export function refreshPolicies(form, doc) {
  const cards = [...form.querySelectorAll(".policy-list > .policy")];
  const section = form.querySelector(".policies");
  if (section) section.classList.toggle("none", cards.length === 0);
  cards.forEach((card, i) => {
    const p = doc.policies?.[i];
    const name = p?.name || `policy ${i + 1}`;
    card.querySelector(".rank").textContent = `${i + 1}`;
    card.setAttribute("aria-label", `Policy ${i + 1}: ${name}`);
    const [up, down, remove] = card.querySelectorAll(".policy-actions button");
    up.disabled = i === 0;
    down.disabled = i === cards.length - 1;
    const before = doc.policies?.[i - 1]?.name;
    const after = doc.policies?.[i + 1]?.name;
    up.setAttribute("aria-label", before === undefined ? `Move “${name}” up` : `Move “${name}” up, before “${before}”`);
    down.setAttribute("aria-label", after === undefined ? `Move “${name}” down` : `Move “${name}” down, after “${after}”`);
    remove.setAttribute("aria-label", `Remove the policy “${name}”`);
    card.querySelector(".policy-summary").textContent = p ? describe(p) : "";
    card.classList.toggle("disabled", p ? !p.enabled : false);
  });
}

/**
 * Dragging a policy by its handle: dropped on another policy, it takes that one's place.
 * The buttons do the same for keyboards and tests; `moved` runs after either.
 */
export function dragToReorder(form, moved) {
  let dragged = null;
  form.addEventListener("dragstart", (e) => {
    if (!e.target.classList?.contains("drag")) return;
    dragged = e.target.closest(".policy");
    dragged.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", "");
    e.dataTransfer.setDragImage(dragged, 20, 20);
  });
  form.addEventListener("dragover", (e) => {
    const over = e.target.closest?.(".policy");
    if (!dragged || !over || over.parentElement !== dragged.parentElement) return;
    e.preventDefault();
  });
  form.addEventListener("drop", (e) => {
    const over = e.target.closest?.(".policy");
    if (!dragged || !over || over === dragged) return;
    e.preventDefault();
    const cards = [...over.parentElement.children];
    over[cards.indexOf(dragged) < cards.indexOf(over) ? "after" : "before"](dragged);
    moved(dragged);
  });
  form.addEventListener("dragend", () => {
    dragged?.classList.remove("dragging");
    dragged = null;
  });
}
