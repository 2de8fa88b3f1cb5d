//! The users a preview runs over, held compactly: a million users must fit in a few
//! hundred megabytes of a module's memory, beside the document they were read from.
//!
//! What is kept is what a login decides on and what the report prints. Ids (users,
//! devices, serial numbers) are stored once each in one string arena and named by their
//! index in it; groups are interned once for the whole population; a registered device
//! is a fixed-size record without its model or name (shown to an admin, never decided
//! on) and with its manufacturer reduced to the one thing a rule reads, "is it Samsung".
//! A pending request's device is kept as a registered one is, in a table of its own,
//! and a rejection as a token and a time. A login in the preview then runs on a `UserState<u32>`
//! refilled from these tables for each user: the same generic decision a host runs on
//! its tokens, where two devices are the same device when their tokens are equal (a
//! user's own ids are interned per user, so equal strings get equal tokens).

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use crate::device::{Device, Pending, Registered, Rejected, UserState};
use crate::document::DocumentKind;
use crate::error::Error;
use crate::ids::{OsType, Text};
use crate::json;
use crate::manage::{Enrollment, EnrollmentMethod};
use crate::time::Timestamp;
use crate::version::Version;

/// The device id the preview's "further device" logs in with: never an index of the
/// arena, so it is no device of any user.
pub(crate) const PROBE_ID: u32 = u32::MAX;

/// No serial number.
const NO_SERIAL: u32 = u32::MAX - 1;

/// No pending request or rejection.
const NO_EXTRA: u32 = u32::MAX;

/// The users to preview: their groups and their stored state. Every user named in
/// either map of the document is in the population.
///
/// Decoded in one pass from the text (no intermediate `serde_json::Value`), by the same
/// path-tracking decoder as every document, into tables sorted by user id: under 200
/// bytes a user with one device (`engine/tests/population_memory.rs`). Not `PartialEq`:
/// its tables keep ids in the order the text gave them, so two populations of the same
/// users could differ; compare what [`Population::get`] returns instead.
#[derive(Debug, Clone, Default)]
pub struct Population {
    members: Vec<Member>,
    /// Every group named in the directory, once: a member's groups are indices into it,
    /// so a group shared by a million users is one string, and a policy looks each group
    /// up once per preview rather than once per member.
    groups: Vec<Box<str>>,
    /// The members' groups, each member's a range of it.
    member_groups: Vec<u32>,
    /// The members' registered devices, each member's a range of it.
    devices: Vec<Slim>,
    /// Where the pending requests and rejections of the members that have any are.
    extras: Vec<Extra>,
    /// Pending requests' devices, `registered_at` holding when each request was made.
    pending: Vec<Slim>,
    /// Rejected devices' tokens, and when each was rejected.
    rejected: Vec<(u32, Timestamp)>,
    /// User ids, device ids and serial numbers.
    strings: Strings,
}

/// A member: its id, and where its groups, devices and extras start. The tables are in
/// member order, so a member's groups and devices end where the next member's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Member {
    user: u32,
    groups: u32,
    devices: u32,
    extra: u32,
}

/// A range of a table, `start..end`, while the document is read (its tables are in
/// document order until the join puts them in member order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn of<T>(table: &[T], start: usize) -> Result<Span, json::ReadError> {
        Ok(Span { start: small(start)?, end: small(table.len())? })
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// An index that fits the tables' `u32`s, short of the values that mean "none".
// Inlined with its error out of line: it runs a few times for every user read.
#[inline]
fn small(n: usize) -> Result<u32, json::ReadError> {
    match u32::try_from(n) {
        Ok(n) if n < NO_SERIAL => Ok(n),
        _ => Err(too_large()),
    }
}

#[cold]
fn too_large() -> json::ReadError {
    json::ReadError::custom("the population is too large (more than 2^32 entries in a table)")
}

/// A registered device as the preview keeps it: 64 bytes, its optional parts behind
/// bits of `flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slim {
    registered_at: Timestamp,
    noncompliant_since: Timestamp,
    enrolled_at: Timestamp,
    os_version: Version,
    id: u32,
    serial: u32,
    pin_length: u32,
    /// The enrollment method's index in [`EnrollmentMethod::ALL`] plus one; 0 when not
    /// enrolled.
    method: u8,
    flags: u16,
}

