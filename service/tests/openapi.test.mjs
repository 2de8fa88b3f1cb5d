// The OpenAPI document (schemas/openapi.json, served at GET /v1/openapi.json): the
// committed file is what the server serves; an independent validator
// (@apidevtools/swagger-parser) takes it as OpenAPI 3.1; a client generated from it
// (openapi-typescript's types, checked by tsc --strict, with openapi-fetch) calls every
// route of a real server on SQLite and on PostgreSQL, and every answer, errors too,
// matches the document's schema for its route and status (ajv, JSON Schema 2020-12).
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import openapiTS, { astToString } from "openapi-typescript";
import createClient from "openapi-fetch";
import Ajv2020 from "ajv/dist/2020.js";
import { databases, start, call, repo, GATEWAY, ADMIN, startReceiver, WEBHOOK_SECRET } from "./harness.mjs";

const POLICY = { schema: "mdm.policy/v1", assignment: { groups: ["sales"] }, assigned: { max_devices: 1, on_new_device: "approval", on_approve: "add" } };
const committed = JSON.parse(readFileSync(join(repo, "schemas/openapi.json"), "utf8"));
const METHODS = ["get", "put", "post", "delete", "patch"];
const out = join(repo, "target/service-tests/openapi-client");

/// The generated client: openapi-typescript's types for the committed document, and
/// openapi-client.ts compiled against them by tsc --strict (a call that does not fit the
/// document fails here).
let everyRoute;
before(async () => {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "openapi.d.ts"), astToString(await openapiTS(committed, { defaultNonNullable: false })));
  copyFileSync(new URL("./openapi-client.ts", import.meta.url), join(out, "openapi-client.ts"));
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module" }));
  const tests = new URL(".", import.meta.url).pathname;
  writeFileSync(join(out, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      target: "es2022", module: "es2022", moduleResolution: "bundler", strict: true, noEmitOnError: true,
      skipLibCheck: true, types: [], lib: ["es2022", "dom"], outDir: "js",
      paths: { "openapi-fetch": [join(tests, "node_modules/openapi-fetch")] },
    },
    files: ["openapi-client.ts"],
  }));
  execFileSync(join(new URL(".", import.meta.url).pathname, "node_modules/.bin/tsc"), ["-p", out], { stdio: "inherit" });
  ({ everyRoute } = await import(join(out, "js/openapi-client.js")));
});

test("an independent validator takes the document as OpenAPI 3.1", async () => {
  const api = await SwaggerParser.validate(structuredClone(committed));
  const operations = Object.values(api.paths).flatMap((p) => METHODS.filter((m) => p[m]));
  console.log(`swagger-parser ${api.openapi}: valid; ${Object.keys(api.paths).length} paths, ${operations.length} operations, ${Object.keys(api.components.schemas).length} schemas`);
  assert.equal(api.openapi, "3.1.0");
  assert.ok(operations.length >= 20, `${operations.length} operations`);
});

for (const db of databases()) {
  describe(`the OpenAPI document on ${db.name}`, () => {
    test("is served without a token, as committed", async () => {
      const server = await start({ db: db.fresh(), policy: POLICY });
      try {
        const r = await call(server, "GET", "/v1/openapi.json");
        assert.equal(r.status, 200);
        assert.match(r.headers.get("content-type"), /^application\/json/);
        assert.deepEqual(r.json, committed, "schemas/openapi.json is stale: `cargo test -p mdm-service` rewrites it with MDM_BLESS=1");
      } finally {
        await server.stop();
      }
    });

    test("a client generated from it calls every route; every answer matches the document", async () => {
      const receiver = await startReceiver();
      const server = await start({ db: db.fresh(), policy: POLICY });
      try {
        const calls = await everyRoute(createClient, server.url, { gateway: GATEWAY, admin: ADMIN }, { url: receiver.url, secret: WEBHOOK_SECRET });
        // Formats (int64, date-time...) are the document's notes for clients, not checked here.
        const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
        // The document's own references (#/components/...) resolve inside it.
        ajv.addSchema(committed, "openapi.json");
        const pointer = (...parts) => parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
        const statuses = new Set();
        for (const c of calls) {
          const op = committed.paths[c.path]?.[c.method];
          assert.ok(op, `${c.method} ${c.path} is in the document`);
          const answer = op.responses[String(c.status)];
          assert.ok(answer, `${c.method} ${c.path} answered ${c.status}, which the document does not list: ${JSON.stringify(c.body)}`);
          statuses.add(`${c.method} ${c.path} ${c.status}`);
          const media = Object.keys(answer.content ?? {});
          if (!media.length) {
            assert.ok(c.body === undefined || c.body === "" || (typeof c.body === "object" && !Object.keys(c.body).length), `${c.method} ${c.path} ${c.status} has no body in the document`);
            continue;
          }
          const type = (c.contentType ?? "").split(";")[0];
          assert.ok(media.includes(type), `${c.method} ${c.path} ${c.status}: ${type} not in ${media}`);
          if (type !== "application/json") continue;
          const validate = ajv.compile({ $ref: `openapi.json#/${pointer("paths", c.path, c.method, "responses", c.status, "content", type, "schema")}` });
          assert.ok(validate(c.body), `${c.method} ${c.path} ${c.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(c.body).slice(0, 2000)}`);
        }
        const called = new Set(calls.map((c) => `${c.method} ${c.path}`));
        const documented = Object.entries(committed.paths).flatMap(([p, item]) => METHODS.filter((m) => item[m]).map((m) => `${m} ${p}`));
        assert.deepEqual(documented.filter((o) => !called.has(o)), [], "every operation of the document is called");
        for (const expected of ["post /v1/login 200", "post /v1/login 401", "post /v1/login 403", "get /v1/users/{user} 404", "post /v1/events 409", "put /v1/policy 400"]) {
          assert.ok(statuses.has(expected), `${expected} among ${[...statuses].join(", ")}`);
        }
      } finally {
        await server.stop();
        await receiver.stop();
      }
    });
  });
}
