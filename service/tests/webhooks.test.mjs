// Webhooks against a real receiver process on loopback (receiver.mjs), which checks every
// signature with node:crypto and with the Standard Webhooks library: the events of each
// change as signed CloudEvents; a receiver that fails three times, then answers; a dead
// delivery replayed; a SIGKILL of the service between the commit and the delivery; the
// sweep's expired request; two replicas sharing one outbox on PostgreSQL. Backoffs,
// timeouts and polls are short through the service's flags.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { databases, start, call, login, admin, phone, startReceiver, until, WEBHOOK_SECRET } from "./harness.mjs";

const POLICY = {
  schema: "mdm.policy/v1",
  assignment: { groups: ["sales"] },
  assigned: { max_devices: 1, on_new_device: "approval", on_approve: "add" },
};
const FAST = ["--webhook-poll-ms", "50", "--webhook-backoff-ms", "50", "--webhook-backoff-max-ms", "200"];

const endpoint = (receiver, more = {}) => ({ id: "receiver", url: `${receiver.url}/hook`, secret: WEBHOOK_SECRET, ...more });

async function configure(server, endpoints) {
  const r = await call(server, "PUT", "/v1/webhooks", { token: "admin", body: { endpoints } });
  assert.equal(r.status, 200, r.text);
}

/// The receiver's answered attempts (a status given), by event id.
async function answered(receiver) {
  const byId = new Map();
  for (const r of await receiver.received()) {
    if (r.status === null) continue;
    if (!byId.has(r.id)) byId.set(r.id, []);
    byId.get(r.id).push(r);
  }
  return byId;
}

/// The events the receiver took (answered 2xx), each once, as parsed CloudEvents.
async function delivered(receiver) {
  const events = [];
  for (const attempts of (await answered(receiver)).values()) {
    const ok = attempts.filter((a) => a.status >= 200 && a.status < 300);
    if (ok.length) events.push({ ...JSON.parse(ok[0].body), _ok: ok.length, _attempts: attempts });
  }
  return events;
}

const deliveries = async (server, query = "") =>
  (await call(server, "GET", `/v1/webhooks/deliveries${query}`, { token: "admin" })).json.deliveries;

