// Starts real `mdm serve` processes on loopback for the service's tests, each on a
// database of its own: a SQLite file under target/, or a fresh database in the PostgreSQL
// cluster that `service/tests/run.sh` started (MDM_TEST_POSTGRES_URL).
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import net from "node:net";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export const repo = fileURLToPath(new URL("../../", import.meta.url));
export const mdm = process.env.MDM_BIN ?? join(repo, "target/release/mdm");
const scratch = join(repo, "target/service-tests");
mkdirSync(scratch, { recursive: true });

export const GATEWAY = "gateway-token-for-tests-0123456789";
export const ADMIN = "admin-token-for-tests-0123456789";

let counter = 0;
const unique = (prefix) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;

/// The databases every suite runs on: both, unless MDM_TEST_DATABASES names fewer (an
/// explicit choice; a missing PostgreSQL fails the run, it is never skipped).
export function databases() {
  const names = (process.env.MDM_TEST_DATABASES ?? "sqlite,postgres").split(",").filter(Boolean);
  return names.map((name) => {
    if (name === "sqlite") return { name, fresh: () => `sqlite://${join(scratch, unique("db"))}.db` };
    if (name === "postgres") {
      return {
        name,
        fresh: () => {
          const base = process.env.MDM_TEST_POSTGRES_URL;
          if (!base) throw new Error("MDM_TEST_POSTGRES_URL is not set: run the suite with `service/tests/run.sh` (make test does)");
          const db = unique("t").toLowerCase();
          execFileSync("psql", [base, "-q", "-c", `CREATE DATABASE ${db}`], { stdio: "pipe" });
          return base.replace(/\/[^/?]*(\?|$)/, `/${db}$1`);
        },
      };
    }
    throw new Error(`unknown database \`${name}\` in MDM_TEST_DATABASES`);
  });
}

/// Writes a policy document to a file of its own.
export function policyFile(policy) {
  const path = join(scratch, `${unique("policy")}.json`);
  writeFileSync(path, typeof policy === "string" ? policy : JSON.stringify(policy));
  return path;
}

/// Starts `mdm serve`; resolves once it listens. `create` (the default) passes `--create`:
/// every test database starts empty. `env` adds to (or, with `undefined`, removes from)
/// the environment.
export function start({ db, policy, tokens = true, create = true, args = [], env: extra = {} }) {
  const listen = args.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"];
  const argv = ["serve", "--db", db, ...listen, "--poll-ms", "100", ...(create ? ["--create"] : []), ...args];
  if (policy) argv.push("--policy", policyFile(policy));
  const env = { ...process.env, MDM_CACHE_DIR: join(repo, "target/mdm-cache") };
  delete env.MDM_GATEWAY_TOKEN;
  delete env.MDM_ADMIN_TOKEN;
  delete env.MDM_FORMAT;
  if (tokens) Object.assign(env, { MDM_GATEWAY_TOKEN: GATEWAY, MDM_ADMIN_TOKEN: ADMIN });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const proc = spawn(mdm, argv, { env, stdio: ["ignore", "inherit", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`mdm serve did not start: ${err}`)), 60000);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`mdm serve exited with ${code}: ${err}`));
    });
    let started = false;
    proc.stderr.on("data", (chunk) => {
      err += chunk;
      // The whole line: stderr may arrive cut anywhere, in the address too.
      const m = started ? null : /listening on (https?:\/\/[^\s]+) \(/.exec(err);
      if (m) {
        started = true;
        clearTimeout(timer);
        proc.removeAllListeners("exit");
        let stopping = false;
        proc.on("exit", (code, signal) => {
          if (!stopping) console.error(`mdm serve (${m[1]}) exited by itself (${code ?? signal}): ${err}`);
        });
        const server = {
          url: m[1],
          proc,
          stderr: () => err,
          /// SIGTERM, and wait for the exit.
          stop: () => new Promise((r) => { stopping = true; if (proc.exitCode !== null) r(); else { proc.once("exit", r); proc.kill("SIGTERM"); } }),
          /// SIGKILL: no chance to flush anything.
          kill: () => new Promise((r) => { stopping = true; if (proc.exitCode !== null) r(); else { proc.once("exit", r); proc.kill("SIGKILL"); } }),
        };
        resolve(server);
      }
    });
  });
}

