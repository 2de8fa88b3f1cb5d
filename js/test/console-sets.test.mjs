// The console with several policies (mdm.policy/v3), in Debian's Chromium: the admin builds
// a set from nothing, previews it against the set in force, reorders it, breaks it, converts
// a version 2 policy into a set, and simulates a login. What the page shows is held against
// the engine's own answers, computed here in Node from documents this file writes itself.
// Screenshots go to target/ for a person to look at.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { executablePath, launch, openPage } from "../chromium.mjs";
import { Policy, Population, preview, validate } from "../node.mjs";
import { serve } from "../serve.mjs";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const sample = JSON.parse(readFileSync(new URL("../console/sample.json", import.meta.url), "utf8"));
const population = new Population(JSON.stringify(sample.population));
const V3 = "mdm.policy/v3";

// The set in force: sales, then support, then everyone but contractors.
const IN_FORCE = {
  schema: V3,
  policies: [
    { name: "sales", assignment: { groups: ["sales"] }, assigned: { max_devices: 2 } },
    { name: "support", assignment: { groups: ["support"] } },
    { name: "everyone", assignment: { organization: true, exclude_groups: ["contractors"] } },
  ],
};

// The set the admin builds from an empty console, policy by policy: a new field team takes
// the field sales and the sales people, support keeps support with a longer PIN, and
// everyone else but contractors and interns gets a week to have a phone approved.
const BUILT = [
  { name: "field team", groups: ["field-sales", "sales"], setting: ["assigned.max_devices", "3"] },
  { name: "support", groups: ["support"], setting: ["requirements.min_pin_length", "6"] },
  { name: "everyone", organization: true, exclude: ["contractors", "interns"], setting: ["assigned.approval_ttl_hours", "168"] },
];
const BUILT_DOC = {
  schema: V3,
  policies: [
    { name: "field team", assignment: { groups: ["field-sales", "sales"] }, assigned: { max_devices: 3 } },
    { name: "support", assignment: { groups: ["support"] }, requirements: { min_pin_length: 6 } },
    { name: "everyone", assignment: { organization: true, exclude_groups: ["contractors", "interns"] }, assigned: { approval_ttl_hours: 168 } },
  ],
};

const resolved = (doc) => new Policy(JSON.stringify(doc)).document();
const engine = (current, proposed) => preview(new Policy(JSON.stringify(current)), new Policy(JSON.stringify(proposed)), population, sample.at);

/** Each changed user's policy on both sides, as the engine gives it: "user: before -> after". */
const moved = (changes) => changes.map((c) => `${c.user}: ${c.before.policy} -> ${c.after.policy}`);

/** The engine's report's moves: (before, after) -> users, for users whose place differs. */
function movesOf(report) {
  const counts = {};
  for (const c of report.changes) {
    const f = c.before.policy ?? (c.before.assigned ? "(assigned)" : "(unassigned)");
    const t = c.after.policy ?? (c.after.assigned ? "(assigned)" : "(unassigned)");
    if (f !== t) counts[`${f} -> ${t}`] = (counts[`${f} -> ${t}`] ?? 0) + 1;
  }
  return counts;
}

