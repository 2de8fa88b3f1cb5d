//! The JSON reader every document is decoded with: typed reads over the document's text
//! that record, as an error travels out, the path it came through.
//!
//! Why not `serde_json`'s deserializer: behind a path-tracking wrapper it cost the
//! browser module 49 KB (its number parsing, its float printing for
//! messages, the wrapper's second copy of every visitor). Why not serde's `Deserializer`
//! trait over this reader either: every decoded type then carries its own copy of the
//! visitor, map and sequence glue. Here a decoder calls the reader's typed methods,
//! each compiled once. The small no-std readers (`serde-json-core`,
//! `miniserde`, `nanoserde`) drop what the contract needs: the offending value in the
//! message, a nesting limit, a syntax error's line and column. Its grammar and its
//! syntax errors (words, line and column) are held to `serde_json`'s by a generated test
//! (`engine/tests/json_reader.rs`).
//! What this reader does beyond them, each for a reason:
//! - a struct is built only from a JSON object, an enum only from a string (serde's
//!   derived structs would accept `[true]` for `{"organization": true}`);
//! - an error knows the member or element it is in (its byte offset), so validation can
//!   read the document again without it ([`Reader::skipping`]);
//! - [`Raw`] hands a part of a document on as its text, checked for repeated names, to be
//!   decoded later with its own errors (a login's device).

use std::borrow::Cow;
use std::fmt;

/// How deep arrays and objects may nest in a value that is decoded (as `serde_json`
/// allows): the decoder recurses once per level. A value that is only skipped (a field
/// the engine does not read) is skipped without recursion, at any depth.
const MAX_DEPTH: u32 = 128;

/// What kind of failure a [`ReadError`] is, kept as data when the error is made, so that
/// no caller has to read it back out of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The text is not JSON (or nests too deep): no field can be pointed at.
    Syntax,
    /// A name a closed object does not have.
    UnknownField,
    /// A required member is absent.
    MissingField,
    /// A member given twice.
    DuplicateField,
    /// A value of the wrong JSON type.
    InvalidType,
    /// A value of the right type that is not allowed (a number out of range, say).
    InvalidValue,
    /// A spelling an enum does not have.
    UnknownVariant,
    /// A decoder's own message about a value ([`ReadError::custom`]).
    Other,
}

/// A decoding failure: its kind, its message, the field it names (an unknown, missing or
/// repeated member), the path it travelled out through (innermost step first) and the
/// smallest member or element around it.
#[derive(Debug)]
pub(crate) struct ReadError(Box<Fault>);

#[derive(Debug)]
struct Fault {
    kind: Kind,
    message: String,
    field: Option<String>,
    path: Vec<Step>,
    unit: Option<Unit>,
}

#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// A member (from its name's opening quote) or an array element (from its first byte)
/// that holds an error: what validation leaves out to read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unit {
    /// Where it starts in the text.
    pub(crate) offset: usize,
    /// Whether it is an array element (its removal moves the later elements' indices).
    pub(crate) element: bool,
}

impl ReadError {
    fn new(kind: Kind, message: String) -> Self {
        ReadError(Box::new(Fault { kind, message, field: None, path: Vec::new(), unit: None }))
    }

    /// An error about the member `field` of an object.
    fn about(kind: Kind, field: &str, message: String) -> Self {
        let mut e = ReadError::new(kind, message);
        e.0.field = Some(field.to_string());
        e
    }

    /// A name given twice in one object (a map's or a struct's), at the name.
    pub(crate) fn repeated(name: &str) -> Self {
        ReadError::about(Kind::DuplicateField, name, format!("duplicate field `{name}`"))
    }

    /// A malformed text at `at` (a byte offset): the message says where, by line and
    /// column, since no field can be pointed at.
    fn syntax(text: &str, at: usize, what: &str) -> Self {
        // Counted as serde_json counts: up to and including the offending byte.
        let read = text.as_bytes().get(..(at + 1).min(text.len())).unwrap_or_default();
        let line = 1 + read.iter().filter(|&&b| b == b'\n').count();
        let column = read.iter().rev().take_while(|&&b| b != b'\n').count();
        ReadError::new(Kind::Syntax, format!("{what} at line {line} column {column}"))
    }

    fn step(mut self, step: Step, unit: Unit) -> Self {
        self.0.path.push(step);
        self.0.unit.get_or_insert(unit);
        self
    }

    /// What kind of failure it is.
    pub(crate) fn kind(&self) -> Kind {
        self.0.kind
    }

    /// Whether the text is malformed (rather than a value of the wrong shape).
    pub(crate) fn is_syntax(&self) -> bool {
        self.0.kind == Kind::Syntax
    }

    /// The member an unknown, missing or repeated field error names.
    pub(crate) fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    pub(crate) fn message(&self) -> &str {
        &self.0.message
    }

    pub(crate) fn unit(&self) -> Option<Unit> {
        self.0.unit
    }

