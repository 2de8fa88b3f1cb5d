//! `mdm fmt`: the canonical form of policy and scenario files, so that a review shows
//! only real changes.
//!
//! The canonical form: keys in the order of the document's JSON Schema (which is the
//! order of the engine's types), after `$schema` and an event's `type`; keys the schema
//! does not know (a map's keys, or an unknown field) sorted; two spaces of indentation;
//! an object or array on one line when that line fits in 100 columns. Arrays keep their
//! order, which can mean something. Values are not changed: a file that formats is the
//! same document.

use serde_json::{Map, Value};

/// The widest line the formatter puts a value on one line for.
const WIDTH: usize = 100;

/// The kinds of files `mdm fmt` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Policy,
    Scenario,
}

impl Kind {
    /// What `value` is: a scenario has `steps`, a policy a `schema`.
    pub(crate) fn of(value: &Value) -> Option<Kind> {
        let object = value.as_object()?;
        if object.contains_key("steps") {
            Some(Kind::Scenario)
        } else if object.get("schema").and_then(Value::as_str).is_some_and(|s| s.starts_with("mdm.policy/")) {
            Some(Kind::Policy)
        } else {
            None
        }
    }

    fn schema(self) -> Value {
        let schema = match self {
            Kind::Policy => mdm_engine::schema::Document::Policy.schema(),
            Kind::Scenario => mdm_testkit::scenario::schema(),
        };
        schema.to_value()
    }
}

/// The canonical text of `value`, a document of `kind`, ending in a newline.
pub(crate) fn canonical(value: &Value, kind: Kind) -> String {
    let schema = kind.schema();
    let ordered = order(value, Some(&schema), &schema);
    let mut out = String::new();
    write(&ordered, 0, &mut out);
    out.push('\n');
    out
}

/// `schema` with its `$ref` followed (within `root`'s `$defs`).
fn resolve<'s>(schema: &'s Value, root: &'s Value) -> &'s Value {
    let mut s = schema;
    for _ in 0..16 {
        match s.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => match root.pointer(pointer) {
                Some(target) => s = target,
                None => break,
            },
            None => break,
        }
    }
    s
}

/// The alternatives of a schema (`anyOf`, `oneOf`), flattened; the schema itself if none.
fn branches<'s>(schema: &'s Value, root: &'s Value, out: &mut Vec<&'s Value>) {
    let s = resolve(schema, root);
    let alternatives = ["anyOf", "oneOf"].iter().find_map(|k| s.get(*k).and_then(Value::as_array));
    match alternatives {
        Some(list) => list.iter().for_each(|b| branches(b, root, out)),
        None => out.push(s),
    }
}

/// The object schema among `schema`'s alternatives that fits `object`: the one whose
/// `type` tag it carries, else the one that knows most of its keys.
fn object_schema<'s>(object: &Map<String, Value>, schema: &'s Value, root: &'s Value) -> Option<&'s Value> {
    let mut all = Vec::new();
    branches(schema, root, &mut all);
    let tag = object.get("type").and_then(Value::as_str);
    let known = |s: &Value| {
        s.get("properties")
            .and_then(Value::as_object)
            .map_or(0, |p| object.keys().filter(|k| p.contains_key(*k)).count())
    };
    let tagged = all.iter().find(|s| {
        let t = s.pointer("/properties/type");
        tag.is_some() && t.and_then(|t| t.get("const")).and_then(Value::as_str) == tag
    });
    tagged.or_else(|| all.iter().filter(|s| s.get("properties").is_some()).max_by_key(|s| known(s))).copied()
}

