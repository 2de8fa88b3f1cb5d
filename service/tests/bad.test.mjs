// Bad input gets its 4xx error with a code and a pointer, and the service goes on serving:
// malformed JSON, unknown fields, a 100 MB body, a 10 KB user id in a path, a missing or
// wrong token.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { databases, start, call, login, phone, hugePost, GATEWAY, ADMIN } from "./harness.mjs";

const POLICY = { schema: "mdm.policy/v1", assignment: { groups: ["sales"] } };

for (const db of databases()) {
  describe(`bad input on ${db.name}`, () => {
    let server;
    before(async () => { server = await start({ db: db.fresh(), policy: POLICY }); });
    after(() => server.stop());

    const stillServing = async () => {
      assert.equal((await call(server, "GET", "/healthz")).status, 200);
      assert.equal((await login(server, "alice", phone("A1"))).json.outcome, "allow");
    };

    const cases = [
      ["malformed JSON", "POST", "/v1/login", { token: "gateway", raw: '{"user": "alice", ' }, 400, "service.bad_request", ""],
      ["a JSON array", "POST", "/v1/login", { token: "gateway", raw: "[]" }, 400, "service.bad_request", ""],
      ["a name given twice", "POST", "/v1/login", { token: "gateway", raw: '{"user": "alice", "user": "mallory", "device": {"device_id": "A1", "os_type": "ios"}}' }, 400, "service.bad_request", "/user"],
      // Inside the event's parts the engine's reader refuses it, with the contract's code.
      ["a device field given twice", "POST", "/v1/login", { token: "gateway", raw: '{"user": "alice", "device": {"device_id": "A1", "os_type": "ios", "device_id": "B2"}}' }, 400, "invalid_event", "/device/device_id"],
      ["an unknown field", "POST", "/v1/login", { token: "gateway", body: { user: "alice", device: phone("A1"), grups: [] } }, 400, "service.bad_request", "/grups"],
      ["a group that is not a string", "POST", "/v1/login", { token: "gateway", body: { user: "alice", groups: [7], device: phone("A1") } }, 400, "service.bad_request", "/groups/0"],
      ["a device without an id", "POST", "/v1/login", { token: "gateway", body: { user: "alice", device: { os_type: "ios" } } }, 400, "invalid_event", "/device/device_id"],
      ["a time that is not RFC 3339", "POST", "/v1/login", { token: "gateway", body: { user: "alice", device: phone("A1"), at: "yesterday" } }, 400, "invalid_event", "/at"],
      ["a login sent as an admin event", "POST", "/v1/events", { token: "admin", body: { type: "login", user: "alice" } }, 400, "invalid_event", "/type"],
      ["an unknown event type", "POST", "/v1/events", { token: "admin", body: { type: "erase", user: "alice", device_id: "A1" } }, 400, "invalid_event", "/type"],
      ["a 10 KB user id in a path", "GET", `/v1/users/${"u".repeat(10240)}`, { token: "admin" }, 400, "service.bad_request", "user"],
      ["a limit out of range", "GET", "/v1/decisions?limit=100000", { token: "admin" }, 400, "service.bad_request", "limit"],
      ["an unknown query parameter", "GET", "/v1/pending?lmit=3", { token: "admin" }, 400, "service.bad_request", ""],
      ["a missing token", "POST", "/v1/login", { body: { user: "alice", device: phone("A1") } }, 401, "service.unauthorized", ""],
      ["a wrong token", "POST", "/v1/login", { token: "x".repeat(40), body: { user: "alice", device: phone("A1") } }, 401, "service.unauthorized", ""],
      ["a token without Bearer", "GET", "/v1/pending", { token: undefined, raw: undefined }, 401, "service.unauthorized", ""],
      ["the gateway's token on an admin route", "PUT", "/v1/policy", { token: "gateway", body: POLICY }, 403, "service.forbidden", ""],
      ["an unknown route", "GET", "/v2/everything", { token: "admin" }, 404, "service.not_found", ""],
      ["a body sent as text/plain", "POST", "/v1/login", { token: "gateway", body: { user: "alice", device: phone("A1") }, contentType: "text/plain" }, 415, "service.unsupported_media_type", ""],
      ["a login at year 9999", "POST", "/v1/login", { token: "gateway", body: { user: "alice", device: phone("A1"), at: "9999-01-01T00:00:00Z" } }, 400, "invalid_event", "/at"],
      ["a misspelt field of an approval", "POST", "/v1/events", { token: "admin", body: { type: "approve", user: "alice", device_id: "A1", frm_device: "A1" } }, 400, "service.bad_request", "/frm_device"],
    ];
    for (const [name, method, path, options, status, code, pointer] of cases) {
      test(name, async () => {
        const r = await call(server, method, path, options);
        assert.equal(r.status, status, r.text);
        assert.equal(r.json.code, code);
        assert.equal(r.json.pointer, pointer);
        assert.ok(r.json.message.length > 0);
        await stillServing();
      });
    }

    test("a 100 MB body is refused before it is read", async () => {
      for (const [path, token] of [["/v1/login", GATEWAY], ["/v1/policy", ADMIN]]) {
        const r = await hugePost(server, path, 100 << 20, token);
        assert.equal(r.status, 413);
        assert.equal(r.json.code, "service.too_large");
      }
      await stillServing();
    });

    test("a refused request changes nothing", async () => {
      const before = await call(server, "GET", "/v1/decisions?limit=1000", { token: "admin" });
      await call(server, "POST", "/v1/login", { token: "gateway", body: { user: "zed", device: phone("Z1"), extra: 1 } });
      await call(server, "POST", "/v1/login", { token: "admin", body: { user: "zed", device: phone("Z1") } });
      assert.equal((await call(server, "GET", "/v1/users/zed", { token: "admin" })).status, 404);
      const after = await call(server, "GET", "/v1/decisions?limit=1000", { token: "admin" });
      assert.equal(after.json.decisions.length, before.json.decisions.length);
    });
  });
}
