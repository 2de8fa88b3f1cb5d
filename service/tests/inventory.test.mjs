// The device inventory (`GET /v1/devices`) and the list of users (`GET /v1/users`)
// against a real `mdm serve`, on SQLite and on PostgreSQL: the rows a login or an admin
// event writes, every filter, pages by cursor in byte order on both databases, the CSV
// export, and (PostgreSQL; SQLite's is in the Rust suite) the inventory filled from users
// an older version stored.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { databases, start, call, login, admin, phone } from "./harness.mjs";

const POLICY = {
  schema: "mdm.policy/v1",
  assignment: { groups: ["sales"] },
  assigned: { max_devices: 2, on_new_device: "approval", on_approve: "add" },
};

const get = (server, path, headers) => call(server, "GET", path, { token: "admin", headers });
const ids = (r) => r.json.devices.map((d) => `${d.user}/${d.device_id}`);

for (const db of databases()) {
  describe(`the device inventory on ${db.name}`, () => {
    let server;
    before(async () => {
      server = await start({ db: db.fresh(), policy: POLICY });
      // Ids that byte order and a language's collation sort differently: upper case
      // before lower, and a non-ASCII letter after every ASCII one.
      for (const [user, device, more] of [
        ["alice", "A1", { serial_number: "F2LXK0QJHG7F", model: "iPhone15,2", name: "Alice's iPhone" }],
        ["alice", "a2", { os_type: "android", model: "Pixel 8" }],
        ["Bob", "B1", { model: "iPhone14,5" }],
        ["émile", "E1", { os_type: "other", name: "=1+1" }],
      ]) {
        const r = await login(server, user, phone(device, more));
        assert.equal(r.json.outcome, "allow", r.text);
      }
    });
    after(() => server.stop());

    test("every registered device, its user, masked serial and filters", async () => {
      const all = await get(server, "/v1/devices?sort=user");
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(ids(all), ["Bob/B1", "alice/A1", "alice/a2", "émile/E1"], "byte order on both databases");
      assert.equal(all.json.devices[1].serial_number, "****HG7F");
      assert.equal(all.json.next_cursor, null);
      assert.deepEqual(ids(await get(server, "/v1/devices?os_type=android")), ["alice/a2"]);
      assert.deepEqual(ids(await get(server, "/v1/devices?model=iPhone&sort=user")), ["Bob/B1", "alice/A1"]);
      assert.deepEqual(ids(await get(server, "/v1/devices?q=%C3%A9")), ["émile/E1"], "a prefix of a user");
      assert.deepEqual(ids(await get(server, "/v1/devices?q=Alice")), ["alice/A1"], "a prefix of a name");
      assert.deepEqual(ids(await get(server, "/v1/devices?q=a")), ["alice/A1", "alice/a2"], "case counts: a prefix of `a2` and of `alice`");
      assert.deepEqual(ids(await get(server, "/v1/devices?enrolled=true")), []);
      assert.equal((await get(server, "/v1/devices?noncompliant=false")).json.devices.length, 4);
      assert.equal((await get(server, "/v1/devices?registered_before=2000-01-01T00:00:00Z")).json.devices.length, 0);
      const bad = await get(server, "/v1/devices?os_type=windows");
      assert.equal(bad.status, 400);
      assert.equal(bad.json.code, "service.bad_request");
      assert.equal(bad.json.pointer, "os_type");
    });

    test("pages by cursor in both orders; a removed device leaves the list", async () => {
      for (const sort of ["registered", "user"]) {
        const seen = [];
        let path = `/v1/devices?sort=${sort}&limit=1`;
        for (;;) {
          const r = await get(server, path);
          assert.equal(r.status, 200, r.text);
          assert.ok(r.json.devices.length <= 1);
          seen.push(...ids(r));
          if (!r.json.next_cursor) break;
          path = `/v1/devices?sort=${sort}&limit=1&cursor=${r.json.next_cursor}`;
        }
        assert.equal(seen.length, 4, `${sort}: ${seen}`);
        assert.equal(new Set(seen).size, 4);
      }
      const removed = await admin(server, { type: "remove_device", user: "alice", device_id: "a2" });
      assert.equal(removed.status, 200, removed.text);
      assert.deepEqual(ids(await get(server, "/v1/devices?user=alice")), ["alice/A1"]);
    });

    test("the CSV export streams every device; a formula is made text", async () => {
      const r = await get(server, "/v1/devices?sort=user", { accept: "text/csv" });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get("content-type"), "text/csv; charset=utf-8");
      assert.match(r.headers.get("content-disposition"), /attachment; filename="devices.csv"/);
      const lines = r.text.trimEnd().split("\r\n");
      assert.equal(lines[0].split(",").slice(0, 3).join(","), "user,device_id,os_type");
      assert.equal(lines.length, 1 + 3, r.text);
      assert.ok(lines.some((l) => l.startsWith('alice,A1,ios,17.2,****HG7F,"iPhone15,2",Alice\'s iPhone,')), `a comma in a field is quoted: ${r.text}`);
      assert.ok(lines.some((l) => l.startsWith("émile,E1,other,17.2,,,'=1+1,")), r.text);
    });

    test("users by prefix, with their device and request counts", async () => {
      await login(server, "alice", phone("A3"));
      await login(server, "alice", phone("A4")); // over the two: a request
      const r = await get(server, "/v1/users?q=al");
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.users.map((u) => [u.user, u.devices, u.pending]), [["alice", 2, 1]]);
      const page = await get(server, "/v1/users?limit=2");
      assert.deepEqual(page.json.users.map((u) => u.user), ["Bob", "alice"]);
      const rest = await get(server, `/v1/users?limit=2&cursor=${page.json.next_cursor}`);
      assert.deepEqual(rest.json.users.map((u) => u.user), ["émile"]);
      assert.equal(rest.json.next_cursor, null);
    });

    if (db.name === "postgres") {
      test("a database of an older version: the inventory is filled when the service starts", async () => {
        const url = db.fresh();
        const first = await start({ db: url, policy: POLICY });
        await first.stop();
        const state = (i) => JSON.stringify({ devices: [{ device_id: `D${i}`, os_type: "ios", registered_at: "2026-01-01T00:00:00Z" }] });
        const rows = Array.from({ length: 2500 }, (_, i) => `('u${String(i).padStart(4, "0")}', '["sales"]', '${state(i)}', 1, 0)`);
        const sql = `DELETE FROM devices; INSERT INTO users (user_id, groups, state, version, updated_ms) VALUES ${rows.join(",")}; INSERT INTO backfills (name) VALUES ('devices');`;
        execFileSync("psql", [url, "-q", "-v", "ON_ERROR_STOP=1"], { input: sql, stdio: ["pipe", "pipe", "pipe"] });
        const again = await start({ db: url, policy: POLICY, create: false });
        try {
          const csv = await get(again, "/v1/devices", { accept: "text/csv" });
          assert.equal(csv.text.trimEnd().split("\r\n").length, 1 + 2500);
          const u = await get(again, "/v1/users?q=u2499");
          assert.deepEqual(u.json.users.map((x) => [x.user, x.devices]), [["u2499", 1]]);
        } finally {
          await again.stop();
        }
      });
    }
  });
}
