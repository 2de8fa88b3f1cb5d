// Logins and approvals while the server is killed with SIGKILL and restarted: every
// decision the client received an answer for is in the stored state afterwards.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { databases, start, call, login, admin, phone } from "./harness.mjs";

const POLICY = {
  schema: "mdm.policy/v1",
  assignment: { groups: ["sales"] },
  assigned: { max_devices: 1, on_new_device: "approval", on_approve: "add" },
};
const USERS = 12;
const REQUESTS = 360;
const KILL_AT = [90, 180, 270];

for (const db of databases()) {
  describe(`durability on ${db.name}`, () => {
    test("nothing answered is lost across SIGKILLs", async (t) => {
      const url = db.fresh();
      let server = await start({ db: url, policy: POLICY });
      const answered = [];
      let failed = 0;
      let sent = 0;
      let restarting = null;
      const worker = async () => {
        while (sent < REQUESTS) {
          const i = sent++;
          if (KILL_AT.includes(i)) {
            // Kill while the other workers' requests are in flight, then restart.
            restarting = (async () => {
              await server.kill();
              server = await start({ db: url });
            })();
          }
          if (restarting) await restarting.catch(() => {});
          const s = server;
          const user = `u${i % USERS}`;
          try {
            // Every fourth request approves the user's oldest request the client saw.
            const waiting = answered.find((a) => a.user === user && a.outcome === "pending_approval" && !a.approved);
            if (i % 4 === 3 && waiting) {
              const r = await admin(s, { type: "approve", user, device_id: waiting.device });
              if (r.status === 200) {
                waiting.approved = true;
                answered.push({ user, device: waiting.device, outcome: "approved", id: r.headers.get("mdm-decision-id") });
              } else if (r.status === 409) {
                // Already approved by an answer the client never got: the state says so.
                waiting.approved = true;
              } else failed++;
            } else {
              const r = await login(s, user, phone(`${user}-d${i}`));
              if (r.status === 200 && !r.json.fault) {
                answered.push({ user, device: `${user}-d${i}`, outcome: r.json.outcome, id: r.headers.get("mdm-decision-id") });
              } else failed++;
            }
          } catch {
            failed++; // no answer: the connection died with the server
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      if (restarting) await restarting;
      try {
        t.diagnostic(`${answered.length} answered, ${failed} cut off by ${KILL_AT.length} SIGKILLs`);
        assert.ok(answered.length > REQUESTS / 2, `${answered.length} answered, ${failed} not`);
        const states = {};
        const logs = {};
        for (let u = 0; u < USERS; u++) {
          const user = `u${u}`;
          states[user] = (await call(server, "GET", `/v1/users/${user}`, { token: "admin" })).json.state;
          const log = await call(server, "GET", `/v1/decisions?user=${user}&limit=1000`, { token: "admin" });
          logs[user] = new Set(log.json.decisions.map((d) => d.id));
        }
        for (const a of answered) {
          const s = states[a.user];
          const devices = s.devices.map((d) => d.device_id);
          const pending = s.pending.map((p) => p.device.device_id);
          if (a.outcome === "allow" || a.outcome === "approved") assert.ok(devices.includes(a.device), `${a.device} is registered`);
          else if (a.outcome === "pending_approval") assert.ok(pending.includes(a.device) || devices.includes(a.device), `${a.device} waits or was approved`);
          else assert.fail(`unexpected outcome ${a.outcome}`);
          assert.ok(logs[a.user].has(a.id), `decision ${a.id} is in the log`);
        }
      } finally {
        await server.stop();
      }
    });
  });
}
