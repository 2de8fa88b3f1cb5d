//! JSON decoding that reports where it failed, as a JSON Pointer, and what kind of
//! failure it was.
//!
//! Every document is decoded by one decoder, straight from its text: the [`read`]
//! module's reader, whose typed reads record the path an error travels out through, and
//! a [`Decode`] impl per type. A large population and a one-line event take the same
//! path, so each document type's decoder is compiled once (the browser module pays for
//! every copy), and no document is parsed into a `serde_json::Value` first.
//!
//! This module knows JSON, not the contract: its [`Failure`]s say where and what, and
//! `crate::document` turns them into the engine's errors of a document kind.

mod fields;
mod read;

use std::borrow::Cow;

use serde_json::Value;

pub(crate) use fields::{Fields, Variants, concat, decoder, fields, mask, no_member, variant, variants};
pub(crate) use read::{Kind, Raw, ReadError, Reader};

/// A type read straight from JSON text by the [`Reader`].
pub(crate) trait Decode<'de>: Sized {
    /// Reads one value of the type at the reader.
    fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError>;
}

impl<'de> Decode<'de> for bool {
    fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError> {
        r.bool()
    }
}

/// Unsigned integers, refused out of their type's range in serde's words (`expected u8`).
macro_rules! unsigned {
    ($($ty:ident),+) => {$(
        impl<'de> Decode<'de> for $ty {
            fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError> {
                // In range: `Reader::unsigned` refuses what is above `MAX`.
                r.unsigned(u64::from($ty::MAX), stringify!($ty)).map(|n| n as $ty)
            }
        }
    )+};
}

unsigned!(u8, u16, u32, u64);

impl<'de> Decode<'de> for String {
    fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError> {
        r.str().map(Cow::into_owned)
    }
}

impl<'de> Decode<'de> for Cow<'de, str> {
    fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError> {
        r.str()
    }
}

impl<'de, T: Decode<'de>> Decode<'de> for Option<T> {
    fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError> {
        if r.null()? { Ok(None) } else { T::decode(r).map(Some) }
    }
}

impl<'de, T: Decode<'de>> Decode<'de> for Vec<T> {
    fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError> {
        let mut out = Vec::new();
        let mut list = r.list(&"a sequence")?;
        while r.element(&mut list)? {
            out.push(T::decode(r).map_err(|e| list.failed(e))?);
        }
        Ok(out)
    }
}

impl<'de> Decode<'de> for Raw<'de> {
    fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError> {
        r.raw().map(Raw)
    }
}

/// Escapes one reference token of a JSON Pointer (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A document that could not be decoded: where, what a person should know, and what
/// kind of failure it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The JSON Pointer of the value (or, for an unknown, missing or repeated member, of
    /// the member itself); empty for a syntax error.
    pub(crate) pointer: String,
    /// What is wrong.
    pub(crate) message: String,
    /// Which kind of failure.
    pub(crate) kind: Kind,
}

impl Failure {
    fn syntax(e: &ReadError) -> Failure {
        Failure { pointer: String::new(), message: e.message().to_string(), kind: Kind::Syntax }
    }

    fn of(e: &ReadError) -> Failure {
        Failure { pointer: pointer(e), message: e.message().to_string(), kind: e.kind() }
    }
}

/// The pointer of a decoding error: serde reports an unknown, missing or repeated field
/// at its parent; it points at the field itself.
fn pointer(e: &ReadError) -> String {
    let mut pointer = e.pointer();
    if let Some(field) = e.field() {
        let token = escape_pointer(field);
        if !pointer.ends_with(&format!("/{token}")) {
            pointer.push('/');
            pointer.push_str(&token);
        }
    }
    pointer
}

/// A reader's error in a document whose text is `text`.
///
/// A syntax error has no field to point at: it points at the root and says where in
/// the text it is. It is the document's error wherever it is in the text, as if the text
/// were parsed whole before it is typed: a field of the wrong type before a missing
/// bracket is not what the author needs to hear first.
fn failure(e: &ReadError, text: &str) -> Failure {
    if e.is_syntax() {
        return Failure::syntax(e);
    }
    if let Err(syntax) = Reader::check(text) {
        return Failure::syntax(&syntax);
    }
    Failure::of(e)
}

fn decode<'de, T: Decode<'de>>(text: &'de str, skip: &[usize]) -> Result<T, ReadError> {
    whole(Reader::skipping(text, skip), T::decode)
}

