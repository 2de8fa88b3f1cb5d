//! Devices as the mobile app reports them, and a user's stored state (spec section 2).

use std::hash::Hash;

use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::ids::{OsType, Text};
use crate::json;
use crate::manage::{Enrollment, EnrollmentMethod, Fit};
use crate::time::Timestamp;
use crate::version::Version;

/// The most characters kept of a device's model or name. Both are shown to an admin and
/// never decided on, so a longer one is cut here rather than refused (a phone's name must
/// not lock its owner out) or stored whole (state must stay small).
pub const MAX_LABEL_CHARS: usize = 256;

/// A model or name as kept: cut to [`MAX_LABEL_CHARS`] characters.
fn label(text: Option<String>) -> Option<String> {
    text.map(|mut s| {
        if let Some((end, _)) = s.char_indices().nth(MAX_LABEL_CHARS) {
            s.truncate(end);
        }
        s
    })
}

/// A device, generic over how its ids are held.
///
/// Natively ids are [`Text`]; across the wasm boundary the host passes small integer
/// tokens instead of strings (a string costs a guest allocation per call), and only the
/// attributes a rule reads. The rules only compare ids for equality, so one generic
/// implementation serves both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Device<K = Text> {
    /// The app's id for the device.
    pub device_id: K,
    /// The OS type.
    pub os_type: OsType,
    /// The OS version, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<Version>,
    /// The hardware serial number, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<K>,
    /// The model (`iPhone15,2`), if reported; at most [`MAX_LABEL_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub model: Option<String>,
    /// The name the owner gave the device, if reported; at most [`MAX_LABEL_CHARS`]
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub name: Option<String>,
    /// The length of the device PIN or passcode, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_length: Option<u32>,
    /// Whether storage is encrypted, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// Whether the device is jailbroken or rooted, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised: Option<bool>,
    /// The manufacturer (`samsung`), if reported; at most [`MAX_LABEL_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub manufacturer: Option<String>,
    /// Whether the device has an Android work profile, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_profile: Option<bool>,
}

impl<K> Device<K> {
    /// What decides the enrollment method that fits the device.
    pub fn fit(&self) -> Fit {
        Fit {
            os: Some(self.os_type),
            work_profile: self.work_profile == Some(true),
            samsung: self.manufacturer.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("samsung")),
        }
    }

    /// A device with only an id and an OS type.
    pub fn new(device_id: K, os_type: OsType) -> Self {
        Device {
            device_id,
            os_type,
            os_version: None,
            serial_number: None,
            model: None,
            name: None,
            pin_length: None,
            encrypted: None,
            compromised: None,
            manufacturer: None,
            work_profile: None,
        }
    }
}

/// An active registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(from = "RegisteredDoc<K>"))]
pub struct Registered<K = Text> {
    /// The device as it was when registered.
    #[serde(flatten)]
    pub device: Device<K>,
    /// When it was registered; "oldest" is the earliest.
    pub registered_at: Timestamp,
    /// That it finished enrolling in management, and how (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment: Option<Enrollment>,
    /// When it was first seen failing a rule that has grace (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncompliant_since: Option<Timestamp>,
}

impl<K> Registered<K> {
    /// A device registered anew at `at`: not enrolled, never seen failing.
    pub fn new(device: Device<K>, registered_at: Timestamp) -> Self {
        Registered { device, registered_at, enrollment: None, noncompliant_since: None }
    }
}

/// A registered device as stored, for its schema: the device's fields and
/// `registered_at` side by side (the decoder is `Registered`'s `Fields`).
#[cfg(feature = "schema")]
#[allow(dead_code)]
#[derive(schemars::JsonSchema)]
struct RegisteredDoc<K> {
    device_id: K,
    os_type: OsType,
    #[serde(default)]
    os_version: Option<Version>,
    #[serde(default)]
    serial_number: Option<K>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    model: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    name: Option<String>,
    #[serde(default)]
    pin_length: Option<u32>,
    #[serde(default)]
    encrypted: Option<bool>,
    #[serde(default)]
    compromised: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    manufacturer: Option<String>,
    #[serde(default)]
    work_profile: Option<bool>,
    registered_at: Timestamp,
    #[serde(default)]
    enrollment: Option<Enrollment>,
    #[serde(default)]
    noncompliant_since: Option<Timestamp>,
}