    /// The JSON Pointer of the value that failed.
    pub(crate) fn pointer(&self) -> String {
        let mut out = String::new();
        for step in self.0.path.iter().rev() {
            out.push('/');
            match step {
                Step::Key(key) => out.push_str(&super::escape_pointer(key)),
                Step::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for ReadError {}

/// What a value was, in a message: serde's wording, except that a JSON `null` is `null`,
/// and a number is quoted as the document wrote it (printing an `f64` back would cost
/// the browser module the float formatter, 14 KB).
pub(crate) enum Was<'a> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    /// A number that is not a 64-bit integer, as written: `integer` or `floating point`.
    Number {
        text: &'a str,
        integer: bool,
    },
    Str(&'a str),
    Seq,
    Map,
}

impl fmt::Display for Was<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Was::Null => f.write_str("null"),
            Was::Bool(b) => write!(f, "boolean `{b}`"),
            Was::Unsigned(n) => write!(f, "integer `{n}`"),
            Was::Signed(n) => write!(f, "integer `{n}`"),
            Was::Number { text, integer: true } => write!(f, "integer `{text}`"),
            Was::Number { text, integer: false } => write!(f, "floating point `{text}`"),
            Was::Str(s) => {
                f.write_str("string \"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
                        c => fmt::Write::write_char(f, c)?,
                    }
                }
                f.write_str("\"")
            }
            Was::Seq => f.write_str("sequence"),
            Was::Map => f.write_str("map"),
        }
    }
}

// The errors of decoding, in serde's words (a person who knows serde_json's messages
// reads the same ones), each with its kind as data.
impl ReadError {
    /// A decoder's own message about a value (an id too long, a time that is not one).
    pub(crate) fn custom(message: impl fmt::Display) -> Self {
        ReadError::new(Kind::Other, message.to_string())
    }

    #[cold]
    pub(crate) fn invalid_type(was: Was<'_>, exp: &dyn fmt::Display) -> Self {
        ReadError::new(Kind::InvalidType, format!("invalid type: {was}, expected {exp}"))
    }

    #[cold]
    pub(crate) fn invalid_value(was: Was<'_>, exp: &dyn fmt::Display) -> Self {
        ReadError::new(Kind::InvalidValue, format!("invalid value: {was}, expected {exp}"))
    }

    #[cold]
    pub(crate) fn unknown_variant(variant: &str, expected: &[&str]) -> Self {
        ReadError::new(
            Kind::UnknownVariant,
            format!("unknown variant `{variant}`, expected {}", OneOf(expected)),
        )
    }

    #[cold]
    pub(crate) fn unknown_field(field: &str, expected: &[&str]) -> Self {
        let message = match expected {
            [] => format!("unknown field `{field}`, there are no fields"),
            _ => format!("unknown field `{field}`, expected {}", OneOf(expected)),
        };
        ReadError::about(Kind::UnknownField, field, message)
    }

    #[cold]
    pub(crate) fn missing_field(field: &str) -> Self {
        ReadError::about(Kind::MissingField, field, format!("missing field `{field}`"))
    }
}

