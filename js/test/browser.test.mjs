// The admin console in a real browser (Debian's Chromium, headless, driven by
// playwright-core): it loads the sample, the admin assigns a group and excludes another,
// and the summary on screen must equal the engine's preview computed here in Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { executablePath, launch, openPage } from "../chromium.mjs";
import { Policy, Population, preview } from "../node.mjs";
import { serve } from "../serve.mjs";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const sample = JSON.parse(readFileSync(new URL("../console/sample.json", import.meta.url), "utf8"));

async function summaryOnScreen(page) {
  return page.$$eval(".card[data-key]", (cards) =>
    Object.fromEntries(cards.map((c) => [c.dataset.key, Number(c.querySelector("b").textContent)])));
}

async function changeAndWait(page, selector, value) {
  const before = await page.evaluate(() => Number(document.body.dataset.previews));
  await page.selectOption(selector, value);
  await page.waitForFunction((n) => Number(document.body.dataset.previews) > n, before);
}

test("the console's preview is the engine's", async () => {
  assert.ok(existsSync(executablePath), `${executablePath} is missing: make test installs Debian's chromium`);
  const server = await serve(0);
  const browser = await launch();
  try {
    const { page, errors } = await openPage(browser, { viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.body.dataset.ready === "1", null, { timeout: 20000 });
    const firstRender = await page.evaluate(() => window.__mdm.firstRender);

    // Unchanged policy: nothing changes.
    const initial = await summaryOnScreen(page);
    assert.equal(initial.users, 2000);
    assert.equal(initial.became_assigned + initial.became_unassigned + initial.new_device_changed, 0);

    await changeAndWait(page, 'select[data-group="engineering"]', "assign");
    await changeAndWait(page, 'select[data-group="interns"]', "exclude");
    const shown = await summaryOnScreen(page);

    const proposed = structuredClone(sample.policy);
    proposed.assignment.groups.push("engineering");
    proposed.assignment.exclude_groups.push("interns");
    const expected = preview(new Policy(JSON.stringify(sample.policy)), new Policy(JSON.stringify(proposed)),
      new Population(JSON.stringify(sample.population)), sample.at).summary;
    assert.deepEqual(shown, expected);
    assert.ok(expected.became_assigned > 0 && expected.became_unassigned > 0, "the edit changes something");
    const rows = await page.$$eval("#changes tbody tr", (trs) => trs.length);
    assert.ok(rows > 0);
    // The filter runs in the worker, over every changed user; the table shows its answer.
    const everyone = await page.textContent("#changed-count");
    const someone = await page.$eval("#changes tbody tr:last-child", (tr) => tr.dataset.user);
    await page.fill("#filter", someone);
    await page.waitForFunction((all) => document.querySelector("#changed-count").textContent !== all, everyone);
    const listed = await page.$$eval("#changes tbody tr", (trs) => trs.map((tr) => tr.dataset.user));
    assert.equal(listed[0], someone);
    assert.ok(listed.length < rows, `${listed.length} rows for \`${someone}\``);
    await page.fill("#filter", "");
    await page.waitForFunction((all) => document.querySelector("#changed-count").textContent === all, everyone);

    // A login simulated in the page.
    await page.fill('#login-form input[name="user"]', "user0001");
    await page.click('#login-form button[type="submit"]');
    // The outcome in words, its code beside it (what the contract and the logs say).
    const result = await page.$eval('#login-result [data-side="current"]', (el) => ({ outcome: el.dataset.outcome, text: el.textContent }));
    assert.match(result.text, /^Policy in force: (allowed|limited \(app only\)|waiting for approval|denied) (allow|limited|pending_approval|deny)\b/);
    assert.equal(result.text.match(/ (allow|limited|pending_approval|deny)\b/)[1], result.outcome);

    // The answers' column scrolls on its own beside the form: both to the top.
    await page.evaluate(() => {
      window.scrollTo(0, 0);
      document.querySelector(".results").scrollTop = 0;
    });
    mkdirSync(`${repo}target`, { recursive: true });
    await page.screenshot({ path: `${repo}target/console.png`, fullPage: false });

    // A validation error appears at its field, and the preview waits for a fix.
    await page.fill('input[name="assigned.max_devices"]', "0");
    await page.waitForSelector('.field-error[data-error-for="/assigned/max_devices"]');
    const note = await page.textContent('.field-error[data-error-for="/assigned/max_devices"]');
    assert.equal(note, "must be at least 1, got 0");
    assert.deepEqual(errors, [], "no script errors in the page");

    // Version 2 policies loaded from files: the simulated login shows the app store with the
    // unmanaged copy flagged, then, when enrollment is required, the method to enroll with.
    const loadPolicy = async (doc, name) => {
      const before = await page.evaluate(() => Number(document.body.dataset.previews));
      writeFileSync(`${repo}target/${name}`, JSON.stringify(doc));
      await page.setInputFiles("#file-policy", `${repo}target/${name}`);
      await page.waitForFunction((n) => Number(document.body.dataset.previews) > n, before);
    };
    const simulate = async () => {
      await page.fill('#login-form input[name="device_id"]', "v2-phone");
      await page.selectOption('#login-form select[name="os_type"]', "ios");
      await page.fill('#login-form input[name="apps"]', "com.box:unmanaged, com.other");
      await page.click('#login-form button[type="submit"]');
    };
    const store = { schema: "mdm.policy/v2", assignment: { organization: true }, assigned: { max_devices: 1000 },
      apps: [{ id: "com.box", name: "Box", platform: "ios" }] };
    await loadPolicy(store, "console-v2-store.json");
    assert.equal(await page.inputValue('input[name="assigned.max_devices"]'), "1000");
    await simulate();
    await page.waitForSelector('#login-result [data-app="com.box"].unmanaged');
    assert.match(await page.textContent("#login-result"), /remove the unmanaged copy of Box/);
    await loadPolicy({ ...store, enrollment: { required: true } }, "console-v2-enroll.json");
    await simulate();
    await page.waitForSelector('#login-result [data-enroll="ios_profile"]');
    assert.match(await page.textContent("#login-result"), /limited/);
    const cards = await summaryOnScreen(page);
    for (const key of ["devices_need_enrollment", "devices_in_grace", "apps_gained", "apps_lost"]) {
      assert.equal(typeof cards[key], "number", `the summary shows ${key}`);
    }

    // The README's JS snippet, as written, in the browser: `mdm-policy` is the package's
    // browser entry, where `init()` fetches the module.
    const readme = readFileSync(`${repo}README.md`, "utf8");
    const snippet = readme.match(/```js\n([\s\S]*?)```/)[1].replace('"mdm-policy"', '"/index.mjs"');
    const printed = new Promise((resolve) => page.on("console", (m) => m.text().startsWith("allow") && resolve(m.text())));
    await page.addScriptTag({ type: "module", content: snippet });
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error(`no output; page errors: ${errors}`)), 15000));
    assert.equal(await Promise.race([printed, late]), "allow 1 1");
    assert.deepEqual(errors, [], "the README's snippet runs without errors");

    writeFileSync(`${repo}target/console-metrics.json`, JSON.stringify({ firstRenderMs: firstRender }) + "\n");
    console.log(`console first render with the sample: ${firstRender.toFixed(0)} ms; screenshot target/console.png`);
  } finally {
    await browser.close();
    server.close();
  }
});