/// A request for the admin to approve a further device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Pending<K = Text> {
    /// The device that asked.
    pub device: Device<K>,
    /// When the request was made; the TTL counts from here.
    pub requested_at: Timestamp,
}

/// A device the admin rejected for this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rejected<K = Text> {
    /// The rejected device's id.
    pub device_id: K,
    /// When it was rejected.
    pub rejected_at: Timestamp,
}

/// One user's state, which the gateway stores and passes back in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserState<K = Text> {
    /// Active registered devices, in registration order.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(extend("default" = [])))]
    pub devices: Vec<Registered<K>>,
    /// Pending approval requests, at most one per device id.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(extend("default" = [])))]
    pub pending: Vec<Pending<K>>,
    /// Rejected devices.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(extend("default" = [])))]
    pub rejected: Vec<Rejected<K>>,
}

impl<K> Default for UserState<K> {
    fn default() -> Self {
        UserState { devices: Vec::new(), pending: Vec::new(), rejected: Vec::new() }
    }
}

// The state's decoders (`json::fields`). A required field starts as a placeholder that
// its member overwrites; an object without it is refused before the value is returned.

/// An id that is never kept: a required id's placeholder.
fn no_id() -> Text {
    Text::placeholder()
}

/// A placeholder time, for the same reason.
const NO_TIME: Timestamp = Timestamp::from_millis(0);

json::decoder! {
    /// A device's attributes. Unknown ones are ignored: the app may report more than the
    /// rules read.
    open Device {
        device_id: "device_id" required,
        os_type: "os_type" required,
        os_version: "os_version",
        serial_number: "serial_number",
        model: "model" => label,
        name: "name" => label,
        pin_length: "pin_length",
        encrypted: "encrypted",
        compromised: "compromised",
        manufacturer: "manufacturer" => label,
        work_profile: "work_profile",
    } = Device::new(no_id(), OsType::Other)
}

json::decoder! {
    /// A registered device: the device's attributes and its own side by side.
    open Registered {
        ..device: Device,
        registered_at: "registered_at" required,
        enrollment: "enrollment",
        noncompliant_since: "noncompliant_since",
    } = Registered::new(Device::new(no_id(), OsType::Other), NO_TIME)
}

json::decoder! {
    Pending {
        device: "device" required,
        requested_at: "requested_at" required,
    } = Pending { device: Device::new(no_id(), OsType::Other), requested_at: NO_TIME }
}

json::decoder! {
    Rejected {
        device_id: "device_id" required,
        rejected_at: "rejected_at" required,
    } = Rejected { device_id: no_id(), rejected_at: NO_TIME }
}

json::decoder! {
    UserState {
        devices: "devices",
        pending: "pending",
        rejected: "rejected",
    } = UserState::default()
}

impl<K: PartialEq> UserState<K> {
    /// The active device with this id.
    pub fn device(&self, id: &K) -> Option<&Registered<K>> {
        self.devices.iter().find(|d| d.device.device_id == *id)
    }

    fn device_mut(&mut self, id: &K) -> Option<&mut Registered<K>> {
        self.devices.iter_mut().find(|d| d.device.device_id == *id)
    }

    /// The pending request for this device id.
    pub fn pending_for(&self, id: &K) -> Option<&Pending<K>> {
        self.pending.iter().find(|p| p.device.device_id == *id)
    }

    /// Whether this device id is rejected.
    pub fn is_rejected(&self, id: &K) -> bool {
        self.rejected.iter().any(|r| r.device_id == *id)
    }

