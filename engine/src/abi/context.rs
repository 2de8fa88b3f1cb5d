//! A login's context as one byte buffer: the user's principals, the apps the login device
//! reports and the user's stored state, as the host packs them and the guest reads them
//! in place. One `list<u8>` crosses the component boundary, where a list of variants cost
//! a store per field of every element. Written here once for both sides, so that the
//! writer and the reader cannot disagree.
//!
//! Little-endian throughout. Five sections, in this order, each a `u32` count and then
//! its entries:
//!
//! | section | entry |
//! |---|---|
//! | principals | `u32` principal (see [`super::principals`]) |
//! | installed apps | `u32` app id index, `u8` managed (0 or 1) |
//! | active devices | `u32` id token, `u32` serial token, `u8` OS type (0 iOS, 1 Android, 2 other), `u8` enrollment method (0 to 3, in [`EnrollmentMethod::ALL`]'s order), `u8` flags (bit 0: has a serial, bit 1: enrolled, bit 2: noncompliant), `u8` zero, `i64` registered at, `i64` enrolled at, `i64` noncompliant since (times in Unix milliseconds; a field its flag does not announce is zero) |
//! | pending requests | `u32` id token, `i64` requested at |
//! | rejected devices | `u32` id token, `i64` rejected at |
//!
//! Nothing may follow. A buffer that breaks the layout is refused whole with a
//! [`ContextError`]; the reader never trusts a count before it has checked that the
//! bytes are there.

use crate::device::{Device, Pending, Registered, Rejected, UserState};
use crate::ids::OsType;
use crate::manage::{Enrollment, EnrollmentMethod};
use crate::time::Timestamp;

/// The size of an active device's entry.
const ACTIVE: usize = 4 + 4 + 4 + 3 * 8;
/// The size of a pending request's or a rejection's entry.
const STAMPED: usize = 4 + 8;
/// The size of an installed app's entry.
const INSTALLED: usize = 4 + 1;

const HAS_SERIAL: u8 = 1;
const ENROLLED: u8 = 2;
const NONCOMPLIANT: u8 = 4;

/// Why a context buffer was refused: the host that built it is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// The buffer ends inside a count or an entry.
    #[error("the context ends before its last entry")]
    Truncated,
    /// Bytes follow the last section.
    #[error("bytes follow the context's last section")]
    Trailing,
    /// A byte that names nothing: an OS type, an enrollment method, a flag.
    #[error("a value the context's layout does not have")]
    BadValue,
}

/// An active device as the context holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Active {
    /// The device id's token.
    pub id: u32,
    /// The serial number's token, if the device has one stored.
    pub serial: Option<u32>,
    /// Its OS type.
    pub os: OsType,
    /// When it was registered.
    pub registered_at: Timestamp,
    /// That it finished enrolling, and how.
    pub enrollment: Option<Enrollment>,
    /// When it was first seen failing a rule that has grace.
    pub noncompliant_since: Option<Timestamp>,
}

/// Writes a context into `out` (cleared first), for [`read`].
pub fn write(
    out: &mut Vec<u8>,
    principals: &[u32],
    installed: &[(u32, bool)],
    active: impl ExactSizeIterator<Item = Active>,
    pending: impl ExactSizeIterator<Item = (u32, Timestamp)>,
    rejected: impl ExactSizeIterator<Item = (u32, Timestamp)>,
) {
    out.clear();
    out.reserve(
        5 * 4
            + 4 * principals.len()
            + INSTALLED * installed.len()
            + ACTIVE * active.len()
            + STAMPED * (pending.len() + rejected.len()),
    );
    // A count that does not fit makes the reader refuse the buffer: fail closed.
    let count = |out: &mut Vec<u8>, n: usize| {
        out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes())
    };
    count(out, principals.len());
    principals.iter().for_each(|p| out.extend_from_slice(&p.to_le_bytes()));
    count(out, installed.len());
    for &(app, managed) in installed {
        out.extend_from_slice(&app.to_le_bytes());
        out.push(u8::from(managed));
    }
    count(out, active.len());
    for a in active {
        let mut flags = 0;
        if a.serial.is_some() {
            flags |= HAS_SERIAL;
        }
        if a.enrollment.is_some() {
            flags |= ENROLLED;
        }
        if a.noncompliant_since.is_some() {
            flags |= NONCOMPLIANT;
        }
        out.extend_from_slice(&a.id.to_le_bytes());
        out.extend_from_slice(&a.serial.unwrap_or(0).to_le_bytes());
        let method = a
            .enrollment
            .map_or(0, |e| EnrollmentMethod::ALL.iter().position(|m| *m == e.method).unwrap_or(0));
        out.extend_from_slice(&[a.os.index() as u8, method as u8, flags, 0]);
        out.extend_from_slice(&a.registered_at.as_millis().to_le_bytes());
        out.extend_from_slice(&a.enrollment.map_or(0, |e| e.at.as_millis()).to_le_bytes());
        out.extend_from_slice(&a.noncompliant_since.map_or(0, Timestamp::as_millis).to_le_bytes());
    }
    stamped(out, pending);
    stamped(out, rejected);
}

