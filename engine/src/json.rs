//! JSON decoding that reports where it failed, as a JSON Pointer.
//!
//! Every document is decoded by one decoder, straight from its text: `serde_json`'s
//! streaming deserializer behind a wrapper ([`Tracked`]) that records the path an error
//! travels out through. A large population and a one-line event take the same path, so
//! each document type's decoder is compiled once (the browser module pays for every
//! copy), and no document is parsed into a `serde_json::Value` first.

use std::borrow::Cow;
use std::cell::Cell;

use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::error::Category;

use crate::error::{DocumentKind, Error};

/// Escapes one reference token of a JSON Pointer (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The path of the value being decoded when an error happened, built as the error
/// travels out of the nested values: the innermost step first.
///
/// The error type stays `serde_json`'s, so the path is kept beside it; a `Cell` holds it
/// because every wrapper shares it by reference.
#[derive(Default)]
struct Track(Cell<Vec<Step>>);

enum Step {
    Key(String),
    Index(usize),
}

impl Track {
    fn push(&self, step: Step) {
        let mut path = self.0.take();
        path.push(step);
        self.0.set(path);
    }

    fn pointer(self) -> String {
        let mut out = String::new();
        for step in self.0.into_inner().iter().rev() {
            out.push('/');
            match step {
                Step::Key(key) => out.push_str(&escape_pointer(key)),
                Step::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

/// The field a serde message names in backticks after `prefix`, as in
/// "unknown field `group`, expected ...".
fn named_field<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

fn to_error(mut pointer: String, message: String, kind: DocumentKind) -> Error {
    // serde reports an unknown, missing or repeated field at its parent; point at the
    // field itself.
    for prefix in ["unknown field ", "missing field ", "duplicate field "] {
        if let Some(field) = named_field(&message, prefix)
            && !pointer.ends_with(&format!("/{}", escape_pointer(field)))
        {
            pointer.push('/');
            pointer.push_str(&escape_pointer(field));
        }
    }
    kind.error(pointer, message)
}

/// Decodes `text`; a failure is an error in a document of `kind` at the failing field.
///
/// A syntax error has no field to point at: it points at the root and says where in
/// the text it is. It is the document's error wherever it is in the text, as if the text
/// were parsed whole before it is typed: a field of the wrong type before a missing
/// bracket is not what the author needs to hear first.
pub(crate) fn from_str<'de, T: Deserialize<'de>>(text: &'de str, kind: DocumentKind) -> Result<T, Error> {
    let track = Track::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let decoded = T::deserialize(Tracked { de: &mut de, track: &track }).and_then(|v| de.end().map(|()| v));
    decoded.map_err(|e| {
        if e.classify() != Category::Data {
            return kind.error("", e.to_string());
        }
        if let Err(syntax) = serde_json::from_str::<de::IgnoredAny>(text) {
            return kind.error("", syntax.to_string());
        }
        // serde_json appends " at line L column C"; the pointer says where already.
        let mut message = e.to_string();
        let place = format!(" at line {} column {}", e.line(), e.column());
        if message.ends_with(&place) {
            message.truncate(message.len() - place.len());
        }
        to_error(track.pointer(), message, kind)
    })
}

/// Checks that `bytes` are UTF-8, as JSON must be (RFC 8259); a failure is an error in a
/// document of `kind`, at the root, that says at which byte. Every runtime decodes bytes here, so a
/// document that is not text fails the same way everywhere instead of being repaired
/// (a browser's lossy decoding would turn `sales\xff` into a different, valid id).
pub(crate) fn utf8(bytes: &[u8], kind: DocumentKind) -> Result<&str, Error> {
    std::str::from_utf8(bytes)
        .map_err(|e| kind.error("", format!("not UTF-8: invalid byte at offset {}", e.valid_up_to())))
}

/// Decodes a value the engine parsed itself (a login's device, a policy being
/// validated), through its text: the one decoder the WebAssembly modules carry for each
/// type, where [`from_value`] would compile another.
pub(crate) fn reread<T: DeserializeOwned>(value: &Value, kind: DocumentKind) -> Result<T, Error> {
    from_str(&value.to_string(), kind)
}

/// Decodes an already parsed value (the service's requests, the CLI's and the test kit's
/// documents), through the same wrapper as text: the same shapes, the same pointers.
/// Only native callers hold a `Value`, so the WebAssembly modules carry no copy of it.
pub(crate) fn from_value<'de, T: Deserialize<'de>>(
    value: &'de Value,
    kind: DocumentKind,
) -> Result<T, Error> {
    let track = Track::default();
    T::deserialize(Tracked { de: value, track: &track })
        .map_err(|e| to_error(track.pointer(), e.to_string(), kind))
}

/// The most errors one validation reports: a document that is wrong everywhere is
/// re-read once per error.
pub(crate) const MAX_ISSUES: usize = 100;

/// What [`collect`] did to the document to read past an error.
#[derive(Debug, Default)]
pub(crate) struct Patches {
    /// Removed array elements, each as (the array's pointer, the index), in the
    /// coordinates of the document at the time.
    removed: Vec<(String, usize)>,
}

impl Patches {
    /// A pointer into the patched document, as a pointer into the original one.
    pub(crate) fn original(&self, pointer: &str) -> String {
        let mut pointer = pointer.to_string();
        for (array, index) in self.removed.iter().rev() {
            let Some(rest) = pointer.strip_prefix(array.as_str()).and_then(|r| r.strip_prefix('/')) else {
                continue;
            };
            let (token, tail) = rest.split_once('/').map_or((rest, ""), |(t, tail)| (t, tail));
            if let Ok(n) = token.parse::<usize>()
                && n >= *index
            {
                let sep = if tail.is_empty() { "" } else { "/" };
                pointer = format!("{array}/{}{sep}{tail}", n + 1);
            }
        }
        pointer
    }
}

/// Removes the value at `pointer` from its parent; `None` if there is no such value (or
/// `pointer` is the root). An array element's removal is returned for [`Patches`].
fn remove(value: &mut Value, pointer: &str) -> Option<Option<(String, usize)>> {
    let (parent, token) = pointer.rsplit_once('/')?;
    let token = token.replace("~1", "/").replace("~0", "~");
    match value.pointer_mut(parent)? {
        Value::Object(map) => map.remove(&token).map(|_| None),
        Value::Array(items) => {
            let i = token.parse::<usize>().ok().filter(|i| *i < items.len())?;
            items.remove(i);
            Some(Some((parent.to_string(), i)))
        }
        _ => None,
    }
}

/// Decodes `text` as far as it can: every decoding error, each at its pointer into the
/// document, and the decoded document once the erroneous parts are taken out.
///
/// serde stops at the first error, so each error's value is removed from the parsed
/// document and decoding starts again: a field falls back to its default, an array
/// element is dropped (and the later errors' pointers are mapped back to the original
/// indices). When a removal leaves an object without a required field, the object goes
/// too; the missing field is not reported when it was itself a removed value.
///
/// A repeated name is seen only in the text (the parsed value keeps the last one), so
/// the text is decoded first: a document without errors is decoded once, and a repeated
/// name that is the first error is reported as [`from_str`] reports it.
pub(crate) fn collect<T: DeserializeOwned>(
    text: &str,
    kind: DocumentKind,
) -> (Option<T>, Vec<Error>, Patches) {
    let mut errors: Vec<Error> = Vec::new();
    let first = match from_str::<T>(text, kind) {
        Ok(doc) => return (Some(doc), errors, Patches::default()),
        Err(e) => e,
    };
    if first.message().starts_with("duplicate field ") {
        errors.push(first.clone());
    }
    // The text is JSON (the caller checked), but a value nested past serde_json's depth
    // limit cannot be parsed whole: the first error is then the only one, as the decoder
    // reported it.
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return (None, vec![first], Patches::default());
    };
    let mut patches = Patches::default();
    let mut removed: Vec<String> = Vec::new();
    while errors.len() < MAX_ISSUES {
        let e = match reread::<T>(&value, kind) {
            Ok(doc) => return (Some(doc), errors, patches),
            Err(e) => e,
        };
        let at = patches.original(e.pointer());
        let mut target = e.pointer().to_string();
        if e.message().starts_with("missing field ") {
            if !removed.contains(&at) {
                errors.push(kind.error(at, e.message()));
            }
            // The object that lacks the field cannot be decoded: it goes.
            target = target.rsplit_once('/').map_or(String::new(), |(parent, _)| parent.to_string());
        } else {
            errors.push(kind.error(at, e.message()));
        }
        removed.push(patches.original(&target));
        match remove(&mut value, &target) {
            Some(Some(element)) => patches.removed.push(element),
            Some(None) => {}
            None => break,
        }
    }
    (None, errors, patches)
}

/// A map from an object whose names are all different: a repeated name is an error at
/// the name (`duplicate field`), as it is in a struct, instead of the last one winning.
pub(crate) fn unique_keys<'de, D, V>(d: D) -> Result<std::collections::BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for Unique<V> {
        type Value = std::collections::BTreeMap<String, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = std::collections::BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    d.deserialize_map(Unique(std::marker::PhantomData))
}

/// A JSON value read as it is, for a part of a document decoded later (a login's
/// device): objects keep their names' order, and a repeated name is refused at the name,
/// as everywhere else, where `serde_json::Value` would keep the last one.
struct Unique(Value);

/// `text` as a [`Unique`] value.
pub(crate) fn value(text: &str, kind: DocumentKind) -> Result<Value, Error> {
    from_str::<Unique>(text, kind).map(|Unique(v)| v)
}

/// An optional [`Unique`] value, for `#[serde(deserialize_with)]`; `null` is `None`.
pub(crate) fn unique<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Option::<Unique>::deserialize(d).map(|v| v.map(|Unique(v)| v))
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

/// The deserializer every value is decoded through. Besides recording the path, it
/// holds the documents to what an administrator reads in them:
/// - a struct is built only from a JSON object (serde's derived structs also accept a
///   sequence of their fields in order, so `"assignment": [true]` would quietly mean
///   `{"organization": true}`);
/// - an enum (every one is a unit enum) only from a string, not from `{"ios": null}`.
struct Tracked<'t, D> {
    de: D,
    track: &'t Track,
}

/// A visitor whose nested values are decoded through [`Tracked`] too. `object` words the
/// error for a struct that is not an object the same for every struct.
struct Visit<'t, V> {
    visitor: V,
    track: &'t Track,
    object: bool,
}

