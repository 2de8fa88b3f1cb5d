//! OS versions: `N(.N){0,3}`, compared numerically part by part.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A parsed OS version of one to four numeric parts.
///
/// Missing parts count as zero, so `16` equals `16.0` and `16.0.0`; leading zeros are not
/// kept (`17.02` is shown as `17.2`).
#[derive(Debug, Clone, Copy)]
pub struct Version {
    parts: [u32; 4],
    len: u8,
}

impl Version {
    /// Higher than any real version: what a "compliant" probe device reports.
    pub const MAX: Version = Version { parts: [u32::MAX; 4], len: 4 };

    /// A version from its parts (one to four; more are an error).
    pub fn from_parts(parts: &[u32]) -> Option<Self> {
        if parts.is_empty() || parts.len() > 4 {
            return None;
        }
        let mut v = Version { parts: [0; 4], len: 0 };
        for (slot, p) in v.parts.iter_mut().zip(parts) {
            *slot = *p;
        }
        v.len = parts.len() as u8;
        Some(v)
    }

    /// The four parts, missing ones as zero.
    pub fn parts(&self) -> [u32; 4] {
        self.parts
    }
}

/// A string that is not `N(.N){0,3}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a version (expected 1 to 4 numbers separated by dots, like `16.4`)")]
pub struct VersionError(String);

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, VersionError> {
        let bad = || VersionError(s.to_string());
        let mut v = Version { parts: [0; 4], len: 0 };
        for piece in s.split('.') {
            let slot = v.parts.get_mut(usize::from(v.len)).ok_or_else(bad)?;
            if piece.is_empty() || !piece.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *slot = piece.parse().map_err(|_| bad())?;
            v.len += 1;
        }
        Ok(v)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}
impl Eq for Version {}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.parts.iter().take(usize::from(self.len.max(1))).enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> crate::json::Decode<'de> for Version {
    fn decode(r: &mut crate::json::Reader<'de, '_>) -> Result<Self, crate::json::ReadError> {
        r.str()?.parse().map_err(crate::json::ReadError::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn compares_numerically_with_missing_parts_as_zero() {
        assert!(v("16.10") > v("16.9"));
        assert_eq!(v("16"), v("16.0.0"));
        assert!(v("15.7") < v("16.0"));
        assert!(v("12") <= v("12.0.0.0"));
        assert!(v("1.2.3.4") > v("1.2.3"));
        assert_eq!(v("17.02").to_string(), "17.2");
        assert_eq!(v("16.0").to_string(), "16.0");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "17.x", "1.2.3.4.5", ".1", "1.", "1..2", "-1", " 1", "99999999999"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }
}
