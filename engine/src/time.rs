//! Event times: RFC 3339 on the wire, integer milliseconds inside.

use std::fmt;

use serde::{Serialize, Serializer};
use time::{Date, Month};

/// A point in time, as milliseconds since the Unix epoch (UTC).
///
/// The engine never reads a clock: every time comes from an event. Integer
/// milliseconds keep comparisons and TTL arithmetic exact and cheap, and cross the
/// wasm boundary as one `s64`. Sub-millisecond digits of an input are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 86_400_000;
/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

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
    ///
    /// The grammar is RFC 3339's `date-time` (section 5.6), read by hand: `time`'s
    /// general-purpose parser was a tenth of the browser module for one fixed format.
    /// The calendar (days in a month, leap years, day numbers) is still `time`'s.
    /// `T` may also be `t` or a space, `Z` may be `z` (section 5.6's note); a leap
    /// second (`:60`) is read as the last millisecond before it, and only where one can
    /// be: at 23:59 UTC on a month's last day.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let fail = |reason: &str| TimeError::NotRfc3339 { text: s.to_string(), reason: reason.to_string() };
        let mut r = Reader(s.as_bytes());
        let year = r.digits(4).ok_or_else(|| fail("the year must be 4 digits"))?;
        let month = r
            .after(b"-")
            .and_then(|()| r.digits(2))
            .ok_or_else(|| fail("the month must be `-` and 2 digits"))?;
        let day = r
            .after(b"-")
            .and_then(|()| r.digits(2))
            .ok_or_else(|| fail("the day must be `-` and 2 digits"))?;
        r.after(b"T")
            .or_else(|| r.after(b"t"))
            .or_else(|| r.after(b" "))
            .ok_or_else(|| fail("the date must be followed by `T`"))?;
        let hour =
            r.digits(2).filter(|h| *h < 24).ok_or_else(|| fail("the hour must be 2 digits, 00 to 23"))?;
        let minute = r
            .after(b":")
            .and_then(|()| r.digits(2))
            .filter(|m| *m < 60)
            .ok_or_else(|| fail("the minute must be `:` and 2 digits, 00 to 59"))?;
        let second = r
            .after(b":")
            .and_then(|()| r.digits(2))
            .filter(|s| *s <= 60)
            .ok_or_else(|| fail("the second must be `:` and 2 digits, 00 to 60"))?;
        let mut millis = 0;
        if r.after(b".").is_some() {
            let mut digits = 0;
            while let Some(d) = r.digits(1) {
                if digits < 3 {
                    millis = millis * 10 + d;
                }
                digits += 1;
            }
            if digits == 0 {
                return Err(fail("a `.` must be followed by digits"));
            }
            for _ in digits..3 {
                millis *= 10;
            }
        }
        let offset_minutes = if r.after(b"Z").or_else(|| r.after(b"z")).is_some() {
            0
        } else {
            let sign = if r.after(b"+").is_some() {
                1
            } else if r.after(b"-").is_some() {
                -1
            } else {
                return Err(fail("the time must end with `Z` or an offset such as `+02:00`"));
            };
            let h = r
                .digits(2)
                .filter(|h| *h < 24)
                .ok_or_else(|| fail("the offset's hour must be 2 digits, 00 to 23"))?;
            let m = r
                .after(b":")
                .and_then(|()| r.digits(2))
                .filter(|m| *m < 60)
                .ok_or_else(|| fail("the offset's minute must be `:` and 2 digits, 00 to 59"))?;
            sign * i64::from(h * 60 + m)
        };
        if !r.0.is_empty() {
            return Err(fail("unexpected characters after the time"));
        }
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or_else(|| fail("the month must be 01 to 12"))?;
        let date = i32::try_from(year)
            .ok()
            .zip(u8::try_from(day).ok())
            .and_then(|(y, d)| Date::from_calendar_date(y, month, d).ok())
            .ok_or_else(|| fail("the day is not in the month"))?;
        let leap = second == 60;
        let (second, millis) = if leap { (59, 999) } else { (second, millis) };
        let local = (i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY) * MS_PER_DAY
            + i64::from(hour) * MS_PER_HOUR
            + i64::from(minute) * 60_000
            + i64::from(second) * 1000
            + i64::from(millis);
        let utc = Timestamp(local - offset_minutes * 60_000);
        if leap && !utc.is_leap_second_stand_in() {
            return Err(fail("a leap second is only at 23:59:60 UTC on a month's last day"));
        }
        Ok(utc)
    }

    /// Whether this is the last millisecond of a UTC day that ends a month.
    fn is_leap_second_stand_in(self) -> bool {
        let next = self.0 + 1;
        next.rem_euclid(MS_PER_DAY) == 0 && self.date(next).is_some_and(|d| d.day() == 1)
    }

    /// The UTC calendar date of `ms`, if the calendar has it.
    fn date(self, ms: i64) -> Option<Date> {
        let day = ms.div_euclid(MS_PER_DAY).checked_add(UNIX_EPOCH_JULIAN_DAY)?;
        Date::from_julian_day(i32::try_from(day).ok()?).ok()
    }

    /// This time plus `hours`, saturating at the end of time.
    pub fn plus_hours(self, hours: u32) -> Self {
        Timestamp(self.0.saturating_add(i64::from(hours).saturating_mul(MS_PER_HOUR)))
    }

    /// The time as RFC 3339 in UTC; fractional seconds only when there are any.
    pub fn to_rfc3339(self) -> String {
        use std::fmt::Write;
        match self.date(self.0).filter(|d| (0..=9999).contains(&d.year())) {
            Some(date) => {
                let ms = self.0.rem_euclid(MS_PER_DAY);
                let (h, m, s, frac) = (ms / MS_PER_HOUR, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
                let mut out = format!(
                    "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}",
                    date.year(),
                    u8::from(date.month()),
                    date.day()
                );
                if frac != 0 {
                    let digits = format!("{frac:03}");
                    let _ = write!(out, ".{}", digits.trim_end_matches('0'));
                }
                out.push('Z');
                out
            }
            // Every Timestamp came from a parsed RFC 3339 time or from the WIT boundary;
            // one outside the calendar can only be a hostile s64, shown as a number.
            None => format!("@{}ms", self.0),
        }
    }
}

