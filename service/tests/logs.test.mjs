// `mdm serve --log-format json`: JSON lines on stderr, each line of a request with the
// request's id (the client's x-request-id, echoed in the answer) and the decision's id.
import { test } from "node:test";
import assert from "node:assert/strict";
import { databases, start, call, phone } from "./harness.mjs";

const POLICY = { schema: "mdm.policy/v1", assignment: { groups: ["sales"] } };

for (const db of databases()) {
  test(`--log-format json names each request and decision on ${db.name}`, async () => {
    const server = await start({ db: db.fresh(), policy: POLICY, args: ["--log-format", "json"], env: { MDM_LOG: "debug" } });
    try {
      const r = await call(server, "POST", "/v1/login", {
        token: "gateway",
        body: { user: "alice", groups: ["sales"], device: phone("A1") },
        headers: { "x-request-id": "gw-trace-42" },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get("x-request-id"), "gw-trace-42");
      const made = await call(server, "GET", "/healthz");
      assert.match(made.headers.get("x-request-id"), /^req_[0-9a-f]{16}$/);
      const decision = r.headers.get("mdm-decision-id");
      let line;
      for (let i = 0; i < 100 && !line; i++) {
        const lines = server.stderr().split("\n").filter(Boolean).map((l) => JSON.parse(l));
        line = lines.find((l) => l.span?.request_id === "gw-trace-42" && l.fields?.message === "answered");
        if (!line) await new Promise((res) => setTimeout(res, 50));
      }
      assert.ok(line, server.stderr());
      assert.equal(line.span.decision_id, decision);
      assert.equal(line.span.path, "/v1/login");
      assert.equal(line.fields.status, 200);
    } finally {
      await server.stop();
    }
  });
}