/// One value read by `read`, then nothing but whitespace.
fn whole<'de, 's, T>(
    mut reader: Reader<'de, 's>,
    read: impl FnOnce(&mut Reader<'de, 's>) -> Result<T, ReadError>,
) -> Result<T, ReadError> {
    let value = read(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// Decodes `text`; a failure is at the failing field.
pub(crate) fn from_str<'de, T: Decode<'de>>(text: &'de str) -> Result<T, Failure> {
    from_str_with(text, T::decode)
}

/// Decodes `text` with `decode` in place of a type's decoder: one that fills tables the
/// caller keeps from one document to the next (the lines of an NDJSON population).
pub(crate) fn from_str_with<'de, T>(
    text: &'de str,
    decode: impl FnOnce(&mut Reader<'de, '_>) -> Result<T, ReadError>,
) -> Result<T, Failure> {
    whole(Reader::skipping(text, &[]), decode).map_err(|e| failure(&e, text))
}

/// Checks that `text` is one JSON value; a failure is a syntax error at the root.
pub(crate) fn check(text: &str) -> Result<(), Failure> {
    Reader::check(text).map_err(|e| Failure::syntax(&e))
}

/// Checks that `bytes` are UTF-8, as JSON must be (RFC 8259); a failure is at the root
/// and says at which byte.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, Failure> {
    std::str::from_utf8(bytes).map_err(|e| Failure {
        pointer: String::new(),
        message: format!("not UTF-8: invalid byte at offset {}", e.valid_up_to()),
        kind: Kind::Syntax,
    })
}

/// Decodes an already parsed value through its text, by the one decoder: the same
/// shapes, the same pointers.
pub(crate) fn from_value<T: for<'de> Decode<'de>>(value: &Value) -> Result<T, Failure> {
    from_str(&value.to_string())
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
            // The n-th element that was kept: the least `o` with `o = n + (elements left
            // out at or before o)`, reached from `n` upwards; at most one step per element
            // left out (at most `MAX_ISSUES`), whatever the index, and nothing allocated.
            let mapped = index.map(|n| {
                let before = |o: usize| self.removed.iter().filter(|(a, r)| *r <= o && *a == out).count();
                let mut original = n;
                loop {
                    let next = n + before(original);
                    if next == original {
                        return original;
                    }
                    original = next;
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
/// failure, each at its pointer into the document, and the decoded document once the
/// erroneous parts are left out.
///
/// serde stops at the first error, so the member or array element that holds it is left
/// out and the text is read again: a field falls back to its default, an element is
/// dropped (the reader counts it all the same, so later pointers are the original ones).
/// When an object lacks a required field, the object goes too; the missing field is not
/// reported when it was itself a value left out.
pub(crate) fn collect<T: for<'de> Decode<'de>>(text: &str) -> (Option<T>, Vec<Failure>, Patches) {
    let mut failures: Vec<Failure> = Vec::new();
    let mut patches = Patches::default();
    let mut skip: Vec<usize> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    while failures.len() < MAX_ISSUES {
        let e = match decode::<T>(text, &skip) {
            Ok(doc) => return (Some(doc), failures, patches),
            Err(e) => e,
        };
        if e.is_syntax() {
            // Only a nesting too deep for the decoder gets here: it is the only error.
            return (None, vec![Failure::syntax(&e)], patches);
        }
        let found = Failure::of(&e);
        let target = if e.kind() == Kind::MissingField {
            let parent =
                found.pointer.rsplit_once('/').map_or(String::new(), |(parent, _)| parent.to_string());
            if !removed.contains(&found.pointer) {
                failures.push(found);
            }
            parent
        } else {
            let at = found.pointer.clone();
            failures.push(found);
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
    (None, failures, patches)
}

/// `text` read as it is, for a part of a document decoded later (a login's device):
/// objects keep their names' order, and a repeated name is refused at the name, as
/// everywhere else, where `serde_json::Value` would keep the last one.
pub(crate) fn value(text: &str) -> Result<Value, Failure> {
    let read = |mut reader: Reader<'_, '_>| reader.value().and_then(|v| reader.end().map(|()| v));
    read(Reader::unique(text)).map_err(|e| {
        if e.is_syntax() {
            return Failure::syntax(&e);
        }
        // A syntax error anywhere comes first, as in `failure`; but the whole text is
        // read here, so the nesting limit counts everywhere, as serde_json counts it
        // (`Reader::check` skips values, at any depth).
        match read(Reader::new(text)) {
            Err(syntax) if syntax.is_syntax() => Failure::syntax(&syntax),
            _ => Failure::of(&e),
        }
    })
}

/// How many elements an array holds (each only checked, not decoded).
pub(crate) struct Count(pub(crate) usize);

impl<'de> Decode<'de> for Count {
    fn decode(r: &mut Reader<'de, '_>) -> Result<Self, ReadError> {
        let mut n = 0;
        let mut list = r.list(&"a sequence")?;
        while r.element(&mut list)? {
            r.skip_value()?;
            n += 1;
        }
        Ok(Count(n))
    }
}

#[cfg(test)]
mod tests {
    use super::Patches;

    #[test]
    fn a_pointer_into_what_was_decoded_points_into_the_original() {
        let patches =
            Patches { removed: vec![("/apps".into(), 3), ("/apps".into(), 1), ("/apps/5/users".into(), 0)] };
        assert_eq!(patches.original("/apps/0"), "/apps/0");
        assert_eq!(patches.original("/apps/1"), "/apps/2");
        assert_eq!(patches.original("/apps/2/id"), "/apps/4/id");
        assert_eq!(patches.original("/apps/3/users/0"), "/apps/5/users/1");
        assert_eq!(patches.original("/apps/1000"), "/apps/1002");
        assert_eq!(patches.original("/users/1"), "/users/1");
        assert_eq!(patches.original("/apps/01"), "/apps/01");
    }
}