/// `flags`: the OS type in bits 0–1, `encrypted`, `compromised` and `work_profile` as
/// two bits each (absent, false, true), then single bits.
const ENCRYPTED: u16 = 2;
const COMPROMISED: u16 = 4;
const WORK_PROFILE: u16 = 6;
const SAMSUNG: u16 = 1 << 8;
const HAS_VERSION: u16 = 1 << 9;
const HAS_PIN: u16 = 1 << 10;
const NONCOMPLIANT: u16 = 1 << 11;

fn tri(b: Option<bool>, shift: u16) -> u16 {
    (match b {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    }) << shift
}

fn untri(flags: u16, shift: u16) -> Option<bool> {
    match (flags >> shift) & 3 {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    }
}

impl Slim {
    /// A device as kept: `at` is when it was registered (or, for a pending request's
    /// device, when the request was made).
    fn new(
        d: &Device,
        at: Timestamp,
        enrollment: Option<Enrollment>,
        since: Option<Timestamp>,
        ids: [u32; 2],
    ) -> Slim {
        let [id, serial] = ids;
        let bit = |on: bool, b: u16| if on { b } else { 0 };
        let os = OsType::ALL.iter().position(|o| *o == d.os_type).unwrap_or(0) as u16;
        Slim {
            registered_at: at,
            noncompliant_since: since.unwrap_or(at),
            enrolled_at: enrollment.map_or(at, |e| e.at),
            os_version: d.os_version.unwrap_or(Version::MAX),
            id,
            serial,
            pin_length: d.pin_length.unwrap_or(0),
            method: enrollment
                .and_then(|e| EnrollmentMethod::ALL.iter().position(|m| *m == e.method))
                .map_or(0, |i| i as u8 + 1),
            flags: os
                | tri(d.encrypted, ENCRYPTED)
                | tri(d.compromised, COMPROMISED)
                | tri(d.work_profile, WORK_PROFILE)
                | bit(is_samsung(d), SAMSUNG)
                | bit(d.os_version.is_some(), HAS_VERSION)
                | bit(d.pin_length.is_some(), HAS_PIN)
                | bit(since.is_some(), NONCOMPLIANT),
        }
    }

    fn registered(&self) -> Registered<u32> {
        let f = self.flags;
        let has = |b: u16| f & b != 0;
        Registered {
            device: Device {
                device_id: self.id,
                os_type: OsType::ALL.get(usize::from(f & 3)).copied().unwrap_or(OsType::Other),
                os_version: has(HAS_VERSION).then_some(self.os_version),
                serial_number: (self.serial != NO_SERIAL).then_some(self.serial),
                model: None,
                name: None,
                pin_length: has(HAS_PIN).then_some(self.pin_length),
                encrypted: untri(f, ENCRYPTED),
                compromised: untri(f, COMPROMISED),
                manufacturer: samsung(has(SAMSUNG)),
                work_profile: untri(f, WORK_PROFILE),
            },
            registered_at: self.registered_at,
            enrollment: EnrollmentMethod::ALL
                .get(usize::from(self.method).wrapping_sub(1))
                .map(|&method| Enrollment { method, at: self.enrolled_at }),
            noncompliant_since: has(NONCOMPLIANT).then_some(self.noncompliant_since),
        }
    }
}

/// The manufacturer as a rule reads it (`Device::fit`).
fn samsung(is: bool) -> Option<String> {
    is.then(|| "samsung".to_string())
}

fn is_samsung<K>(device: &Device<K>) -> bool {
    device.fit().samsung
}

/// A member's pending requests and rejections: ranges of [`Population::pending`] and
/// [`Population::rejected`].
type Extra = [Span; 2];

/// Strings, each named by its index: one text, and where each string starts (it ends
/// where the next one starts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Strings {
    text: String,
    starts: Vec<u32>,
}

impl Strings {
    fn push(&mut self, s: &str) -> Result<u32, json::ReadError> {
        let index = small(self.starts.len())?;
        self.starts.push(small(self.text.len())?);
        self.text.push_str(s);
        // The string's end is the next one's start, or the text's end: it must fit too.
        small(self.text.len())?;
        Ok(index)
    }

    fn get(&self, index: u32) -> &str {
        let i = index as usize;
        let start = self.starts.get(i).map_or(0, |s| *s as usize);
        let end = self.starts.get(i + 1).map_or(self.text.len(), |s| *s as usize);
        self.text.get(start..end).unwrap_or_default()
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.starts.shrink_to_fit();
    }
}

