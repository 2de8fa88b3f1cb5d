// The console served by `mdm serve`, in Debian's Chromium: the admin approves a pending
// request in the inbox, and the user's next login is allowed; a dead webhook delivery is
// replayed with its button.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
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

for (const db of databases()) {
  test(`the console approves a pending request on ${db.name}`, async () => {
    assert.ok(existsSync(executablePath), `${executablePath} is missing: make test installs Debian's chromium`);
    const server = await start({ db: db.fresh(), policy: POLICY, args: ["--console", join(repo, "js")] });
    const browser = await launch();
    const receiver = await startReceiver();
    try {
      assert.equal((await login(server, "alice", phone("A1"))).json.outcome, "allow");
      assert.equal((await login(server, "alice", phone("B2", { model: "iPhone15,2" }))).json.outcome, "pending_approval");
      assert.equal((await login(server, "alice", phone("B2"))).json.outcome, "pending_approval", "still waiting");

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${server.url}/`);
      await page.waitForSelector("#service:not([hidden])", { timeout: 20000 });
      await page.fill("#admin-token", ADMIN);
      await page.click("#connect");
      const row = page.locator('#inbox tbody tr[data-user="alice"][data-device="B2"]');
      await row.waitFor({ timeout: 10000 });
      assert.match(await row.textContent(), /iPhone15,2/);
      await row.locator('button[data-action="approve"]').click();
      await page.waitForFunction(() => document.querySelectorAll("#inbox tbody tr").length === 0, null, { timeout: 10000 });
      assert.match(await page.textContent("#service-status"), /approve: alice \/ B2 done/);
      // The log on screen shows the approval, by the admin's token.
      await page.waitForFunction(() => [...document.querySelectorAll("#log tbody tr")].some((tr) => tr.textContent.includes("approve")));

      const next = await login(server, "alice", phone("B2"));
      assert.equal(next.json.outcome, "allow", "approved in the console, allowed at the next login");
      const state = await call(server, "GET", "/v1/users/alice", { token: "admin" });
      assert.deepEqual(state.json.state.devices.map((d) => d.device_id).sort(), ["A1", "B2"]);

      // The user's devices, with the wipe an admin confirms.
      await page.fill('#user-form input[name="user"]', "alice");
      await page.click('#user-form button[type="submit"]');
      await page.locator("#user-devices tbody tr").nth(1).waitFor();
      page.once("dialog", (d) => d.accept());
      await page.locator('#user-devices tbody tr', { hasText: "A1" }).locator('button[data-action="wipe"]').click();
      await page.waitForFunction(() => /wipe: alice \/ A1 done; wipe sent to A1/.test(document.querySelector("#service-status").textContent));

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
}

test("the static console (no service) keeps its panel hidden", async () => {
  const { serve } = await import(join(repo, "js/serve.mjs"));
  const http = await serve(0);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${http.address().port}/`);
    await page.waitForFunction(() => document.body.dataset.ready === "1", null, { timeout: 20000 });
    assert.equal(await page.isHidden("#service"), true);
  } finally {
    await browser.close();
    http.close();
  }
});
