// `mdm serve --tls-cert --tls-key` against Node's TLS client on loopback: the API over
// HTTPS with a certificate from a test CA (made here with the openssl command); a new
// certificate taken on SIGHUP without dropping a kept-alive connection; a broken file on
// SIGHUP keeps the old certificate; webhooks to an https:// receiver trusting the CA
// through SSL_CERT_FILE.
import { test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { databases, start, repo, ADMIN, GATEWAY, phone, startReceiver, until, WEBHOOK_SECRET } from "./harness.mjs";

const POLICY = { schema: "mdm.policy/v1", assignment: { groups: ["sales"] } };
const dir = join(repo, "target/service-tests", `tls-${process.pid}`);
mkdirSync(dir, { recursive: true });
const openssl = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });

/// A CA, and a certificate for 127.0.0.1 and localhost signed by it, in `name.crt` and
/// `name.key`.
openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
  "-subj", "/CN=mdm test CA", "-keyout", "ca.key", "-out", "ca.crt");
function certificate(name, cn) {
  writeFileSync(join(dir, `${name}.ext`), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${cn}`,
    "-keyout", `${name}.key`, "-out", `${name}.csr`);
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
    "-extfile", `${name}.ext`, "-out", `${name}.crt`);
}
certificate("first", "first");
certificate("second", "second");
const ca = readFileSync(join(dir, "ca.crt"));

/// A GET over `agent`; the answer, and the certificate and socket it came through.
function get(url, path, agent, token = ADMIN) {
  return new Promise((resolve, reject) => {
    const req = https.get(`${url}${path}`, { ca, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      // Read while the response holds its socket: a kept-alive one goes back to the agent
      // at the end.
      const socket = res.socket;
      const cn = socket.getPeerCertificate().subject?.CN;
      let body = "";
      res.on("data", (c) => { body += c; });
      res.on("end", () => resolve({ status: res.statusCode, body, cn, socket, reused: req.reusedSocket }));
    });
    req.on("error", reject);
  });
}

const [db] = databases();
for (const each of databases()) test(`HTTPS on ${each.name} with a certificate reloaded on SIGHUP, without dropping connections`, async () => {
  copyFileSync(join(dir, "first.crt"), join(dir, "live.crt"));
  copyFileSync(join(dir, "first.key"), join(dir, "live.key"));
  const server = await start({
    db: each.fresh(), policy: POLICY,
    args: ["--tls-cert", join(dir, "live.crt"), "--tls-key", join(dir, "live.key")],
  });
  const kept = new https.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const first = await get(server.url, "/v1/policy", kept);
    assert.equal(first.status, 200, first.body);
    assert.equal(first.cn, "first");
    // Plain HTTP to the TLS port is refused (no answer in clear).
    await assert.rejects(fetch(server.url.replace("https:", "http:") + "/healthz"));

    // A new certificate, and SIGHUP: new connections get it; the kept one goes on.
    copyFileSync(join(dir, "second.crt"), join(dir, "live.crt"));
    copyFileSync(join(dir, "second.key"), join(dir, "live.key"));
    server.proc.kill("SIGHUP");
    await until("the new certificate", async () => (await get(server.url, "/healthz", undefined)).cn === "second");
    const again = await get(server.url, "/v1/policy", kept);
    assert.equal(again.status, 200);
    assert.equal(again.reused, true, "the kept-alive connection was not dropped");
    assert.equal(again.socket, first.socket);
    assert.equal(again.cn, "first", "it keeps the session it had");

    // A broken file on SIGHUP: the service says so and keeps the certificate it has.
    writeFileSync(join(dir, "live.crt"), "not a certificate");
    server.proc.kill("SIGHUP");
    await until("the reload's error in the log", () => /cannot reload the TLS certificate/.test(server.stderr()));
    const still = await get(server.url, "/healthz", undefined);
    assert.equal(still.status, 200);
    assert.equal(still.cn, "second");
    const login = await new Promise((resolve, reject) => {
      const req = https.request(`${server.url}/v1/login`, {
        method: "POST", ca, headers: { authorization: `Bearer ${GATEWAY}`, "content-type": "application/json" },
      }, (res) => { let b = ""; res.on("data", (c) => { b += c; }); res.on("end", () => resolve(JSON.parse(b))); });
      req.on("error", reject);
      req.end(JSON.stringify({ user: "alice", groups: ["sales"], device: phone("A1") }));
    });
    assert.equal(login.outcome, "allow");
  } finally {
    kept.destroy();
    await server.stop();
  }
});

test("a missing key, or a key without its certificate, is refused at start", async () => {
  await assert.rejects(start({ db: db.fresh(), policy: POLICY, args: ["--tls-cert", join(dir, "first.crt")] }), /--tls-key/);
  await assert.rejects(
    start({ db: db.fresh(), policy: POLICY, args: ["--tls-cert", join(dir, "first.crt"), "--tls-key", join(dir, "nothing.key")] }),
    /nothing\.key/,
  );
});

test("webhooks reach an https:// receiver whose CA the service trusts through SSL_CERT_FILE", async () => {
  const receiver = await startReceiver({ tls: { cert: join(dir, "first.crt"), key: join(dir, "first.key") } });
  const server = await start({
    db: db.fresh(), policy: POLICY, env: { SSL_CERT_FILE: join(dir, "ca.crt") },
    args: ["--webhook-poll-ms", "50", "--webhook-backoff-ms", "50"],
  });
  try {
    assert.match(receiver.url, /^https:/);
    const put = await fetch(`${server.url}/v1/webhooks`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ endpoints: [{ id: "tls", url: `${receiver.url}/hook`, secret: WEBHOOK_SECRET }] }),
    });
    assert.equal(put.status, 200, await put.text());
    await fetch(`${server.url}/v1/login`, {
      method: "POST",
      headers: { authorization: `Bearer ${GATEWAY}`, "content-type": "application/json" },
      body: JSON.stringify({ user: "bob", groups: ["sales"], device: phone("B1") }),
    });
    const [got] = await until("the event over TLS", async () => { const r = await receiver.received(); return r.some((x) => x.status === 204) && r; });
    assert.equal(got.verified, true);
    assert.equal(JSON.parse(got.body).type, "mdm.device.registered");
  } finally {
    await server.stop();
    await receiver.stop();
  }
});
