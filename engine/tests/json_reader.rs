//! The engine's JSON reader against `serde_json` on generated texts: both accept the same
//! texts and read the same values from them, and every text either refuses is refused
//! by the other. The engine reads every document with its own reader, so this is what
//! keeps its grammar the JSON of RFC 8259.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mdm_engine::DocumentKind;
use proptest::prelude::*;
use serde_json::Value;

/// A JSON value, without repeated names (the engine refuses those; `serde_json` keeps
/// the last) and without `-0` (the engine reads it as the integer 0, `serde_json` as the
/// float `-0.0`).
fn value() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_filter("no -0", |n| *n != 0).prop_map(Value::from),
        (-1e300f64..1e300).prop_filter("no -0", |f| *f != 0.0).prop_map(Value::from),
    ];
    let text = prop_oneof![
        "[a-z ]{0,8}",
        "\\PC{0,6}",
        prop::collection::vec(prop_oneof![Just('"'), Just('\\'), Just('\u{1}'), Just('é'), Just('😀')], 0..4)
            .prop_map(|c| c.into_iter().collect::<String>()),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        text.prop_map(Value::String)
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `value` written out, compact or pretty, then perhaps damaged: one byte of JSON's
/// structure inserted, or one byte removed, somewhere.
fn text() -> impl Strategy<Value = String> {
    let damage = prop_oneof![
        3 => Just(None),
        1 => (any::<prop::sample::Index>(), prop::sample::select(vec![",", ":", "[", "]", "{", "}", "\"", "\\", "-", ".", "e", "0", " "]))
            .prop_map(|(at, s)| Some((at, Some(s)))),
        1 => any::<prop::sample::Index>().prop_map(|at| Some((at, None))),
    ];
    (value(), any::<bool>(), damage).prop_map(|(v, pretty, damage)| {
        let mut text =
            if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
        if let Some((at, insert)) = damage {
            let mut at = at.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match insert {
                Some(s) => text.insert_str(at, s),
                None if at < text.len() => {
                    text.remove(at);
                }
                None => {}
            }
        }
        text
    })
}

/// Whether two values are equal, floats within a relative 1e-15: `serde_json` (without
/// its `float_roundtrip` feature) may round a long fraction one unit off in the last
/// place, where the engine's reader (Rust's `str::parse`) rounds correctly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `v` holds a `-0` (the engine reads it as the integer 0).
fn negative_zero(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()),
        Value::Array(items) => items.iter().any(negative_zero),
        Value::Object(map) => map.values().any(negative_zero),
        _ => false,
    }
}

/// Whether `text` has an object with a name given twice (`serde_json` keeps the last).
fn repeats_a_name(text: &str) -> bool {
    fn walk(v: &Value) -> usize {
        match v {
            Value::Array(items) => items.iter().map(walk).sum(),
            Value::Object(map) => map.len() + map.values().map(walk).sum::<usize>(),
            _ => 0,
        }
    }
    // Count the names as written against those `serde_json` kept.
    let Ok(v) = serde_json::from_str::<Value>(text) else { return false };
    let mut written = 0;
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = serde::de::Deserializer::deserialize_any(&mut de, NameCounter(&mut written));
    written != walk(&v)
}

struct NameCounter<'a>(&'a mut usize);

impl<'de> serde::de::Visitor<'de> for NameCounter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Seed(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            *self.0 += 1;
            map.next_value_seed(Seed(&mut *self.0))?;
        }
        Ok(())
    }
}

struct Seed<'a>(&'a mut usize);

