// The README's JS snippet, run as written: `mdm-policy` resolves to this package's Node
// entry, and the snippet's own last line prints what the README says it prints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = fileURLToPath(new URL("../../", import.meta.url));

test("the README's JS snippet runs in Node as written", () => {
  const readme = readFileSync(`${repo}README.md`, "utf8");
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1, "one JS snippet in the README");
  const snippet = blocks[0];
  assert.match(snippet, /from "mdm-policy";/);
  const entry = pathToFileURL(`${repo}js/node.mjs`).href;
  const dir = `${repo}target/readme`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/snippet.mjs`, snippet.replace('"mdm-policy"', JSON.stringify(entry)));
  const out = execFileSync(process.execPath, [`${dir}/snippet.mjs`], { encoding: "utf8" });
  const promised = snippet.match(/\/\/ (.*)\n$/)[1].trim();
  assert.equal(out.trim(), promised);
  assert.equal(out.trim(), "allow 1 1");
});

const jsReadme = () => readFileSync(`${repo}js/README.md`, "utf8");
const block = (tag) => {
  const m = jsReadme().match(new RegExp("```js " + tag + "\\n([\\s\\S]*?)```"));
  assert.ok(m, `js/README.md has a \`js ${tag}\` block`);
  return m[1];
};

test("js/README.md's Node example runs as written and prints what it says", () => {
  const snippet = block("node");
  const dir = `${repo}target/readme`;
  mkdirSync(dir, { recursive: true });
  const entry = pathToFileURL(`${repo}js/node.mjs`).href;
  writeFileSync(`${dir}/js-node.mjs`, snippet.replace('"mdm-policy"', JSON.stringify(entry)));
  const out = execFileSync(process.execPath, [`${dir}/js-node.mjs`], { encoding: "utf8" });
  const promised = snippet.match(/\/\/ (.*)\n$/)[1].trim();
  assert.equal(out.trim(), promised);
});

test("js/README.md's bundler and worker examples are valid modules", () => {
  const dir = `${repo}target/readme`;
  mkdirSync(dir, { recursive: true });
  for (const tag of ["vite", "worker", "page"]) {
    writeFileSync(`${dir}/js-${tag}.mjs`, block(tag));
    execFileSync(process.execPath, ["--check", `${dir}/js-${tag}.mjs`]);
  }
});