    /// Applies effects in order: the new state a decision leads to. Linear in the state
    /// and the effects: a run of removals from one list is applied in one pass (replacing
    /// the oldest of 100k devices removes 99,999 of them).
    pub fn apply(&mut self, effects: &[Effect<K>])
    where
        K: Clone + Eq + Hash,
    {
        let mut rest = effects;
        while let Some((effect, after)) = rest.split_first() {
            rest = after;
            match effect {
                Effect::AddDevice { device, at } => self.devices.push(Registered::new(device.clone(), *at)),
                Effect::SetNoncompliant { device_id, at } => {
                    self.device_mut(device_id).into_iter().for_each(|d| d.noncompliant_since = Some(*at))
                }
                Effect::ClearNoncompliant { device_id } => {
                    self.device_mut(device_id).into_iter().for_each(|d| d.noncompliant_since = None)
                }
                Effect::SetEnrollment { device_id, method, at } => self
                    .device_mut(device_id)
                    .into_iter()
                    .for_each(|d| d.enrollment = Some(Enrollment { method: *method, at: *at })),
                Effect::AddPending { device, at } => {
                    self.pending.push(Pending { device: device.clone(), requested_at: *at })
                }
                Effect::AddRejected { device_id, at } => {
                    self.rejected.push(Rejected { device_id: device_id.clone(), rejected_at: *at })
                }
                Effect::RemoveDevice { device_id } => {
                    let gone = removals(device_id, &mut rest, |e| match e {
                        Effect::RemoveDevice { device_id } => Some(device_id),
                        _ => None,
                    });
                    self.devices.retain(|d| !gone.contains(&d.device.device_id))
                }
                Effect::RemovePending { device_id } => {
                    let gone = removals(device_id, &mut rest, |e| match e {
                        Effect::RemovePending { device_id } => Some(device_id),
                        _ => None,
                    });
                    self.pending.retain(|p| !gone.contains(&p.device.device_id))
                }
                Effect::RemoveRejected { device_id } => {
                    let gone = removals(device_id, &mut rest, |e| match e {
                        Effect::RemoveRejected { device_id } => Some(device_id),
                        _ => None,
                    });
                    self.rejected.retain(|r| !gone.contains(&r.device_id))
                }
            }
        }
    }
}

/// The ids of `first` and of the removals of the same kind that follow it in `rest`,
/// which is advanced past them.
fn removals<'a, K: Eq + Hash>(
    first: &'a K,
    rest: &mut &'a [Effect<K>],
    id: impl Fn(&'a Effect<K>) -> Option<&'a K>,
) -> FxHashSet<&'a K> {
    let mut gone = FxHashSet::default();
    gone.insert(first);
    while let Some(next) = rest.first().and_then(&id) {
        gone.insert(next);
        *rest = rest.get(1..).unwrap_or_default();
    }
    gone
}

/// What makes a stored state impossible: the engine never writes one like it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// A device id appears twice in one list.
    #[error("device `{id}` is listed twice")]
    Twice {
        /// `devices`, `pending` or `rejected`.
        list: &'static str,
        /// The second entry's index.
        index: usize,
        /// The device id.
        id: Text,
    },
    /// A pending device is also active.
    #[error("device `{id}` is both active and pending")]
    ActiveAndPending {
        /// The index in `pending`.
        index: usize,
        /// The device id.
        id: Text,
    },
    /// A rejected device is also active or pending.
    #[error("device `{id}` is both {other} and rejected")]
    Rejected {
        /// The index in `rejected`.
        index: usize,
        /// The device id.
        id: Text,
        /// `active` or `pending`.
        other: &'static str,
    },
}

impl StateError {
    /// The JSON Pointer of the offending entry, relative to the state document.
    pub fn pointer(&self) -> String {
        match self {
            StateError::Twice { list, index, .. } => format!("/{list}/{index}"),
            StateError::ActiveAndPending { index, .. } => format!("/pending/{index}"),
            StateError::Rejected { index, .. } => format!("/rejected/{index}"),
        }
    }

    /// The contract's error, for a state at `prefix` in its document ("" for the root).
    pub(crate) fn at(&self, prefix: &str) -> crate::error::Error {
        crate::document::DocumentKind::State.error(format!("{prefix}{}", self.pointer()), self.to_string())
    }
}

impl UserState<Text> {
    /// Checks what serde cannot: one entry per device id in each list, no device both
    /// active and pending, and no rejected device active or pending. Linear in the state's
    /// size, however large it is.
    pub fn check(&self) -> Result<(), StateError> {
        // Sets of `&str` (not `&Text`), the type validation's sets have: one copy of the
        // set's code in the modules.
        fn unique<'a>(
            ids: impl Iterator<Item = &'a Text>,
            list: &'static str,
        ) -> Result<FxHashSet<&'a str>, StateError> {
            let mut seen = FxHashSet::default();
            for (index, id) in ids.enumerate() {
                if !seen.insert(id.as_str()) {
                    return Err(StateError::Twice { list, index, id: id.clone() });
                }
            }
            Ok(seen)
        }
        let active = unique(self.devices.iter().map(|d| &d.device.device_id), "devices")?;
        let pending = unique(self.pending.iter().map(|p| &p.device.device_id), "pending")?;
        unique(self.rejected.iter().map(|r| &r.device_id), "rejected")?;
        if let Some((index, p)) =
            self.pending.iter().enumerate().find(|(_, p)| active.contains(p.device.device_id.as_str()))
        {
            return Err(StateError::ActiveAndPending { index, id: p.device.device_id.clone() });
        }
        // A rejected device is denied before anything else, so it can be neither active
        // nor waiting; a state that says so was not written by the engine. Rejecting such
        // a pending device again would list it twice (found by the `decide` fuzz target).
        for (index, r) in self.rejected.iter().enumerate() {
            let other = if active.contains(r.device_id.as_str()) {
                "active"
            } else if pending.contains(r.device_id.as_str()) {
                "pending"
            } else {
                continue;
            };
            return Err(StateError::Rejected { index, id: r.device_id.clone(), other });
        }
        Ok(())
    }
}

