// The bad-input corpus (`tests/bad/`) through the JS package, documents passed as the bytes
// of their files: each case must fail with its expected code and JSON Pointer, and with
// exactly the error the engine gives natively (written by `cargo test --test bad`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runBad } from "./runner.mjs";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const dir = join(repo, "tests/bad");
const read = (name) => JSON.parse(readFileSync(join(dir, name), "utf8"));
const context = read("context.json");
const expected = read("expect.json");
const native = JSON.parse(readFileSync(join(repo, "target/generated/bad.json"), "utf8"));

test("the native run covered every case", () => {
  assert.deepEqual(Object.keys(native).sort(), Object.keys(expected).sort());
});

for (const [name, want] of Object.entries(expected)) {
  test(name, () => {
    const document = name.split("/")[0];
    const got = runBad(context, document, readFileSync(join(dir, name)));
    assert.deepEqual({ code: got.code, pointer: got.pointer }, want);
    assert.deepEqual(got, native[name].error, "the same error as the native engine");
  });
}
