// The console's preview, off the page's thread: the worker holds the population (parsed
// once) and the policy in force, previews each proposed policy it is sent, and keeps the
// last report. The page gets the summary and the rows it shows (`ROWS`, filtered here):
// a million-user report's tens of thousands of changed users never cross to the page, so
// it stays responsive. Each step is announced (`{ id, stage }`) for the progress bar.
// Every request is answered once: `{ id, summary, total, rows, moves, ms }` for a preview,
// `{ id, total, rows }` for a filter, `{ id, users }`, `{ id, ok }` or `{ id, error }`.
// `moves` are the changed users counted by where they go, when a side is a policy set
// (`{ from, to, users }`, each side `{ policy, assigned }`), most users first; a filter
// may name one (`move: { from, to }`).
import init, { Policy, Population, preview } from "../index.mjs";

const ready = init();
let population = null;
let current = null;
let changes = [];
// As many changed users as the page's table shows.
const ROWS = 200;

// A user's place on one side: their policy's name, or, where a side has no names (a v1 or
// v2 document, or no policy assigns them), whether they are assigned at all.
const place = (side) => ({ policy: side.policy ?? null, assigned: side.assigned });
const key = (from, to) => JSON.stringify([from, to]);
const moved = (c) => key(place(c.before), place(c.after));

/** The changed users whose place differs between the sides, counted per (from, to). */
function countMoves() {
  if (!changes.length || !("policy" in changes[0].before)) return [];
  const counts = new Map();
  for (const c of changes) {
    const from = place(c.before), to = place(c.after);
    if (from.policy === to.policy && from.assigned === to.assigned) continue;
    const k = key(from, to);
    const m = counts.get(k) ?? { from, to, users: 0 };
    m.users++;
    counts.set(k, m);
  }
  return [...counts.values()].sort((a, b) => b.users - a.users);
}

/**
 * The changed users whose JSON mentions `needle` (case-insensitive) and, given a `move`,
 * who make that move: how many, and the first `ROWS`.
 */
function rows(needle = "", move = null) {
  const n = needle.trim().toLowerCase();
  const k = move && key(move.from, move.to);
  const matching = n || k
    ? changes.filter((c) => (!k || moved(c) === k) && (!n || JSON.stringify(c).toLowerCase().includes(n)))
    : changes;
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
        self.postMessage({ id, summary: report.summary, ...rows(data.filter, data.move), moves: countMoves(), ms: performance.now() - started });
      } finally {
        proposed.free();
      }
    } else if (data.current !== undefined) {
      current = replace(current, new Policy(data.current));
      self.postMessage({ id, ok: true });
    } else {
      self.postMessage({ id, ...rows(data.filter, data.move) });
    }
  } catch (e) {
    self.postMessage({ id, error: { code: e.code, pointer: e.pointer, message: e.message } });
  }
};
