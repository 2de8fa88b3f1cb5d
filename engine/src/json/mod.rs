//! JSON decoding that reports where it failed, as a JSON Pointer.
//!
//! Every document is decoded by one decoder, straight from its text: the [`read`]
//! module's reader, a serde deserializer that records the path an error travels out
//! through. A large population and a one-line event take the same path, so each document
//! type's decoder is compiled once (the browser module pays for every copy), and no
//! document is parsed into a `serde_json::Value` first.

mod fields;
mod read;

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

pub(crate) use fields::{Fields, Variants, deserialize_fields, deserialize_variants, fields, variant};
pub(crate) use read::Raw;
use read::{ReadError, Reader};

use crate::error::{DocumentKind, Error};

/// Escapes one reference token of a JSON Pointer (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The field a serde message names in backticks after `prefix`, as in
/// "unknown field `group`, expected ...".
fn named_field<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

/// The pointer of a decoding error: serde reports an unknown, missing or repeated field
/// at its parent; it points at the field itself.
fn pointer(e: &ReadError) -> String {
    let mut pointer = e.pointer();
    for prefix in ["unknown field ", "missing field ", "duplicate field "] {
        if let Some(field) = named_field(e.message(), prefix)
            && !pointer.ends_with(&format!("/{}", escape_pointer(field)))
        {
            pointer.push('/');
            pointer.push_str(&escape_pointer(field));
        }
    }
    pointer
}

/// A reader's error as the engine's, in a document of `kind` whose text is `text`.
///
/// A syntax error has no field to point at: it points at the root and says where in
/// the text it is. It is the document's error wherever it is in the text, as if the text
/// were parsed whole before it is typed: a field of the wrong type before a missing
/// bracket is not what the author needs to hear first.
fn to_error(e: &ReadError, text: &str, kind: DocumentKind) -> Error {
    if e.is_syntax() {
        return kind.error("", e.message());
    }
    if let Err(syntax) = Reader::check(text) {
        return kind.error("", syntax.message());
    }
    kind.error(pointer(e), e.message())
}

fn decode<'de, T: Deserialize<'de>>(text: &'de str, skip: &[usize]) -> Result<T, ReadError> {
    let mut reader = Reader::skipping(text, skip);
    let value = T::deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// Decodes `text`; a failure is an error in a document of `kind` at the failing field.
pub(crate) fn from_str<'de, T: Deserialize<'de>>(text: &'de str, kind: DocumentKind) -> Result<T, Error> {
    decode(text, &[]).map_err(|e| to_error(&e, text, kind))
}

/// Checks that `text` is one JSON value; a failure is a syntax error in a document of
/// `kind`, at the root.
pub(crate) fn check(text: &str, kind: DocumentKind) -> Result<(), Error> {
    Reader::check(text).map_err(|e| kind.error("", e.message()))
}

/// Checks that `bytes` are UTF-8, as JSON must be (RFC 8259); a failure is an error in a
/// document of `kind`, at the root, that says at which byte. Every runtime decodes bytes here, so a
/// document that is not text fails the same way everywhere instead of being repaired
/// (a browser's lossy decoding would turn `sales\xff` into a different, valid id).
pub(crate) fn utf8(bytes: &[u8], kind: DocumentKind) -> Result<&str, Error> {
    std::str::from_utf8(bytes)
        .map_err(|e| kind.error("", format!("not UTF-8: invalid byte at offset {}", e.valid_up_to())))
}

/// Decodes an already parsed value (the service's requests, the CLI's and the test kit's
/// documents) through its text, by the one decoder: the same shapes, the same pointers.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value, kind: DocumentKind) -> Result<T, Error> {
    from_str(&value.to_string(), kind)
}

/// The most errors one validation reports: a document that is wrong everywhere is
/// re-read once per error.
pub(crate) const MAX_ISSUES: usize = 100;

/// What [`collect`] left out of the document to read past its errors.
#[derive(Debug, Default)]
pub(crate) struct Patches {
    /// The array elements left out: each array's pointer and the element's index, in the
    /// original document.
    removed: Vec<(String, usize)>,
}

impl Patches {
    /// A pointer into the document as decoded (without the elements left out), as a
    /// pointer into the original one.
    pub(crate) fn original(&self, pointer: &str) -> String {
        if self.removed.is_empty() {
            return pointer.to_string();
        }
        let mut out = String::new();
        for token in pointer.split('/').skip(1) {
            let index = token.parse::<usize>().ok().filter(|_| token == "0" || !token.starts_with('0'));
            let left_out = |i: usize| self.removed.iter().any(|(array, r)| *r == i && *array == out);
            let mapped = index.map(|n| {
                // The n-th element that was kept.
                let mut original = 0;
                let mut kept = 0;
                loop {
                    if !left_out(original) {
                        if kept == n {
                            return original;
                        }
                        kept += 1;
                    }
                    original += 1;
                }
            });
            out.push('/');
            match mapped {
                Some(i) => out.push_str(&i.to_string()),
                None => out.push_str(token),
            }
        }
        out
    }
}

/// Decodes `text` (which is JSON: the caller checked) as far as it can: every decoding
/// error, each at its pointer into the document, and the decoded document once the
/// erroneous parts are left out.
///
/// serde stops at the first error, so the member or array element that holds it is left
/// out and the text is read again: a field falls back to its default, an element is
/// dropped (the reader counts it all the same, so later pointers are the original ones).
/// When an object lacks a required field, the object goes too; the missing field is not
/// reported when it was itself a value left out.
pub(crate) fn collect<T: DeserializeOwned>(
    text: &str,
    kind: DocumentKind,
) -> (Option<T>, Vec<Error>, Patches) {
    let mut errors: Vec<Error> = Vec::new();
    let mut patches = Patches::default();
    let mut skip: Vec<usize> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    while errors.len() < MAX_ISSUES {
        let e = match decode::<T>(text, &skip) {
            Ok(doc) => return (Some(doc), errors, patches),
            Err(e) => e,
        };
        let at = pointer(&e);
        if e.is_syntax() {
            // Only a nesting too deep for the decoder gets here: it is the only error.
            return (None, vec![kind.error("", e.message())], patches);
        }
        let target = if e.is_missing_field() {
            if !removed.contains(&at) {
                errors.push(kind.error(at.clone(), e.message()));
            }
            at.rsplit_once('/').map_or(String::new(), |(parent, _)| parent.to_string())
        } else {
            errors.push(kind.error(at.clone(), e.message()));
            at
        };
        let Some(unit) = e.unit() else { break };
        if unit.element
            && let Some((array, index)) = target.rsplit_once('/')
            && let Ok(index) = index.parse::<usize>()
        {
            patches.removed.push((array.to_string(), index));
        }
        removed.push(target);
        let (Ok(at) | Err(at)) = skip.binary_search(&unit.offset);
        skip.insert(at, unit.offset);
    }
    (None, errors, patches)
}

/// A JSON value read as it is, for a part of a document decoded later (a login's
/// device): objects keep their names' order, and a repeated name is refused at the name,
/// as everywhere else, where `serde_json::Value` would keep the last one.
struct Unique(Value);

/// `text` as a [`Unique`] value.
pub(crate) fn value(text: &str, kind: DocumentKind) -> Result<Value, Error> {
    from_str::<Unique>(text, kind).map(|Unique(v)| v)
}

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            let Unique(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// How many elements an array holds (each only checked, not decoded).
pub(crate) struct Count(pub(crate) usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Counter;

        impl<'de> Visitor<'de> for Counter {
            type Value = Count;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }

        d.deserialize_seq(Counter)
    }
}

/// A map key, borrowed from the text when it has no escapes.
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}
