//! JSON decoding that reports where it failed, as a JSON Pointer.

use serde::de::DeserializeOwned;
use serde_path_to_error::{Path, Segment};

use crate::error::{Error, ErrorCode};

/// Escapes one reference token of a JSON Pointer (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn pointer_of(path: &Path) -> String {
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&escape_pointer(key));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

/// The field a serde message names in backticks after `prefix`, as in
/// "unknown field `group`, expected ...".
fn named_field<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

fn to_error(mut pointer: String, inner: &str, code: ErrorCode) -> Error {
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
    Error::document(code, pointer, message)
}

/// Decodes `text`; a failure is an error of `code` at the failing field.
///
/// Text is parsed into a `serde_json::Value` first, then typed from it: every document
/// type then has one path-tracking decoder (from `Value`) instead of one per input kind,
/// which keeps the WebAssembly builds small. A syntax error has no field to point at; it
/// points at the root and says where in the text it is.
pub fn from_str<T: DeserializeOwned>(text: &str, code: ErrorCode) -> Result<T, Error> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::document(code, String::new(), e.to_string()))?;
    from_value(&value, code)
}

/// Decodes an already parsed value; a failure is an error of `code` at the failing field.
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value, code: ErrorCode) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.inner().to_string();
        to_error(pointer_of(e.path()), &inner, code)
    })
}
