// The admin console: edit a policy (one, or a set of them by priority) and see what it would
// change before saving it. Every answer comes from the engine (the same WebAssembly the
// gateway runs): form.js builds the form from the engine's document and writes the proposed
// one back, the worker previews it, and this file puts the answers on screen.
import init, { Policy, validate } from "../index.mjs";
import { previewWorker } from "./engine-worker.js";
import {
  V1, V2, V3, appRow, baseSchema, defaults, dragToReorder, freshName, markIssues, policyCard, readForm, refreshPolicies,
  renderForm, toSet, whereIs,
} from "./form.js";
import { ISSUE, METHOD, NEW_DEVICE, OUTCOME, REASON, SCHEMA, SUMMARY, esc, word, worded } from "./words.js";

const $ = (sel, root = document) => root.querySelector(sel);
const form = $("#policy-form");
const world = {
  doc: null, policy: null, proposed: null, proposedDoc: null, proposedValid: false, fields: new Map(),
  users: 0, populationDoc: null, populationGroups: [], at: "",
};
let previews = 0;
let checks = 0;
// The last preview asked for: an answer to an earlier one is not shown.
let asked = 0;
// The last filter asked for, likewise.
let filtered = 0;
// The preview runs in a worker that holds the population; set up in main().
let ask;
// The move (from one policy to another) the users' table is narrowed to, if any.
let move = null;
// The schemas of the sides of the preview on screen, and its moves between policies.
let sides = { current: V1, proposed: V1 };
let moves = [];
// The form's input is checked once the admin pauses typing; `settle` resolves when that
// check (and its preview) is done, whether the timer fires or an update overtakes it.
let timer;
let settle = null;


function status(text) {
  $("#status").textContent = text;
}

