// The console's preview, off the page's thread: the worker holds the population (parsed
// once) and the policy in force, previews each proposed policy it is sent, and keeps the
// last report. The page gets the summary and the rows it shows (`ROWS`, filtered here):
// a million-user report's tens of thousands of changed users never cross to the page, so
// it stays responsive. Each step is announced (`{ id, stage }`) for the progress bar.
// Every request is answered once: `{ id, summary, total, rows, ms }` for a preview,
// `{ id, total, rows }` for a filter, `{ id, users }`, `{ id, ok }` or `{ id, error }`.
import init, { Policy, Population, preview } from "../index.mjs";

const ready = init();
let population = null;
let current = null;
let changes = [];
// As many changed users as the page's table shows.
const ROWS = 200;

/** The changed users whose JSON mentions `needle` (case-insensitive): how many, and the first `ROWS`. */
function rows(needle = "") {
  const n = needle.trim().toLowerCase();
  const matching = n ? changes.filter((c) => JSON.stringify(c).toLowerCase().includes(n)) : changes;
  return { total: matching.length, rows: matching.slice(0, ROWS) };
}

function replace(old, next) {
  old?.free();
  return next;
}

self.onmessage = async ({ data }) => {
  const { id } = data;
  const stage = (name) => self.postMessage({ id, stage: name });
  try {
    await ready;
    if (data.population) {
      stage("parsing the population");
      population = replace(population, new Population(data.population));
      self.postMessage({ id, users: population.users });
    } else if (data.proposed !== undefined) {
      stage("previewing");
      const proposed = new Policy(data.proposed);
      try {
        const started = performance.now();
        const report = preview(current, proposed, population, data.at);
        changes = report.changes;
        self.postMessage({ id, summary: report.summary, ...rows(data.filter), ms: performance.now() - started });
      } finally {
        proposed.free();
      }
    } else if (data.current !== undefined) {
      current = replace(current, new Policy(data.current));
      self.postMessage({ id, ok: true });
    } else {
      self.postMessage({ id, ...rows(data.filter) });
    }
  } catch (e) {
    self.postMessage({ id, error: { code: e.code, pointer: e.pointer, message: e.message } });
  }
};
