//! Event times: RFC 3339 on the wire, integer milliseconds inside.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, as milliseconds since the Unix epoch (UTC).
///
/// The engine never reads a clock: every time comes from an event. Integer
/// milliseconds keep comparisons and TTL arithmetic exact and cheap, and cross the
/// wasm boundary as one `s64`. Sub-millisecond digits of an input are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const MS_PER_HOUR: i64 = 3_600_000;

/// Why a string is not a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not RFC 3339.
    #[error("`{text}` is not an RFC 3339 time ({reason})")]
    NotRfc3339 {
        /// The text given.
        text: String,
        /// What the parser found wrong.
        reason: String,
    },
    /// An RFC 3339 time that milliseconds since 1970 in 64 bits cannot hold.
    #[error("`{0}` is out of range")]
    OutOfRange(String),
}

impl Timestamp {
    /// The time `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch: how a time crosses the WIT boundary.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 time (`2026-11-22T10:00:00Z`); an offset is converted to UTC.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let t = OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|e| TimeError::NotRfc3339 { text: s.to_string(), reason: e.to_string() })?;
        let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
        i64::try_from(ms).map(Timestamp).map_err(|_| TimeError::OutOfRange(s.to_string()))
    }

    /// This time plus `hours`, saturating at the end of time.
    pub fn plus_hours(self, hours: u32) -> Self {
        Timestamp(self.0.saturating_add(i64::from(hours).saturating_mul(MS_PER_HOUR)))
    }

    /// The time as RFC 3339 in UTC; fractional seconds only when there are any.
    pub fn to_rfc3339(self) -> String {
        let formatted = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok());
        // Every Timestamp came from a parsed RFC 3339 time or from the WIT boundary;
        // one outside the calendar can only be a hostile s64, shown as a number.
        formatted.unwrap_or_else(|| format!("@{}ms", self.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_normalises_offsets() {
        let t = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T10:00:00Z");
        let o = Timestamp::parse("2026-11-22T12:00:00+02:00").unwrap();
        assert_eq!(o, t);
        let f = Timestamp::parse("2026-11-22T10:00:00.250Z").unwrap();
        assert_eq!(f.0 - t.0, 250);
        assert_eq!(f.to_rfc3339(), "2026-11-22T10:00:00.25Z");
        assert_eq!(t.plus_hours(72), Timestamp::parse("2026-11-25T10:00:00Z").unwrap());
    }

    #[test]
    fn rejects_non_times() {
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2026-11-22").is_err());
        assert!(Timestamp::parse("2026-13-22T10:00:00Z").is_err());
    }
}
