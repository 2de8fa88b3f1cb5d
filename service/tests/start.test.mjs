// How `mdm serve` starts, as an operator meets it (issue 28): which policy is in force
// when a process starts with an older `--policy`, a missing database, blank tokens, token
// files with comments, and the log in JSON lines.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { databases, start, call, login, phone, repo, GATEWAY, ADMIN } from "./harness.mjs";

const POLICY = { schema: "mdm.policy/v1", assignment: { groups: ["sales"] } };
const STRICT = { ...POLICY, requirements: { min_pin_length: 8 } };
const scratch = join(repo, "target/service-tests");

for (const db of databases()) {
  describe(`the policy at start on ${db.name}`, () => {
    test("a replica started with an older --policy keeps the admin's; --replace-policy replaces it", async () => {
      const url = db.fresh();
      const a = await start({ db: url, policy: POLICY });
      const b = [];
      try {
        const put = await call(a, "PUT", "/v1/policy", { token: "admin", body: STRICT });
        assert.equal(put.status, 200, put.text);
        // The second process starts on the same database with the file the first had.
        b.push(await start({ db: url, policy: POLICY, create: false }));
        assert.match(b[0].stderr(), /stays in force/);
        assert.equal((await call(b[0], "GET", "/healthz")).json.policy_digest, put.json.digest);
        assert.equal((await login(b[0], "alice", phone("A1"))).json.outcome, "deny", "the stricter policy decides");
        // The first replica never sees a version rolling it back.
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await call(a, "GET", "/healthz")).json.policy_digest, put.json.digest);
        const versions = await call(a, "GET", "/v1/policy/versions", { token: "admin" });
        assert.equal(versions.json.versions.length, 2);
        await b.pop().stop();
        b.push(await start({ db: url, policy: POLICY, create: false, args: ["--replace-policy"] }));
        const live = await call(b[0], "GET", "/v1/policy", { token: "admin" });
        assert.deepEqual(live.json.document, POLICY);
        assert.equal(live.json.actor, "startup");
      } finally {
        await Promise.all([a, ...b].map((s) => s.stop()));
      }
    });
  });
}

test("a missing SQLite file is refused without --create, and named", async () => {
  const path = join(scratch, `missing-${process.pid}-${Date.now()}.db`);
  await assert.rejects(start({ db: `sqlite://${path}`, policy: POLICY, create: false }), (e) => {
    assert.match(e.message, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*--create`));
    return true;
  });
  assert.equal(existsSync(path), false, "no empty database was created in its place");
});

test("a file that is not a database is refused at once, and named", async () => {
  const path = join(scratch, `garbage-${process.pid}-${Date.now()}.db`);
  writeFileSync(path, "x".repeat(8192));
  await assert.rejects(start({ db: `sqlite://${path}`, policy: POLICY, create: false }), /not a database/);
});

test("an invalid --policy is refused before a database is created", async () => {
  const path = join(scratch, `never-${process.pid}-${Date.now()}.db`);
  await assert.rejects(start({ db: `sqlite://${path}`, policy: { schema: "mdm.policy/v1", assigned: { max_devices: 0 } } }), /--policy/);
  assert.equal(existsSync(path), false);
});

test("a blank MDM_ADMIN_TOKEN is refused at start", async () => {
  const [db] = databases();
  for (const blank of ["", "   "]) {
    await assert.rejects(
      start({ db: db.fresh(), policy: POLICY, env: { MDM_ADMIN_TOKEN: blank } }),
      /`MDM_ADMIN_TOKEN` is set but blank/,
    );
  }
});

test("token files take comments, and the scheme is case-insensitive", async () => {
  const [db] = databases();
  const file = join(scratch, `admins-${process.pid}-${Date.now()}`);
  writeFileSync(file, `# the admins of the test, one per line\n\n${ADMIN}\n# a comment of 16+ characters is no token\n`);
  const server = await start({ db: db.fresh(), policy: POLICY, args: ["--admin-token-file", file], env: { MDM_ADMIN_TOKEN: undefined } });
  try {
    assert.equal((await call(server, "GET", "/v1/pending", { token: ADMIN })).status, 200);
    const comment = await call(server, "GET", "/v1/pending", { token: "# a comment of 16+ characters is no token" });
    assert.equal(comment.status, 401);
    const lower = await call(server, "GET", "/v1/pending", { headers: { authorization: `bearer ${ADMIN}` } });
    assert.equal(lower.status, 200, lower.text);
  } finally {
    await server.stop();
  }
  writeFileSync(file, `${ADMIN}\n   \n`);
  await assert.rejects(
    start({ db: db.fresh(), policy: POLICY, args: ["--admin-token-file", file], env: { MDM_ADMIN_TOKEN: undefined } }),
    /line 2 holds only spaces/,
  );
});

test("with the admin role open, a cross-site text/plain POST wipes nothing", async () => {
  const [db] = databases();
  const server = await start({ db: db.fresh(), policy: POLICY, tokens: false, env: { MDM_GATEWAY_TOKEN: GATEWAY } });
  try {
    assert.match(server.stderr(), /the admin role has no token/);
    assert.equal((await login(server, "alice", phone("A1"))).json.outcome, "allow");
    const wipe = JSON.stringify({ type: "wipe", user: "alice", device_id: "A1" });
    const simple = await call(server, "POST", "/v1/events", { raw: wipe, contentType: "text/plain" });
    assert.equal(simple.status, 415, simple.text);
    const user = await call(server, "GET", "/v1/users/alice");
    assert.deepEqual(user.json.state.devices.map((d) => d.device_id), ["A1"]);
  } finally {
    await server.stop();
  }
});

test("--format json writes the log in JSON lines", async () => {
  const [db] = databases();
  const server = await start({ db: db.fresh(), policy: POLICY, env: { MDM_FORMAT: "json" } });
  await server.stop();
  const lines = server.stderr().trim().split("\n");
  assert.ok(lines.length >= 2, server.stderr());
  for (const line of lines) {
    const entry = JSON.parse(line);
    assert.ok(entry.level && entry.fields?.message, line);
  }
  assert.ok(lines.some((l) => JSON.parse(l).fields.message.startsWith("listening on http://")));
});