/// A list of names as serde words it: `` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` ``.
pub(crate) struct OneOf<'a>(pub(crate) &'a [&'a str]);

impl fmt::Display for OneOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("there are no variants"),
            [one] => write!(f, "`{one}`"),
            [a, b] => write!(f, "`{a}` or `{b}`"),
            names => {
                f.write_str("one of ")?;
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{name}`")?;
                }
                Ok(())
            }
        }
    }
}

/// A number as the text has it: an integer that fits 64 bits, or the text of one that
/// does not or of one with a fraction or an exponent.
enum Number<'de> {
    Unsigned(u64),
    Signed(i64),
    Other { text: &'de str, integer: bool },
}

/// The error for a control character in a string (JSON wants them escaped).
const CONTROL: &str = "control character (\\u0000-\\u001F) found while parsing a string";

/// Whether a name read equals one a decoder knows. The decoders' names are mostly 4 to
/// 16 bytes, which two words that overlap cover: comparing them spares a call to
/// `memcmp`, which the wasm guest compiles to a byte-at-a-time loop (5% of a
/// population's parse in the component was that loop).
#[inline]
pub(crate) fn same(known: &str, read: &str) -> bool {
    let (a, b) = (known.as_bytes(), read.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    // The first and last `N` bytes: together they cover a name of up to `2 * N` bytes.
    fn ends<const N: usize>(s: &[u8]) -> Option<([u8; N], [u8; N])> {
        Some((*s.first_chunk::<N>()?, *s.last_chunk::<N>()?))
    }
    match a.len() {
        8..=16 => ends::<8>(a) == ends::<8>(b),
        4..8 => ends::<4>(a) == ends::<4>(b),
        _ => a == b,
    }
}

/// Where the run of plain string bytes from `pos` ends: at a quote, a backslash, a
/// control character or the end. Eight bytes at a time, since a population is mostly
/// strings (each test flags the bytes it matches; the lowest flag is exact).
#[inline]
fn plain(bytes: &[u8], mut pos: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let Ok(chunk) = <[u8; 8]>::try_from(chunk) else { break };
        let w = u64::from_le_bytes(chunk);
        let quote = below(w ^ (ONES * u64::from(b'"')), 1);
        let backslash = below(w ^ (ONES * u64::from(b'\\')), 1);
        let flags = (quote | backslash | below(w, 0x20)) & HIGH;
        if flags != 0 {
            return pos + (flags.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while bytes.get(pos).is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20) {
        pos += 1;
    }
    pos
}

/// The reader: the text, where it is, and how much deeper values may nest.
///
/// Decoders read with its typed methods ([`Reader::bool`], [`Reader::str`],
/// [`Reader::list`] and [`Reader::element`], [`Reader::object`] and [`Reader::member`],
/// ...), each compiled once; a decoder of a type holds only its own calls. (Through
/// serde's `Deserializer`, every decoded type had its own copy of the visitor, map and
/// sequence glue: 30 KB of the browser module.)
pub(crate) struct Reader<'de, 's> {
    text: &'de str,
    pos: usize,
    depth: u32,
    /// A string with escapes, decoded.
    scratch: String,
    /// Members and elements to pass over, by offset, sorted (validation's; empty
    /// otherwise).
    skip: &'s [usize],
    /// Whether every object's repeated names are refused here (see [`Reader::unique`]).
    unique: bool,
    /// Whether the next object's repeated names are (see [`Reader::unique_object`]).
    unique_next: bool,
    /// The names read so far of each object being read whose repeats are refused, the
    /// innermost last. A map to nothing rather than a set: the population's interner has
    /// this type, so the modules carry one copy of its code.
    seen: Vec<rustc_hash::FxHashMap<Cow<'de, str>, u32>>,
}

/// An array being read (see [`Reader::list`]): where its current element starts, and
/// its index, for an error's path.
pub(crate) struct List {
    first: bool,
    index: usize,
    at: usize,
}

impl List {
    /// An error in the current element: its index joins the path, and the element is
    /// the unit validation may leave out.
    #[cold]
    pub(crate) fn failed(&self, e: ReadError) -> ReadError {
        e.step(Step::Index(self.index.saturating_sub(1)), Unit { offset: self.at, element: true })
    }
}

/// An object being read (see [`Reader::object`]): the name of the current member
/// (borrowed from the text unless it has escapes) and where the member starts.
pub(crate) struct Object<'de> {
    first: bool,
    unique: bool,
    name: Cow<'de, str>,
    at: usize,
}

impl<'de> Object<'de> {
    /// The current member's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The current member's name, to keep.
    pub(crate) fn key(&self) -> Cow<'de, str> {
        self.name.clone()
    }

    /// An error about the current member's name (unknown, repeated): the member is the
    /// unit validation may leave out.
    #[cold]
    pub(crate) fn failed_name(&self, mut e: ReadError) -> ReadError {
        e.0.unit.get_or_insert(Unit { offset: self.at, element: false });
        e
    }

    /// An error in the current member's value: its name joins the path.
    #[cold]
    pub(crate) fn failed_value(&self, e: ReadError) -> ReadError {
        e.step(Step::Key(self.name.to_string()), Unit { offset: self.at, element: false })
    }
}

impl<'de, 's> Reader<'de, 's> {
    pub(crate) fn new(text: &'de str) -> Self {
        Reader::skipping(text, &[])
    }

    /// A reader that passes over the members and elements starting at `skip` (sorted
    /// offsets of [`Unit`]s) as if the document did not hold them.
    pub(crate) fn skipping(text: &'de str, skip: &'s [usize]) -> Self {
        Reader {
            text,
            pos: 0,
            depth: MAX_DEPTH,
            scratch: String::new(),
            skip,
            unique: false,
            unique_next: false,
            seen: Vec::new(),
        }
    }

    /// A reader that refuses a name given twice in any object, at the name: for a value
    /// read as it is (a `serde_json::Value`), whose objects' names are data.
    pub(crate) fn unique(text: &'de str) -> Self {
        Reader { unique: true, ..Reader::new(text) }
    }

    /// Checks that nothing but whitespace follows the value read.
    pub(crate) fn end(&mut self) -> Result<(), ReadError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }

    /// Checks that the whole text is one JSON value, without decoding it.
    pub(crate) fn check(text: &'de str) -> Result<(), ReadError> {
        let mut reader = Reader::new(text);
        reader.skip_value()?;
        reader.end()
    }

    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The next byte that is not whitespace.
    fn peek(&mut self) -> Option<u8> {
        while let Some(b) = self.byte() {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    fn error(&self, what: &str) -> ReadError {
        ReadError::syntax(self.text, self.pos, what)
    }

    /// The end of the text where `what` (a list, an object, a string, a value) goes on.
    fn eof(&self, what: &str) -> ReadError {
        ReadError::syntax(self.text, self.text.len().saturating_sub(1), &format!("EOF while parsing {what}"))
    }

    /// The next byte that is not whitespace, which must be there.
    fn next_value(&mut self) -> Result<u8, ReadError> {
        self.peek().ok_or_else(|| self.eof("a value"))
    }

    fn skipped(&self, offset: usize) -> bool {
        !self.skip.is_empty() && self.skip.binary_search(&offset).is_ok()
    }

    fn literal(&mut self, word: &str) -> Result<(), ReadError> {
        for expected in word.bytes() {
            match self.byte() {
                Some(b) if b == expected => self.pos += 1,
                Some(_) => return Err(self.error("expected ident")),
                None => return Err(self.eof("a value")),
            }
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.byte().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number at the reader (RFC 8259's grammar).
    fn number(&mut self) -> Result<Number<'de>, ReadError> {
        let start = self.pos;
        let negative = self.byte() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        match self.byte() {
            Some(b'0') => {
                self.pos += 1;
                if self.byte().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(self.error("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            Some(_) => return Err(self.error("invalid number")),
            None => return Err(self.eof("a value")),
        }
        let int_end = self.pos;
        let mut integer = true;
        if self.byte() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self
                    .byte()
                    .map_or_else(|| self.eof("a value"), |_| self.error("invalid number")));
            }
            integer = false;
        }
        if matches!(self.byte(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.byte(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self
                    .byte()
                    .map_or_else(|| self.eof("a value"), |_| self.error("invalid number")));
            }
            integer = false;
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if integer {
            let digits = self.text.get(start + usize::from(negative)..int_end).unwrap_or_default();
            let magnitude =
                digits.bytes().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')));
            match magnitude {
                Some(n) if !negative => return Ok(Number::Unsigned(n)),
                Some(n) if n <= 1 << 63 => return Ok(Number::Signed(0i64.wrapping_sub_unsigned(n))),
                _ => {}
            }
        }
        Ok(Number::Other { text, integer })
    }

    /// A string at the reader (its opening quote): borrowed from the text when it has no
    /// escapes, else decoded into the scratch buffer (`None`).
    fn string(&mut self) -> Result<Option<&'de str>, ReadError> {
        self.pos += 1;
        let start = self.pos;
        self.pos = plain(self.text.as_bytes(), self.pos);
        match self.byte() {
            Some(b'"') => {
                let s = self.text.get(start..self.pos).unwrap_or_default();
                self.pos += 1;
                return Ok(Some(s));
            }
            Some(b'\\') => {}
            Some(_) => return Err(self.error(CONTROL)),
            None => return Err(self.eof("a string")),
        }
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.push_str(self.text.get(start..self.pos).unwrap_or_default());
        let done = self.escaped(&mut out);
        self.scratch = out;
        done.map(|()| None)
    }

    /// A string at the reader, borrowed when it can be.
    fn cow(&mut self) -> Result<Cow<'de, str>, ReadError> {
        Ok(match self.string()? {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(self.scratch.clone()),
        })
    }

    /// The rest of a string from its first escape, into `out`.
    fn escaped(&mut self, out: &mut String) -> Result<(), ReadError> {
        loop {
            let run = self.pos;
            self.pos = plain(self.text.as_bytes(), self.pos);
            out.push_str(self.text.get(run..self.pos).unwrap_or_default());
            match self.byte() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.byte() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            out.push(self.unicode()?);
                            continue;
                        }
                        Some(_) => return Err(self.error("invalid escape")),
                        None => return Err(self.eof("a string")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => {
                    return Err(self.error(CONTROL));
                }
                None => return Err(self.eof("a string")),
            }
        }
    }

    /// Four hex digits; an error is said at the fourth byte, where serde_json says it.
    fn hex4(&mut self) -> Result<u16, ReadError> {
        let Some(hex) = self.text.as_bytes().get(self.pos..self.pos + 4) else {
            return Err(self.eof("a string"));
        };
        let n = hex.iter().try_fold(0u16, |n, &b| Some(n << 4 | char::from(b).to_digit(16)? as u16));
        self.pos += 4;
        n.ok_or_else(|| ReadError::syntax(self.text, self.pos - 1, "invalid escape"))
    }

    /// A `\u` escape's character (after the `u`), a surrogate pair's two escapes in one.
    /// The errors are serde_json's, at its places.
    fn unicode(&mut self) -> Result<char, ReadError> {
        let lone = |r: &Self| ReadError::syntax(r.text, r.pos - 1, "lone leading surrogate in hex escape");
        let first = self.hex4()?;
        let code = match first {
            0xDC00..=0xDFFF => return Err(lone(self)),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.byte() {
                        Some(b) if b == expected => self.pos += 1,
                        Some(_) => return Err(self.error("unexpected end of hex escape")),
                        None => return Err(self.eof("a string")),
                    }
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(lone(self));
                }
                0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00)
            }
            other => u32::from(other),
        };
        char::from_u32(code).ok_or_else(|| lone(self))
    }

    /// Passes over a string without keeping it; its escapes are checked all the same.
    fn skip_string(&mut self) -> Result<(), ReadError> {
        self.pos += 1;
        loop {
            self.pos = plain(self.text.as_bytes(), self.pos);
            match self.byte() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.byte() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 1,
                        Some(b'u') => {
                            self.pos += 1;
                            self.unicode()?;
                        }
                        Some(_) => return Err(self.error("invalid escape")),
                        None => return Err(self.eof("a string")),
                    }
                }
                Some(_) => return Err(self.error(CONTROL)),
                None => return Err(self.eof("a string")),
            }
        }
    }

    /// A member's name and its colon, the reader at the name's opening quote.
    fn name_colon(&mut self) -> Result<Option<&'de str>, ReadError> {
        match self.byte() {
            Some(b'"') => {}
            // Only after a comma: serde_json wants a value there, and says so.
            None => return Err(self.eof("a value")),
            Some(_) => return Err(self.error("key must be a string")),
        }
        let name = self.string()?;
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                Ok(name)
            }
            Some(_) => Err(self.error("expected `:`")),
            None => Err(self.eof("an object")),
        }
    }

    /// Passes over one value of any depth without recursing, checking its syntax.
    pub(crate) fn skip_value(&mut self) -> Result<(), ReadError> {
        // The closing bracket of each array or object the reader is in.
        let mut brackets: Vec<u8> = Vec::new();
        loop {
            match self.next_value()? {
                b'"' => self.skip_string()?,
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                b't' => self.literal("true")?,
                b'f' => self.literal("false")?,
                b'n' => self.literal("null")?,
                open @ (b'[' | b'{') => {
                    self.pos += 1;
                    let close = if open == b'[' { b']' } else { b'}' };
                    if self.next_item(&mut true, close)? {
                        if close == b'}' {
                            self.skip_name()?;
                        }
                        brackets.push(close);
                        continue;
                    }
                    self.pos += 1;
                }
                _ => return Err(self.error("expected value")),
            }
            // A value ended: close what it ends, up to the next value.
            while let Some(&close) = brackets.last() {
                if self.next_item(&mut false, close)? {
                    if close == b'}' {
                        self.skip_name()?;
                    }
                    break;
                }
                self.pos += 1;
                brackets.pop();
            }
            if brackets.is_empty() {
                return Ok(());
            }
        }
    }

    fn skip_name(&mut self) -> Result<(), ReadError> {
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.eof("a value")),
            Some(_) => return Err(self.error("key must be a string")),
        }
        self.skip_string()?;
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error("expected `:`")),
            None => Err(self.eof("an object")),
        }
    }

    /// The value at the reader as it was, for an error: it is not what `exp` wanted.
    #[cold]
    fn unexpected(&mut self, exp: &dyn fmt::Display) -> ReadError {
        let was = match self.peek() {
            Some(b'n') => self.literal("null").map(|()| Was::Null),
            Some(b't') => self.literal("true").map(|()| Was::Bool(true)),
            Some(b'f') => self.literal("false").map(|()| Was::Bool(false)),
            Some(b'[') => Ok(Was::Seq),
            Some(b'{') => Ok(Was::Map),
            Some(b'"') => match self.string() {
                Ok(Some(s)) => return ReadError::invalid_type(Was::Str(s), exp),
                Ok(None) => return ReadError::invalid_type(Was::Str(&self.scratch), exp),
                Err(e) => return e,
            },
            Some(b'-' | b'0'..=b'9') => match self.number() {
                Ok(Number::Unsigned(n)) => Ok(Was::Unsigned(n)),
                Ok(Number::Signed(n)) => Ok(Was::Signed(n)),
                Ok(Number::Other { text, integer }) => Ok(Was::Number { text, integer }),
                Err(e) => return e,
            },
            Some(_) => Err(self.error("expected value")),
            None => Err(self.eof("a value")),
        };
        match was {
            Ok(was) => ReadError::invalid_type(was, exp),
            Err(e) => e,
        }
    }

    /// One level deeper, if the limit allows.
    fn descend(&mut self) -> Result<(), ReadError> {
        self.depth = self
            .depth
            .checked_sub(1)
            .filter(|d| *d > 0)
            .ok_or_else(|| self.error("recursion limit exceeded"))?;
        self.pos += 1;
        Ok(())
    }

    /// The bracket (`]` or `}`) that closes the array or object read: it must come next.
    fn close(&mut self, close: u8) -> Result<(), ReadError> {
        self.depth += 1;
        match self.peek() {
            Some(b) if b == close => {
                self.pos += 1;
                Ok(())
            }
            Some(b',') => {
                self.pos += 1;
                let what = if self.peek() == Some(close) { "trailing comma" } else { "trailing characters" };
                Err(self.error(what))
            }
            Some(_) => Err(self.error("trailing characters")),
            None => Err(self.eof(if close == b']' { "a list" } else { "an object" })),
        }
    }

    /// Moves to the next element or member of an array or object closed by `close`:
    /// past the comma unless it is the `first`, and to the item's first byte. `false` at
    /// the closing bracket, which is left for [`Reader::close`]. Inlined into its few
    /// callers, which are not generic (a population has millions of items).
    #[inline(always)]
    fn next_item(&mut self, first: &mut bool, close: u8) -> Result<bool, ReadError> {
        let list = close == b']';
        match self.peek() {
            Some(b) if b == close => return Ok(false),
            Some(_) if *first => *first = false,
            Some(b',') => {
                self.pos += 1;
                if self.peek() == Some(close) {
                    return Err(self.error("trailing comma"));
                }
            }
            Some(_) => {
                return Err(self.error(if list { "expected `,` or `]`" } else { "expected `,` or `}`" }));
            }
            None => return Err(self.eof(if list { "a list" } else { "an object" })),
        }
        self.peek();
        Ok(true)
    }

    // The typed readers: what a decoder calls. Each is compiled once.

    /// Whether the value is `null` (then read).
    pub(crate) fn null(&mut self) -> Result<bool, ReadError> {
        if self.next_value()? == b'n' {
            self.literal("null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// A boolean.
    pub(crate) fn bool(&mut self) -> Result<bool, ReadError> {
        match self.next_value()? {
            b't' => self.literal("true").map(|()| true),
            b'f' => self.literal("false").map(|()| false),
            _ => Err(self.unexpected(&"a boolean")),
        }
    }

    /// An integer from 0 to `max`, the largest value of the Rust type named `name`.
    pub(crate) fn unsigned(&mut self, max: u64, name: &'static str) -> Result<u64, ReadError> {
        match self.next_value()? {
            b'-' | b'0'..=b'9' => match self.number()? {
                Number::Unsigned(n) if n <= max => Ok(n),
                Number::Unsigned(n) => Err(ReadError::invalid_value(Was::Unsigned(n), &name)),
                Number::Signed(n) => Err(ReadError::invalid_value(Was::Signed(n), &name)),
                Number::Other { text, integer: true } => {
                    Err(ReadError::invalid_value(Was::Number { text, integer: true }, &name))
                }
                Number::Other { text, integer: false } => {
                    Err(ReadError::invalid_type(Was::Number { text, integer: false }, &name))
                }
            },
            _ => Err(self.unexpected(&name)),
        }
    }

    /// A string, borrowed from the text unless it has escapes.
    pub(crate) fn str(&mut self) -> Result<Cow<'de, str>, ReadError> {
        match self.next_value()? {
            b'"' => self.cow(),
            _ => Err(self.unexpected(&"a string")),
        }
    }

    /// The index in `names` of a string that must be one of them (an enum's spelling).
    pub(crate) fn variant(&mut self, names: &[&str]) -> Result<usize, ReadError> {
        if self.next_value()? != b'"' {
            return Err(self.unexpected(&OneOf(names)));
        }
        let s = match self.string()? {
            Some(s) => s,
            None => self.scratch.as_str(),
        };
        names.iter().position(|n| same(n, s)).ok_or_else(|| ReadError::unknown_variant(s, names))
    }

    /// The start of an array (`exp` says what was wanted, for an error); then
    /// [`Reader::element`] until it says `false`.
    pub(crate) fn list(&mut self, exp: &dyn fmt::Display) -> Result<List, ReadError> {
        if self.next_value()? != b'[' {
            return Err(self.unexpected(exp));
        }
        self.descend()?;
        Ok(List { first: true, index: 0, at: 0 })
    }

    /// Moves to the next element that is not left out; `false`, with the array closed, at
    /// its end. An error of the element is the list's to place: [`List::failed`].
    pub(crate) fn element(&mut self, list: &mut List) -> Result<bool, ReadError> {
        loop {
            if !self.next_item(&mut list.first, b']')? {
                self.close(b']')?;
                return Ok(false);
            }
            list.at = self.pos;
            list.index += 1;
            if self.skipped(list.at) {
                self.skip_value()?;
                continue;
            }
            return Ok(true);
        }
    }

    /// The start of an object (`exp` says what was wanted, for an error); then
    /// [`Reader::member`] until it says `false`. In the reader's unique mode, or after
    /// [`Reader::unique_object`], a name given twice is refused at the name.
    pub(crate) fn object(&mut self, exp: &dyn fmt::Display) -> Result<Object<'de>, ReadError> {
        if self.next_value()? != b'{' {
            return Err(self.unexpected(exp));
        }
        self.descend()?;
        let unique = self.unique || std::mem::take(&mut self.unique_next);
        if unique {
            self.seen.push(rustc_hash::FxHashMap::default());
        }
        Ok(Object { first: true, unique, name: Cow::Borrowed(""), at: 0 })
    }

    /// The next object read refuses a name given twice (a map whose names are data).
    pub(crate) fn unique_object(&mut self) {
        self.unique_next = true;
    }

    /// Moves past the next member's name that is not left out, to its value; `false`,
    /// with the object closed, at its end. Errors about the value are the object's to
    /// place: [`Object::failed_value`].
    pub(crate) fn member(&mut self, object: &mut Object<'de>) -> Result<bool, ReadError> {
        loop {
            if !self.next_item(&mut object.first, b'}')? {
                // A failure before the end abandons the whole read, so the names of an
                // unfinished object need no popping.
                if object.unique {
                    self.seen.pop();
                }
                self.close(b'}')?;
                return Ok(false);
            }
            let at = self.pos;
            let name = match self.name_colon()? {
                Some(name) => Cow::Borrowed(name),
                None => Cow::Owned(self.scratch.clone()),
            };
            if self.skipped(at) {
                self.skip_value()?;
                continue;
            }
            object.at = at;
            object.name = name;
            if object.unique && self.repeated(object.name.clone()) {
                return Err(object.failed_name(ReadError::repeated(&object.name)));
            }
            return Ok(true);
        }
    }

    /// Whether `name` was read before in the innermost object whose repeats are refused
    /// (and notes it).
    fn repeated(&mut self, name: Cow<'de, str>) -> bool {
        self.seen.last_mut().is_some_and(|seen| seen.insert(name, 0).is_some())
    }

    /// Reads a value through, refusing a name repeated in any of its objects. Its
    /// scalars are only checked, so no number is converted.
    pub(crate) fn names(&mut self) -> Result<(), ReadError> {
        match self.next_value()? {
            b'[' => {
                let mut list = self.list(&"a sequence")?;
                while self.element(&mut list)? {
                    self.names().map_err(|e| list.failed(e))?;
                }
                Ok(())
            }
            b'{' => {
                self.unique_object();
                let mut object = self.object(&"a map")?;
                while self.member(&mut object)? {
                    self.names().map_err(|e| object.failed_value(e))?;
                }
                Ok(())
            }
            _ => self.skip_value(),
        }
    }

    /// A value's text, as the document has it, checked for repeated names.
    pub(crate) fn raw(&mut self) -> Result<&'de str, ReadError> {
        self.next_value()?;
        let start = self.pos;
        self.names()?;
        Ok(self.text.get(start..self.pos).unwrap_or_default())
    }

    /// A value read as it is. A number that is not a 64-bit integer becomes an `f64`
    /// (only the native tools call this: the float parser stays out of the modules).
    pub(crate) fn value(&mut self) -> Result<serde_json::Value, ReadError> {
        use serde_json::Value;
        Ok(match self.next_value()? {
            b'n' => self.literal("null").map(|()| Value::Null)?,
            b't' | b'f' => Value::Bool(self.bool()?),
            b'"' => Value::String(self.cow()?.into_owned()),
            b'-' | b'0'..=b'9' => match self.number()? {
                Number::Unsigned(n) => Value::from(n),
                Number::Signed(n) => Value::from(n),
                Number::Other { text, .. } => {
                    match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                        Some(n) if n.as_f64().is_some_and(f64::is_finite) => Value::Number(n),
                        // At the number's last digit, where serde_json says it.
                        _ => {
                            return Err(ReadError::syntax(
                                self.text,
                                self.pos.saturating_sub(1),
                                "number out of range",
                            ));
                        }
                    }
                }
            },
            b'[' => {
                let mut items = Vec::new();
                let mut list = self.list(&"a sequence")?;
                while self.element(&mut list)? {
                    items.push(self.value().map_err(|e| list.failed(e))?);
                }
                Value::Array(items)
            }
            b'{' => {
                let mut map = serde_json::Map::new();
                let mut object = self.object(&"a map")?;
                while self.member(&mut object)? {
                    let value = self.value().map_err(|e| object.failed_value(e))?;
                    map.insert(object.name().to_string(), value);
                }
                Value::Object(map)
            }
            _ => return Err(self.error("expected value")),
        })
    }
}

/// A value's text, as the document has it, for a part decoded later: its errors then
/// point into the part, and the caller prefixes them. Its objects' names are checked
/// for repeats on the way, as everywhere.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'de>(pub(crate) &'de str);

#[cfg(test)]
mod tests {
    use super::super::Decode;
    use super::*;

    fn read<'de, T: Decode<'de>>(text: &'de str) -> Result<T, ReadError> {
        let mut reader = Reader::new(text);
        let value = T::decode(&mut reader)?;
        reader.end()?;
        Ok(value)
    }

    fn syntax(text: &str) -> String {
        let e = Reader::check(text).expect_err(text);
        assert!(e.is_syntax(), "{text}: {e}");
        e.to_string()
    }

    #[test]
    fn strings_are_borrowed_or_unescaped() {
        assert_eq!(read::<String>(r#""plain""#).unwrap(), "plain");
        assert_eq!(read::<String>(r#""a\"b\\c\/d\b\f\n\r\t""#).unwrap(), "a\"b\\c/d\u{8}\u{c}\n\r\t");
        assert_eq!(read::<String>(r#""\u00e9\ud83d\ude00 ok""#).unwrap(), "é😀 ok");
        let borrowed: Cow<'_, str> = read(r#""no escapes""#).unwrap();
        assert!(matches!(borrowed, Cow::Borrowed("no escapes")));
    }

    #[test]
    fn same_is_string_equality() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "device_id",
            "os_version",
            "pin_length",
            "enrollment",
            "é",
            "éé",
        ];
        for a in words {
            for b in words {
                assert_eq!(super::same(a, b), a == b, "{a:?} {b:?}");
            }
            // One byte changed anywhere is seen.
            for i in 0..a.len() {
                let mut c = a.as_bytes().to_vec();
                c[i] ^= 1;
                if let Ok(c) = std::str::from_utf8(&c) {
                    assert!(!super::same(a, c), "{a:?} {c:?}");
                }
            }
        }
    }

    #[test]
    fn plain_runs_end_where_a_byte_at_a_time_scan_ends() {
        let naive = |b: &[u8], mut i: usize| {
            while b.get(i).is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20) {
                i += 1;
            }
            i
        };
        let specials = [b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xc3, 0xff];
        for len in 0..20 {
            for at in 0..len {
                for &special in &specials {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    if at + 1 < len {
                        bytes[at + 1] = b'"';
                    }
                    for start in 0..len {
                        assert_eq!(plain(&bytes, start), naive(&bytes, start), "{bytes:?} from {start}");
                    }
                }
            }
        }
    }

    #[test]
    fn numbers_follow_the_grammar() {
        assert_eq!(read::<u64>("18446744073709551615").unwrap(), u64::MAX);
        assert_eq!(read::<u32>(" 0 ").unwrap(), 0);
        let mut r = Reader::new("-1.5e3");
        assert_eq!(r.value().unwrap(), serde_json::json!(-1500.0));
        let mut r = Reader::new("-9223372036854775808");
        assert_eq!(r.value().unwrap(), serde_json::json!(i64::MIN));
        for bad in ["01", "-", "1.", "1e", "1e+", ".5", "+1", "0x10"] {
            let e = Reader::check(bad).expect_err(bad);
            assert!(e.is_syntax(), "{bad}: {e}");
        }
        let e = read::<u32>("1.0").unwrap_err();
        assert_eq!(e.to_string(), "invalid type: floating point `1.0`, expected u32");
        let e = read::<u8>("300").unwrap_err();
        assert_eq!(e.to_string(), "invalid value: integer `300`, expected u8");
        let e = read::<u32>("-3").unwrap_err();
        assert_eq!(e.to_string(), "invalid value: integer `-3`, expected u32");
        let e = read::<u32>("1e400").unwrap_err();
        assert_eq!(e.to_string(), "invalid type: floating point `1e400`, expected u32");
        let e = read::<u32>("\"7\"").unwrap_err();
        assert_eq!(e.to_string(), "invalid type: string \"7\", expected u32");
    }

    #[test]
    fn syntax_errors_say_where() {
        assert_eq!(syntax(""), "EOF while parsing a value at line 1 column 0");
        assert_eq!(syntax("{\"a\":1,}"), "trailing comma at line 1 column 8");
        assert_eq!(syntax("[1,]"), "trailing comma at line 1 column 4");
        assert_eq!(syntax("[1 2]"), "expected `,` or `]` at line 1 column 4");
        assert_eq!(syntax("{\"a\" 1}"), "expected `:` at line 1 column 6");
        assert_eq!(syntax("{1:2}"), "key must be a string at line 1 column 2");
        assert_eq!(syntax("{\"a\":1,"), "EOF while parsing a value at line 1 column 7");
        assert_eq!(syntax("{\"a\":1,\n "), "EOF while parsing a value at line 2 column 1");
        assert_eq!(syntax("{\n\"a\":tru}"), "expected ident at line 2 column 8");
        assert_eq!(
            syntax("\"a\u{1}\""),
            "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 3"
        );
        assert_eq!(syntax(r#""\x""#), "invalid escape at line 1 column 3");
        assert_eq!(syntax(r#""\ud800""#), "unexpected end of hex escape at line 1 column 8");
        assert_eq!(syntax(r#""\udc00""#), "lone leading surrogate in hex escape at line 1 column 7");
        assert_eq!(syntax("[1] 2"), "trailing characters at line 1 column 5");
        assert!(syntax("[[[").starts_with("EOF while parsing a list"));
        assert!(syntax("{\"a\":{").starts_with("EOF while parsing an object"));
        assert!(syntax("\"abc").starts_with("EOF while parsing a string"));
    }

    #[test]
    fn nesting_is_limited_where_decoded_and_not_where_skipped() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(Reader::check(&deep).is_ok());
        let mut r = Reader::new(&deep);
        assert!(r.skip_value().is_ok(), "skipped without recursion");
        let e = Reader::new(&deep).value().unwrap_err();
        assert!(e.is_syntax() && e.to_string().starts_with("recursion limit exceeded"), "{e}");
        let e = Reader::new(&deep).names().unwrap_err();
        assert!(e.is_syntax() && e.to_string().starts_with("recursion limit exceeded"), "{e}");
    }

    /// A map of string to `T`, read with the object calls, for the tests of paths.
    fn map<'de, T: Decode<'de>>(r: &mut Reader<'de, '_>) -> Result<Vec<(String, T)>, ReadError> {
        let mut out = Vec::new();
        let mut object = r.object(&"a map")?;
        while r.member(&mut object)? {
            out.push((object.name().to_string(), T::decode(r).map_err(|e| object.failed_value(e))?));
        }
        Ok(out)
    }

    #[test]
    fn errors_carry_their_path_and_unit() {
        let text = r#"{"a": {"b~/": [1, 2, "x"]}}"#;
        let mut r = Reader::new(text);
        let e = map(&mut r).and_then(|outer: Vec<(String, Raw<'_>)>| {
            let inner = outer[0].1;
            let mut r = Reader::new(inner.0);
            map::<Vec<u32>>(&mut r)
                .map_err(|e| e.step(Step::Key("a".into()), Unit { offset: 0, element: false }))
        });
        let e = e.unwrap_err();
        assert_eq!(e.pointer(), "/a/b~0~1/2");
        let text = r#"{"b": [1, 2, "x"]}"#;
        let e = map::<Vec<u32>>(&mut Reader::new(text)).unwrap_err();
        assert_eq!(e.pointer(), "/b/2");
        let unit = e.unit().unwrap();
        assert!(unit.element);
        assert_eq!(text.get(unit.offset..unit.offset + 3), Some("\"x\""));
    }

    #[test]
    fn skipped_units_are_passed_over_and_still_counted() {
        let text = r#"[1, "x", 3, "y"]"#;
        let skip = [4];
        let mut reader = Reader::skipping(text, &skip);
        let e = Vec::<u32>::decode(&mut reader).unwrap_err();
        assert_eq!(e.pointer(), "/3", "the index counts the element left out");
        let skip = [4, 12];
        let mut reader = Reader::skipping(text, &skip);
        assert_eq!(Vec::<u32>::decode(&mut reader).unwrap(), [1, 3]);
        let text = r#"{"a": 1, "b": "x"}"#;
        let skip = [9];
        let mut reader = Reader::skipping(text, &skip);
        assert_eq!(map::<u32>(&mut reader).unwrap().len(), 1);
    }

    #[test]
    fn raw_parts_refuse_repeated_names() {
        let Raw(text) = read(r#" {"a": [1, {"b": 2.5e1}]} "#).unwrap();
        assert_eq!(text, r#"{"a": [1, {"b": 2.5e1}]}"#);
        let e = read::<Raw<'_>>(r#"{"a": [{"b": 1, "b": 2}]}"#).unwrap_err();
        assert_eq!((e.pointer(), e.to_string().as_str()), ("/a/0".into(), "duplicate field `b`"));
    }
}