/// A user's own ids, each given a token the first time it is seen: equal ids of one user
/// get one token, which is all the decisions compare.
struct Local<'s> {
    few: smallvec::SmallVec<[(&'s str, u32); 8]>,
    /// Keyed as the join's map is: one copy of the map's code in the modules.
    many: FxHashMap<Key<'s>, u32>,
}

impl<'s> Local<'s> {
    fn new() -> Self {
        Local { few: smallvec::SmallVec::new(), many: FxHashMap::default() }
    }

    fn token(&mut self, id: &'s str, strings: &mut Strings) -> Result<u32, json::ReadError> {
        if let Some(&(_, t)) = self.few.iter().find(|(k, _)| *k == id) {
            return Ok(t);
        }
        if let Some(&t) = self.many.get(&Key::Borrowed(id)) {
            return Ok(t);
        }
        let t = strings.push(id)?;
        // A scan beats hashing for the few ids a user has; a user with thousands of
        // devices must not make the parse quadratic.
        if self.few.len() < 16 {
            self.few.push((id, t));
        } else {
            self.many.insert(Key::Borrowed(id), t);
        }
        Ok(t)
    }
}

/// Where a user's state went in the tables.
#[derive(Clone, Copy, Default)]
struct Stored {
    devices: Span,
    extra: u32,
}

/// The tables a population's states are moved into as they are read.
#[derive(Default)]
struct Tables {
    devices: Vec<Slim>,
    extras: Vec<Extra>,
    pending: Vec<Slim>,
    rejected: Vec<(u32, Timestamp)>,
    strings: Strings,
}

impl Tables {
    fn store(&mut self, state: &UserState) -> Result<Stored, json::ReadError> {
        let mut local = Local::new();
        let start = self.devices.len();
        for r in &state.devices {
            let ids = self.ids(&mut local, &r.device)?;
            self.devices.push(Slim::new(&r.device, r.registered_at, r.enrollment, r.noncompliant_since, ids));
        }
        let devices = Span::of(&self.devices, start)?;
        let extra = if state.pending.is_empty() && state.rejected.is_empty() {
            NO_EXTRA
        } else {
            let (pending, rejected) = (self.pending.len(), self.rejected.len());
            for p in &state.pending {
                let ids = self.ids(&mut local, &p.device)?;
                self.pending.push(Slim::new(&p.device, p.requested_at, None, None, ids));
            }
            for r in &state.rejected {
                self.rejected.push((local.token(&r.device_id, &mut self.strings)?, r.rejected_at));
            }
            self.extras.push([Span::of(&self.pending, pending)?, Span::of(&self.rejected, rejected)?]);
            small(self.extras.len() - 1)?
        };
        Ok(Stored { devices, extra })
    }

    /// A device's id and serial number as the user's tokens.
    fn ids<'s>(&mut self, local: &mut Local<'s>, d: &'s Device) -> Result<[u32; 2], json::ReadError> {
        let id = local.token(&d.device_id, &mut self.strings)?;
        let serial = match d.serial_number.as_deref() {
            Some(s) => local.token(s, &mut self.strings)?,
            None => NO_SERIAL,
        };
        Ok([id, serial])
    }
}

/// The users to preview: their groups and their stored state. Every user named in
/// either map is in the population.
// The document's shape, for its JSON Schema ([`Population`] decodes it by hand).
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(deny_unknown_fields, rename = "Population")]
#[allow(dead_code)]
pub(crate) struct PopulationDoc {
    /// User id to group ids.
    #[serde(default)]
    directory: std::collections::BTreeMap<String, Vec<String>>,
    /// User id to stored state.
    #[serde(default)]
    state: std::collections::BTreeMap<String, UserState>,
}

impl Population {
    /// Decodes a population: a document `{ "directory": {...}, "state": {...} }`, or NDJSON
    /// (one user a line, `{ "user": ..., "groups": [...], "state": {...} }`), told apart
    /// by the first member's name (`docs/contract.md`); errors are `invalid_state`.
    pub fn from_json(text: &str) -> Result<Population, Error> {
        if is_ndjson(text) {
            return Population::from_ndjson(text);
        }
        let parts: Parts<'_> = DocumentKind::State.parse(text)?;
        let invalid = parts.invalid;
        let p = Population::join(
            parts.directory,
            parts.state,
            parts.groups.names,
            parts.member_groups,
            parts.tables,
        )?;
        // Checked after the join, as a document is: a repeated user is reported before
        // what is wrong inside a state, and of several wrong states the first user's.
        match invalid {
            Some((_, e)) => Err(e),
            None => Ok(p),
        }
    }

