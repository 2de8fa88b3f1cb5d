// The JSON Schemas in schemas/ (generated from the engine's types by `mdm schema`) against
// two other sources of truth: the corpus, whose valid documents they must accept (checked
// by Ajv, a validator of its own), and the package's TypeScript types, which must name the
// same fields, the same required ones and the same enum values (read with the TypeScript
// compiler), so the types cannot drift from what the engine reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import ts from "typescript";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const schema = (name) => JSON.parse(readFileSync(join(repo, "schemas", `${name}.schema.json`), "utf8"));
const names = ["policy", "state", "event", "population", "scenario"];

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addFormat("date-time", true);
const validators = Object.fromEntries(names.map((n) => [n, ajv.compile(schema(n))]));

function check(kind, doc, where) {
  const ok = validators[kind](doc);
  assert.ok(ok, `${where}: ${ajv.errorsText(validators[kind].errors)}`);
}

function files(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith(".json") ? [path] : [];
  });
}

test("every schema compiles under JSON Schema 2020-12", () => {
  for (const n of names) assert.equal(typeof validators[n], "function", n);
});

test("the corpus's valid documents are valid under the schemas", () => {
  const suites = [join(repo, "tests/scenarios"), join(repo, "examples")];
  let counted = { scenario: 0, policy: 0, event: 0, state: 0 };
  for (const file of suites.flatMap(files)) {
    const doc = JSON.parse(readFileSync(file, "utf8"));
    const where = relative(repo, file);
    if (!Array.isArray(doc.steps)) continue;
    check("scenario", doc, where);
    check("policy", doc.policy, `${where} policy`);
    counted.scenario++;
    counted.policy++;
    for (const [user, state] of Object.entries(doc.state ?? {})) {
      check("state", state, `${where} state of ${user}`);
      counted.state++;
    }
    doc.steps.forEach((step, i) => {
      const { type } = step.event;
      if (type === "set_policy" || type === "set_groups" || step.expect?.error) return;
      check("event", step.event, `${where} step ${i}`);
      counted.event++;
    });
  }
  check("policy", JSON.parse(readFileSync(join(repo, "examples/policy.json"), "utf8")), "examples/policy.json");
  check("population", JSON.parse(readFileSync(join(repo, "examples/population.json"), "utf8")), "examples/population.json");
  assert.ok(counted.scenario > 150 && counted.event > 250, JSON.stringify(counted));
});

test("the schemas refuse what the engine refuses for its shape", () => {
  assert.equal(validators.policy({}), false, "`schema` is required");
  assert.equal(validators.policy({ schema: "mdm.policy/v4" }), false);
  assert.equal(validators.policy({ schema: "mdm.policy/v3" }), true, "a set of no policies");
  assert.equal(validators.policy({ schema: "mdm.policy/v3", policies: [{ name: "a" }] }), true);
  assert.equal(validators.policy({ schema: "mdm.policy/v3", policies: [{}] }), false, "a policy has a name");
  assert.equal(validators.policy({ schema: "mdm.policy/v3", policies: [{ name: "" }] }), false, "a name is not empty");
  assert.equal(validators.policy({ schema: "mdm.policy/v3", assignment: {} }), false, "assignment is a policy's");
  assert.equal(validators.policy({ schema: "mdm.policy/v3", policies: [{ name: "a", unassigned: {} }] }), false, "unassigned is the set's");
  assert.equal(validators.policy({ schema: "mdm.policy/v1", policies: [] }), false, "policies is v3's");
  assert.equal(validators.policy({ schema: "mdm.policy/v1", asigned: {} }), false, "unknown fields");
  assert.equal(validators.policy({ schema: "mdm.policy/v1", assigned: { max_devices: 0 } }), false);
  assert.equal(validators.policy({ schema: "mdm.policy/v1", requirements: { min_os_version: { ios: "x" } } }), false);
  assert.equal(validators.policy({ $schema: "../schemas/policy.schema.json", schema: "mdm.policy/v2" }), true);
  assert.equal(validators.event({ type: "login", user: "a", at: "2026-01-01T00:00:00Z" }), false, "a login has a device");
  assert.equal(validators.event({ type: "enrolled", user: "a", device_id: "d", at: "2026-01-01T00:00:00Z" }), false);
  assert.equal(validators.state({ devices: [], extra: 1 }), false);
});

// The TypeScript side: the declared types, property by property.
const program = ts.createProgram([join(repo, "js/types.d.ts")], { strict: true, noEmit: true });
const checker = program.getTypeChecker();
const source = program.getSourceFile(join(repo, "js/types.d.ts"));
const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(source)).map((s) => [s.name, s]));
const declared = (name) => checker.getDeclaredTypeOfSymbol(exported.get(name));

/** The schema's alternatives, `$ref`s followed and `null` left out. */
function alternatives(s, root) {
  if (s.$ref && !s.properties) return alternatives(root.$defs[s.$ref.replace("#/$defs/", "")], root);
  const list = s.anyOf ?? s.oneOf;
  if (list && !list.every((b) => "const" in b)) return list.flatMap((b) => alternatives(b, root)).filter((b) => b.type !== "null");
  return [s];
}