let server, browser;
before(async () => {
  assert.ok(existsSync(executablePath), `${executablePath} is missing: make test installs Debian's chromium`);
  mkdirSync(`${repo}target`, { recursive: true });
  server = await serve(0);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** A fresh console with the sample loaded. */
async function open() {
  const { page, errors } = await openPage(browser, { viewport: { width: 1400, height: 1000 } });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.body.dataset.ready === "1", null, { timeout: 20000 });
  return { page, errors };
}

const settled = (page) => page.evaluate(() => window.__mdm.settled());
const proposedDoc = (page) => page.evaluate(() => window.__mdm.readForm());

async function loadPolicy(page, doc, name) {
  writeFileSync(`${repo}target/${name}`, JSON.stringify(doc));
  const before = await page.evaluate(() => Number(document.body.dataset.checks));
  await page.setInputFiles("#file-policy", `${repo}target/${name}`);
  await page.waitForFunction((n) => Number(document.body.dataset.checks) > n, before);
  await settled(page);
}

async function summaryOnScreen(page) {
  return page.$$eval(".card[data-key]", (cards) =>
    Object.fromEntries(cards.map((c) => [c.dataset.key, Number(c.querySelector("b").textContent)])));
}

/** The moves table: "from -> to" -> users, in the engine's spelling of each side. */
async function movesOnScreen(page) {
  return page.$$eval("#moves tbody tr[data-move]", (trs) => Object.fromEntries(trs.map((tr) => {
    const side = (td, policy) => (policy || (td.textContent.startsWith("assigned") ? "(assigned)" : "(unassigned)"));
    return [`${side(tr.cells[0], tr.dataset.from)} -> ${side(tr.cells[1], tr.dataset.to)}`, Number(tr.cells[2].textContent)];
  })));
}

/** The users' table: "user: before -> after", each side's policy as the row carries it. */
async function rowsOnScreen(page) {
  return page.$$eval("#changes tbody tr[data-user]", (trs) =>
    trs.map((tr) => `${tr.dataset.user}: ${tr.dataset.policyBefore ?? null} -> ${tr.dataset.policyAfter ?? null}`));
}

const card = (page, i) => page.locator(".policy-list > .policy").nth(i);

/** Builds BUILT from an empty set, as an admin would: buttons, typing, selects, ticks. */
async function buildSet(page) {
  await page.click('button[data-action="new-set"]');
  await settled(page);
  assert.equal(await page.locator(".policy-list > .policy").count(), 0);
  for (const [i, p] of BUILT.entries()) {
    await page.click('button[data-action="add-policy"]');
    const c = card(page, i);
    // The new policy's name is focused and selected: typing replaces it.
    assert.equal(await page.evaluate(() => document.activeElement.dataset.rel), "name");
    await page.keyboard.type(p.name);
    for (const g of p.groups ?? []) await c.locator(`select[data-group="${g}"]`).selectOption("assign");
    for (const g of p.exclude ?? []) await c.locator(`select[data-group="${g}"]`).selectOption("exclude");
    if (p.organization) await c.locator('input[name="assignment.organization"]').check();
    const [name, value] = p.setting;
    await c.locator(`input[name="${name}"]`).fill(value);
    await settled(page);
  }
}

test("a set built from an empty console, previewed against the set in force, then reordered", async () => {
  const { page, errors } = await open();
  await loadPolicy(page, IN_FORCE, "console-in-force-v3.json");
  await buildSet(page);

  // The form wrote the set the admin meant: the engine reads it as BUILT_DOC.
  assert.deepEqual(resolved(await proposedDoc(page)), resolved(BUILT_DOC));
  const expected = engine(IN_FORCE, BUILT_DOC);
  assert.ok(expected.summary.policy_changed > 0, "the new set moves people between policies");
  assert.deepEqual(await summaryOnScreen(page), expected.summary, "the counts are the engine's, policy_changed among them");
  assert.deepEqual(await movesOnScreen(page), movesOf(expected));
  assert.equal(await page.isVisible("#moves-note"), false, "two sets: every move is counted");
  assert.deepEqual(await rowsOnScreen(page), moved(expected.changes.slice(0, 200)), "each listed user's policy before and after");
  assert.match(await page.textContent("#changes tbody"), /“sales” → “field team”/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${repo}target/console-set-built.png` });

  // Only the users who moved from sales to the field team, through the moves table.
  const salesToField = movesOf(expected)["sales -> field team"];
  await page.locator('#moves tbody tr[data-from="sales"][data-to="field team"] button').click();
  await page.waitForFunction((n) => document.querySelector("#changed-count").textContent === `(${n})`, salesToField);
  const only = await rowsOnScreen(page);
  assert.ok(only.length > 0 && only.every((r) => r.endsWith(": sales -> field team")), only.join("\n"));
  await page.click("#clear-move");
  await page.waitForFunction((n) => document.querySelector("#changed-count").textContent === `(${n})`, expected.changes.length);

  // Support goes up, above the field team: people in both groups now get support.
  await card(page, 1).locator('button[data-action="up"]').click();
  await settled(page);
  // The focus stays on the button pressed; at the top, it can move down only.
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), "down");
  assert.deepEqual(await page.$$eval('.policy-list [data-rel="name"]', (is) => is.map((i) => i.value)), ["support", "field team", "everyone"]);
  const reordered = { ...BUILT_DOC, policies: [BUILT_DOC.policies[1], BUILT_DOC.policies[0], BUILT_DOC.policies[2]] };
  assert.deepEqual(resolved(await proposedDoc(page)), resolved(reordered));
  const second = engine(IN_FORCE, reordered);
  assert.notEqual(second.summary.policy_changed, expected.summary.policy_changed, "the order changes who changes policy");
  assert.deepEqual(await summaryOnScreen(page), second.summary);
  assert.deepEqual(await movesOnScreen(page), movesOf(second));
  const rows = await rowsOnScreen(page);
  assert.deepEqual(rows, moved(second.changes.slice(0, 200)));
  assert.notDeepEqual(rows, moved(expected.changes.slice(0, 200)), "the users listed change with the order");
  assert.ok(rows.some((r) => r.endsWith(": sales -> support")), "someone in sales and support now moves to support");
  await page.locator("#moves").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${repo}target/console-set-reordered.png` });

  // And down again with the other button: back to the first preview.
  await card(page, 0).locator('button[data-action="down"]').click();
  await settled(page);
  assert.deepEqual(await summaryOnScreen(page), expected.summary);

  // Simulating a login names the user's policy on each side, as the engine does.
  const user = Object.keys(sample.population.directory).find((u) => {
    const g = sample.population.directory[u];
    return g.includes("sales") && !g.includes("field-sales") && !g.includes("contractors");
  });
  await page.fill('#login-form input[name="user"]', user);
  await page.click('#login-form button[type="submit"]');
  const groups = sample.population.directory[user];
  const login = { type: "login", user, at: sample.at, device: { device_id: "new-phone", os_type: "ios", os_version: "17.2", pin_length: 6, encrypted: true, compromised: false, work_profile: false } };
  const policyOf = (doc) => new Policy(JSON.stringify(doc)).evaluate(groups, sample.population.state[user], login).decision.policy;
  assert.equal(policyOf(IN_FORCE), "sales");
  assert.equal(policyOf(BUILT_DOC), "field team");
  assert.equal(await page.getAttribute('#login-result [data-side="current"] [data-policy]', "data-policy"), "sales");
  assert.equal(await page.getAttribute('#login-result [data-side="proposed"] [data-policy]', "data-policy"), "field team");
  assert.match(await page.textContent('#login-result [data-side="proposed"]'), /Policy: field team/);
  await page.locator("#simulate").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${repo}target/console-set-login.png` });
  assert.deepEqual(errors, []);
  await page.close();
});

test("an invalid edit shows the engine's issue at its field, and in the list", async () => {
  const { page, errors } = await open();
  await loadPolicy(page, IN_FORCE, "console-in-force-v3.json");
  const previews = await page.evaluate(() => Number(document.body.dataset.previews));

  // A loaded set shows its policies folded: the admin opens the one to edit.
  assert.deepEqual(await page.$$eval(".policy details", (ds) => ds.map((d) => d.open)), [false, false, false]);
  await card(page, 2).locator("summary").click();
  // The second policy takes the first one's name: the engine points at the second's name.
  await card(page, 1).locator('input[name="name"]').fill("sales");
  await card(page, 2).locator('input[name="assigned.max_devices"]').fill("0");
  await settled(page);
  const doc = await proposedDoc(page);
  const { errors: issues } = validate(JSON.stringify(doc));
  assert.deepEqual(issues.map((i) => i.pointer), ["/policies/1/name", "/policies/2/assigned/max_devices"]);
  for (const issue of issues) {
    const note = page.locator(`.field-error[data-error-for="${issue.pointer}"]`);
    assert.equal(await note.textContent(), issue.message);
    // The note follows the field the pointer names, which is marked and described by it.
    const field = await page.$eval(`[data-pointer="${issue.pointer}"]`, (el) => ({
      invalid: el.getAttribute("aria-invalid"), describedBy: el.getAttribute("aria-describedby"), next: el.nextElementSibling?.id }));
    assert.equal(field.invalid, "true");
    assert.equal(field.describedBy, field.next);
  }
  const listed = await page.$$eval("#issues li", (lis) => lis.map((li) => li.textContent.replace(/\s+/g, " ").trim()));
  assert.equal(listed.length, 2);
  assert.match(listed[0], /^Policy 2 “sales”: Name: policy `sales` is listed twice.* repeated duplicate at \/policies\/1\/name$/);
  assert.match(listed[1], /^Policy 3 “everyone”: Devices a user registers without approval: must be at least 1, got 0 .*out_of_range at \/policies\/2\/assigned\/max_devices$/);
  assert.match(await page.textContent("#issues-title"), /^2 errors/);
  // No preview of a document the engine refuses; the last one is marked as such.
  assert.equal(await page.evaluate(() => Number(document.body.dataset.previews)), previews);
  assert.equal(await page.getAttribute("#preview", "class"), "stale");
  await page.screenshot({ path: `${repo}target/console-set-invalid.png` });

  // A folded policy counts its errors; the list's link opens it and takes the admin there.
  await card(page, 2).locator("summary").click();
  assert.equal(await card(page, 2).locator("summary").textContent(), "Settings (1 error)");
  await page.locator("#issues li").nth(1).locator("button.goto").click();
  assert.equal(await page.evaluate(() => document.activeElement.dataset.pointer), "/policies/2/assigned/max_devices");
  assert.equal(await card(page, 2).locator("details").evaluate((d) => d.open), true);

  // Fixed, the issues go and the preview comes back.
  await card(page, 1).locator('input[name="name"]').fill("support");
  await card(page, 2).locator('input[name="assigned.max_devices"]').fill("1");
  await settled(page);
  assert.equal(await page.locator(".field-error").count(), 0);
  assert.equal(await page.textContent("#issues-title"), "No problems found");
  assert.ok(await page.evaluate((n) => Number(document.body.dataset.previews) > n, previews));
  assert.deepEqual(await summaryOnScreen(page), engine(IN_FORCE, IN_FORCE).summary);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a version 2 policy converted into a set changes no one's access", async () => {
  const { page, errors } = await open();
  const v2 = {
    schema: "mdm.policy/v2",
    assignment: { groups: ["sales", "engineering"], exclude_users: ["user0001"] },
    device_match: "device_id_and_serial",
    assigned: { max_devices: 2, approvers: ["admin", "self"] },
    unassigned: { access: "full" },
    requirements: { min_os_version: { ios: "16.0" }, grace_hours: 48 },
    enrollment: { required: true, methods: ["ios_profile", "android_work_profile"] },
    configuration: { data_separation: true },
    apps: [{ id: "com.box", name: "Box", platform: "ios", groups: ["sales"] }],
  };
  await loadPolicy(page, v2, "console-v2-to-convert.json");
  assert.equal(await page.isVisible('button[data-action="convert"]'), true);
  await page.click('button[data-action="convert"]');
  await settled(page);

  // One policy, called "default" and ready to be renamed; the organisation's settings
  // (device match, unassigned users, the app store) stay at the set's level.
  assert.equal(await page.locator(".policy-list > .policy").count(), 1);
  assert.equal(await page.evaluate(() => document.activeElement.value), "default");
  assert.equal(await page.isVisible('button[data-action="convert"]'), false);
  const d = resolved(v2);
  const set = {
    schema: V3, enabled: d.enabled, device_match: d.device_match, unassigned: d.unassigned, apps: d.apps,
    policies: [{ name: "default", enabled: true, assignment: d.assignment, assigned: d.assigned, requirements: d.requirements,
      enrollment: d.enrollment, configuration: d.configuration }],
  };
  assert.deepEqual(await proposedDoc(page), set);
  assert.equal(await page.locator(".app-list > .app-row").count(), 1);

  const report = engine(v2, set);
  assert.equal(report.changes.length, 0);
  const shown = await summaryOnScreen(page);
  assert.equal(shown.policy_changed, undefined, "policy_changed compares two sets, and the policy in force is not one");
  assert.deepEqual({ ...shown, policy_changed: 0 }, report.summary);
  assert.equal(await page.textContent("#changed-count"), "(0)");
  assert.equal(await page.textContent("#moves tbody"), "No one changes policy.");
  assert.equal(await page.isVisible("#moves-note"), true, "a single policy against a set: the table says what it counts");

  // A login: the set names the policy, the version 2 document does not.
  await page.fill('#login-form input[name="user"]', "user0000");
  await page.click('#login-form button[type="submit"]');
  assert.equal(await page.getAttribute('#login-result [data-side="proposed"] [data-policy]', "data-policy"), "default");
  assert.equal(await page.locator('#login-result [data-side="current"] [data-policy]').count(), 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${repo}target/console-converted.png` });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the form writes back exactly the document it was built from", async () => {
  const { page, errors } = await open();
  // The sample (v1) as loaded: no version 2 key appears.
  assert.deepEqual(await proposedDoc(page), resolved(sample.policy));
  const v2 = { $schema: "../schemas/policy.schema.json", schema: "mdm.policy/v2", enabled: false,
    assignment: { users: ["user0002", "user0001"], groups: ["support", "sales"], exclude_groups: ["interns", "sales"] },
    assigned: { approvers: ["self", "admin"], on_new_device: "replace" },
    requirements: { platforms: ["android", "ios"], min_os_version: { android: "12", other: "1.2.3.4" }, grace_hours: 5 },
    enrollment: { methods: ["samsung_knox", "ios_profile"] },
    apps: [{ id: "a", name: "A", platform: "android", users: ["user0003"] }, { id: "b", name: "B", platform: "ios" }] };
  await loadPolicy(page, v2, "console-v2-roundtrip.json");
  assert.deepEqual(await proposedDoc(page), resolved(v2));
  // Sales is both assigned and excluded: valid, with the engine's warning at its select.
  const [warning] = validate(JSON.stringify(v2)).warnings;
  assert.equal(warning.pointer, "/assignment/exclude_groups/1");
  assert.equal(await page.inputValue('select[data-group="sales"]'), "both");
  assert.equal(await page.textContent(`.field-error.warning[data-error-for="${warning.pointer}"]`), `warning: ${warning.message}`);
  assert.equal(await page.getAttribute(`[data-pointer="${warning.pointer}"]`, "data-group"), "sales");
  const v3 = { schema: V3, device_match: "device_id_and_serial", unassigned: { max_devices: 2, on_new_device: "add" },
    apps: v2.apps, policies: [
      { name: "off for now", enabled: false, assignment: { organization: true } },
      { name: " spaced ", assignment: { users: ["user0009"], exclude_users: ["user0010"], exclude_groups: ["board"] },
        enrollment: { required: true }, configuration: { data_separation: true } },
    ] };
  await loadPolicy(page, v3, "console-v3-roundtrip.json");
  assert.deepEqual(await proposedDoc(page), resolved(v3));
  assert.equal(await card(page, 0).getAttribute("class"), "policy disabled");

  // A version 1 policy becomes version 2 when a version 2 setting leaves its default, and
  // version 1 again when it returns.
  await loadPolicy(page, sample.policy, "console-v1.json");
  await page.locator('input[name="enrollment.required"]').check();
  await settled(page);
  const switched = await proposedDoc(page);
  assert.equal(switched.schema, "mdm.policy/v2");
  assert.equal(switched.enrollment.required, true);
  assert.match(await page.textContent("#schema-line"), /Version 2 because of: enrollment\. Put it back/);
  await page.locator('input[name="enrollment.required"]').uncheck();
  await settled(page);
  assert.deepEqual(await proposedDoc(page), resolved(sample.policy));
  assert.deepEqual(errors, []);
  await page.close();
});

