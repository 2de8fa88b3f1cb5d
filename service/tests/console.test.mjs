// The console served by `mdm serve`, in Debian's Chromium, on SQLite and PostgreSQL: the
// admin connects with a token, is told what an approval will do before it is done, and
// approves; the device inventory is filtered, paged and exported, a device's user opened
// and a phone wiped after a confirmation; the live policy is put in the form, previewed
// over the stored users, saved, tried as report-only and cleared; a dead webhook
// delivery is replayed with its button. Screenshots go to target/service-tests/screens/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
// Chromium as the JS package's own browser tests launch it (playwright-core is its dev
// dependency).
import { executablePath, launch } from "../../js/chromium.mjs";
import { databases, start, call, login, phone, repo, ADMIN, startReceiver, until, WEBHOOK_SECRET } from "./harness.mjs";

const POLICY = {
  schema: "mdm.policy/v1",
  assignment: { groups: ["sales"] },
  assigned: { max_devices: 1, on_new_device: "approval", on_approve: "add" },
};

const REPLACE = { ...POLICY, assigned: { ...POLICY.assigned, on_approve: "replace" } };
const screens = join(repo, "target/service-tests/screens");
mkdirSync(screens, { recursive: true });

/// A page of the console served by `server`, its uncaught errors collected in `errors`.
async function open(browser, server, errors) {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}/`);
  await page.waitForSelector("#service:not([hidden])", { timeout: 20000 });
  await page.waitForFunction(() => document.body.dataset.ready === "1", null, { timeout: 20000 });
  return page;
}

async function connect(page) {
  await page.fill("#admin-token", ADMIN);
  await page.click("#connect");
  await page.waitForFunction(() => /Connected to mdm serve as an admin/.test(document.querySelector("#service-status").textContent));
  await page.waitForFunction(() => Number(document.querySelector("#service").dataset.loaded ?? 0) > 0);
}

/// The next dialog's message, accepted.
function accepting(page) {
  return new Promise((resolve) => page.once("dialog", (d) => { resolve(d.message()); d.accept(); }));
}

for (const db of databases()) {
  test(`the console connects, says what an approval will do, then approves, on ${db.name}`, async () => {
    assert.ok(existsSync(executablePath), `${executablePath} is missing: make test installs Debian's chromium`);
    const server = await start({ db: db.fresh(), policy: REPLACE, args: ["--console", join(repo, "js")] });
    const browser = await launch();
    const receiver = await startReceiver();
    const errors = [];
    try {
      assert.equal((await login(server, "alice", phone("A1"))).json.outcome, "allow");
      assert.equal((await login(server, "alice", phone("B2", { model: "iPhone15,2" }))).json.outcome, "pending_approval");

      const page = await open(browser, server, errors);
      // Before a token: an invitation, not an error, and nothing of the service shown.
      assert.match(await page.textContent("#service-status"), /enter an admin token/);
      assert.equal(await page.getAttribute("#service-status", "class"), null);
      assert.equal(await page.isHidden("#service-body"), true);
      await page.fill("#admin-token", "not-a-token-of-this-service");
      await page.click("#connect");
      await page.waitForFunction(() => /not an admin token/.test(document.querySelector("#service-status").textContent));
      assert.equal(await page.isHidden("#service-body"), true);
      await connect(page);

      const row = page.locator('#inbox tbody tr[data-user="alice"][data-device="B2"]');
      await row.waitFor({ timeout: 10000 });
      assert.match(await row.textContent(), /B2 \(iOS 17\.2, iPhone15,2\)/);
      assert.equal(await page.textContent("#inbox-count"), "1");
      assert.match(await page.getAttribute("#inbox-count", "class"), /waiting/);
      // The log in words: the outcome, its reasons and who asked, codes on hover.
      const pending = page.locator("#log tbody tr", { hasText: "waiting for approval" }).first();
      await pending.waitFor();
      assert.match(await pending.textContent(), /approval requested/);
      assert.match(await pending.textContent(), /gateway/);
      assert.doesNotMatch(await page.textContent("#log"), /token:/);
      await page.screenshot({ path: join(screens, `inbox-${db.name}.png`) });

      const warned = accepting(page);
      await row.locator('button[data-action="approve"]').click();
      assert.equal(await warned, "Approving B2 will remove A1 of alice: this policy replaces the oldest device (at most 1).");
      await page.waitForFunction(() => document.querySelectorAll("#inbox tbody tr").length === 0, null, { timeout: 10000 });
      await page.waitForFunction(() => /Approved B2 of alice: (?=.*removed A1)(?=.*registered B2)/.test(document.querySelector("#service-status").textContent));
      assert.equal(await page.textContent("#inbox-count"), "0");
      const state = await call(server, "GET", "/v1/users/alice", { token: "admin" });
      assert.deepEqual(state.json.state.devices.map((d) => d.device_id), ["B2"]);
      assert.equal((await login(server, "alice", phone("B2"))).json.outcome, "allow", "approved in the console, allowed at the next login");
      await page.screenshot({ path: join(screens, `approved-${db.name}.png`) });

      // A webhook delivery that ran out of attempts, replayed from the console.
      await receiver.behave({ down: true });
      const hooks = await call(server, "PUT", "/v1/webhooks", {
        token: "admin",
        body: { endpoints: [{ id: "siem", url: `${receiver.url}/hook`, secret: WEBHOOK_SECRET, events: ["device.registered"], max_attempts: 1 }] },
      });
      assert.equal(hooks.status, 200, hooks.text);
      await login(server, "zed", phone("Z1"));
      await until("a dead delivery", async () => (await call(server, "GET", "/v1/webhooks/deliveries?state=dead", { token: "admin" })).json.deliveries.length === 1);
      await page.click("#refresh");
      const dead = page.locator("#webhook-dead tbody tr", { hasText: "device.registered" });
      await dead.waitFor({ timeout: 10000 });
      await receiver.behave({ down: false });
      await dead.locator('button[data-action="replay"]').click();
      await until("the replayed event", async () => (await receiver.received()).some((r) => r.status === 204));
      await page.waitForFunction(() => document.querySelectorAll("#webhook-dead tbody tr").length === 0, null, { timeout: 10000 });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.stop();
      await receiver.stop();
    }
  });

  test(`the console's device inventory filters, pages, exports, opens a user and wipes, on ${db.name}`, async () => {
    const server = await start({ db: db.fresh(), policy: POLICY, args: ["--console", join(repo, "js")] });
    const browser = await launch();
    const errors = [];
    try {
      for (let i = 0; i < 60; i++) {
        const model = i % 3 === 0 ? "Pixel 8" : "iPhone15,2";
        const r = await login(server, `user${String(i).padStart(2, "0")}`, phone(`P${i}`, { model, os_type: i % 3 === 0 ? "android" : "ios", serial_number: `SERIAL${1000 + i}` }));
        assert.equal(r.json.outcome, "allow", r.text);
      }
      assert.equal((await login(server, "user07", phone("X7"))).json.outcome, "pending_approval");
      const page = await open(browser, server, errors);
      await connect(page);
      await page.locator("#devices tbody tr").first().waitFor();
      assert.equal(await page.locator("#devices tbody tr").count(), 60, "one page of 100 holds every device");
      assert.match(await page.locator("#devices tbody tr").first().textContent(), /\*\*\*\*1000/, "serials masked");

      // Filters, then pages of 25.
      await page.fill('#devices-form input[name="model"]', "Pixel");
      await page.click('#devices-form button[type="submit"]');
      await page.waitForFunction(() => document.querySelectorAll("#devices tbody tr").length === 20);
      await page.fill('#devices-form input[name="model"]', "");
      await page.selectOption('#devices-form select[name="limit"]', "25");
      await page.selectOption('#devices-form select[name="sort"]', "user");
      await page.click('#devices-form button[type="submit"]');
      await page.waitForFunction(() => document.querySelector("#devices").dataset.page === "1" && document.querySelectorAll("#devices tbody tr").length === 25);
      const first = await page.locator("#devices tbody tr").first().getAttribute("data-user");
      assert.equal(first, "user00");
      await page.click("#devices-next");
      await page.waitForFunction(() => document.querySelector("#devices").dataset.page === "2");
      assert.equal(await page.locator("#devices tbody tr").first().getAttribute("data-user"), "user25");
      await page.click("#devices-next");
      await page.waitForFunction(() => document.querySelector("#devices").dataset.page === "3" && document.querySelectorAll("#devices tbody tr").length === 10);
      assert.match(await page.textContent("#devices-page"), /the last page/);
      assert.equal(await page.isDisabled("#devices-next"), true);
      await page.click("#devices-prev");
      await page.waitForFunction(() => document.querySelector("#devices").dataset.page === "2");
      await page.screenshot({ path: join(screens, `devices-${db.name}.png`) });

      // The export: the filtered list, every page of it.
      await page.selectOption('#devices-form select[name="os_type"]', "ios");
      const download = page.waitForEvent("download");
      await page.click("#devices-csv");
      const file = await (await download).path();
      const lines = readFileSync(file, "utf8").trimEnd().split("\r\n");
      assert.equal(lines[0].split(",")[0], "user");
      assert.equal(lines.length, 1 + 40, "the 40 iOS devices and the header");

      // A device's user opens, with the pending request; a wipe asks first.
      await page.click('#devices-form button[type="submit"]');
      await page.waitForFunction(() => document.querySelector("#devices").dataset.page === "1");
      await page.locator('#devices tbody tr[data-user="user07"] a').click();
      const wipeRow = page.locator('#user-devices tbody tr[data-device="P7"]');
      await wipeRow.waitFor();
      assert.match(await page.textContent("#user-devices"), /X7 .*waiting for approval/s);
      assert.doesNotMatch(await page.textContent("#user-groups"), /version/);
      const asked = accepting(page);
      await wipeRow.locator('button[data-action="wipe"]').click();
      assert.match(await asked, /^Wipe P7 of user07\?/);
      await page.waitForFunction(() => /Wiped P7 of user07: removed P7, sent wipe to P7/.test(document.querySelector("#service-status").textContent));
      await page.screenshot({ path: join(screens, `user-${db.name}.png`) });
      assert.equal((await call(server, "GET", "/v1/devices?user=user07", { token: "admin" })).json.devices.length, 0);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test(`the console edits the live policy: preview over the stored users, save, report-only, on ${db.name}`, async () => {
    const server = await start({ db: db.fresh(), policy: POLICY, args: ["--console", join(repo, "js")] });
    const browser = await launch();
    const errors = [];
    try {
      await login(server, "alice", phone("A1"));
      await login(server, "alice", phone("A2"));
      const page = await open(browser, server, errors);
      await connect(page);
      assert.match(await page.textContent("#live-policy"), /Version 1, stored .* by the service at its start/);
      // Connected, the form holds the live policy, not the bundled sample's.
      await page.waitForFunction(() => /The form holds the live policy/.test(document.querySelector("#file-note").textContent));
      assert.deepEqual(await page.evaluate(() => window.__mdm.readForm().assignment.groups), ["sales"]);
      await page.fill('input[name="assigned.max_devices"]', "3");
      await page.click("#live-load");
      await page.waitForFunction(() => /The form now holds the live policy again/.test(document.querySelector("#service-status").textContent));
      await page.waitForFunction(() => window.__mdm.readForm().assigned?.max_devices === 1);
      await page.fill('input[name="assigned.max_devices"]', "2");
      await page.evaluate(() => window.__mdm.settled());
      await page.click("#live-preview");
      await page.waitForFunction(() => /Over the 1 stored user\(s\), 1 would be decided otherwise\. Assigned users: 1 now, 1 after\./.test(document.querySelector("#live-report").textContent));
      assert.match(await page.textContent("#live-report"), /1 next phone handled differently/);
      assert.match(await page.textContent("#live-diff"), /The form changes 1 setting\(s\) of the live policy:\s*\/assigned\/max_devices 1 → 2/);
      await page.screenshot({ path: join(screens, `live-policy-${db.name}.png`) });
      const asked = accepting(page);
      await page.click("#live-save");
      assert.match(await asked, /^Save the form's policy as the live policy: .* It changes 1 setting\(s\); 1 stored user\(s\) would be decided otherwise/);
      await page.waitForFunction(() => /Saved as the live policy: version 2/.test(document.querySelector("#service-status").textContent));
      const stored = await call(server, "GET", "/v1/policy", { token: "admin" });
      assert.equal(stored.json.document.assigned.max_devices, 2);
      await page.waitForFunction(() => /Version 2, stored .* by an admin/.test(document.querySelector("#live-policy").textContent));

      const shadowAsked = accepting(page);
      await page.click("#shadow-save");
      assert.match(await shadowAsked, /report-only policy/);
      await page.waitForFunction(() => /A report-only policy is set since/.test(document.querySelector("#shadow-report").textContent));
      const cleared = accepting(page);
      await page.click("#shadow-clear");
      await cleared;
      await page.waitForFunction(() => /No report-only policy is set/.test(document.querySelector("#shadow-report").textContent));
      assert.equal((await call(server, "GET", "/v1/policy/shadow", { token: "admin" })).status, 404);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}

test("the static console (no service) keeps its panel hidden and says it previews files", async () => {
  const { serve } = await import(join(repo, "js/serve.mjs"));
  const http = await serve(0);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${http.address().port}/`);
    await page.waitForFunction(() => document.body.dataset.ready === "1", null, { timeout: 20000 });
    assert.equal(await page.isHidden("#service"), true);
    assert.match(await page.textContent("#file-note"), /previews a policy file against a population file .* does not read or change the policy a service enforces/);
  } finally {
    await browser.close();
    http.close();
  }
});