test("js/README.md's Web Worker example previews off the page's thread", async () => {
  const server = await serve(0);
  const browser = await launch();
  try {
    const { page, errors } = await openPage(browser);
    const origin = `http://127.0.0.1:${server.address().port}`;
    await page.goto(`${origin}/`);
    const readme = readFileSync(`${repo}js/README.md`, "utf8");
    const worker = readme.match(/```js worker\n([\s\S]*?)```/)[1].replace('"mdm-policy"', JSON.stringify(`${origin}/index.mjs`));
    const proposed = structuredClone(sample.policy);
    proposed.assignment.groups.push("engineering");
    const docs = { current: JSON.stringify(sample.policy), proposed: JSON.stringify(proposed), population: JSON.stringify(sample.population), at: sample.at };
    const summary = await page.evaluate(async ({ worker, docs }) => {
      const url = URL.createObjectURL(new Blob([worker], { type: "text/javascript" }));
      const w = new Worker(url, { type: "module" });
      const population = new TextEncoder().encode(docs.population);
      const answer = new Promise((resolve, reject) => {
        w.onmessage = ({ data }) => resolve(data);
        w.onerror = (e) => reject(new Error(e.message));
      });
      // The population's bytes are transferred to the worker, not copied.
      w.postMessage({ ...docs, population }, [population.buffer]);
      const data = await answer;
      return data.report?.summary ?? data.error;
    }, { worker, docs });
    const expected = preview(new Policy(docs.current), new Policy(docs.proposed), new Population(docs.population), sample.at).summary;
    assert.deepEqual(summary, expected);
    assert.ok(expected.became_assigned > 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