test("a policy dragged by its handle takes the place it is dropped on", async () => {
  const { page, errors } = await open();
  await loadPolicy(page, IN_FORCE, "console-in-force-v3.json");
  await card(page, 2).locator(".drag").dragTo(card(page, 0));
  await settled(page);
  const names = await page.$$eval('.policy-list [data-rel="name"]', (is) => is.map((i) => i.value));
  assert.deepEqual(names, ["everyone", "sales", "support"]);
  const dragged = { ...IN_FORCE, policies: [IN_FORCE.policies[2], IN_FORCE.policies[0], IN_FORCE.policies[1]] };
  assert.deepEqual(resolved(await proposedDoc(page)), resolved(dragged));
  const expected = engine(IN_FORCE, dragged);
  assert.ok(expected.summary.policy_changed > 0);
  assert.deepEqual(await summaryOnScreen(page), expected.summary);
  assert.deepEqual(errors, []);
  await page.close();
});

test("every control has a name a screen reader can say", async () => {
  const { page, errors } = await open();
  const unnamed = () => page.evaluate(() => [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => !el.closest("[hidden]"))
    .filter((el) => {
      const labelled = el.getAttribute("aria-label") || [...(el.labels ?? [])].map((l) => l.textContent).join("");
      return !(el.tagName === "BUTTON" ? (labelled || el.textContent) : labelled).trim();
    })
    .map((el) => el.outerHTML.slice(0, 160)));
  assert.deepEqual(await unnamed(), [], "a single policy, as loaded");
  // A set with an app and a policy of each kind of field.
  await loadPolicy(page, { ...IN_FORCE, apps: [{ id: "com.box", name: "Box", platform: "ios" }] }, "console-in-force-apps.json");
  await page.click('button[data-action="add-policy"]');
  await page.click('button[data-action="add-app"]');
  await settled(page);
  // Not a vacuous check: four policies, each with a select per group of the sample.
  const controls = await page.$$eval("#policy-form input, #policy-form select", (els) => els.length);
  assert.equal(await page.locator("#policy-form select[data-group]").count(), 4 * 30);
  assert.ok(controls > 4 * 30, `${controls} controls in the form`);
  assert.deepEqual(await unnamed(), [], "a set of four policies and two apps");
  // The buttons that move a policy say which and where.
  assert.equal(await card(page, 1).locator('button[data-action="up"]').getAttribute("aria-label"), "Move “support” up, before “sales”");
  assert.equal(await card(page, 3).locator('button[data-action="remove"]').getAttribute("aria-label"), "Remove the policy “policy 1”");
  await page.locator(".apps").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${repo}target/console-apps.png` });
  assert.deepEqual(errors, []);
  await page.close();
});

test("js/README.md's example of several policies runs in the browser as written", async () => {
  const { page, errors } = await open();
  const readme = readFileSync(`${repo}js/README.md`, "utf8");
  const snippet = readme.match(/```js sets\n([\s\S]*?)```/)[1];
  const promised = snippet.match(/\/\/ (.*)\n$/)[1].trim();
  const printed = new Promise((resolve) => page.on("console", (m) => m.text().startsWith("support") && resolve(m.text())));
  await page.addScriptTag({ type: "module", content: snippet.replace('"mdm-policy"', '"/index.mjs"') });
  // A guard against a snippet that never prints, not a measure of its speed.
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no output; page errors: ${errors}`)), 15000)));
  try {
    assert.equal(await Promise.race([printed, late]), promised);
  } finally {
    clearTimeout(timer);
  }
  assert.equal(promised, "support 1 bob: sales -> support");
  assert.deepEqual(errors, []);
  await page.close();
});

