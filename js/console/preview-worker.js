// The console's preview, off the page's thread: the worker holds the population (parsed
// once) and the policy in force, and previews each proposed policy it is sent. The page
// stays responsive while a large population parses and previews; each step is announced
// (`{ id, stage }`) so the page can show where it is. Every request is answered once:
// `{ id, report }`, `{ id, users }`, `{ id, ok }` or `{ id, error }`.
import init, { Policy, Population, preview } from "../index.mjs";

const ready = init();
let population = null;
let current = null;

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
    } else if (data.current !== undefined) {
      current = replace(current, new Policy(data.current));
      self.postMessage({ id, ok: true });
    } else {
      stage("previewing");
      const proposed = new Policy(data.proposed);
      try {
        const started = performance.now();
        const report = preview(current, proposed, population, data.at);
        self.postMessage({ id, report, ms: performance.now() - started });
      } finally {
        proposed.free();
      }
    }
  } catch (e) {
    self.postMessage({ id, error: { code: e.code, pointer: e.pointer, message: e.message } });
  }
};
