//! The engine's JSON reader held to `serde_json` on any bytes (the `json` fuzz target's
//! check, and the replay of its corpus): the same value, or the same refusal in the same
//! words at the same line and column.
//!
//! Where they differ by design, and what is held instead:
//! - a name given twice in one object: `serde_json` keeps the last, the engine refuses it
//!   (`duplicate field`, at the name's pointer; the contract: a policy's typo must never
//!   be read one way by one runtime and another way by another);
//! - `-0`: the engine reads the integer 0, `serde_json` the float `-0.0`; a number is the
//!   same number either way;
//! - a fraction or exponent: the engine rounds correctly (Rust's `str::parse`),
//!   `serde_json` without its `float_roundtrip` feature may be a few units off in the last
//!   place, so floats are held equal within a relative 1e-15, and at the edge of `f64`'s
//!   range one may call a number out of range that the other reads: the one that rounds
//!   as Rust's `str::parse` does is right. Past the range both refuse (`number out of
//!   range`), `serde_json` as soon as the exponent passes it, the engine at the number's
//!   last digit, so only the words are compared;
//! - bytes that are not UTF-8: both refuse, the engine before reading any JSON (`not
//!   UTF-8: invalid byte at offset N`, for every runtime alike) and `serde_json` where it
//!   meets them; the text with the bad bytes replaced is then compared as any text;
//! - the whole-text syntax check that `validate` runs first passes over values without
//!   decoding them: without recursion, so with no nesting limit, and without converting
//!   numbers, so with no range (RFC 8259 leaves both to implementations). Where
//!   `serde_json` refuses a text for its nesting or a number's range, only the decoding
//!   read is held to it; `validate` reports such a number where a decoder reads it, as a
//!   value of the wrong type.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use mdm_engine::{DocumentKind, IssueCode};