/// A section of devices with a time each (pending requests, rejections).
fn stamped(out: &mut Vec<u8>, list: impl ExactSizeIterator<Item = (u32, Timestamp)>) {
    out.extend_from_slice(&u32::try_from(list.len()).unwrap_or(u32::MAX).to_le_bytes());
    for (id, at) in list {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&at.as_millis().to_le_bytes());
    }
}

/// The bytes not read yet.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ContextError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(ContextError::Truncated)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, ContextError> {
        self.take::<1>().map(|[b]| b)
    }

    fn u32(&mut self) -> Result<u32, ContextError> {
        self.take().map(u32::from_le_bytes)
    }

    fn time(&mut self) -> Result<Timestamp, ContextError> {
        self.take().map(|b| Timestamp::from_millis(i64::from_le_bytes(b)))
    }

    /// A section's count of entries of `size` bytes, once the bytes are known to be there.
    fn count(&mut self, size: usize) -> Result<usize, ContextError> {
        let n = self.u32()? as usize;
        if n.checked_mul(size).is_none_or(|bytes| bytes > self.0.len()) {
            return Err(ContextError::Truncated);
        }
        Ok(n)
    }
}

/// Reads a context written by [`write`] into the lists given (cleared first), which keep
/// their capacity from call to call.
pub fn read(
    bytes: &[u8],
    principals: &mut Vec<u32>,
    installed: &mut Vec<(u32, bool)>,
    state: &mut UserState<u32>,
) -> Result<(), ContextError> {
    principals.clear();
    installed.clear();
    state.devices.clear();
    state.pending.clear();
    state.rejected.clear();
    let mut c = Cursor(bytes);
    for _ in 0..c.count(4)? {
        principals.push(c.u32()?);
    }
    for _ in 0..c.count(INSTALLED)? {
        let app = c.u32()?;
        let managed = match c.u8()? {
            0 => false,
            1 => true,
            _ => return Err(ContextError::BadValue),
        };
        installed.push((app, managed));
    }
    for _ in 0..c.count(ACTIVE)? {
        let id = c.u32()?;
        let serial = c.u32()?;
        let [os, method, flags, zero] = c.take()?;
        if zero != 0 || flags & !(HAS_SERIAL | ENROLLED | NONCOMPLIANT) != 0 {
            return Err(ContextError::BadValue);
        }
        let os = *OsType::ALL.get(usize::from(os)).ok_or(ContextError::BadValue)?;
        let method = *EnrollmentMethod::ALL.get(usize::from(method)).ok_or(ContextError::BadValue)?;
        let (registered_at, enrolled_at, noncompliant_since) = (c.time()?, c.time()?, c.time()?);
        state.devices.push(Registered {
            device: Device {
                serial_number: (flags & HAS_SERIAL != 0).then_some(serial),
                ..Device::new(id, os)
            },
            registered_at,
            enrollment: (flags & ENROLLED != 0).then_some(Enrollment { method, at: enrolled_at }),
            noncompliant_since: (flags & NONCOMPLIANT != 0).then_some(noncompliant_since),
        });
    }
    for _ in 0..c.count(STAMPED)? {
        let (id, requested_at) = (c.u32()?, c.time()?);
        state.pending.push(Pending { device: Device::new(id, OsType::Other), requested_at });
    }
    for _ in 0..c.count(STAMPED)? {
        let (device_id, rejected_at) = (c.u32()?, c.time()?);
        state.rejected.push(Rejected { device_id, rejected_at });
    }
    if !c.0.is_empty() {
        return Err(ContextError::Trailing);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn active() -> impl Strategy<Value = Active> {
        (
            any::<u32>(),
            any::<Option<u32>>(),
            0..3usize,
            any::<i64>(),
            any::<Option<(usize, i64)>>(),
            any::<Option<i64>>(),
        )
            .prop_map(|(id, serial, os, at, enrollment, noncompliant)| Active {
                id,
                serial,
                os: OsType::ALL[os],
                registered_at: Timestamp::from_millis(at),
                enrollment: enrollment.map(|(m, at)| Enrollment {
                    method: EnrollmentMethod::ALL[m % 4],
                    at: Timestamp::from_millis(at),
                }),
                noncompliant_since: noncompliant.map(Timestamp::from_millis),
            })
    }

    fn stamped() -> impl Strategy<Value = Vec<(u32, Timestamp)>> {
        prop::collection::vec((any::<u32>(), any::<i64>().prop_map(Timestamp::from_millis)), 0..4)
    }

    proptest! {
        /// What is written is read back, entry for entry.
        #[test]
        fn a_context_reads_back_as_written(
            principals in prop::collection::vec(any::<u32>(), 0..6),
            installed in prop::collection::vec(any::<(u32, bool)>(), 0..4),
            active in prop::collection::vec(active(), 0..4),
            pending in stamped(),
            rejected in stamped(),
        ) {
            let mut buf = Vec::new();
            write(&mut buf, &principals, &installed, active.iter().copied(), pending.iter().copied(), rejected.iter().copied());
            let (mut p, mut i, mut s) = (Vec::new(), Vec::new(), UserState::default());
            read(&buf, &mut p, &mut i, &mut s).unwrap();
            prop_assert_eq!(p, principals);
            prop_assert_eq!(i, installed);
            let back: Vec<Active> = s.devices.iter().map(|r| Active {
                id: r.device.device_id, serial: r.device.serial_number, os: r.device.os_type,
                registered_at: r.registered_at, enrollment: r.enrollment, noncompliant_since: r.noncompliant_since,
            }).collect();
            prop_assert_eq!(back, active);
            let back: Vec<_> = s.pending.iter().map(|p| (p.device.device_id, p.requested_at)).collect();
            prop_assert_eq!(back, pending);
            let back: Vec<_> = s.rejected.iter().map(|r| (r.device_id, r.rejected_at)).collect();
            prop_assert_eq!(back, rejected);
        }

        /// Any bytes at all are read or refused, never a panic.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let (mut p, mut i, mut s) = (Vec::new(), Vec::new(), UserState::default());
            let _ = read(&bytes, &mut p, &mut i, &mut s);
        }
    }

    #[test]
    fn prefixes_trailing_bytes_and_bad_values_are_refused() {
        let active = Active {
            id: 1,
            serial: Some(2),
            os: OsType::Android,
            registered_at: Timestamp::from_millis(5),
            enrollment: Some(Enrollment {
                method: EnrollmentMethod::SamsungKnox,
                at: Timestamp::from_millis(6),
            }),
            noncompliant_since: None,
        };
        let mut buf = Vec::new();
        write(
            &mut buf,
            &[7, 8],
            &[(3, true)],
            [active].into_iter(),
            [(9, Timestamp::from_millis(1))].into_iter(),
            [].into_iter(),
        );
        let (mut p, mut i, mut s) = (Vec::new(), Vec::new(), UserState::default());
        assert_eq!(read(&buf, &mut p, &mut i, &mut s), Ok(()));
        for end in 0..buf.len() {
            assert_eq!(read(&buf[..end], &mut p, &mut i, &mut s), Err(ContextError::Truncated), "{end}");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert_eq!(read(&longer, &mut p, &mut i, &mut s), Err(ContextError::Trailing));
        // The active device's OS byte, after the counts and entries before it.
        let os_at = 4 + 2 * 4 + 4 + 5 + 4 + 4 + 4;
        let mut bad = buf.clone();
        bad[os_at] = 3;
        assert_eq!(read(&bad, &mut p, &mut i, &mut s), Err(ContextError::BadValue));
        let mut huge = buf;
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(read(&huge, &mut p, &mut i, &mut s), Err(ContextError::Truncated));
    }
}
