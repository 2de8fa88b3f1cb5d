//! JSON decoding that reports where it failed, as a JSON Pointer.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor,
};
use serde_json::{Number, Value};

use crate::error::{DocumentKind, Error};

/// Escapes one reference token of a JSON Pointer (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A decoding failure and where it happened: the path is built as the error travels out
/// of the nested values, so it holds the innermost step first.
///
/// [`Strict`] tracks the path itself instead of wrapping every visitor (as
/// `serde_path_to_error` does), which compiled each document's decoder twice.
#[derive(Debug)]
pub(crate) struct DecodeError {
    message: String,
    path: Vec<Step>,
}

#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

impl DecodeError {
    fn at(mut self, step: Step) -> Self {
        self.path.push(step);
        self
    }

    fn pointer(&self) -> String {
        let mut out = String::new();
        for step in self.path.iter().rev() {
            out.push('/');
            match step {
                Step::Key(key) => out.push_str(&escape_pointer(key)),
                Step::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        DecodeError { message: message.to_string(), path: Vec::new() }
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::custom(format_args!("invalid type: {}, expected {expected}", Shown(unexpected)))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::custom(format_args!("invalid value: {}, expected {expected}", Shown(unexpected)))
    }
}

/// serde's own wording for an unexpected value, with floats written by `serde_json`'s
/// shortest-form formatter: `core`'s float formatting alone is about 20 KB of the
/// browser module, and no document field is a float.
struct Shown<'a>(Unexpected<'a>);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Unexpected::Float(x) => match Number::from_f64(x) {
                Some(n) => write!(f, "floating point `{n}`"),
                None => f.write_str("floating point"),
            },
            Unexpected::Bool(b) => write!(f, "boolean `{b}`"),
            Unexpected::Unsigned(i) => write!(f, "integer `{i}`"),
            Unexpected::Signed(i) => write!(f, "integer `{i}`"),
            Unexpected::Char(c) => write!(f, "character `{c}`"),
            Unexpected::Str(s) => write!(f, "string {s:?}"),
            Unexpected::Bytes(_) => f.write_str("byte array"),
            Unexpected::Unit => f.write_str("unit value"),
            Unexpected::Option => f.write_str("Option value"),
            Unexpected::NewtypeStruct => f.write_str("newtype struct"),
            Unexpected::Seq => f.write_str("sequence"),
            Unexpected::Map => f.write_str("map"),
            Unexpected::Enum => f.write_str("enum"),
            Unexpected::UnitVariant => f.write_str("unit variant"),
            Unexpected::NewtypeVariant => f.write_str("newtype variant"),
            Unexpected::TupleVariant => f.write_str("tuple variant"),
            Unexpected::StructVariant => f.write_str("struct variant"),
            Unexpected::Other(other) => f.write_str(other),
        }
    }
}

