// The population of the speed issue's `mdm preview` row, written to a file: n users with
// what a directory and an MDM hold in practice (e-mail ids, 1 to 3 of 200 groups, a phone
// reporting what phones report, a second or third device for some, an enrollment, a
// pending request or a rejection now and then): about 300 bytes a user. As a population
// document, or as NDJSON (one user a line) with the same users.
import { openSync, writeSync, closeSync } from "node:fs";

/** User `i`: its id and its groups and state as JSON text. */
function record(i) {
  const user = `user${String(i).padStart(7, "0")}@example.com`;
  const groups = `[${Array.from({ length: 1 + (i % 3) }, (_, j) => `"g${(i * (j + 3)) % 200}"`).join(",")}]`;
  const devices = 1 + (i % 7 === 0 ? 1 : 0) + (i % 31 === 0 ? 1 : 0);
  const list = [];
  for (let d = 0; d < devices; d++) {
    const ios = (i + d) % 2 === 0;
    list.push(`{"device_id":"${(i * 3 + d).toString(16).padStart(12, "0")}","os_type":"${ios ? "ios" : "android"}",` +
      `"os_version":"${ios ? "17.4" : "14"}","serial_number":"S${i}-${d}",` +
      `${ios ? "" : '"manufacturer":"samsung",'}"pin_length":6,"encrypted":true,` +
      `"registered_at":"2026-0${1 + (d % 9)}-0${1 + (i % 9)}T08:00:00Z"` +
      `${i % 5 === 0 ? `,"enrollment":{"method":"${ios ? "ios_profile" : "samsung_knox"}","at":"2026-02-01T00:00:00Z"}` : ""}}`);
  }
  const extra = i % 50 === 0
    ? `,"pending":[{"device":{"device_id":"p${i}","os_type":"ios"},"requested_at":"2026-11-20T10:00:00Z"}]`
    : i % 77 === 0 ? `,"rejected":[{"device_id":"r${i}","rejected_at":"2026-10-01T00:00:00Z"}]` : "";
  return { user, groups, state: `{"devices":[${list.join(",")}]${extra}}` };
}

/** Writes n users to `path` (NDJSON when `ndjson`); returns the file's size in bytes. */
export function writeRichPopulation(path, n, { ndjson = false } = {}) {
  const fd = openSync(path, "w");
  let chunk = [];
  let size = 0;
  const push = (s) => {
    chunk.push(s);
    if (chunk.length >= 10000) flush();
  };
  const flush = () => {
    const text = chunk.join("");
    size += Buffer.byteLength(text);
    writeSync(fd, text);
    chunk = [];
  };
  if (ndjson) {
    for (let i = 0; i < n; i++) {
      const r = record(i);
      push(`{"user":"${r.user}","groups":${r.groups},"state":${r.state}}\n`);
    }
  } else {
    push('{"directory":{');
    for (let i = 0; i < n; i++) push(`${i ? "," : ""}"${record(i).user}":${record(i).groups}`);
    push('},"state":{');
    for (let i = 0; i < n; i++) push(`${i ? "," : ""}"${record(i).user}":${record(i).state}`);
    push("}}");
  }
  flush();
  closeSync(fd);
  return size;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, n, format] = process.argv.slice(2);
  console.log(writeRichPopulation(path, Number(n ?? 1_000_000), { ndjson: format === "ndjson" }));
}
