// The scenario runner of spec section 4 in Node: the same steps and the same trace shape as
// the Rust runner (`mdm run --json`), so traces compare across runtimes. It runs over an
// engine: the JS package (the default), or the WebAssembly component in another host.
import { Policy, parseState } from "../node.mjs";

function failure(e) {
  if (e?.code === undefined) throw e;
  return { code: e.code, pointer: e.pointer, message: e.message };
}

/** The JS package as an engine. */
export const jsPackage = {
  load: (document) => new Policy(document),
  evaluate: (policy, groups, state, event) => policy.evaluate(groups, state, event),
  free: (policy) => policy.free(),
  state: (value) => parseState(value),
};

// A malformed `set_policy` or `set_groups` is an error of its step, worded as the Rust
// runner words it (`mdm_testkit::scenario::StepEvent::read`).
const stepError = (pointer, message) => ({ error: { code: "invalid_event", pointer, message } });

/** Runs a parsed scenario; returns the per-step trace: the event, its result, the user's state. */
export function runScenario(scenario, engine = jsPackage) {
  let policy = engine.load(JSON.stringify(scenario.policy));
  const directory = { ...(scenario.directory ?? {}) };
  const states = {};
  for (const [user, s] of Object.entries(scenario.state ?? {})) states[user] = engine.state(s);
  const empty = engine.state({});
  const trace = [];
  for (const step of scenario.steps) {
    const event = step.event;
    const user = typeof event.user === "string" ? event.user : "";
    let result;
    if (event.type === "set_policy" && !("policy" in event)) {
      result = stepError("/policy", "missing field `policy`");
    } else if (event.type === "set_policy") {
      try {
        const next = engine.load(JSON.stringify(event.policy));
        engine.free(policy);
        policy = next;
        result = "ok";
      } catch (e) {
        result = { error: failure(e) };
      }
    } else if (event.type === "set_groups") {
      const { groups } = event;
      if (user === "" || !Array.isArray(groups) || !groups.every((g) => typeof g === "string")) {
        result = stepError("/groups", "`set_groups` needs a `user` and a list of `groups`");
      } else {
        directory[user] = groups;
        result = "ok";
      }
    } else {
      try {
        const { decision, state } = engine.evaluate(policy, directory[user] ?? [], states[user], event);
        states[user] = state;
        result = { decision };
      } catch (e) {
        result = { error: failure(e) };
      }
    }
    trace.push({ event, result, state: states[user] ?? empty });
  }
  engine.free(policy);
  return trace;
}

/**
 * Runs one bad-input case (`tests/bad/`): `document` names the bad one ("policy", "event"
 * or "state"), `bytes` are its file; the others come from `context`. Returns the error the
 * package threw, or throws if it answered instead.
 */
export function runBad(context, document, bytes) {
  const json = (value) => new TextEncoder().encode(JSON.stringify(value));
  let policy;
  try {
    policy = new Policy(document === "policy" ? bytes : json(context.policy));
    if (document === "policy") throw new Error("expected an error, got a loaded policy");
    const state = document === "state" ? bytes : json(context.state);
    const event = document === "event" ? bytes : json(context.event);
    const answer = policy.evaluate(context.groups, state, event);
    throw new Error(`expected an error, got ${JSON.stringify(answer.decision)}`);
  } catch (e) {
    return failure(e);
  } finally {
    policy?.free();
  }
}
