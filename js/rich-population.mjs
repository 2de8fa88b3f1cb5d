// The population of the speed issue's `mdm preview` row, written to a file: n users with
// what a directory and an MDM hold in practice (e-mail ids, up to 3 of 200 groups, a
// phone reporting everything a phone reports, a second or third device for some, an
// enrollment, a pending request or a rejection now and then): about 300 bytes a user.
import { openSync, writeSync, closeSync } from "node:fs";

export function writeRichPopulation(path, n) {
  const fd = openSync(path, "w");
  let chunk = [];
  let size = 0;
  const flush = () => {
    writeSync(fd, chunk.join(""));
    size += chunk.reduce((a, s) => a + s.length, 0);
    chunk = [];
  };
  const user = (i) => `user${String(i).padStart(7, "0")}@example.com`;
  chunk.push('{"directory":{');
  for (let i = 0; i < n; i++) {
    const k = 1 + (i % 3);
    const groups = Array.from({ length: k }, (_, j) => `"g${(i * (j + 3)) % 200}"`).join(",");
    chunk.push(`${i ? "," : ""}"${user(i)}":[${groups}]`);
    if (chunk.length >= 10000) flush();
  }
  chunk.push('},"state":{');
  for (let i = 0; i < n; i++) {
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
    chunk.push(`${i ? "," : ""}"${user(i)}":{"devices":[${list.join(",")}]${extra}}`);
    if (chunk.length >= 10000) flush();
  }
  chunk.push("}}");
  flush();
  closeSync(fd);
  return size;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, n] = process.argv.slice(2);
  console.log(writeRichPopulation(path, Number(n ?? 1_000_000)));
}
