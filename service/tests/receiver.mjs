// A webhook receiver for the service's tests, run as a process of its own on loopback.
//
// Every delivery's Standard Webhooks signature is checked twice, by implementations
// independent of the service's: a few lines of node:crypto below, and the
// specification's own library (`standardwebhooks`, whose HMAC is fast-sha256's). A
// delivery that fails either is answered 401 and recorded as not verified.
//
//   node receiver.mjs --secret whsec_... [--fail N] [--hang N] [--tls-cert PEM --tls-key PEM]
//
// `--fail N`: the first N attempts of each event are answered 500; `--hang N`: the first
// N are never answered. `PUT /behaviour` `{ fail, hang, down }` changes that while it
// runs (`down`: every attempt is answered 503). `GET /received` lists every attempt:
// `{ id, timestamp, verified, status, body, contentType }`, in arrival order, with
// `status` null for one left hanging. It prints `listening on URL` once it listens.
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { readFileSync } from "node:fs";
import { createHmac, timingSafeEqual } from "node:crypto";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";

const { values } = parseArgs({
  options: {
    secret: { type: "string" },
    fail: { type: "string", default: "0" },
    hang: { type: "string", default: "0" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
  },
});
const secret = values.secret;
if (!secret?.startsWith("whsec_")) throw new Error("--secret whsec_... is required");
let behaviour = { fail: Number(values.fail), hang: Number(values.hang), down: false };
const library = new Webhook(secret);
const received = [];
const seen = new Map(); // webhook-id -> attempts so far

/// The specification's scheme by hand: HMAC-SHA256 of `id.timestamp.body` under the
/// base64 key after `whsec_`, compared with each `v1,` signature of the header; the
/// timestamp within five minutes of our clock.
function verifiedByHand(headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const header = headers["webhook-signature"];
  if (!id || !timestamp || !header) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(" ").some((part) => {
    const [version, sig] = part.split(",");
    const given = Buffer.from(sig ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function verifiedByLibrary(headers, body) {
  try {
    library.verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

const tls = values["tls-cert"] ? { cert: readFileSync(values["tls-cert"]), key: readFileSync(values["tls-key"]) } : null;
const handler = (req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => { body += c; });
  req.on("end", () => {
    if (req.method === "GET" && req.url === "/received") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(received));
      return;
    }
    if (req.method === "PUT" && req.url === "/behaviour") {
      behaviour = { ...behaviour, ...JSON.parse(body) };
      res.writeHead(204);
      res.end();
      return;
    }
    const id = req.headers["webhook-id"];
    const attempt = (seen.get(id) ?? 0) + 1;
    seen.set(id, attempt);
    const verified = verifiedByHand(req.headers, body) && verifiedByLibrary(req.headers, body);
    const entry = {
      id,
      timestamp: req.headers["webhook-timestamp"],
      verified,
      status: null,
      body,
      contentType: req.headers["content-type"],
    };
    received.push(entry);
    if (!verified) return answer(res, entry, 401);
    if (behaviour.down) return answer(res, entry, 503);
    if (attempt <= behaviour.hang) return; // never answered: the service times out or dies
    if (attempt <= behaviour.hang + behaviour.fail) return answer(res, entry, 500);
    answer(res, entry, 204);
  });
};
const server = tls ? createTlsServer(tls, handler) : createServer(handler);

function answer(res, entry, status) {
  entry.status = status;
  res.writeHead(status);
  res.end();
}

server.listen(0, "127.0.0.1", () => {
  console.log(`listening on ${tls ? "https" : "http"}://127.0.0.1:${server.address().port}`);
});
