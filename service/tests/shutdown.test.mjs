// SIGTERM: the service stops taking connections, answers the request in flight (here one
// whose body is still arriving when the signal comes), stores its decision, and exits 0.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { databases, start, call, GATEWAY, phone } from "./harness.mjs";

const POLICY = { schema: "mdm.policy/v1", assignment: { groups: ["sales"] } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const db of databases()) {
  describe(`SIGTERM on ${db.name}`, () => {
    test("a request in flight is answered and stored; the process exits 0", async () => {
      const url = db.fresh();
      const server = await start({ db: url, policy: POLICY, env: { MDM_LOG: process.env.MDM_LOG ?? "info" } });
      const { port } = new URL(server.url);
      const body = JSON.stringify({ user: "alice", groups: ["sales"], device: phone("A1") });
      const socket = net.connect(Number(port), "127.0.0.1");
      await new Promise((r) => socket.once("connect", r));
      let answer = "";
      socket.on("data", (c) => { answer += c; });
      const closed = new Promise((r) => socket.once("close", r));
      socket.write(
        `POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${GATEWAY}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` + body.slice(0, 10),
      );
      await sleep(300);
      const exited = new Promise((r) => server.proc.once("exit", (code, signal) => r({ code, signal })));
      server.proc.kill("SIGTERM");
      await sleep(300);
      assert.equal(server.proc.exitCode, null, "still answering the request in flight");
      // A new connection is not taken any more.
      await assert.rejects(fetch(`${server.url}/healthz`));
      // The rest of the body, without half-closing: the service closes the connection
      // once it has answered.
      socket.write(body.slice(10));
      await closed;
      assert.match(answer, /^HTTP\/1\.1 200 /, answer);
      const decision = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
      assert.equal(decision.outcome, "allow");
      const id = /mdm-decision-id: (\S+)/i.exec(answer)?.[1];
      assert.ok(id, answer);
      assert.deepEqual(await exited, { code: 0, signal: null });
      assert.match(server.stderr(), /stopped/);

      const again = await start({ db: url, create: false });
      try {
        const log = await call(again, "GET", "/v1/decisions", { token: "admin" });
        assert.deepEqual(log.json.decisions.map((d) => d.id), [id], "the answered decision was stored");
      } finally {
        await again.stop();
      }
    });
  });
}