fn order(value: &Value, schema: Option<&Value>, root: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let s = schema.and_then(|s| object_schema(object, s, root));
            let properties = s.and_then(|s| s.get("properties")).and_then(Value::as_object);
            let extra = s.and_then(|s| s.get("additionalProperties")).filter(|a| a.is_object());
            let mut keys: Vec<&String> = Vec::new();
            for first in ["$schema", "type"] {
                if let Some((k, _)) = object.get_key_value(first) {
                    keys.push(k);
                }
            }
            if let Some(p) = properties {
                for k in p.keys() {
                    if let Some((k, _)) = object.get_key_value(k)
                        && !keys.contains(&k)
                    {
                        keys.push(k);
                    }
                }
            }
            let mut rest: Vec<&String> = object.keys().filter(|k| !keys.contains(k)).collect();
            rest.sort();
            keys.extend(rest);
            let out = keys
                .into_iter()
                .filter_map(|k| {
                    let sub = properties.and_then(|p| p.get(k)).or(extra);
                    Some((k.clone(), order(object.get(k)?, sub, root)))
                })
                .collect();
            Value::Object(out)
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| {
                let mut all = Vec::new();
                branches(s, root, &mut all);
                all.into_iter().find_map(|b| b.get("items"))
            });
            Value::Array(items.iter().map(|v| order(v, item_schema, root)).collect())
        }
        other => other.clone(),
    }
}

/// `value` on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Object(o) if !o.is_empty() => {
            let parts: Vec<String> =
                o.iter().map(|(k, v)| format!("{}: {}", Value::String(k.clone()), inline(v))).collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::Array(a) if !a.is_empty() => {
            let parts: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        scalar => scalar.to_string(),
    }
}

/// Writes `value` at `indent` spaces, its first line already started by the caller.
fn write(value: &Value, indent: usize, out: &mut String) {
    let line_start = out.rfind('\n').map_or(0, |i| i + 1);
    let used = out.len() - line_start;
    let one_line = inline(value);
    let fits = used + one_line.chars().count() < WIDTH;
    let pad = " ".repeat(indent + 2);
    match value {
        Value::Object(o) if !fits && !o.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in o.iter().enumerate() {
                out.push_str(&pad);
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                write(v, indent + 2, out);
                out.push_str(if i + 1 < o.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
        Value::Array(a) if !fits && !a.is_empty() => {
            out.push_str("[\n");
            for (i, v) in a.iter().enumerate() {
                out.push_str(&pad);
                write(v, indent + 2, out);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        _ => out.push_str(&one_line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        let v: Value = serde_json::from_str(text).unwrap();
        canonical(&v, Kind::of(&v).unwrap())
    }

    #[test]
    fn keys_follow_the_schema_and_short_values_stay_on_one_line() {
        let text = r#"{"requirements":{"min_pin_length":6,"platforms":["ios"]},"unknown":1,"schema":"mdm.policy/v1","$schema":"p.json","assignment":{"users":["b","a"]}}"#;
        assert_eq!(
            fmt(text),
            "{\n  \"$schema\": \"p.json\",\n  \"schema\": \"mdm.policy/v1\",\n  \"assignment\": { \"users\": [\"b\", \"a\"] },\n  \"requirements\": { \"platforms\": [\"ios\"], \"min_pin_length\": 6 },\n  \"unknown\": 1\n}\n"
        );
    }

    #[test]
    fn the_canonical_form_is_a_fixed_point_and_the_same_document() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/seeds-story.json"))
                .unwrap();
        let once = fmt(&text);
        assert_eq!(fmt(&once), once);
        let (a, b): (Value, Value) =
            (serde_json::from_str(&text).unwrap(), serde_json::from_str(&once).unwrap());
        assert_eq!(a, b);
        assert!(once.lines().all(|l| l.chars().count() <= WIDTH || !l.trim_start().starts_with(['{', '['])));
    }

    #[test]
    fn an_event_starts_with_its_type_and_follows_its_variant() {
        let out = fmt(
            r#"{"steps":[{"expect":{"outcome":"allow"},"event":{"device":{"os_type":"ios","device_id":"A"},"at":"2026-01-01T00:00:00Z","user":"u","type":"login"}}],"policy":{"schema":"mdm.policy/v1"},"name":"n"}"#,
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "policy", "steps"]);
        let event: Vec<&String> = v["steps"][0]["event"].as_object().unwrap().keys().collect();
        assert_eq!(event, ["type", "user", "at", "device"]);
        let step: Vec<&String> = v["steps"][0].as_object().unwrap().keys().collect();
        assert_eq!(step, ["event", "expect"]);
        assert!(out.contains(r#""device": { "device_id": "A", "os_type": "ios" }"#), "{out}");
    }
}
