// Fifty logins of one user from fifty new devices at once, under `max_devices: 1`: exactly
// one device is registered and the 49 others wait for approval (or are denied), on SQLite
// and on PostgreSQL with two service processes sharing one database.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { databases, start, call, login, phone } from "./harness.mjs";

const policy = (onNew) => ({
  schema: "mdm.policy/v1",
  assignment: { groups: ["sales"] },
  assigned: { max_devices: 1, on_new_device: onNew },
});

const count = (list) => list.reduce((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

for (const db of databases()) {
  describe(`fifty logins of one user at once on ${db.name}`, () => {
    for (const [onNew, rest] of [["approval", "pending_approval"], ["deny", "deny"]]) {
      test(`on_new_device ${onNew}: one registered, 49 ${rest}`, async () => {
        const url = db.fresh();
        // SQLite is one process's file; PostgreSQL is shared by two replicas.
        const servers = [await start({ db: url, policy: policy(onNew) })];
        if (db.name === "postgres") servers.push(await start({ db: url, policy: policy(onNew) }));
        try {
          const answers = await Promise.all(
            Array.from({ length: 50 }, (_, i) => login(servers[i % servers.length], "alice", phone(`D${i}`))),
          );
          assert.deepEqual(answers.filter((a) => a.status !== 200).map((a) => a.text), []);
          assert.deepEqual(count(answers.map((a) => a.json.outcome)), { allow: 1, [rest]: 49 });
          assert.ok(answers.every((a) => a.json.fault === undefined), "no request failed closed");

          const user = await call(servers[0], "GET", "/v1/users/alice", { token: "admin" });
          assert.equal(user.json.state.devices.length, 1);
          const winner = answers.find((a) => a.json.outcome === "allow").json.effects[0].device.device_id;
          assert.equal(user.json.state.devices[0].device_id, winner);
          assert.equal(user.json.state.pending.length, onNew === "approval" ? 49 : 0);
          const inbox = await call(servers[0], "GET", "/v1/pending?limit=100", { token: "admin" });
          assert.equal(inbox.json.pending.length, onNew === "approval" ? 49 : 0);
          const log = await call(servers[0], "GET", "/v1/decisions?user=alice&limit=1000", { token: "admin" });
          assert.equal(log.json.decisions.length, 50, "one logged decision per answer");
          assert.deepEqual(
            new Set(log.json.decisions.map((d) => d.id)),
            new Set(answers.map((a) => a.headers.get("mdm-decision-id"))),
          );
        } finally {
          await Promise.all(servers.map((s) => s.stop()));
        }
      });
    }
  });
}

for (const db of databases().filter((d) => d.name === "postgres")) {
  test("a policy one replica stores is applied by the other", async () => {
    const url = db.fresh();
    const [a, b] = [await start({ db: url, policy: policy("approval") }), await start({ db: url })];
    try {
      assert.equal((await login(b, "bob", phone("B1"))).json.outcome, "allow");
      const put = await call(a, "PUT", "/v1/policy", { token: "admin", body: { ...policy("approval"), enabled: false } });
      assert.equal(put.status, 200, put.text);
      // Replicas poll every 100 ms in the tests (`--poll-ms`).
      let outcome;
      for (let i = 0; i < 50 && outcome !== "limited"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        outcome = (await login(b, "carol", phone(`C${i}`))).json.outcome;
      }
      assert.equal(outcome, "limited");
      const health = await call(b, "GET", "/healthz");
      assert.equal(health.json.policy_digest, put.json.digest);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
}
