// The console's preview worker at a small size in Chromium (`make budgets` runs the same
// measurement at 1M users and prints it): the population's bytes are transferred to the
// worker, parsed and previewed there, and both reports must be the engine's own, computed
// here in Node; the worker must have announced its steps for the progress bar.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CURRENT, EDITED, PROPOSED, measure, population } from "../browser-budget.mjs";
import { Policy, Population, preview } from "../node.mjs";

test("the preview worker gives the engine's reports for 10,000 users in Chromium", async () => {
  const n = 10_000;
  const r = await measure(n);
  assert.equal(r.users, n);
  assert.equal(r.bytes, population(n).length);
  const pop = new Population(population(n));
  const at = "2026-11-22T10:00:00Z";
  assert.deepEqual(r.first, preview(new Policy(CURRENT), new Policy(PROPOSED), pop, at).summary);
  assert.deepEqual(r.second, preview(new Policy(CURRENT), new Policy(EDITED), pop, at).summary);
  assert.notDeepEqual(r.first, r.second, "the edit changes the preview");
  assert.deepEqual(r.stages, ["parsing the population", "previewing", "previewing"]);
});