/// The unread rest of a time's text.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    /// `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let (head, rest) = self.0.split_at_checked(n)?;
        let mut value = 0;
        for b in head {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(b - b'0');
        }
        self.0 = rest;
        Some(value)
    }

    /// Reads `literal` if the text goes on with it.
    fn after(&mut self, literal: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(literal)?;
        Some(())
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

impl<'de> crate::json::Decode<'de> for Timestamp {
    fn decode(r: &mut crate::json::Reader<'de, '_>) -> Result<Self, crate::json::ReadError> {
        Timestamp::parse(&r.str()?).map_err(crate::json::ReadError::custom)
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
        for bad in [
            "2026-02-29T10:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:60:00Z",
            "2026-11-22T10:00:00",
            "2026-11-22T10:00:00.Z",
            "2026-11-22T10:00:00+24:00",
            "2026-11-22T10:00:00Z ",
            "2026-11-22X10:00:00Z",
            "2026-11-22T10:00:60Z",
            "+2026-11-22T10:00:00Z",
            "２０２６-11-22T10:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_what_rfc_3339_allows() {
        let t = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
        for same in ["2026-11-22t10:00:00z", "2026-11-22 10:00:00Z", "2026-11-22T05:30:00-04:30"] {
            assert_eq!(Timestamp::parse(same), Ok(t), "{same}");
        }
        assert_eq!(Timestamp::parse("2026-11-22T10:00:00.123456789Z").unwrap().0 - t.0, 123);
        assert_eq!(Timestamp::parse("2024-02-29T00:00:00Z").unwrap().to_rfc3339(), "2024-02-29T00:00:00Z");
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z").unwrap().0, 0);
        assert_eq!(Timestamp::parse("1969-12-31T23:59:59.999Z").unwrap().0, -1);
        assert_eq!(Timestamp(-1).to_rfc3339(), "1969-12-31T23:59:59.999Z");
        assert_eq!(Timestamp(5).to_rfc3339(), "1970-01-01T00:00:00.005Z");
        assert_eq!(Timestamp::parse("0000-01-01T00:00:00Z").unwrap().to_rfc3339(), "0000-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59.999Z").unwrap().to_rfc3339(),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(Timestamp(i64::MAX).to_rfc3339(), format!("@{}ms", i64::MAX));
        // A leap second only where one can be, read as the millisecond before it.
        let leap = Timestamp::parse("2016-12-31T23:59:60Z").unwrap();
        assert_eq!(leap, Timestamp::parse("2016-12-31T23:59:59.999Z").unwrap());
        assert_eq!(Timestamp::parse("2017-01-01T00:59:60+01:00"), Ok(leap));
        assert!(Timestamp::parse("2016-12-30T23:59:60Z").is_err());
    }

    #[test]
    fn agrees_with_the_calendar_everywhere() {
        // Every day from 1900 to 2100 at a few times, against `time`'s own arithmetic.
        let mut date = Date::from_calendar_date(1900, Month::January, 1).unwrap();
        while date.year() < 2100 {
            let text =
                format!("{:04}-{:02}-{:02}T13:07:09.5Z", date.year(), u8::from(date.month()), date.day());
            let t = Timestamp::parse(&text).unwrap();
            let expected =
                (i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY) * MS_PER_DAY + 47_229_500;
            assert_eq!(t.0, expected, "{text}");
            assert_eq!(t.to_rfc3339(), text);
            date = date.next_day().unwrap();
        }
    }
}
