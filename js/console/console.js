// The admin console: edit a policy, see what it would change before saving it. Every answer
// comes from the engine (the same WebAssembly the gateway runs); this file only renders.
import init, { Policy, validate } from "../index.mjs";
import { previewWorker } from "./engine-worker.js";

const $ = (sel, root = document) => root.querySelector(sel);
const form = $("#policy-form");
const world = { doc: null, policy: null, proposed: null, users: 0, populationDoc: null, at: "" };
let pending = 0;
// The last preview asked for: an answer to an earlier one is not shown.
let asked = 0;
// The preview runs in a worker that holds the population; set up in main().
let ask;

const SUMMARY = [
  ["users", "users"],
  ["assigned_before", "assigned now"],
  ["assigned_after", "assigned after"],
  ["became_assigned", "become assigned", "up"],
  ["became_unassigned", "become unassigned", "down"],
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

function status(text) {
  $("#status").textContent = text;
}

function list(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function allGroups() {
  const names = new Set();
  for (const groups of Object.values(world.populationDoc.directory ?? {})) groups.forEach((g) => names.add(g));
  const a = world.doc.assignment ?? {};
  [...(a.groups ?? []), ...(a.exclude_groups ?? [])].forEach((g) => names.add(g));
  return [...names].sort();
}

/**
 * Fills the form from a loaded policy: the engine's document with every default filled in
 * (`Policy.document()`), so no default is written twice.
 */
function fillForm(policy) {
  const doc = policy.document();
  const { assignment: a, assigned: as, unassigned: un, requirements: rq } = doc;
  const set = (name, value) => {
    const el = form.elements[name];
    if (el.type === "checkbox") el.checked = Boolean(value);
    else el.value = value ?? "";
  };
  set("enabled", doc.enabled);
  set("organization", a.organization);
  set("users", a.users.join(", "));
  set("exclude_users", a.exclude_users.join(", "));
  set("device_match", doc.device_match);
  set("assigned.max_devices", as.max_devices);
  set("assigned.on_new_device", as.on_new_device);
  set("assigned.on_approve", as.on_approve);
  set("assigned.approval_ttl_hours", as.approval_ttl_hours);
  set("assigned.push_mfa", as.push_mfa);
  set("unassigned.max_devices", un.max_devices);
  set("unassigned.on_new_device", un.on_new_device);
  set("unassigned.access", un.access);
  set("unassigned.push_mfa", un.push_mfa);
  for (const os of ["ios", "android", "other"]) {
    set(`platform.${os}`, rq.platforms.includes(os));
    set(`min.${os}`, rq.min_os_version[os] ?? "");
  }
  set("requirements.min_pin_length", rq.min_pin_length);
  set("requirements.require_encryption", rq.require_encryption);
  set("requirements.block_compromised", rq.block_compromised);
  const box = $("#groups");
  box.replaceChildren();
  for (const g of allGroups()) {
    const row = document.createElement("div");
    row.className = "row";
    const mode = a.exclude_groups.includes(g) ? "exclude" : a.groups.includes(g) ? "assign" : "";
    row.innerHTML = `<span></span><select><option value="">—</option><option value="assign">assign</option><option value="exclude">exclude</option></select>`;
    row.firstChild.textContent = g;
    const select = row.querySelector("select");
    select.dataset.group = g;
    select.value = mode;
    box.append(row);
  }
}

/**
 * The policy document the form describes, exactly as typed: the engine judges it. What the
 * form does not edit (version 2's enrollment, configuration, apps, approvers and grace) is
 * kept as the loaded policy has it.
 */
function readForm() {
  const base = world.policy.document();
  const v = (name) => form.elements[name].value;
  const on = (name) => form.elements[name].checked;
  const num = (name) => (v(name).trim() === "" ? null : Number(v(name)));
  const groups = [...form.querySelectorAll("select[data-group]")];
  const min = {};
  for (const os of ["ios", "android", "other"]) if (v(`min.${os}`).trim()) min[os] = v(`min.${os}`).trim();
  const v2 = (section, fields) => Object.fromEntries(fields.filter((f) => f in (base[section] ?? {})).map((f) => [f, base[section][f]]));
  const keep = Object.fromEntries(["enrollment", "configuration", "apps"].filter((k) => k in base).map((k) => [k, base[k]]));
  return {
    schema: base.schema,
    ...keep,
    enabled: on("enabled"),
    assignment: {
      organization: on("organization"),
      users: list(v("users")),
      groups: groups.filter((s) => s.value === "assign").map((s) => s.dataset.group),
      exclude_users: list(v("exclude_users")),
      exclude_groups: groups.filter((s) => s.value === "exclude").map((s) => s.dataset.group),
    },
    device_match: v("device_match"),
    assigned: {
      max_devices: num("assigned.max_devices"),
      on_new_device: v("assigned.on_new_device"),
      on_approve: v("assigned.on_approve"),
      approval_ttl_hours: num("assigned.approval_ttl_hours"),
      push_mfa: on("assigned.push_mfa"),
      ...v2("assigned", ["approvers"]),
    },
    unassigned: {
      max_devices: num("unassigned.max_devices"),
      on_new_device: v("unassigned.on_new_device"),
      access: v("unassigned.access"),
      push_mfa: on("unassigned.push_mfa"),
    },
    requirements: {
      platforms: ["ios", "android", "other"].filter((os) => on(`platform.${os}`)),
      min_os_version: min,
      min_pin_length: num("requirements.min_pin_length"),
      require_encryption: on("requirements.require_encryption"),
      block_compromised: on("requirements.block_compromised"),
      ...v2("requirements", ["grace_hours"]),
    },
  };
}

/** Puts each validation error at its field: the longest `data-pointer` prefix of its pointer. */
function showIssues(issues) {
  form.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid"));
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  const fields = [...form.querySelectorAll("[data-pointer]")];
  const loose = [];
  for (const issue of issues) {
    const target = fields
      .filter((el) => issue.pointer === el.dataset.pointer || issue.pointer.startsWith(el.dataset.pointer + "/"))
      .sort((x, y) => y.dataset.pointer.length - x.dataset.pointer.length)[0];
    if (!target) {
      loose.push(`${issue.pointer || "/"}: ${issue.message}`);
      continue;
    }
    target.classList.add("invalid");
    const note = document.createElement("span");
    note.className = "field-error";
    note.dataset.errorFor = target.dataset.pointer;
    note.textContent = issue.message;
    target.after(note);
  }
  $("#form-errors").textContent = loose.join("\n");
}

function flags(a) {
  return `${a.app ? "app" : "–"} · ${a.sso ? "SSO" : "–"} · ${a.push_mfa ? "push" : "–"}`;
}

function change(before, after, fmt = String) {
  const b = fmt(before), a = fmt(after);
  return b === a ? esc(a) : `<span class="was">${esc(b)}</span> → ${esc(a)}`;
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function render(s, total, rows) {
  $("#summary").innerHTML = SUMMARY.map(
    ([key, label, kind]) =>
      `<div class="card ${s[key] && kind ? kind : ""}" data-key="${key}"><b>${s[key]}</b><span>${label}</span></div>`,
  ).join("");
  renderTable(total, rows);
}

// The last filter asked for: an answer to an earlier one is not shown.
let filtered = 0;

/** Asks the worker for the changed users the filter matches. */
function filter() {
  const mine = ++filtered;
  ask({ filter: $("#filter").value }).then(({ total, rows }) => mine === filtered && renderTable(total, rows));
}

/** The changed users' table: the worker's first rows of `total`. */
function renderTable(total, shown) {
  $("#changed-count").textContent = `(${total})`;
  $("#changes tbody").innerHTML = shown
    .map((c) => {
      const devices = c.after.devices
        .map((d, i) => {
          const b = c.before.devices[i];
          const o = b.outcome === d.outcome ? `<span class="${d.outcome}">${d.outcome}</span>`
            : `<span class="was">${b.outcome}</span> → <span class="${d.outcome}">${d.outcome}</span>`;
          const why = d.reasons.filter((r) => !r.startsWith("scope.")).join(", ");
          return `${esc(d.device_id)}: ${o} <small>${esc(why)}</small>`;
        })
        .join("<br>");
      return `<tr data-user="${esc(c.user)}"><td>${esc(c.user)}</td><td>${change(c.before.scope, c.after.scope)}</td>
        <td>${change(c.before.access, c.after.access, flags)}</td><td>${devices || "–"}</td>
        <td>${change(c.before.new_device, c.after.new_device)}</td></tr>`;
    })
    .join("");
  $("#more").textContent = total > shown.length ? `and ${total - shown.length} more (filter to narrow)` : "";
}

/** Validates the form, then previews it against the policy in force. */
function update() {
  const doc = readForm();
  const text = JSON.stringify(doc);
  const v = validate(text);
  showIssues(v.errors.concat(v.warnings.map((w) => ({ ...w, message: `warning: ${w.message}` }))));
  if (v.errors.length) {
    status(`${v.errors.length} error${v.errors.length > 1 ? "s" : ""}: fix ${v.errors.length > 1 ? "them" : "it"} to see the preview`);
    return;
  }
  const started = performance.now();
  // The page keeps its own copy for the login simulator; the worker previews.
  world.proposed?.free();
  world.proposed = new Policy(text);
  const mine = ++asked;
  return ask({ proposed: text, at: world.at, filter: $("#filter").value }).then(
    ({ summary, total, rows }) => {
      if (mine !== asked) return;
      render(summary, total, rows);
      status(`Preview of ${world.users} users at ${world.at} in ${Math.round(performance.now() - started)} ms`);
      document.body.dataset.previews = String(++pending);
    },
    (e) => status(`The preview failed: ${e.code ?? ""} ${e.pointer ?? ""} ${e.message}`),
  );
}

/** Shows which step the worker is on, or hides the bar when it is idle. */
function progress(stage) {
  $("#progress").hidden = !stage;
  $("#stage").textContent = stage ? `${stage}…` : "";
}

/**
 * Loads a policy in force and a population: checked here first (a bad policy throws
 * before anything changes), then handed to the worker, the population's bytes
 * transferred rather than copied. `bytes` is the population's text when the file's own
 * bytes are at hand.
 */
async function load(doc, populationDoc, at, bytes) {
  const policy = new Policy(JSON.stringify(doc));
  try {
    if (populationDoc !== world.populationDoc) {
      const text = bytes ?? new TextEncoder().encode(JSON.stringify(populationDoc));
      world.users = (await ask({ population: text }, [text.buffer])).users;
    }
    await ask({ current: JSON.stringify(doc) });
  } catch (e) {
    policy.free();
    throw e;
  }
  world.policy?.free();
  Object.assign(world, { doc, policy, populationDoc, at: at ?? world.at });
  $("#user-list").innerHTML = Object.keys(populationDoc.directory ?? {}).slice(0, 500).map((u) => `<option value="${esc(u)}">`).join("");
  fillForm(policy);
  return update();
}

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
  const one = (label, policy) => {
    if (!policy) return "";
    try {
      const { decision: d } = policy.evaluate(groups, state, login);
      const fix = d.remediation?.length ? `<div>To fix: ${d.remediation.map(esc).join("; ")}</div>` : "";
      const enroll = d.enroll ? `<div data-enroll="${esc(d.enroll.method)}">Enroll with <b>${esc(d.enroll.method)}</b></div>` : "";
      const grace = d.grace_until ? `<div data-grace="${esc(d.grace_until)}">In a grace period until ${esc(d.grace_until)}</div>` : "";
      const store = d.apps?.length
        ? `<div>App store: ${d.apps.map((a) => `<span class="app ${a.status}" data-app="${esc(a.id)}">${esc(a.name)} (${a.status})</span>`).join(", ")}</div>`
        : "";
      return `<div><b>${label}:</b> <span class="${d.outcome}">${d.outcome}</span> (${flags(d.access)})
        <div><small>${d.reasons.join(", ")}</small></div>${enroll}${grace}${store}${fix}</div>`;
    } catch (e) {
      return `<div><b>${label}:</b> <span class="deny">${esc(e.code ?? "error")}</span> ${esc(e.pointer ?? "")} ${esc(e.message)}</div>`;
    }
  };
  $("#login-result").innerHTML = one("Policy in force", world.policy) + one("With this change", world.proposed);
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
  ask = previewWorker(progress);
  const sample = await (await fetch("sample.json")).json();
  await load(sample.policy, sample.population, sample.at);
  const firstRender = performance.now() - t0;
  window.__mdm = { firstRender, readForm, world };
  document.body.dataset.ready = "1";
  let timer;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 60);
  });
  form.addEventListener("change", () => {
    clearTimeout(timer);
    update();
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
      await load(world.doc, doc, undefined, bytes);
    } catch (err) {
      status(`That population cannot be loaded: ${err.code ?? ""} ${err.pointer ?? ""} ${err.message}`);
    }
  });
}

main().catch((e) => status(`The console failed to start: ${e.message}`));