/// Checks one input. Returns what does not hold.
pub fn json_text(data: &[u8]) -> Result<(), String> {
    if std::str::from_utf8(data).is_err() {
        if serde_json::from_slice::<Value>(data).is_ok() {
            return Err("serde_json read bytes that are not UTF-8".into());
        }
        match DocumentKind::Event.text(data) {
            Ok(_) => return Err("the engine took bytes that are not UTF-8 for text".into()),
            Err(e) if !e.message().starts_with("not UTF-8") || !e.pointer().is_empty() => {
                return Err(format!("bytes that are not UTF-8 refused as `{}`", e.message()));
            }
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let ours = DocumentKind::Event.value(text);
    let syntax = mdm_engine::validate(text).errors.into_iter().find(|i| i.code == IssueCode::Syntax);
    match serde_json::from_str::<Value>(text) {
        Ok(theirs) => {
            if let Some(i) = syntax {
                return Err(format!("serde_json reads it, validate finds `{}`", i.message));
            }
            match (repeated_name(text)?, ours) {
                (Some((pointer, name)), Err(e)) => {
                    let due = format!("duplicate field `{name}`");
                    if e.pointer() != pointer || e.message() != due {
                        return Err(format!(
                            "a repeated name refused as `{}` at `{}`, not `{due}` at `{pointer}`",
                            e.message(),
                            e.pointer()
                        ));
                    }
                    Ok(())
                }
                (Some((pointer, name)), Ok(_)) => Err(format!("`{name}` repeated at `{pointer}`, yet read")),
                // serde_json rounded a number past the range down into it.
                (None, Err(e)) if number_at(text, &e.message()).is_some_and(f64::is_infinite) => Ok(()),
                (None, Err(e)) => Err(format!("serde_json reads it, the engine refuses: {}", e.message())),
                (None, Ok(ours)) => match difference(&ours, &theirs, "") {
                    Some(at) => Err(format!("read differently at `{at}`: {ours} / {theirs}")),
                    None => Ok(()),
                },
            }
        }
        Err(theirs) => {
            let theirs = theirs.to_string();
            let ours = match ours {
                // serde_json rounded a number in the range up out of it.
                Ok(_) if number_at(text, &theirs).is_some_and(f64::is_finite) => return Ok(()),
                Ok(v) => return Err(format!("serde_json refuses it ({theirs}), the engine reads {v}")),
                Err(e) if !e.pointer().is_empty() => {
                    return Err(format!(
                        "a syntax error at `{}`, not the root: {}",
                        e.pointer(),
                        e.message()
                    ));
                }
                Err(e) => e.message(),
            };
            // One of them rounded a number at the edge of the range the wrong way, and
            // read on where the other stopped.
            let wrong_way = |message: &str, infinite: bool| {
                number_at(text, message).is_some_and(|n| n.is_infinite() == infinite)
            };
            if wrong_way(&theirs, false)
                || (wrong_way(&ours, true) && !theirs.starts_with("number out of range"))
            {
                return Ok(());
            }
            same_syntax_error(&ours, &theirs).map_err(|e| format!("decoding: {e}"))?;
            if theirs.starts_with("recursion limit exceeded") || theirs.starts_with("number out of range") {
                return Ok(());
            }
            match syntax {
                Some(i) => same_syntax_error(&i.message, &theirs).map_err(|e| format!("validate: {e}")),
                None => Err(format!("serde_json refuses it ({theirs}), validate finds no syntax error")),
            }
        }
    }
}

/// The number a `number out of range` error is about, rounded as Rust's `str::parse`
/// rounds it: the run of number characters around the error's line and column.
fn number_at(text: &str, message: &str) -> Option<f64> {
    let at = message.strip_prefix("number out of range at line ")?;
    let (line, column) = at.split_once(" column ")?;
    let (line, column): (usize, usize) = (line.parse().ok()?, column.parse().ok()?);
    let start = if line <= 1 { 0 } else { text.match_indices('\n').nth(line - 2)?.0 + 1 };
    let bytes = text.as_bytes();
    let is_number = |b: &u8| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E');
    let at = (start + column).checked_sub(1)?;
    let from = bytes.get(..=at)?.iter().rposition(|b| !is_number(b)).map_or(0, |i| i + 1);
    let to = bytes.get(at..)?.iter().position(|b| !is_number(b)).map_or(bytes.len(), |i| at + i);
    text.get(from..to)?.parse().ok()
}

/// Whether two syntax errors are the same: the same words at the same line and column,
/// but for a number out of range, where `serde_json` stops early (see the module).
fn same_syntax_error(ours: &str, theirs: &str) -> Result<(), String> {
    let what = |m: &str| m.rsplit_once(" at line ").map(|(what, _)| what.to_string());
    let out_of_range = what(theirs).is_some_and(|w| w == "number out of range");
    if ours == theirs || (out_of_range && what(ours) == what(theirs)) {
        Ok(())
    } else {
        Err(format!("`{ours}` where serde_json says `{theirs}`"))
    }
}

/// The first place two values differ, as a JSON Pointer; `None` when they are the same.
fn difference(ours: &Value, theirs: &Value, at: &str) -> Option<String> {
    let same = match (ours, theirs) {
        (Value::Number(x), Value::Number(y)) => same_number(x, y),
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(at.to_string());
            }
            return x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (x, y))| difference(x, y, &format!("{at}/{i}")));
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Some(at.to_string());
            }
            return x.iter().find_map(|(k, v)| {
                let inner = format!("{at}/{}", escape(k));
                y.get(k).map_or_else(|| Some(inner.clone()), |w| difference(v, w, &inner))
            });
        }
        _ => ours == theirs,
    };
    (!same).then(|| at.to_string())
}

/// One reference token of a JSON Pointer (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Two numbers as the module says: integers exactly (`-0` is the integer 0), floats
/// within a relative 1e-15.
fn same_number(ours: &serde_json::Number, theirs: &serde_json::Number) -> bool {
    let (Some(x), Some(y)) = (ours.as_f64(), theirs.as_f64()) else { return false };
    match (ours.is_f64(), theirs.is_f64()) {
        (false, false) => ours == theirs,
        // serde_json's `-0`.
        (false, true) => ours.as_i64() == Some(0) && y == 0.0 && y.is_sign_negative(),
        (true, false) => false,
        (true, true) => x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs()),
    }
}

/// The first name given twice in one object, in text order: the pointer of the second
/// one and the name. `serde_json` reads the text through, so its `Value` keeps no trace.
fn repeated_name(text: &str) -> Result<Option<(String, String)>, String> {
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(text);
    Walk { at: String::new(), found: &mut found }
        .deserialize(&mut de)
        .map_err(|e| format!("serde_json reads it, then not: {e}"))?;
    Ok(found)
}

/// A value read through, noting the first repeated name.
struct Walk<'a> {
    at: String,
    found: &'a mut Option<(String, String)>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(Walk { at: format!("{}/{i}", self.at), found: &mut *self.found })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut names = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            let at = format!("{}/{}", self.at, escape(&name));
            if !names.insert(name.clone()) && self.found.is_none() {
                *self.found = Some((at.clone(), name));
            }
            map.next_value_seed(Walk { at, found: &mut *self.found })?;
        }
        Ok(())
    }
}
