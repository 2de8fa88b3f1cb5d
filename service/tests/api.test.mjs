// The API against a real `mdm serve` process, on SQLite and on PostgreSQL: logins and
// their stored state, the inbox, admin events, the decision log, policy versions, the
// shadow policy and its report, the preview, the roles, health and metrics.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { databases, start, call, login, admin, phone, GATEWAY, ADMIN } from "./harness.mjs";

const POLICY = {
  schema: "mdm.policy/v1",
  assignment: { groups: ["sales"] },
  assigned: { max_devices: 1, on_new_device: "approval", on_approve: "add" },
};
const STRICT = { ...POLICY, requirements: { min_pin_length: 8 } };

for (const db of databases()) {
  describe(`the API on ${db.name}`, () => {
    let server;
    before(async () => { server = await start({ db: db.fresh(), policy: POLICY }); });
    after(() => server.stop());

    test("a login is decided, stored and logged; the inbox lists the further device", async () => {
      const first = await login(server, "alice", phone("A1", { serial_number: "F2LXK0QJHG7F" }));
      assert.equal(first.status, 200);
      assert.equal(first.json.outcome, "allow");
      assert.ok(first.headers.get("mdm-decision-id"));
      const second = await login(server, "alice", phone("B2"));
      assert.equal(second.json.outcome, "pending_approval");

      const user = await call(server, "GET", "/v1/users/alice", { token: "admin" });
      assert.equal(user.status, 200);
      assert.deepEqual(user.json.groups, ["sales"]);
      assert.deepEqual(user.json.state.devices.map((d) => d.device_id), ["A1"]);
      assert.deepEqual(user.json.state.pending.map((p) => p.device.device_id), ["B2"]);

      const inbox = await call(server, "GET", "/v1/pending", { token: "admin" });
      assert.deepEqual(inbox.json.pending.map((p) => [p.user, p.device_id]), [["alice", "B2"]]);
      assert.ok(inbox.json.pending[0].age_seconds >= 0);

      const log = await call(server, "GET", "/v1/decisions?user=alice&limit=10", { token: "admin" });
      assert.deepEqual(log.json.decisions.map((d) => d.outcome), ["pending_approval", "allow"], "newest first");
      assert.equal(log.json.decisions[1].id, first.headers.get("mdm-decision-id"));
      assert.equal(log.json.decisions[1].effects[0].device.serial_number, "****HG7F", "serials are masked in the log");
      assert.match(log.json.decisions[0].policy_digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(log.json.decisions[0].actor.startsWith("token:"), true);
    });

    test("approving from the inbox lets the device in; approving again is a 409", async () => {
      const ok = await admin(server, { type: "approve", user: "alice", device_id: "B2" });
      assert.equal(ok.status, 200, ok.text);
      assert.ok(ok.json.effects.some((e) => e.op === "add_device"));
      const inbox = await call(server, "GET", "/v1/pending", { token: "admin" });
      assert.deepEqual(inbox.json.pending, []);
      const next = await login(server, "alice", phone("B2"));
      assert.equal(next.json.outcome, "allow");
      const again = await admin(server, { type: "approve", user: "alice", device_id: "B2" });
      assert.equal(again.status, 409);
      assert.equal(again.json.code, "no_pending_request");
      assert.equal(again.json.pointer, "/device_id");
    });

    test("wipe records which admin token asked and returns the device command", async () => {
      const wiped = await admin(server, { type: "wipe", user: "alice", device_id: "A1" });
      assert.equal(wiped.status, 200, wiped.text);
      assert.deepEqual(wiped.json.commands, [{ action: "wipe", device_id: "A1" }]);
      const log = await call(server, "GET", "/v1/decisions?user=alice&limit=1", { token: "admin" });
      assert.equal(log.json.decisions[0].event, "wipe");
      assert.match(log.json.decisions[0].actor, /^token:[0-9a-f]{12}$/);
      assert.ok(!JSON.stringify(log.json).includes(ADMIN), "the token itself is never stored");
    });

    test("a new policy is validated, swapped and kept as a version", async () => {
      const bad = await call(server, "PUT", "/v1/policy", { token: "admin", body: { schema: "mdm.policy/v1", assigned: { max_devices: 0 } } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.code, "invalid_policy");
      assert.equal(bad.json.pointer, "/assigned/max_devices");
      assert.ok(bad.json.issues.length >= 1);
      const before = await call(server, "GET", "/v1/policy", { token: "admin" });
      const put = await call(server, "PUT", "/v1/policy", { token: "admin", body: { ...POLICY, enabled: false } });
      assert.equal(put.status, 200, put.text);
      assert.ok(put.json.version > before.json.version);
      const now = await call(server, "GET", "/v1/policy", { token: "admin" });
      assert.equal(now.json.document.enabled, false);
      assert.equal((await login(server, "bob", phone("C3"))).json.outcome, "limited", "the next login uses it");
      const versions = await call(server, "GET", "/v1/policy/versions", { token: "admin" });
      assert.ok(versions.json.versions.length >= 2);
      assert.equal((await call(server, "PUT", "/v1/policy", { token: "admin", body: POLICY })).status, 200);
    });

    test("a shadow policy reports what it would change and changes nothing", async () => {
      assert.equal((await call(server, "GET", "/v1/policy/shadow", { token: "admin" })).status, 404);
      const put = await call(server, "PUT", "/v1/policy/shadow", { token: "admin", body: STRICT });
      assert.equal(put.status, 200, put.text);
      const live = await login(server, "carol", phone("K1", { pin_length: 6 }));
      assert.equal(live.json.outcome, "allow", "the live policy decides");
      const report = await call(server, "GET", "/v1/shadow/report", { token: "admin" });
      assert.equal(report.json.shadow.digest, put.json.digest);
      assert.deepEqual(report.json.counts, [{ live: "allow", shadow: "deny", count: 1 }]);
      assert.equal(report.json.differences, 1);
      assert.equal(report.json.latest[0].user, "carol");
      assert.equal(report.json.latest[0].shadow.outcome, "deny");
      const user = await call(server, "GET", "/v1/users/carol", { token: "admin" });
      assert.equal(user.json.state.devices.length, 1, "the live decision's effects only");
      assert.equal((await call(server, "DELETE", "/v1/policy/shadow", { token: "admin" })).status, 204);
      assert.equal((await call(server, "GET", "/v1/shadow/report", { token: "admin" })).json.shadow, null);
    });

    test("the preview runs the proposed policy over the stored users", async () => {
      const proposed = { ...POLICY, assignment: { groups: ["sales", "support"] } };
      await login(server, "dave", phone("D1"), ["support"]);
      // An id JSON must escape: the database quotes the ids of the batch it reads.
      const odd = 'q"uote\\é/😀';
      assert.equal((await login(server, odd, phone("Q1"), ["support"])).status, 200);
      const r = await call(server, "POST", "/v1/preview", { token: "admin", body: { proposed } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.summary.became_assigned, 2);
      assert.deepEqual(r.json.changes.map((c) => c.user), ["dave", odd]);
      const bad = await call(server, "POST", "/v1/preview", { token: "admin", body: { proposed: { schema: "x" } } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.code, "invalid_policy");
    });

    test("each role reaches only its routes", async () => {
      const noToken = await call(server, "POST", "/v1/login", { body: { user: "eve", device: phone("E1") } });
      assert.equal(noToken.status, 401);
      assert.equal(noToken.json.code, "service.unauthorized");
      const wrong = await call(server, "GET", "/v1/pending", { token: "not-a-token-of-this-service" });
      assert.equal(wrong.status, 401);
      const gatewayOnAdmin = await call(server, "GET", "/v1/pending", { token: "gateway" });
      assert.equal(gatewayOnAdmin.status, 403);
      assert.equal(gatewayOnAdmin.json.code, "service.forbidden");
      const gatewayEvent = await call(server, "POST", "/v1/events", { token: "gateway", body: { type: "wipe", user: "alice", device_id: "B2" } });
      assert.equal(gatewayEvent.status, 403);
      const adminLogin = await call(server, "POST", "/v1/login", { token: "admin", body: { user: "eve", device: phone("E1") } });
      assert.equal(adminLogin.status, 403);
      const eve = await call(server, "GET", "/v1/users/eve", { token: "admin" });
      assert.equal(eve.status, 404, "refused requests changed nothing");
      const alice = await call(server, "GET", "/v1/users/alice", { token: "admin" });
      assert.ok(alice.json.state.devices.some((d) => d.device_id === "B2"), "the gateway's wipe was refused");
    });

    test("health and metrics need no token and reveal no user", async () => {
      const health = await call(server, "GET", "/healthz");
      assert.equal(health.status, 200);
      assert.equal(health.json.status, "ok");
      assert.equal(health.json.database, db.name);
      const metrics = await call(server, "GET", "/metrics");
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /mdm_decisions_total\{event="login",outcome="allow"\} \d+/);
      assert.match(metrics.text, /mdm_decision_seconds_bucket/);
      assert.match(metrics.text, /mdm_database_errors_total 0/);
      for (const user of ["alice", "bob", "carol", "dave", "A1", "B2"]) assert.ok(!metrics.text.includes(user), user);
    });
  });
}

test("the service refuses to listen beyond loopback without both tokens", async () => {
  const [db] = databases();
  await assert.rejects(
    start({ db: db.fresh(), policy: POLICY, tokens: false, args: ["--listen", "0.0.0.0:0"] }),
    /not a loopback address/,
  );
});

test("a restart keeps the stored policy, and a database without one needs --policy", async () => {
  const [db] = databases();
  const url = db.fresh();
  await assert.rejects(start({ db: url }), /holds no policy/);
  let server = await start({ db: url, policy: POLICY });
  const put = await call(server, "PUT", "/v1/policy", { token: "admin", body: { ...POLICY, enabled: false } });
  assert.equal(put.status, 200, put.text);
  await server.stop();
  server = await start({ db: url });
  assert.equal((await login(server, "bob", phone("C3"))).json.outcome, "limited", "the admin's version survives a restart");
  await server.stop();
  void GATEWAY;
});