for (const db of databases()) {
  describe(`webhooks on ${db.name}`, () => {
    test("each change reaches the receiver once, signed, as a CloudEvents document", async () => {
      const receiver = await startReceiver();
      const server = await start({ db: db.fresh(), policy: POLICY, args: FAST });
      try {
        await configure(server, [endpoint(receiver)]);
        const first = await login(server, "alice", phone("A1"));
        const second = await login(server, "alice", phone("A2"));
        assert.equal(second.json.outcome, "pending_approval");
        const approved = await admin(server, { type: "approve", user: "alice", device_id: "A2" });
        assert.equal(approved.status, 200, approved.text);
        const wiped = await admin(server, { type: "wipe", user: "alice", device_id: "A1" });
        const deprovisioned = await admin(server, { type: "deprovision", user: "alice", device_id: "A2" });
        assert.equal(deprovisioned.status, 200, deprovisioned.text);
        const policy = await call(server, "PUT", "/v1/policy", { token: "admin", body: POLICY });
        assert.equal(policy.status, 200, policy.text);

        const events = await until("six events", async () => { const e = await delivered(receiver); return e.length === 6 && e; });
        const all = await receiver.received();
        assert.ok(all.every((a) => a.verified), "every signature verifies, by hand and by the library");
        assert.ok(all.every((a) => a.contentType === "application/cloudevents+json"), JSON.stringify(all.map((a) => a.contentType)));
        assert.equal(all.length, 6, "each sent once");
        const byType = Object.fromEntries(events.map((e) => [e.type, e]));
        assert.deepEqual(Object.keys(byType).sort(), [
          "mdm.approval.requested", "mdm.device.deprovisioned", "mdm.device.registered", "mdm.device.wiped", "mdm.policy.changed",
        ]);
        const registered = events.filter((e) => e.type === "mdm.device.registered").map((e) => e.data.decision_id).sort();
        assert.deepEqual(registered, [first.headers.get("mdm-decision-id"), approved.headers.get("mdm-decision-id")].sort());
        const requested = byType["mdm.approval.requested"];
        assert.equal(requested.specversion, "1.0");
        assert.equal(requested.source, "urn:mdm-policy:serve");
        assert.match(requested.time, /Z$/);
        assert.deepEqual([requested.data.user, requested.data.device_id, requested.data.decision_id],
          ["alice", "A2", second.headers.get("mdm-decision-id")]);
        assert.equal(byType["mdm.device.wiped"].data.decision_id, wiped.headers.get("mdm-decision-id"));
        assert.equal(byType["mdm.policy.changed"].data.version, policy.json.version);
        for (const e of events) assert.equal(e.id, e._attempts[0].id, "the CloudEvents id is the webhook-id");

        const list = await until("every delivery marked", async () => {
          const d = await deliveries(server);
          return d.length === 6 && d.every((x) => x.state === "delivered") && d;
        });
        assert.ok(list.every((d) => d.attempts === 1 && d.last_status === 204), JSON.stringify(list));
      } finally {
        await server.stop();
        await receiver.stop();
      }
    });

    test("a receiver that fails three times then answers gets the event; a dead one is replayed", async () => {
      const receiver = await startReceiver({ fail: 3 });
      const down = await startReceiver();
      await down.behave({ down: true });
      const server = await start({ db: db.fresh(), policy: POLICY, args: FAST });
      try {
        await configure(server, [
          endpoint(receiver),
          { ...endpoint(down), id: "down", events: ["device.registered"], max_attempts: 2 },
        ]);
        const r = await login(server, "bob", phone("B1"));
        assert.equal(r.json.outcome, "allow");
        const [event] = await until("the fourth attempt", async () => { const e = await delivered(receiver); return e.length === 1 && e; });
        assert.deepEqual(event._attempts.map((a) => a.status), [500, 500, 500, 204]);
        assert.ok(event._attempts.every((a) => a.verified));
        const [ok] = await until("the delivery marked", async () => {
          const d = await deliveries(server, "?endpoint=receiver");
          return d[0]?.state === "delivered" && d;
        });
        assert.deepEqual([ok.attempts, ok.last_status, ok.last_error], [4, 204, null]);

        // The other endpoint allows two attempts: then the delivery is dead.
        const [dead] = await until("the dead delivery", async () => {
          const d = await deliveries(server, "?state=dead");
          return d.length === 1 && d;
        });
        assert.deepEqual([dead.endpoint, dead.attempts, dead.last_status, dead.last_error], ["down", 2, 503, "webhook.status"]);
        assert.equal((await down.received()).length, 2);
        await down.behave({ down: false });
        const replay = await call(server, "POST", `/v1/webhooks/deliveries/${dead.id}/replay`, { token: "admin" });
        assert.equal(replay.status, 200, replay.text);
        const [again] = await until("the replayed delivery", async () => { const e = await delivered(down); return e.length === 1 && e; });
        assert.equal(again.id, event.id, "the same event, under the same id");
        await until("the replay marked", async () => (await deliveries(server, "?endpoint=down"))[0]?.state === "delivered");
      } finally {
        await server.stop();
        await receiver.stop();
        await down.stop();
      }
    });

    test("a SIGKILL between the commit and the delivery: the event arrives once the service is back", async () => {
      // The receiver never answers until told: the service is killed mid-attempt.
      const receiver = await startReceiver({ hang: 1_000_000 });
      const url = db.fresh();
      const args = [...FAST, "--webhook-timeout-ms", "1000"];
      let server = await start({ db: url, policy: POLICY, args });
      try {
        await configure(server, [endpoint(receiver, { events: ["device.registered"] })]);
        const r = await login(server, "carol", phone("C1"));
        assert.equal(r.json.outcome, "allow", "answered, so committed");
        const [attempt] = await until("the first attempt", async () => { const a = await receiver.received(); return a.length > 0 && a; });
        await server.kill();
        await receiver.behave({ hang: 0 });
        server = await start({ db: url, args, create: false });
        const [event] = await until("the event after the restart", async () => { const e = await delivered(receiver); return e.length === 1 && e; });
        assert.equal(event.id, attempt.id);
        assert.equal(event.data.decision_id, r.headers.get("mdm-decision-id"));
        assert.equal(event._ok, 1, "answered once");
        await until("the delivery marked", async () => (await deliveries(server))[0]?.state === "delivered");
      } finally {
        await server.stop();
        await receiver.stop();
      }
    });

    test("the sweep notifies a request that expired unseen", async () => {
      const receiver = await startReceiver();
      const policy = { ...POLICY, assigned: { ...POLICY.assigned, approval_ttl_hours: 1 } };
      const server = await start({ db: db.fresh(), policy, args: [...FAST, "--webhook-sweep-ms", "100"] });
      try {
        await configure(server, [endpoint(receiver, { events: ["approval.expired"] })]);
        await login(server, "dan", phone("D1"));
        const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000).toISOString();
        const r = await login(server, "dan", phone("D2"), ["sales"], { at: twoHoursAgo });
        assert.equal(r.json.outcome, "pending_approval", r.text);
        const [event] = await until("approval.expired", async () => { const e = await delivered(receiver); return e.length === 1 && e; });
        assert.equal(event.type, "mdm.approval.expired");
        assert.deepEqual([event.data.user, event.data.device_id, event.data.decision_id], ["dan", "D2", null]);
        assert.equal(event.data.requested_at.slice(0, 16), twoHoursAgo.slice(0, 16));
      } finally {
        await server.stop();
        await receiver.stop();
      }
    });

    if (db.name === "postgres") {
      test("two replicas share the outbox: every event delivered, none twice", async () => {
        const receiver = await startReceiver();
        const url = db.fresh();
        const a = await start({ db: url, policy: POLICY, args: FAST });
        const b = await start({ db: url, policy: POLICY, args: FAST });
        try {
          await configure(a, [endpoint(receiver)]);
          const USERS = 30;
          const logins = [];
          for (let i = 0; i < USERS; i++) {
            const server = i % 2 ? a : b;
            logins.push(login(server, `u${i}`, phone(`P${i}`)).then(() => login(i % 2 ? b : a, `u${i}`, phone(`Q${i}`))));
          }
          await Promise.all(logins);
          const events = await until(`${2 * USERS} events`, async () => { const e = await delivered(receiver); return e.length === 2 * USERS && e; });
          const all = await receiver.received();
          assert.ok(all.every((x) => x.verified));
          assert.equal(all.length, 2 * USERS, "no event delivered twice");
          assert.ok(events.every((e) => e._ok === 1));
          const types = events.map((e) => e.type);
          assert.equal(types.filter((t) => t === "mdm.device.registered").length, USERS);
          assert.equal(types.filter((t) => t === "mdm.approval.requested").length, USERS);
        } finally {
          await a.stop();
          await b.stop();
          await receiver.stop();
        }
      });
    }
  });
}