/// One change to a user's state. A decision lists them in the order they apply, for a
/// gateway that applies them to its own database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Effect<K = Text> {
    /// Register a device as active.
    AddDevice {
        /// The device.
        device: Device<K>,
        /// Its `registered_at`.
        at: Timestamp,
    },
    /// Remove an active device.
    RemoveDevice {
        /// Which one.
        device_id: K,
    },
    /// Record a pending approval request.
    AddPending {
        /// The device that asks.
        device: Device<K>,
        /// Its `requested_at`.
        at: Timestamp,
    },
    /// Remove a pending request.
    RemovePending {
        /// Which one.
        device_id: K,
    },
    /// Record a rejection.
    AddRejected {
        /// The rejected device.
        device_id: K,
        /// Its `rejected_at`.
        at: Timestamp,
    },
    /// Remove a rejection.
    RemoveRejected {
        /// Which one.
        device_id: K,
    },
    /// Record when an active device was first seen failing a rule that has grace.
    SetNoncompliant {
        /// Which one.
        device_id: K,
        /// Its `noncompliant_since`.
        at: Timestamp,
    },
    /// The active device meets every rule again: forget when it stopped.
    ClearNoncompliant {
        /// Which one.
        device_id: K,
    },
    /// Record that an active device finished enrolling.
    SetEnrollment {
        /// Which one.
        device_id: K,
        /// How.
        method: EnrollmentMethod,
        /// When.
        at: Timestamp,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Text {
        Text::new(s).unwrap()
    }

    fn registered(s: &str) -> Registered {
        Registered::new(Device::new(id(s), OsType::Ios), Timestamp::from_millis(0))
    }

    #[test]
    fn runs_of_removals_apply_in_order_with_the_rest() {
        let mut state =
            UserState { devices: ["a", "b", "c", "d"].map(registered).to_vec(), ..UserState::default() };
        state.apply(&[
            Effect::RemoveDevice { device_id: id("a") },
            Effect::RemoveDevice { device_id: id("c") },
            Effect::AddDevice {
                device: Device::new(id("e"), OsType::Android),
                at: Timestamp::from_millis(1),
            },
            Effect::RemoveDevice { device_id: id("e") },
            Effect::AddDevice {
                device: Device::new(id("a"), OsType::Android),
                at: Timestamp::from_millis(2),
            },
        ]);
        let ids: Vec<&str> = state.devices.iter().map(|d| d.device.device_id.as_str()).collect();
        assert_eq!(ids, ["b", "d", "a"]);
    }

    #[test]
    fn labels_are_cut_to_the_limit_on_a_character_boundary() {
        let name = "é".repeat(MAX_LABEL_CHARS + 10);
        let doc =
            serde_json::json!({ "device_id": "A1", "os_type": "ios", "name": name, "model": "iPhone15,2" });
        let device: Device = crate::json::from_value(&doc).unwrap();
        assert_eq!(device.name.as_deref().map(|n| n.chars().count()), Some(MAX_LABEL_CHARS));
        assert_eq!(device.model.as_deref(), Some("iPhone15,2"));
    }

    #[test]
    fn a_rejected_device_cannot_also_be_active() {
        let state = UserState {
            devices: vec![registered("a")],
            rejected: vec![Rejected { device_id: id("a"), rejected_at: Timestamp::from_millis(0) }],
            ..UserState::default()
        };
        let e = state.check().unwrap_err();
        assert_eq!(e.pointer(), "/rejected/0");
        assert!(e.to_string().contains("both active and rejected"), "{e}");
    }
}