/// Visits a number as the narrowest of `u64`, `i64` and `f64` that holds it, as
/// `serde_json` does, with this module's error type.
fn number<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value, DecodeError> {
    if let Some(u) = n.as_u64() {
        visitor.visit_u64(u)
    } else if let Some(i) = n.as_i64() {
        visitor.visit_i64(i)
    } else {
        visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// The field a serde message names in backticks after `prefix`, as in
/// "unknown field `group`, expected ...".
fn named_field<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

fn to_error(mut pointer: String, inner: &str, kind: DocumentKind) -> Error {
    // serde reports an unknown or missing field at its parent; point at the field itself.
    let mut message = inner.to_string();
    for prefix in ["unknown field ", "missing field "] {
        if let Some(field) = named_field(inner, prefix)
            && !pointer.ends_with(&format!("/{}", escape_pointer(field)))
        {
            pointer.push('/');
            pointer.push_str(&escape_pointer(field));
        }
    }
    // serde_json appends " at line L column C"; the pointer says where already.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    kind.error(pointer, message)
}

/// Decodes `text`; a failure is an error in a document of `kind` at the failing field.
///
/// Text is parsed into a `serde_json::Value` first, then typed from it: every document
/// type then has one path-tracking decoder (from `Value`) instead of one per input kind,
/// which keeps the WebAssembly builds small. A syntax error has no field to point at; it
/// points at the root and says where in the text it is.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str, kind: DocumentKind) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| kind.error("", e.to_string()))?;
    from_value(&value, kind)
}

/// Checks that `bytes` are UTF-8, as JSON must be (RFC 8259); a failure is an error in a
/// document of `kind`, at the root, that says at which byte. Every runtime decodes bytes here, so a
/// document that is not text fails the same way everywhere instead of being repaired
/// (a browser's lossy decoding would turn `sales\xff` into a different, valid id).
pub(crate) fn utf8(bytes: &[u8], kind: DocumentKind) -> Result<&str, Error> {
    std::str::from_utf8(bytes)
        .map_err(|e| kind.error("", format!("not UTF-8: invalid byte at offset {}", e.valid_up_to())))
}

/// Decodes an already parsed value; a failure is an error in a document of `kind` at the
/// failing field.
pub(crate) fn from_value<T: DeserializeOwned>(
    value: &serde_json::Value,
    kind: DocumentKind,
) -> Result<T, Error> {
    T::deserialize(Strict(value)).map_err(|e| to_error(e.pointer(), &e.message, kind))
}

/// A `serde_json::Value` deserializer that only builds a struct from a JSON object.
///
/// serde's derived structs also accept a sequence of their fields in order, so
/// `"assignment": [true]` would quietly mean `{"organization": true}` and a state of `[]`
/// an empty state; no administrator reads a document that way. Everything else is
/// `serde_json`'s own behaviour, applied to nested values through this wrapper.
struct Strict<'a>(&'a Value);