impl<'de> serde::de::DeserializeSeed<'de> for Seed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(NameCounter(self.0))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn reads_what_serde_json_reads(text in text()) {
        let ours = DocumentKind::Event.value(&text);
        match serde_json::from_str::<Value>(&text) {
            Ok(theirs) if negative_zero(&theirs) => prop_assert!(ours.is_ok(), "{}", text),
            Ok(_) if repeats_a_name(&text) => {
                let e = ours.expect_err("a repeated name is refused");
                prop_assert!(e.message().starts_with("duplicate field"), "{text}: {}", e.message());
            }
            Ok(theirs) => {
                let ours = ours.map_err(|e| TestCaseError::fail(format!("{text}: {}", e.message())))?;
                prop_assert!(same(&ours, &theirs), "{text}: {ours} / {theirs}");
            }
            Err(theirs) => {
                let e = ours.expect_err(&format!("serde_json refuses {text:?} ({theirs})"));
                // The same error, at the root, said at the same place (serde_json gives up
                // on an exponent as soon as it passes its range, so that one's place may
                // differ).
                prop_assert_eq!(e.pointer(), "");
                let (ours, theirs) = (e.message(), theirs.to_string());
                let split = |m: &str| m.rsplit_once(" at line ").map(|(what, at)| (what.to_string(), at.to_string()));
                let (ours, theirs) = (split(&ours), split(&theirs));
                if ours.as_ref().is_some_and(|(what, _)| what == "number out of range") {
                    prop_assert_eq!(ours.map(|o| o.0), theirs.map(|t| t.0), "{:?}", text);
                } else {
                    prop_assert_eq!(ours, theirs, "{:?}", text);
                }
            }
        }
    }
}

/// Texts at the edges of the grammar, each refused with serde_json's words at its place
/// or read to serde_json's value.
#[test]
fn edge_cases_read_as_serde_json_reads_them() {
    let mut wrong = Vec::new();
    for text in [
        r#""\ud800""#,
        r#""\udc00""#,
        r#""\ud800\u0041""#,
        r#""\ud83d\ude00""#,
        r#""\u00zz""#,
        r#""\u12"#,
        "\"a\u{1}\"",
        "\"a\u{7f}\"",
        r#""\q""#,
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "{1:2}",
        "{\"a\":1",
        // Found by the `json` fuzz target: a comma, then the end, in an object.
        "{\"a\":1,",
        "{\"a\":1, \n",
        "[",
        "",
        "   ",
        "nul",
        "nulll",
        "tru",
        "-",
        "-a",
        "01",
        "1.",
        "1.e5",
        "1e",
        "1e+",
        "1E-7",
        "-0.0e0",
        "1e400",
        "18446744073709551616",
        "-9223372036854775809",
        "[1] x",
        "\u{feff}[]",
        "[\"\\/\"]",
    ] {
        let ours = DocumentKind::Event.value(text);
        match serde_json::from_str::<Value>(text) {
            Ok(theirs) => match ours {
                Ok(ours) if same(&ours, &theirs) => {}
                Ok(ours) => wrong.push(format!("{text:?}: {ours} / {theirs}")),
                Err(e) => wrong.push(format!("{text:?}: {} / {theirs}", e.message())),
            },
            Err(theirs) => match ours {
                Err(e) if (e.pointer(), e.message()) == ("", theirs.to_string()) => {}
                Err(e) => wrong.push(format!("{text:?}: `{}` at `{}` / {theirs}", e.message(), e.pointer())),
                Ok(ours) => wrong.push(format!("{text:?}: {ours} / {theirs}")),
            },
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Found by the `json` fuzz target: a name given twice, then a value nested past the
/// limit. serde_json refuses the text for its nesting (it keeps the last of a repeated
/// name), so the engine must too: the text's syntax error comes before its repeated name,
/// wherever each is.
#[test]
fn nesting_past_the_limit_is_the_error_after_a_repeated_name() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for text in [format!(r#"{{"a": 1, "a": {deep}}}"#), format!(r#"{{"a": 1, "a": 2, "b": {deep}}}"#)] {
        let theirs = serde_json::from_str::<Value>(&text).unwrap_err().to_string();
        assert!(theirs.starts_with("recursion limit exceeded"), "{theirs}");
        let e = DocumentKind::Event.value(&text).unwrap_err();
        assert_eq!((e.pointer(), e.message()), ("", theirs), "{text}");
    }
}