test("loading another population keeps the proposal being edited", async () => {
  const { page, errors } = await open();
  await page.fill('input[name="assigned.max_devices"]', "2");
  await page.selectOption('select[data-group="engineering"]', "assign");
  await settled(page);
  const draft = await proposedDoc(page);
  // A smaller population, with a group the sample does not have.
  const users = Object.keys(sample.population.directory).slice(0, 300);
  const small = {
    directory: Object.fromEntries(users.map((u, i) => [u, i % 10 ? sample.population.directory[u] : ["night-shift"]])),
    state: Object.fromEntries(users.filter((u) => sample.population.state[u]).map((u) => [u, sample.population.state[u]])),
  };
  writeFileSync(`${repo}target/console-population-small.json`, JSON.stringify(small));
  const checks = await page.evaluate(() => Number(document.body.dataset.checks));
  await page.setInputFiles("#file-population", `${repo}target/console-population-small.json`);
  await page.waitForFunction((n) => Number(document.body.dataset.checks) > n, checks);
  await settled(page);
  assert.deepEqual(await proposedDoc(page), draft, "the edits are still there");
  assert.equal(await page.inputValue('select[data-group="night-shift"]'), "");
  const expected = preview(new Policy(JSON.stringify(sample.policy)), new Policy(JSON.stringify(draft)),
    new Population(JSON.stringify(small)), sample.at).summary;
  assert.equal(expected.users, 300);
  assert.deepEqual(await summaryOnScreen(page), expected);
  assert.deepEqual(errors, []);
  await page.close();
});