macro_rules! forward {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.de.$method(Visit { visitor, track: self.track, object: false })
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tracked<'_, D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit
        deserialize_seq deserialize_map deserialize_identifier
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.de.deserialize_ignored_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_map(Visit { visitor, track: self.track, object: true })
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_str(Variant(visitor))
    }
}

/// A unit enum's variant, from a string.
struct Variant<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Variant<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.expecting(f)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.0.visit_enum(BorrowedStrDeserializer::new(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.visit_enum(StrDeserializer::new(v))
    }
}

macro_rules! visit {
    ($($method:ident: $ty:ty)*) => {
        $(fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.visitor.$method(v)
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Visit<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.object { f.write_str("a JSON object") } else { self.visitor.expecting(f) }
    }

    visit! {
        visit_bool: bool visit_i64: i64 visit_u64: u64 visit_f64: f64 visit_str: &str
        visit_string: String visit_bytes: &[u8] visit_borrowed_str: &'de str
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_some(Tracked { de, track: self.track })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_newtype_struct(Tracked { de, track: self.track })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_seq(Seq { seq, track: self.track, index: 0 })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(Map { map, track: self.track, key: None })
    }
}

struct Seq<'t, A> {
    seq: A,
    track: &'t Track,
    index: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        let index = self.index;
        self.index += 1;
        self.seq
            .next_element_seed(Seed { seed, track: self.track })
            .inspect_err(|_| self.track.push(Step::Index(index)))
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

/// A map's entries; the key of the entry being decoded is kept for the path (borrowed
/// from the text unless it has escapes, so keeping it costs nothing on the way).
struct Map<'t, 'de, A> {
    map: A,
    track: &'t Track,
    key: Option<Cow<'de, str>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        let Some(key) = self.map.next_key_seed(KeySeed)? else { return Ok(None) };
        let decoded = match &key {
            Cow::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)),
            Cow::Owned(k) => seed.deserialize(StrDeserializer::new(k)),
        };
        self.key = Some(key);
        decoded.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(Seed { seed, track: self.track }).inspect_err(|_| {
            self.track.push(Step::Key(self.key.take().map(Cow::into_owned).unwrap_or_default()));
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

struct Seed<'t, S> {
    seed: S,
    track: &'t Track,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Tracked { de, track: self.track })
    }
}