    /// Same as [`Population::from_json`], from a parsed value.
    pub fn from_value(value: &serde_json::Value) -> Result<Population, Error> {
        Population::from_json(&value.to_string())
    }

    /// Every user, sorted, once.
    pub fn users(&self) -> impl ExactSizeIterator<Item = &str> {
        self.members.iter().map(|m| self.strings.get(m.user))
    }

    /// How many users it holds.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether it holds no user.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// A user's groups and stored state as the population keeps it (devices without
    /// their model or name, a manufacturer only when it is Samsung), if the user is in
    /// the population.
    pub fn get(&self, user: &str) -> Option<(Vec<&str>, UserState)> {
        let i = self.members.binary_search_by(|m| self.strings.get(m.user).cmp(user)).ok()?;
        let mut state = UserState::default();
        self.fill(i, &mut state);
        let text = |t: &u32| Text::kept(self.strings.get(*t));
        let device = |d: &Device<u32>| Device {
            device_id: text(&d.device_id),
            os_type: d.os_type,
            os_version: d.os_version,
            serial_number: d.serial_number.as_ref().map(text),
            model: None,
            name: None,
            pin_length: d.pin_length,
            encrypted: d.encrypted,
            compromised: d.compromised,
            manufacturer: d.manufacturer.clone(),
            work_profile: d.work_profile,
        };
        let state = UserState {
            devices: state
                .devices
                .iter()
                .map(|r| Registered {
                    device: device(&r.device),
                    registered_at: r.registered_at,
                    enrollment: r.enrollment,
                    noncompliant_since: r.noncompliant_since,
                })
                .collect(),
            pending: state
                .pending
                .iter()
                .map(|p| Pending { device: device(&p.device), requested_at: p.requested_at })
                .collect(),
            rejected: state
                .rejected
                .iter()
                .map(|r| Rejected { device_id: text(&r.device_id), rejected_at: r.rejected_at })
                .collect(),
        };
        let groups = self.group_indices(i).iter().filter_map(|&g| self.groups.get(g as usize)).map(|g| &**g);
        Some((groups.collect(), state))
    }

    /// Where member `i`'s part of a table ends: where the next member's starts.
    fn end(&self, i: usize, start: impl Fn(&Member) -> u32, len: usize) -> usize {
        self.members.get(i + 1).map_or(len, |m| start(m) as usize)
    }

    fn group_indices(&self, i: usize) -> &[u32] {
        let start = self.members.get(i).map_or(0, |m| m.groups as usize);
        self.member_groups.get(start..self.end(i, |m| m.groups, self.member_groups.len())).unwrap_or_default()
    }

    /// Refills `state` with member `i`'s stored state, reusing its lists' memory.
    fn fill(&self, i: usize, state: &mut UserState<u32>) {
        let Some(m) = self.members.get(i) else { return };
        let devices = self.devices.get(m.devices as usize..self.end(i, |m| m.devices, self.devices.len()));
        state.devices.clear();
        state.devices.extend(devices.unwrap_or_default().iter().map(Slim::registered));
        state.pending.clear();
        state.rejected.clear();
        if let Some([pending, rejected]) = self.extras.get(m.extra as usize) {
            let pending = self.pending.get(pending.range()).unwrap_or_default().iter().map(Slim::registered);
            state
                .pending
                .extend(pending.map(|r| Pending { device: r.device, requested_at: r.registered_at }));
            let rejected = self.rejected.get(rejected.range()).unwrap_or_default();
            state
                .rejected
                .extend(rejected.iter().map(|&(device_id, rejected_at)| Rejected { device_id, rejected_at }));
        }
    }

    /// Every group named in the directory; a member's groups index it.
    pub(crate) fn group_names(&self) -> &[Box<str>] {
        &self.groups
    }

    /// Each user in order: the id, the groups (indices into [`Population::group_names`])
    /// and the stored state, refilled into one buffer.
    pub(crate) fn each(&self, mut f: impl FnMut(&str, &[u32], &UserState<u32>)) {
        let mut state = UserState::default();
        for (i, m) in self.members.iter().enumerate() {
            self.fill(i, &mut state);
            f(self.strings.get(m.user), self.group_indices(i), &state);
        }
    }

