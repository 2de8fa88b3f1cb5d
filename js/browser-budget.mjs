// The preview at scale in headless Chromium, as the console runs it: through the
// console's own page-side module (console/engine-worker.js), the population's bytes
// (already in the page's memory) are transferred to its preview worker, parsed there, and
// previewed; then a second preview after an edit, the population already loaded. While the worker works the page's thread runs a
// 10 ms timer, and the longest gap between its ticks says whether the page stayed
// responsive. `make budgets` runs it at 1M users; the test command at 10k.
import { launch, openPage } from "./chromium.mjs";
import { serve } from "./serve.mjs";

export const CURRENT = '{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2"]}}';
export const PROPOSED = '{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2","g3"],"exclude_groups":["g4"]},"requirements":{"min_os_version":{"android":"12"}}}';
export const EDITED = '{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2","g3"],"exclude_groups":["g4","g7"]},"requirements":{"min_os_version":{"android":"12"}}}';

/** The budgets' population of `n` users as UTF-8 bytes (the table binary writes the same). */
export function population(n) {
  const parts = ['{"directory":{'];
  for (let i = 0; i < n; i++) parts.push(`${i ? "," : ""}"u${i}":["g${i % 30}","g${(i * 7) % 30}"]`);
  parts.push('},"state":{');
  for (let i = 0; i < n; i++) {
    parts.push(`${i ? "," : ""}"u${i}":{"devices":[{"device_id":"u${i}-1","os_type":"${i % 2 ? "ios" : "android"}",` +
      `"os_version":"${i % 3 ? "17.1" : "11"}","pin_length":6,"registered_at":"2026-01-01T00:00:00Z"}]}`);
  }
  parts.push("}}");
  return new TextEncoder().encode(parts.join(""));
}

/**
 * Measures `n` users in Chromium: `{ bytes, loadAndPreviewMs, secondMs, longestGapMs,
 * stages, first, second }` (the two reports' summaries).
 */
export async function measure(n) {
  const server = await serve(0);
  const browser = await launch();
  try {
    const { page, errors } = await openPage(browser);
    // Any page of the origin will do: the worker must be of the same origin.
    await page.goto(`http://127.0.0.1:${server.address().port}/index.mjs`);
    const result = await page.evaluate(
      async ({ n, generator, docs }) => {
        const population = new Function(`return (${generator})`)()(n);
        const bytes = population.length;
        const { previewWorker } = await import("/console/engine-worker.js");
        const stages = [];
        const ask = previewWorker((stage) => stage && stages.push(stage));
        // The module is fetched and compiled before the clock starts: the console has it
        // loaded before an admin picks a file.
        await ask({ current: docs.current });
        let longestGapMs = 0;
        let last = performance.now();
        const timer = setInterval(() => {
          const now = performance.now();
          longestGapMs = Math.max(longestGapMs, now - last);
          last = now;
        }, 10);
        const t0 = performance.now();
        const { users } = await ask({ population }, [population.buffer]);
        const { summary: first } = await ask({ proposed: docs.proposed, at: docs.at });
        const t1 = performance.now();
        const { summary: second } = await ask({ proposed: docs.edited, at: docs.at });
        const t2 = performance.now();
        clearInterval(timer);
        return { bytes, users, loadAndPreviewMs: t1 - t0, secondMs: t2 - t1, longestGapMs, stages,
          first, second };
      },
      { n, generator: population.toString(), docs: { current: CURRENT, proposed: PROPOSED, edited: EDITED, at: "2026-11-22T10:00:00Z" } },
    );
    if (errors.length) throw new Error(errors.join("\n"));
    return result;
  } finally {
    await browser.close();
    server.close();
  }
}
