//! The contract's documents (a policy, an event, a user's state or a population) read
//! from their text: the JSON reader's failures as the engine's errors of each kind of
//! document.

use crate::error::{Error, ErrorCode};
use crate::json::{self, Decode, Failure};

/// Which document an error is about: each has its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A policy document (`invalid_policy`).
    Policy,
    /// An event (`invalid_event`).
    Event,
    /// A user's stored state, or a population of them (`invalid_state`).
    State,
}

impl DocumentKind {
    /// The contract's code for an error in this kind of document.
    pub const fn code(self) -> ErrorCode {
        match self {
            DocumentKind::Policy => ErrorCode::InvalidPolicy,
            DocumentKind::Event => ErrorCode::InvalidEvent,
            DocumentKind::State => ErrorCode::InvalidState,
        }
    }

    /// The document's text: `bytes` must be UTF-8, as JSON must be (RFC 8259). Every
    /// runtime decodes bytes here, so a document that is not text fails the same way
    /// everywhere (`not UTF-8: invalid byte at offset N`) instead of being repaired.
    pub fn text(self, bytes: &[u8]) -> Result<&str, Error> {
        json::utf8(bytes).map_err(|f| self.failed(f))
    }

    /// The document's text parsed as a JSON value, read as the engine reads its
    /// documents: a name repeated in any object is an error at the name (`duplicate
    /// field`), where `serde_json::Value` would keep the last one; a syntax error is at
    /// the root. For a caller that reshapes a document before the engine decodes it (the
    /// service adds a login's `type` and `at`), so that it cannot read a repeated name
    /// one way while the engine reads it another.
    pub fn value(self, text: &str) -> Result<serde_json::Value, Error> {
        json::value(text).map_err(|f| self.failed(f))
    }

    /// An error in this kind of document, at `pointer`.
    pub fn error(self, pointer: impl Into<String>, message: impl Into<String>) -> Error {
        let (pointer, message) = (pointer.into(), message.into());
        match self {
            DocumentKind::Policy => Error::InvalidPolicy { pointer, message },
            DocumentKind::Event => Error::InvalidEvent { pointer, message },
            DocumentKind::State => Error::InvalidState { pointer, message },
        }
    }

    /// A reader's failure as an error in this kind of document.
    pub(crate) fn failed(self, f: Failure) -> Error {
        self.error(f.pointer, f.message)
    }

    /// Decodes `text` as a document of this kind: the first failure at its field.
    pub(crate) fn parse<'de, T: Decode<'de>>(self, text: &'de str) -> Result<T, Error> {
        json::from_str(text).map_err(|f| self.failed(f))
    }

    /// Decodes an already parsed value (the service's requests, the CLI's and the test
    /// kit's documents) through its text, by the one decoder: the same shapes, the same
    /// pointers.
    pub(crate) fn parse_value<T: for<'de> Decode<'de>>(self, value: &serde_json::Value) -> Result<T, Error> {
        json::from_value(value).map_err(|f| self.failed(f))
    }
}