    /// The id a token of the stored states names.
    pub(crate) fn id(&self, token: u32) -> &str {
        self.strings.get(token)
    }

    /// Joins the document's two maps, each as decoded in document order: one hash join,
    /// then one sort by user id. A user named twice in one map is refused, as every
    /// repeated name in an object is (see `docs/decisions.md`); the join finds it without
    /// hashing any id again.
    fn join(
        directory: Vec<(Key<'_>, Span)>,
        state: Vec<(Key<'_>, Stored)>,
        groups: Vec<Box<str>>,
        member_groups: Vec<u32>,
        tables: Tables,
    ) -> Result<Population, Error> {
        let repeated = |map: &str, user: &str| {
            DocumentKind::State
                .error(format!("/{map}/{}", json::escape_pointer(user)), format!("duplicate field `{user}`"))
        };
        // A member's index, shifted left, with the low bit set once the state map named
        // it. In a `u32`, so that the map has the interner's type (one copy of its code in
        // the modules): 2^31 members would need hundreds of gigabytes.
        let too_many = || DocumentKind::State.error("", "more than 2^31 users");
        let mut at: FxHashMap<Key<'_>, u32> = FxHashMap::default();
        at.reserve(directory.len().max(state.len()));
        let mut members: Vec<(Key<'_>, Span, Stored)> = Vec::with_capacity(directory.len().max(state.len()));
        let none = Stored { devices: Span::default(), extra: NO_EXTRA };
        for (user, groups) in directory {
            if at.contains_key(&user) {
                return Err(repeated("directory", &user));
            }
            let index = u32::try_from(members.len()).ok().filter(|i| *i < 1 << 31).ok_or_else(too_many)?;
            members.push((user.clone(), groups, none));
            at.insert(user, index << 1);
        }
        for (user, stored) in state {
            match at.get_mut(&user) {
                Some(slot) if *slot & 1 == 1 => return Err(repeated("state", &user)),
                Some(slot) => {
                    *slot |= 1;
                    if let Some(m) = members.get_mut((*slot >> 1) as usize) {
                        m.2 = stored;
                    }
                }
                None => {
                    let index =
                        u32::try_from(members.len()).ok().filter(|i| *i < 1 << 31).ok_or_else(too_many)?;
                    members.push((user.clone(), Span::default(), stored));
                    at.insert(user, index << 1 | 1);
                }
            }
        }
        drop(at);
        Population::assemble(members, groups, member_groups, tables)
    }

    /// The population from its members in any order: sorted by id, the tables put in
    /// member order, so that a member's part of each ends where the next one's starts,
    /// and each table sized to what it holds.
    fn assemble(
        mut members: Vec<(Key<'_>, Span, Stored)>,
        groups: Vec<Box<str>>,
        member_groups: Vec<u32>,
        tables: Tables,
    ) -> Result<Population, Error> {
        members.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let Tables { devices: read_devices, mut extras, mut pending, mut rejected, mut strings } = tables;
        let too_large = |e: json::ReadError| DocumentKind::State.error("", e.to_string());
        let mut out = Vec::with_capacity(members.len());
        let mut devices = Vec::with_capacity(read_devices.len());
        let mut groups_in_order = Vec::with_capacity(member_groups.len());
        for (user, g, stored) in members {
            out.push(Member {
                user: strings.push(&user).map_err(too_large)?,
                groups: small(groups_in_order.len()).map_err(too_large)?,
                devices: small(devices.len()).map_err(too_large)?,
                extra: stored.extra,
            });
            groups_in_order.extend_from_slice(member_groups.get(g.range()).unwrap_or_default());
            devices.extend_from_slice(read_devices.get(stored.devices.range()).unwrap_or_default());
        }
        drop(read_devices);
        drop(member_groups);
        strings.shrink();
        extras.shrink_to_fit();
        pending.shrink_to_fit();
        rejected.shrink_to_fit();
        Ok(Population {
            members: out,
            groups,
            member_groups: groups_in_order,
            devices,
            extras,
            pending,
            rejected,
            strings,
        })
    }

    /// Decodes NDJSON, line by line: each line's state goes into the tables as it is read,
    /// and the first line in error is the one reported, at `/LINE_INDEX/...` (the line
    /// number less one, as if the lines were an array) with the line number in the message.
    fn from_ndjson(text: &str) -> Result<Population, Error> {
        let mut groups = Interner::default();
        let mut member_groups = Vec::new();
        let mut tables = Tables::default();
        // Sized once: grown by doubling, a million users' set would be rehashed twenty
        // times over. Counted by `split`, which finds a newline a word at a time: counted
        // byte by byte, the count was a tenth of the component's NDJSON preview.
        let lines = text.split('\n').count();
        // A map, not a set: the join's type, one copy of its code in the modules.
        let mut seen: FxHashMap<Key<'_>, u32> = FxHashMap::default();
        seen.reserve(lines);
        let mut members = Vec::with_capacity(lines);
        for (index, line) in text.split('\n').enumerate() {
            if line.trim_start_matches(WHITESPACE).is_empty() {
                continue;
            }
            let at = |pointer: &str, message: &str| {
                DocumentKind::State
                    .error(format!("/{index}{pointer}"), format!("line {}: {message}", index + 1))
            };
            let read =
                json::from_str_with(line, |r| read_line(r, &mut groups, &mut member_groups, &mut tables));
            let (user, g, stored, invalid) = read.map_err(|f| at(&f.pointer, &f.message))?;
            if let Some(e) = invalid {
                let e = e.at("/state");
                return Err(at(e.pointer(), &e.message()));
            }
            if seen.insert(user.clone(), 0).is_some() {
                return Err(at("/user", &format!("duplicate user `{user}`")));
            }
            members.push((user, g, stored));
        }
        drop(seen);
        Population::assemble(members, groups.names, member_groups, tables)
    }
}

/// A user id as decoded: borrowed from the text when it has no escapes.
type Key<'de> = Cow<'de, str>;

/// A population document's two maps as entry lists, ids borrowed from the text, with
/// the states already moved into their tables.
struct Parts<'de> {
    directory: Vec<(Key<'de>, Span)>,
    state: Vec<(Key<'de>, Stored)>,
    groups: Interner<'de>,
    member_groups: Vec<u32>,
    tables: Tables,
    /// The first user (in id order) whose state breaks a rule serde cannot check.
    invalid: Option<(Key<'de>, Error)>,
}

/// The directory's group names, each given an index the first time it is seen.
#[derive(Default)]
struct Interner<'de> {
    index: FxHashMap<Key<'de>, u32>,
    names: Vec<Box<str>>,
}

impl<'de> Interner<'de> {
    fn intern(&mut self, name: Key<'de>) -> Result<u32, json::ReadError> {
        if let Some(&i) = self.index.get(&name) {
            return Ok(i);
        }
        let i =
            u32::try_from(self.names.len()).map_err(|_| json::ReadError::custom("more than 2^32 groups"))?;
        self.names.push((*name).into());
        self.index.insert(name, i);
        Ok(i)
    }

    /// One user's groups, interned as they are read into `out`.
    fn groups(&mut self, r: &mut json::Reader<'de, '_>, out: &mut Vec<u32>) -> Result<Span, json::ReadError> {
        let start = out.len();
        let mut list = r.list(&"a sequence")?;
        while r.element(&mut list)? {
            let name = r.str().map_err(|e| list.failed(e))?;
            out.push(self.intern(name).map_err(|e| list.failed(e))?);
        }
        Span::of(out, start)
    }
}

/// JSON's whitespace.
const WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Whether a population is NDJSON: its first value is an object whose first member is
/// `"user"`, which a population document, whose members are `directory` and `state`,
/// never has (so no valid document reads as NDJSON).
fn is_ndjson(text: &str) -> bool {
    let member = |s: &str| s.trim_start_matches(WHITESPACE).strip_prefix("\"user\"").map(str::to_owned);
    text.trim_start_matches(WHITESPACE)
        .strip_prefix('{')
        .and_then(member)
        .is_some_and(|rest| rest.trim_start_matches(WHITESPACE).starts_with(':'))
}

const LINE_FIELDS: &[&str] = &["user", "groups", "state"];

/// One line of an NDJSON population: the user, the groups and the state moved into the
/// tables, and what is wrong with the state that the decoder cannot see.
type Line<'de> = (Key<'de>, Span, Stored, Option<crate::device::StateError>);

fn read_line<'de>(
    r: &mut json::Reader<'de, '_>,
    groups: &mut Interner<'de>,
    member_groups: &mut Vec<u32>,
    tables: &mut Tables,
) -> Result<Line<'de>, json::ReadError> {
    let (mut user, mut g, mut stored, mut invalid) = (None, None, None, None);
    let mut object = r.object(&"a population line")?;
    while r.member(&mut object)? {
        let read = match object.name() {
            "user" if user.is_some() => Err(json::ReadError::repeated("user")),
            "groups" if g.is_some() => Err(json::ReadError::repeated("groups")),
            "state" if stored.is_some() => Err(json::ReadError::repeated("state")),
            "user" => {
                user = Some(r.str().map_err(|e| object.failed_value(e))?);
                Ok(())
            }
            "groups" => {
                g = Some(groups.groups(r, member_groups).map_err(|e| object.failed_value(e))?);
                Ok(())
            }
            "state" => {
                let s = <UserState as json::Decode>::decode(r).map_err(|e| object.failed_value(e))?;
                invalid = s.check().err();
                stored = Some(tables.store(&s).map_err(|e| object.failed_value(e))?);
                Ok(())
            }
            other => Err(json::ReadError::unknown_field(other, LINE_FIELDS)),
        };
        read.map_err(|e| object.failed_name(e))?;
    }
    let user = user.ok_or_else(|| json::ReadError::missing_field("user"))?;
    let none = Stored { devices: Span::default(), extra: NO_EXTRA };
    Ok((user, g.unwrap_or_default(), stored.unwrap_or(none), invalid))
}

/// A JSON object's entries in document order, each value read by `value` with its key:
/// cheaper to build than a map, and sorted once when the population is joined.
fn entries<'de, 's, T>(
    r: &mut json::Reader<'de, 's>,
    mut value: impl FnMut(&mut json::Reader<'de, 's>, &Key<'de>) -> Result<T, json::ReadError>,
) -> Result<Vec<(Key<'de>, T)>, json::ReadError> {
    let mut out = Vec::new();
    let mut object = r.object(&"a map")?;
    while r.member(&mut object)? {
        let key = object.key();
        let v = value(r, &key).map_err(|e| object.failed_value(e))?;
        out.push((key, v));
    }
    Ok(out)
}

const FIELDS: &[&str] = &["directory", "state"];

impl<'de> json::Decode<'de> for Parts<'de> {
    fn decode(r: &mut json::Reader<'de, '_>) -> Result<Self, json::ReadError> {
        let mut directory = None;
        let mut state = None;
        let mut groups = Interner::default();
        let mut member_groups = Vec::new();
        let mut tables = Tables::default();
        let mut invalid: Option<(Key<'de>, Error)> = None;
        let mut object = r.object(&"struct Population")?;
        while r.member(&mut object)? {
            let read = match object.name() {
                "directory" if directory.is_some() => Err(json::ReadError::repeated("directory")),
                "state" if state.is_some() => Err(json::ReadError::repeated("state")),
                "directory" => {
                    directory = Some(
                        entries(r, |r, _| groups.groups(r, &mut member_groups))
                            .map_err(|e| object.failed_value(e))?,
                    );
                    Ok(())
                }
                "state" => {
                    let read = entries(r, |r, user| {
                        let s = <UserState as json::Decode>::decode(r)?;
                        if let Err(e) = s.check()
                            && invalid.as_ref().is_none_or(|(first, _)| user < first)
                        {
                            invalid =
                                Some((user.clone(), e.at(&format!("/state/{}", json::escape_pointer(user)))));
                        }
                        tables.store(&s)
                    });
                    state = Some(read.map_err(|e| object.failed_value(e))?);
                    Ok(())
                }
                other => Err(json::ReadError::unknown_field(other, FIELDS)),
            };
            read.map_err(|e| object.failed_name(e))?;
        }
        Ok(Parts {
            directory: directory.unwrap_or_default(),
            state: state.unwrap_or_default(),
            groups,
            member_groups,
            tables,
            invalid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a member with one device costs: the tables' fixed-size records (the strings
    /// and the group indices come on top, at their length).
    #[test]
    fn records_stay_small() {
        assert_eq!(std::mem::size_of::<Member>(), 16);
        assert_eq!(std::mem::size_of::<Slim>(), 64);
    }
}