function list(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

/** Every group a policy might name: the population's, the policy in force's, the draft's. */
function allGroups(draft = world.proposedDoc) {
  const names = new Set(world.populationGroups);
  for (const doc of [world.doc, draft]) {
    for (const p of doc ? (doc.policies ?? [doc]) : []) {
      const a = p?.assignment ?? {};
      [...(a.groups ?? []), ...(a.exclude_groups ?? [])].forEach((g) => names.add(g));
    }
  }
  return [...names].sort();
}

function groupsOf(populationDoc) {
  const names = new Set();
  for (const groups of Object.values(populationDoc.directory ?? {})) groups.forEach((g) => names.add(g));
  return [...names];
}

function flags(a) {
  if (!a.app && !a.sso && !a.push_mfa) return "no access";
  return `${a.app ? "app" : "–"} · ${a.sso ? "SSO" : "–"} · ${a.push_mfa ? "push" : "–"}`;
}

/** `before → after` when they differ, else the one value; `fmt` gives each side's HTML. */
function change(before, after, fmt = esc) {
  const b = fmt(before), a = fmt(after);
  return b === a ? a : `<span class="was">${b}</span> → ${a}`;
}

/** Where a user is on one side of the preview, in words. */
function placeWords(p) {
  if (p.policy !== null && p.policy !== undefined) return `“${p.policy}”`;
  return p.assigned ? "assigned (single policy)" : "unassigned";
}

const place = (side) => ({ policy: side.policy ?? null, assigned: side.assigned });

// ---------------------------------------------------------------------------------------
// The preview.

function renderSummary(s) {
  const both = sides.current === V3 && sides.proposed === V3;
  $("#summary").innerHTML = SUMMARY.filter(([key]) => key in s && (key !== "policy_changed" || both))
    .map(([key, label, kind]) =>
      `<div class="card ${s[key] && kind ? kind : ""}" data-key="${key}"><b>${s[key]}</b><span>${label}</span></div>`)
    .join("");
}

function renderMoves() {
  const box = $("#moves");
  box.hidden = !(sides.current === V3 || sides.proposed === V3);
  // Between a single policy and a set the engine lists only users whose access changes.
  $("#moves-note").hidden = sides.current === V3 && sides.proposed === V3;
  const rows = moves.map((m, i) => {
    const chosen = move && JSON.stringify(move) === JSON.stringify({ from: m.from, to: m.to });
    return `<tr data-move="${i}" data-from="${esc(m.from.policy ?? "")}" data-to="${esc(m.to.policy ?? "")}"${chosen ? ' class="chosen"' : ""}>
      <td>${esc(placeWords(m.from))}</td><td>${esc(placeWords(m.to))}</td><td>${m.users}</td>
      <td><button type="button" data-move="${i}" aria-label="Show the users moving from ${esc(placeWords(m.from))} to ${esc(placeWords(m.to))}">Show these users</button></td></tr>`;
  });
  box.querySelector("tbody").innerHTML = rows.join("") || '<tr><td colspan="4">No one changes policy.</td></tr>';
}

function deviceCell(c) {
  return c.after.devices
    .map((d, i) => {
      const b = c.before.devices[i];
      const o = (x) => `<span class="${x}">${esc(word(OUTCOME, x))}</span>`;
      const why = d.reasons.filter((r) => !r.startsWith("scope."));
      const reasons = why.map((r) => `<span title="${esc(r)}">${esc(word(REASON, r))}</span>`).join(", ");
      return `${esc(d.device_id)}: ${change(b.outcome, d.outcome, o)} <small>${reasons}</small>`;
    })
    .join("<br>");
}

/** The changed users' table: the worker's first rows of `total`. */
function renderTable(total, shown) {
  const named = sides.current === V3 || sides.proposed === V3;
  $("#changes").classList.toggle("with-policy", named);
  $("#changed-count").textContent = `(${total})`;
  $("#changes tbody").innerHTML = shown
    .map((c) => {
      const from = place(c.before), to = place(c.after);
      const policy = named ? change(from, to, (p) => esc(placeWords(p))) : "";
      const scope = change(c.before.scope, c.after.scope, (s) => esc(word(REASON, s)));
      const codes = c.before.scope === c.after.scope ? c.after.scope : `${c.before.scope} → ${c.after.scope}`;
      const attr = (name, p) => (p.policy === null ? "" : ` data-${name}="${esc(p.policy)}"`);
      return `<tr data-user="${esc(c.user)}"${attr("policy-before", from)}${attr("policy-after", to)}><td>${esc(c.user)}</td>
        <td class="policy-col">${policy}</td>
        <td>${scope}<br><code>${esc(codes)}</code></td>
        <td>${change(c.before.access, c.after.access, flags)}</td><td>${deviceCell(c) || "–"}</td>
        <td>${change(c.before.new_device, c.after.new_device, (n) => esc(word(NEW_DEVICE, n)))}</td></tr>`;
    })
    .join("") || `<tr><td colspan="6">${$("#filter").value || move ? "No affected user matches." : "No one is affected."}</td></tr>`;
  $("#more").textContent = total > shown.length ? `and ${total - shown.length} more (filter to narrow)` : "";
  const chip = $("#move-filter");
  chip.hidden = !move;
  if (move) $("span", chip).textContent = `Only users moving from ${placeWords(move.from)} to ${placeWords(move.to)}.`;
}

/** Asks the worker for the changed users the filter and the chosen move match. */
function filter() {
  const mine = ++filtered;
  return ask({ filter: $("#filter").value, move }).then(({ total, rows }) => {
    if (mine !== filtered) return;
    renderTable(total, rows);
    for (const tr of $("#moves tbody").rows) {
      const m = moves[Number(tr.dataset.move)];
      tr.classList.toggle("chosen", Boolean(m && move && JSON.stringify(move) === JSON.stringify({ from: m.from, to: m.to })));
    }
  });
}

// ---------------------------------------------------------------------------------------
// The form: the issues, the schema, the proposed document.

function listIssues(placed, v) {
  const n = v.errors.length, w = v.warnings.length;
  const plural = (k, one) => `${k} ${one}${k === 1 ? "" : "s"}`;
  $("#issues-title").textContent = n + w === 0 ? "No problems found"
    : `${[n && plural(n, "error"), w && plural(w, "warning")].filter(Boolean).join(", ")}${n ? ": the preview waits for a fix" : ""}`;
  $("#issues").classList.toggle("has-errors", n > 0);
  $("#issues").classList.toggle("has-warnings", n === 0 && w > 0);
  $("#issues ul").innerHTML = placed
    .map(({ issue, el, at }) => {
      const where = el ? `<button type="button" class="goto" data-goto="${esc(at)}">${esc(whereIs(el) || "The document")}</button>` : "The document";
      return `<li class="${issue.warning ? "warning" : "error"}">${where}: ${esc(issue.message)}
        <small>${esc(word(ISSUE, issue.code))} <code>${esc(issue.code)}</code> at <code>${esc(issue.pointer || "/")}</code></small></li>`;
    })
    .join("");
}

function schemaLine(doc, v2Because) {
  const loaded = baseSchema();
  let html = `${esc(SCHEMA[doc.schema])} <code>${esc(doc.schema)}</code>`;
  if (loaded === V1 && doc.schema === V2) {
    const them = v2Because.length === 1 ? "it" : "them";
    html += `<small>Version 2 because of: ${esc(v2Because.join(", "))}. Put ${them} back to make it version 1 again.</small>`;
  } else if (loaded === V1) {
    html += "<small>Changing a version 2 setting makes it a version 2 policy.</small>";
  }
  $("#schema-line").innerHTML = html;
  $('[data-action="convert"]', form).hidden = doc.schema === V3;
}

function showJson() {
  const box = $("#proposed-json");
  if (box.open && world.proposedDoc) $("pre", box).textContent = JSON.stringify(world.proposedDoc, null, 2);
}

/** Opens what hides `el` and puts the cursor in it (or in its first input). */
function focusField(el) {
  for (let d = el.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
  const target = el.matches("input, select, textarea, button") ? el : el.querySelector("input, select, button");
  (target ?? el).focus();
  (target ?? el).scrollIntoView({ block: "center" });
}

/** Checks the form now; the promise is done when its preview is on screen (or refused). */
function update() {
  clearTimeout(timer);
  const done = check();
  world.lastUpdate = done;
  if (settle) settle(done);
  settle = null;
  return done;
}

function later() {
  clearTimeout(timer);
  if (!settle) world.lastUpdate = new Promise((resolve) => (settle = resolve));
  timer = setTimeout(update, 60);
}

/** Resolves once no check or preview is pending (for tests and measurements). */
async function settled() {
  let last;
  do {
    last = world.lastUpdate;
    await last;
  } while (last !== world.lastUpdate);
}

/** Validates the form, then previews it against the policy in force. */
function check() {
  const { doc, fields, v2Because } = readForm(form);
  Object.assign(world, { proposedDoc: doc, fields });
  const text = JSON.stringify(doc);
  const v = validate(text);
  const issues = v.errors.concat(v.warnings.map((w) => ({ ...w, warning: true })));
  listIssues(markIssues(form, issues, fields), v);
  refreshPolicies(form, doc);
  schemaLine(doc, v2Because);
  showJson();
  document.body.dataset.checks = String(++checks);
  world.proposedValid = v.errors.length === 0;
  $("#preview").classList.toggle("stale", !world.proposedValid);
  if (!world.proposedValid) {
    ++asked;
    $("#preview-note").textContent = "The proposed policy has errors: this is the preview of its last valid version.";
    status(`${v.errors.length} error${v.errors.length > 1 ? "s" : ""}: fix ${v.errors.length > 1 ? "them" : "it"} to see the preview`);
    return Promise.resolve();
  }
  $("#preview-note").textContent = "";
  const started = performance.now();
  // The page keeps its own copy for the login simulator; the worker previews.
  world.proposed?.free();
  world.proposed = new Policy(text);
  const these = { current: world.doc.schema, proposed: doc.schema };
  const mine = ++asked;
  return ask({ proposed: text, at: world.at, filter: $("#filter").value, move }).then(
    (answer) => {
      if (mine !== asked) return;
      sides = these;
      moves = answer.moves;
      renderSummary(answer.summary);
      renderMoves();
      const { total, rows } = answer;
      renderTable(total, rows);
      status(`Preview of ${world.users} users at ${world.at} in ${Math.round(performance.now() - started)} ms`);
      document.body.dataset.previews = String(++previews);
    },
    (e) => status(`The preview failed: ${e.code ?? ""} ${e.pointer ?? ""} ${e.message}`),
  );
}

/** Shows which step the worker is on, or hides the bar when it is idle. */
function progress(stage) {
  $("#progress").hidden = !stage;
  $("#stage").textContent = stage ? `${stage}…` : "";
}

/** Builds the form for `resolved`, then checks and previews it. */
function start(resolved) {
  move = null;
  renderForm(form, resolved, allGroups(resolved));
  return update();
}

/**
 * Loads a policy in force and a population: checked here first (a bad policy throws
 * before anything changes), then handed to the worker, the population's bytes
 * transferred rather than copied. `bytes` is the population's text when the file's own
 * bytes are at hand. The form starts again from the policy in force, unless `keepDraft`:
 * a new population leaves the admin's proposal as it is (its groups join the lists).
 */
async function load(doc, populationDoc, at, bytes, keepDraft = false) {
  const policy = new Policy(JSON.stringify(doc));
  try {
    if (populationDoc !== world.populationDoc) {
      const text = bytes ?? new TextEncoder().encode(JSON.stringify(populationDoc));
      world.users = (await ask({ population: text }, [text.buffer])).users;
      world.populationGroups = groupsOf(populationDoc);
    }
    await ask({ current: JSON.stringify(doc) });
  } catch (e) {
    policy.free();
    throw e;
  }
  world.policy?.free();
  Object.assign(world, { doc, policy, populationDoc, at: at ?? world.at });
  $("#user-list").innerHTML = Object.keys(populationDoc.directory ?? {}).slice(0, 500).map((u) => `<option value="${esc(u)}">`).join("");
  if (keepDraft && world.proposedDoc) {
    const { doc: draft } = readForm(form);
    renderForm(form, draft, allGroups(draft), baseSchema());
    return update();
  }
  return start(policy.document());
}

// ---------------------------------------------------------------------------------------
// Structural edits: the buttons of the form.

function focusName(card) {
  const input = $('[data-rel="name"]', card);
  input.focus();
  input.select();
}

const actions = {
  convert() {
    const { doc } = readForm(form);
    renderForm(form, toSet(doc, "default"), allGroups(doc));
    update();
    focusName($(".policy", form));
    status("Converted: the settings are the policy “default”, the organisation's stay above it. Rename it as you like.");
  },
  "new-set"() {
    start(defaults().set);
    $('[data-action="add-policy"]', form).focus();
  },
  "new-single"() {
    start(defaults().v1);
  },
  "add-policy"() {
    const entry = { ...defaults().entry, name: freshName(form) };
    // The new policy is the one being edited: the others fold to their name and reach.
    for (const d of form.querySelectorAll(".policy details")) d.open = false;
    $(".policy-list", form).insertAdjacentHTML("beforeend", policyCard(entry, allGroups()));
    update();
    focusName($(".policy-list", form).lastElementChild);
  },
  up(button) {
    const card = button.closest(".policy");
    card.previousElementSibling?.before(card);
    update();
    // Moving a node takes the focus from it; it stays on the button the admin pressed,
    // or on the other one when this one can no longer move.
    (button.disabled ? $('[data-action="down"]', card) : button).focus();
  },
  down(button) {
    const card = button.closest(".policy");
    card.nextElementSibling?.after(card);
    update();
    (button.disabled ? $('[data-action="up"]', card) : button).focus();
  },
  remove(button) {
    const card = button.closest(".policy");
    const next = card.nextElementSibling ?? card.previousElementSibling;
    card.remove();
    update();
    if (next) $('[data-rel="name"]', next).focus();
    else $('[data-action="add-policy"]', form).focus();
  },
  "add-app"() {
    $(".app-list", form).insertAdjacentHTML("beforeend", appRow());
    update();
    $('.app-list > .app-row:last-child [data-rel="id"]', form).focus();
  },
  "remove-app"(button) {
    button.closest(".app-row").remove();
    update();
    $('[data-action="add-app"]', form).focus();
  },
  download() {
    const url = URL.createObjectURL(new Blob([`${JSON.stringify(world.proposedDoc, null, 2)}\n`], { type: "application/json" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: "policy.json" });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  },
};

// ---------------------------------------------------------------------------------------
// A simulated login.

function simulate(event) {
  event.preventDefault();
  const f = event.target.elements;
  const device = { device_id: f.device_id.value, os_type: f.os_type.value };
  if (f.os_version.value.trim()) device.os_version = f.os_version.value.trim();
  if (f.pin_length.value !== "") device.pin_length = Number(f.pin_length.value);
  if (f.serial_number.value.trim()) device.serial_number = f.serial_number.value.trim();
  device.encrypted = f.encrypted.checked;
  device.compromised = f.compromised.checked;
  if (f.manufacturer.value.trim()) device.manufacturer = f.manufacturer.value.trim();
  device.work_profile = f.work_profile.checked;
  // "mail, crm:unmanaged": installed apps, managed unless marked.
  const apps = list(f.apps.value).map((a) => {
    const [id, how] = a.split(":");
    return { id: id.trim(), managed: how?.trim() !== "unmanaged" };
  });
  if (apps.length) device.apps = apps;
  const user = f.user.value.trim();
  const login = { type: "login", user, at: world.at, device };
  const groups = world.populationDoc.directory?.[user] ?? [];
  const state = world.populationDoc.state?.[user];
  const one = (side, label, policy) => {
    if (!policy) return "";
    try {
      const { decision: d } = policy.evaluate(groups, state, login);
      // A v3 document's decision names the user's policy (null: none assigns them); a
      // v1 or v2 decision has no such key.
      const which = !("policy" in d) ? ""
        : d.policy === null ? '<div class="policy-name" data-policy="">No policy assigns this user</div>'
        : `<div class="policy-name" data-policy="${esc(d.policy)}">Policy: <b>${esc(d.policy)}</b></div>`;
      const fix = d.remediation?.length ? `<div>To fix: ${d.remediation.map(esc).join("; ")}</div>` : "";
      const enroll = d.enroll ? `<div data-enroll="${esc(d.enroll.method)}">Enroll with <b>${worded(METHOD, d.enroll.method)}</b></div>` : "";
      const grace = d.grace_until ? `<div data-grace="${esc(d.grace_until)}">In a grace period until ${esc(d.grace_until)}</div>` : "";
      const store = d.apps?.length
        ? `<div>App store: ${d.apps.map((a) => `<span class="app ${a.status}" data-app="${esc(a.id)}">${esc(a.name)} (${a.status})</span>`).join(", ")}</div>`
        : "";
      const reasons = d.reasons.map((r) => `<span class="reason">${esc(word(REASON, r))} <code>${esc(r)}</code></span>`).join(", ");
      return `<div class="login-side" data-side="${side}" data-outcome="${d.outcome}"><b>${label}:</b> ${worded(OUTCOME, d.outcome, d.outcome)}
        (${flags(d.access)})${which}<div class="reasons">${reasons}</div>${enroll}${grace}${store}${fix}</div>`;
    } catch (e) {
      return `<div class="login-side" data-side="${side}"><b>${label}:</b> <span class="deny">${esc(e.code ?? "error")}</span> ${esc(e.pointer ?? "")} ${esc(e.message)}</div>`;
    }
  };
  const proposed = world.proposedValid ? one("proposed", "With this change", world.proposed)
    : '<div class="login-side" data-side="proposed"><b>With this change:</b> the proposed policy has errors; fix them first.</div>';
  $("#login-result").innerHTML = one("current", "Policy in force", world.policy) + proposed;
}

async function readFile(input) {
  const file = input.files?.[0];
  if (!file) return { doc: null };
  const bytes = new Uint8Array(await file.arrayBuffer());
  return { doc: JSON.parse(new TextDecoder().decode(bytes)), bytes };
}

async function main() {
  const t0 = performance.now();
  await init();
  defaults();
  ask = previewWorker(progress);
  const sample = await (await fetch("sample.json")).json();
  await load(sample.policy, sample.population, sample.at);
  const firstRender = performance.now() - t0;
  // `loadPolicy`: the service panel (service.js) puts the live policy in the form.
  window.__mdm = { firstRender, readForm: () => readForm(form).doc, world, settled, loadPolicy: (doc) => load(doc, world.populationDoc) };
  document.body.dataset.ready = "1";
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener("input", later);
  form.addEventListener("change", update);
  form.addEventListener("click", (e) => {
    const goto = e.target.closest("button[data-goto]");
    if (goto) {
      const el = world.fields.get(goto.dataset.goto);
      if (el) focusField(el);
      return;
    }
    const button = e.target.closest("button[data-action]");
    if (button && actions[button.dataset.action]) actions[button.dataset.action](button);
  });
  dragToReorder(form, () => update());
  $("#proposed-json").addEventListener("toggle", showJson);
  $("#moves").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-move]");
    if (!b) return;
    const m = moves[Number(b.dataset.move)];
    move = { from: m.from, to: m.to };
    filter();
  });
  $("#clear-move").addEventListener("click", () => {
    move = null;
    filter();
  });
  $("#filter").addEventListener("input", filter);
  $("#login-form").addEventListener("submit", simulate);
  $("#reset").addEventListener("click", () => load(world.doc, world.populationDoc));
  $("#progress").hidden = true;
  $("#file-policy").addEventListener("change", async (e) => {
    try {
      await load((await readFile(e.target)).doc, world.populationDoc);
    } catch (err) {
      status(`That policy cannot be loaded: ${err.code ?? ""} ${err.pointer ?? ""} ${err.message}`);
    }
  });
  $("#file-population").addEventListener("change", async (e) => {
    try {
      const { doc, bytes } = await readFile(e.target);
      await load(world.doc, doc, undefined, bytes, true);
    } catch (err) {
      status(`That population cannot be loaded: ${err.code ?? ""} ${err.pointer ?? ""} ${err.message}`);
    }
  });
}

main().catch((e) => status(`The console failed to start: ${e.message}`));