/** An object schema's properties and required keys, with a `$ref` beside them merged in. */
function shape(s, root) {
  const base = s.$ref ? shape(root.$defs[s.$ref.replace("#/$defs/", "")], root) : { properties: {}, required: [] };
  return { properties: { ...base.properties, ...(s.properties ?? {}) }, required: [...base.required, ...(s.required ?? [])] };
}

const literals = (s) => s.enum ?? (s.oneOf?.every((b) => "const" in b) ? s.oneOf.map((b) => b.const) : s.const !== undefined ? [s.const] : null);

function compare(type, s, root, path, problems) {
  type = checker.getNonNullableType(type);
  const [one, ...more] = alternatives(s, root);
  if (more.length) return; // a union the types spell their own way (a scenario step's event)
  s = one;
  const values = literals(s);
  if (values) {
    const ts_ = (type.isUnion() ? type.types : [type]).filter((t) => t.isStringLiteral()).map((t) => t.value);
    if (JSON.stringify([...ts_].sort()) !== JSON.stringify([...values].sort())) {
      problems.push(`${path}: the types say ${JSON.stringify(ts_)}, the schema ${JSON.stringify(values)}`);
    }
    return;
  }
  const kind = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  if (kind === "array") {
    if (!checker.isArrayType(type)) return problems.push(`${path}: an array in the schema, not in the types`);
    return compare(checker.getTypeArguments(type)[0], s.items, root, `${path}[]`, problems);
  }
  if (kind === "object" && (s.properties || s.$ref)) {
    const { properties, required } = shape(s, root);
    const props = new Map(type.getProperties().map((p) => [p.name, p]));
    for (const key of Object.keys(properties)) {
      if (!props.has(key)) problems.push(`${path}.${key}: in the schema, not in the types`);
    }
    for (const [key, p] of props) {
      if (!(key in properties)) {
        problems.push(`${path}.${key}: in the types, not in the schema`);
        continue;
      }
      const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
      // Required in the types and defaulted in the schema is the same field: what the
      // engine returns always has it (a state's lists).
      const defaulted = !optional && "default" in properties[key];
      if (optional === required.includes(key) && !defaulted) {
        problems.push(`${path}.${key}: ${optional ? "optional" : "required"} in the types, not in the schema`);
      }
      compare(checker.getTypeOfSymbol(p), properties[key], root, `${path}.${key}`, problems);
    }
  }
}

test("the TypeScript types name what the schemas name", () => {
  const problems = [];
  // The policy schema is a union of one policy (v1, v2) and a set (v3): each side, and a
  // set's entries, against its own type.
  const policy = schema("policy");
  for (const [type, def] of [
    ["PolicyDocument", "PolicyDoc"],
    ["PolicySetDocument", "PolicySetDoc"],
    ["PolicySetEntry", "PolicyEntryDoc"],
  ]) {
    compare(declared(type), policy.$defs[def], policy, type, problems);
  }
  const state = schema("state");
  compare(declared("UserState"), state, state, "UserState", problems);
  // An event: each variant of the schema against the member of the union with its tag.
  const event = schema("event");
  const members = declared("Event").types;
  for (const variant of event.oneOf) {
    const tag = variant.properties.type.const;
    const member = members.find((m) => {
      const t = checker.getTypeOfSymbol(m.getProperty("type"));
      return (t.isUnion() ? t.types : [t]).some((x) => x.value === tag);
    });
    if (!member) {
      problems.push(`Event: no member for \`${tag}\``);
      continue;
    }
    const { properties, required } = shape(variant, event);
    const withoutTag = { ...variant, $ref: undefined, properties: { ...properties, type: undefined }, required };
    delete withoutTag.properties.type;
    const names_ = member.getProperties().map((p) => p.name).filter((n) => n !== "type").sort();
    const want = Object.keys(withoutTag.properties).sort();
    if (JSON.stringify(names_) !== JSON.stringify(want)) problems.push(`Event \`${tag}\`: the types have ${names_}, the schema ${want}`);
    for (const p of member.getProperties().filter((p) => p.name !== "type" && p.name in properties)) {
      compare(checker.getTypeOfSymbol(p), properties[p.name], event, `Event(${tag}).${p.name}`, problems);
    }
  }
  assert.deepEqual(problems, []);
});

test("the drift check finds a drift", () => {
  // A schema with one more field and another enum value than the types.
  const problems = [];
  const policy = structuredClone(schema("policy"));
  policy.$defs.PolicyDoc.properties.colour = { type: "string" };
  policy.$defs.DeviceMatch = { enum: ["device_id", "device_id_and_serial", "imei"] };
  compare(declared("PolicyDocument"), policy.$defs.PolicyDoc, policy, "PolicyDocument", problems);
  assert.ok(problems.some((p) => p.includes("PolicyDocument.colour: in the schema")), problems.join("\n"));
  assert.ok(problems.some((p) => p.includes("device_match")), problems.join("\n"));
});