/// Each request visits only the JSON kind it asks for, as `serde_json`'s own `Value`
/// deserializer does: a visitor compiled with every path would cost the browser module
/// about 15 KB.
macro_rules! only {
    ($($method:ident: $pattern:pat => |$visitor:ident| $visit:expr;)*) => {
        $(fn $method<V: Visitor<'de>>(self, $visitor: V) -> Result<V::Value, Self::Error> {
            match self.0 {
                $pattern => $visit,
                other => Err(de::Error::invalid_type(unexpected(other), &$visitor)),
            }
        })*
    };
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Other("null"),
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Unexpected::Unsigned(u),
            (_, Some(i), _) => Unexpected::Signed(i),
            (_, _, Some(f)) => Unexpected::Float(f),
            _ => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> Deserializer<'de> for Strict<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Seq(items.iter().enumerate())),
            Value::Object(map) => visitor.visit_map(Map { entries: map.iter(), value: None }),
            // Visited directly rather than through `Value`'s own deserializer, whose
            // array and object paths would be compiled again for every visitor.
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => number(n, visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Map { entries: map.iter(), value: None }),
            other => Err(de::Error::custom(format_args!(
                "invalid type: {}, expected a JSON object",
                Shown(unexpected(other))
            ))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // The documents' enums are all unit variants spelled as strings.
        match self.0 {
            Value::String(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    only! {
        deserialize_bool: Value::Bool(b) => |v| v.visit_bool(*b);
        deserialize_i8: Value::Number(n) => |v| number(n, v);
        deserialize_i16: Value::Number(n) => |v| number(n, v);
        deserialize_i32: Value::Number(n) => |v| number(n, v);
        deserialize_i64: Value::Number(n) => |v| number(n, v);
        deserialize_u8: Value::Number(n) => |v| number(n, v);
        deserialize_u16: Value::Number(n) => |v| number(n, v);
        deserialize_u32: Value::Number(n) => |v| number(n, v);
        deserialize_u64: Value::Number(n) => |v| number(n, v);
        deserialize_f32: Value::Number(n) => |v| number(n, v);
        deserialize_f64: Value::Number(n) => |v| number(n, v);
        deserialize_char: Value::String(s) => |v| v.visit_borrowed_str(s);
        deserialize_str: Value::String(s) => |v| v.visit_borrowed_str(s);
        deserialize_string: Value::String(s) => |v| v.visit_borrowed_str(s);
        deserialize_identifier: Value::String(s) => |v| v.visit_borrowed_str(s);
        deserialize_bytes: Value::String(s) => |v| v.visit_borrowed_str(s);
        deserialize_byte_buf: Value::String(s) => |v| v.visit_borrowed_str(s);
        deserialize_unit: Value::Null => |v| v.visit_unit();
        deserialize_seq: Value::Array(items) => |v| v.visit_seq(Seq(items.iter().enumerate()));
        deserialize_map: Value::Object(map) => |v| v.visit_map(Map { entries: map.iter(), value: None });
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! { i128 u128 tuple tuple_struct }
}

struct Seq<'a>(std::iter::Enumerate<std::slice::Iter<'a, Value>>);

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        let Some((i, v)) = self.0.next() else { return Ok(None) };
        seed.deserialize(Strict(v)).map(Some).map_err(|e| e.at(Step::Index(i)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map<'a> {
    entries: serde_json::map::Iter<'a>,
    value: Option<(&'a String, &'a Value)>,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some((key, value));
        seed.deserialize(BorrowedStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some((key, value)) => seed.deserialize(Strict(value)).map_err(|e| e.at(Step::Key(key.clone()))),
            None => Err(de::Error::custom("a map value was asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
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

/// Decodes `value` as far as it can: every decoding error, each at its pointer into
/// `value`, and the decoded document once the erroneous parts are taken out.
///
/// serde stops at the first error, so each error's value is removed and decoding
/// starts again: a field falls back to its default, an array element is dropped (and
/// the later errors' pointers are mapped back to the original indices). When a removal
/// leaves an object without a required field, the object goes too; the missing field
/// is not reported when it was itself a removed value.
pub(crate) fn collect<T: DeserializeOwned>(
    mut value: Value,
    kind: DocumentKind,
) -> (Option<T>, Vec<Error>, Patches) {
    let mut errors: Vec<Error> = Vec::new();
    let mut patches = Patches::default();
    let mut removed: Vec<String> = Vec::new();
    while errors.len() < MAX_ISSUES {
        let e = match from_value::<T>(&value, kind) {
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

/// Decodes `text` straight into `T`, without an intermediate `Value` or a path: the fast
/// path for large documents, which on failure are decoded again by [`from_str`] for the
/// error's pointer. Structs are only built from JSON objects, as [`Strict`] builds them,
/// so both paths accept the same documents.
pub(crate) fn from_str_fast<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Objects(&mut de))?;
    de.end()?;
    Ok(value)
}

/// A deserializer that hands every struct request to the inner one as a map request,
/// for nested values too (it wraps the visitor, and through it the map and sequence
/// accesses the inner deserializer gives out).
struct Objects<D>(D);

macro_rules! forward {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(Objects(visitor))
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Objects<D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit
        deserialize_seq deserialize_map deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(Objects(visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, Objects(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, Objects(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(len, Objects(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(name, len, Objects(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, Objects(visitor))
    }
}

macro_rules! visit {
    ($($method:ident: $ty:ty)*) => {
        $(fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.0.$method(v)
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Objects<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.expecting(f)
    }

    visit! {
        visit_bool: bool visit_i64: i64 visit_u64: u64 visit_f64: f64 visit_str: &str
        visit_string: String visit_bytes: &[u8]
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.0.visit_borrowed_str(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(Objects(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(Objects(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(Objects(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(Objects(map))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        // The documents' enums are unit variants: nothing nested to wrap.
        self.0.visit_enum(data)
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Objects(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Objects(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Objects<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Objects(d))
    }
}