/// One request; `token` is "gateway", "admin", none, or a literal token. A body (`body`,
/// or `raw` text) is sent as `application/json` unless `contentType` says otherwise.
export async function call(server, method, path, { token, body, raw, contentType = "application/json", headers: extra = {} } = {}) {
  const headers = { ...extra };
  const bearer = token === "gateway" ? GATEWAY : token === "admin" ? ADMIN : token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined && contentType) headers["content-type"] = contentType;
  const res = await fetch(`${server.url}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

export const login = (server, user, device, groups = ["sales"], extra = {}) =>
  call(server, "POST", "/v1/login", { token: "gateway", body: { user, groups, device, ...extra } });

export const admin = (server, event) => call(server, "POST", "/v1/events", { token: "admin", body: event });

export const phone = (id, more = {}) => ({ device_id: id, os_type: "ios", os_version: "17.2", pin_length: 6, encrypted: true, ...more });

/// Posts a body of `bytes` spaces over a raw socket as HTTP/1.1 clients post large
/// bodies (curl, for one): the headers with the length and `Expect: 100-continue`, then
/// the body only if the server says `100 Continue`. Resolves with the final status.
export function hugePost(server, path, bytes, token) {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let answer = "";
    let done = false;
    const finish = () => {
      if (done) return;
      const m = /^HTTP\/1\.1 (\d+)[^]*?\r\n\r\n([^]*)$/.exec(answer);
      if (!m) return;
      done = true;
      socket.destroy();
      const body = m[2].slice(m[2].indexOf("{"), m[2].lastIndexOf("}") + 1);
      resolve({ status: Number(m[1]), json: JSON.parse(body) });
    };
    let pumping = false;
    socket.on("data", (c) => {
      answer += c;
      if (answer.startsWith("HTTP/1.1 100")) {
        answer = answer.slice(answer.indexOf("\r\n\r\n") + 4);
        if (!pumping) { pumping = true; pump(); }
      }
      if (answer.includes("}")) finish();
    });
    socket.on("error", (e) => { if (e.code !== "EPIPE" && e.code !== "ECONNRESET") reject(e); });
    socket.on("close", () => { finish(); if (!done) reject(new Error(`no answer: ${JSON.stringify(answer)}`)); });
    socket.write(`POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
      `authorization: Bearer ${token}\r\ncontent-length: ${bytes}\r\nexpect: 100-continue\r\n\r\n`);
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let sent = 0;
    const pump = () => {
      while (!done && !socket.destroyed && sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) { socket.once("drain", pump); return; }
      }
    };
  });
}

/// A Standard Webhooks secret for the tests' receivers.
export const WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Starts the webhook receiver (`receiver.mjs`, a process of its own); resolves once it
/// listens. `received()` lists its attempts; `behave(b)` changes how it answers.
export function startReceiver({ fail = 0, hang = 0, secret = WEBHOOK_SECRET, tls } = {}) {
  const script = fileURLToPath(new URL("./receiver.mjs", import.meta.url));
  const args = [script, "--secret", secret, "--fail", String(fail), "--hang", String(hang)];
  if (tls) args.push("--tls-cert", tls.cert, "--tls-key", tls.key);
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.on("exit", (code) => reject(new Error(`the receiver exited with ${code}: ${out}`)));
    proc.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (!m) return;
      proc.removeAllListeners("exit");
      const url = m[1];
      resolve({
        url,
        received: () => control(url, "GET", "/received"),
        behave: (b) => control(url, "PUT", "/behaviour", b),
        stop: () => new Promise((r) => { if (proc.exitCode !== null) r(); else { proc.once("exit", r); proc.kill("SIGTERM"); } }),
      });
    });
  });
}

/// Waits until `check()` returns something truthy (polled every 50 ms), and returns it;
/// after `seconds`, fails with `what` and the last value seen. A wait, not a measure: how
/// long it took is never asserted.
export async function until(what, check, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/// A request to the receiver's own routes, over HTTPS when it has a certificate (from the
/// tests' CA, which this client does not check: it only talks to its own process).
function control(url, method, path, body) {
  return new Promise((resolve, reject) => {
    const get = url.startsWith("https:") ? httpsRequest : httpRequest;
    const req = get(`${url}${path}`, { method, rejectUnauthorized: false }, (res) => {
      let text = "";
      res.on("data", (c) => { text += c; });
      res.on("end", () => resolve(text ? JSON.parse(text) : undefined));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
