// The admin's side of `mdm serve`: when the console is served by the service (same
// origin), the approval inbox, a user's devices with remove / deprovision / wipe, the
// decision log, the shadow policy's report and the dead webhook deliveries to replay. Served as static files, the console has no
// service and this panel stays hidden. Every decision is the service's; this only renders.
const $ = (sel, root = document) => root.querySelector(sel);
const panel = $("#service");
let token = sessionStorage.getItem("mdm-admin-token") ?? "";

function say(text, error = false) {
  const p = $("#service-status");
  p.textContent = text;
  p.classList.toggle("form-errors", error);
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${json?.code ?? res.status}: ${json?.message ?? text}`);
  return json;
}

function cell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function button(td, label, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = label.toLowerCase();
  b.addEventListener("click", action);
  td.append(b, " ");
  return b;
}

function age(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/// Sends an admin event for one device, then shows everything anew.
async function act(type, user, deviceId) {
  if ((type === "wipe" || type === "deprovision") && !confirm(`${type} ${deviceId} of ${user}?`)) return;
  try {
    const r = await api("POST", "/v1/events", { type, user, device_id: deviceId });
    const commands = (r.commands ?? []).map((c) => `${c.action} sent to ${c.device_id}`).join(", ");
    say(`${type}: ${user} / ${deviceId} done${commands ? `; ${commands}` : ""}`);
  } catch (e) {
    say(`${type} ${user} / ${deviceId}: ${e.message}`, true);
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
    cell(tr, `${p.device_id} (${p.device.os_type}${p.device.os_version ? ` ${p.device.os_version}` : ""}${p.device.model ? `, ${p.device.model}` : ""})`);
    cell(tr, age(p.age_seconds));
    const td = tr.insertCell();
    button(td, "Approve", () => act("approve", p.user, p.device_id));
    button(td, "Reject", () => act("reject", p.user, p.device_id));
  }
  $("#inbox-count").textContent = `(${pending.length})`;
  $("#inbox-empty").hidden = pending.length > 0;
}

async function showUser(user) {
  const body = $("#user-devices tbody");
  body.replaceChildren();
  try {
    const u = await api("GET", `/v1/users/${encodeURIComponent(user)}`);
    $("#user-groups").textContent = `groups: ${u.groups.join(", ") || "none"}; version ${u.version}, updated ${u.updated_at}`;
    for (const d of u.state.devices) {
      const tr = body.insertRow();
      cell(tr, d.device_id);
      cell(tr, `${d.os_type} ${d.os_version ?? ""}`);
      cell(tr, d.registered_at);
      cell(tr, d.enrollment ? `enrolled (${d.enrollment.method})` : "registered");
      const td = tr.insertCell();
      for (const [label, type] of [["Remove", "remove_device"], ["Deprovision", "deprovision"], ["Wipe", "wipe"]]) {
        button(td, label, () => act(type, user, d.device_id));
      }
    }
    for (const r of u.state.rejected ?? []) {
      const tr = body.insertRow();
      cell(tr, r.device_id);
      cell(tr, "");
      cell(tr, r.rejected_at);
      cell(tr, "rejected", "deny");
      button(tr.insertCell(), "Unblock", () => act("unblock", user, r.device_id));
    }
  } catch (e) {
    $("#user-groups").textContent = e.message;
  }
}

async function log() {
  const { decisions } = await api("GET", "/v1/decisions?limit=25");
  const body = $("#log tbody");
  body.replaceChildren();
  for (const d of decisions) {
    const tr = body.insertRow();
    cell(tr, d.time);
    cell(tr, d.user);
    cell(tr, d.device_id);
    cell(tr, d.event);
    cell(tr, d.outcome ?? (d.fault ? d.fault.code : "done"), d.outcome ?? "");
    cell(tr, (d.reasons ?? []).join(", "));
    cell(tr, d.actor ?? "");
  }
}

async function shadow() {
  const r = await api("GET", "/v1/shadow/report");
  const div = $("#shadow-report");
  div.replaceChildren();
  if (!r.shadow) {
    div.textContent = "No report-only policy is set (PUT /v1/policy/shadow).";
    return;
  }
  const p = document.createElement("p");
  p.textContent = `Shadow policy ${r.shadow.digest.slice(7, 19)}… since ${r.shadow.created_at}: ${r.differences} login(s) would have been answered otherwise.`;
  const table = document.createElement("table");
  table.createTHead().insertRow().append(...["Live", "Shadow", "Logins"].map((h) => Object.assign(document.createElement("th"), { textContent: h })));
  const tb = table.createTBody();
  for (const c of r.counts) {
    const tr = tb.insertRow();
    cell(tr, c.live, c.live);
    cell(tr, c.shadow, c.shadow);
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
    $("#shadow-report").after(Object.assign(document.createElement("h3"), { textContent: "Dead webhook deliveries" }), div);
  }
  const { deliveries } = await api("GET", "/v1/webhooks/deliveries?state=dead&limit=50");
  div.replaceChildren();
  if (!deliveries.length) {
    div.textContent = "None: every webhook was delivered or is still being tried.";
    return;
  }
  const table = document.createElement("table");
  table.createTHead().insertRow().append(...["Event", "Endpoint", "Attempts", "Last error", ""].map((h) => Object.assign(document.createElement("th"), { textContent: h })));
  const tb = table.createTBody();
  for (const d of deliveries) {
    const tr = tb.insertRow();
    tr.dataset.delivery = String(d.id);
    cell(tr, `${d.event} (${d.event_id})`);
    cell(tr, d.endpoint);
    cell(tr, String(d.attempts));
    cell(tr, `${d.last_error ?? ""}${d.last_status ? ` ${d.last_status}` : ""}`);
    button(tr.insertCell(), "Replay", async () => {
      try {
        await api("POST", `/v1/webhooks/deliveries/${d.id}/replay`);
        say(`replaying ${d.event} to ${d.endpoint}`);
      } catch (e) {
        say(`replay: ${e.message}`, true);
      }
      await refresh();
    });
  }
  div.append(table);
}

async function refresh() {
  try {
    await Promise.all([inbox(), log(), shadow(), deadDeliveries()]);
    panel.dataset.loaded = String(Number(panel.dataset.loaded ?? 0) + 1);
  } catch (e) {
    say(e.message, true);
  }
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
  $("#admin-token").value = token;
  $("#connect").addEventListener("click", async () => {
    token = $("#admin-token").value.trim();
    sessionStorage.setItem("mdm-admin-token", token);
    say("");
    await refresh();
  });
  $("#user-form").addEventListener("submit", (e) => {
    e.preventDefault();
    showUser($("#user-form").user.value.trim());
  });
  $("#refresh").addEventListener("click", refresh);
  await refresh();
}

detect();
