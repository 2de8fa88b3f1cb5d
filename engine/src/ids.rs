//! The leaf of the engine's modules: the ids and OS types every document names, with
//! their bounds. Everything else builds on these; they build on nothing of the crate's
//! but the JSON reader.

use std::fmt;
use std::ops::Deref;

use serde::{Serialize, Serializer};

use crate::json;

/// The longest user or group id, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// The longest name of a policy in a set, in bytes of UTF-8.
pub const MAX_POLICY_NAME_BYTES: usize = 128;

/// The longest device id or serial number accepted, in characters.
pub const MAX_DEVICE_ID_CHARS: usize = 128;

/// An operating system type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum OsType {
    /// Apple iOS and iPadOS.
    Ios,
    /// Google Android.
    Android,
    /// Anything else the app runs on.
    Other,
}

impl OsType {
    /// Every OS type.
    pub const ALL: [OsType; 3] = [OsType::Ios, OsType::Android, OsType::Other];

    /// As the contract spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            OsType::Ios => "ios",
            OsType::Android => "android",
            OsType::Other => "other",
        }
    }

    /// As a person calls it, for remediation texts.
    pub const fn display_name(self) -> &'static str {
        match self {
            OsType::Ios => "iOS",
            OsType::Android => "Android",
            OsType::Other => "the operating system",
        }
    }

    /// Parses the contract's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// A device id or serial number: non-empty, at most [`MAX_DEVICE_ID_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Box<str>);

/// Why a string is not a device id or serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The string is empty.
    #[error("must not be empty")]
    Empty,
    /// The string is longer than [`MAX_DEVICE_ID_CHARS`].
    #[error("must be at most {MAX_DEVICE_ID_CHARS} characters, got {0}")]
    TooLong(usize),
}

impl Text {
    /// Checks and wraps `s`.
    pub fn new(s: &str) -> Result<Self, TextError> {
        if s.is_empty() {
            return Err(TextError::Empty);
        }
        let chars = s.chars().count();
        if chars > MAX_DEVICE_ID_CHARS {
            return Err(TextError::TooLong(chars));
        }
        Ok(Text(s.into()))
    }

    /// An empty id, which [`Text::new`] never makes: what a decoder holds until the
    /// document gives the id (an empty box does not allocate).
    pub(crate) fn placeholder() -> Self {
        Text(Box::from(""))
    }

    /// An id the engine checked when it was read, copied back out of compact storage.
    pub(crate) fn kept(s: &str) -> Self {
        Text(s.into())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> json::Decode<'de> for Text {
    fn decode(r: &mut json::Reader<'de, '_>) -> Result<Self, json::ReadError> {
        Text::new(&r.str()?).map_err(json::ReadError::custom)
    }
}

json::variants!(OsType {
    Ios = OsType::Ios.as_str(),
    Android = OsType::Android.as_str(),
    Other = OsType::Other.as_str(),
});
