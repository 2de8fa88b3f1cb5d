//! The policy document (spec section 1): parsing, validation and the compiled form.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::device::OsType;
use crate::error::{Error, ErrorCode};
use crate::json;
use crate::version::Version;

/// The only schema this engine reads.
pub const SCHEMA: &str = "mdm.policy/v1";
/// The most devices a policy may let one user keep.
pub const MAX_DEVICES_LIMIT: u32 = 1000;
/// The longest PIN a policy may require.
pub const MAX_PIN_LENGTH: u32 = 16;
/// The longest user or group id, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// What makes a login device the same as a registered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceMatch {
    /// Equal `device_id`.
    #[default]
    DeviceId,
    /// Equal `device_id`; a registered device with that id but another (or a missing)
    /// serial number is a cloned identity and is denied.
    DeviceIdAndSerial,
}

/// What a further device of an assigned user gets once `max_devices` are active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignedOnNewDevice {
    /// The admin is asked; the device waits.
    #[default]
    Approval,
    /// The oldest device(s) make room.
    Replace,
    /// Denied.
    Deny,
}

/// What an approval does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnApprove {
    /// The oldest device(s) make room, so the count stays at `max_devices`.
    #[default]
    Replace,
    /// The device is added beside the others.
    Add,
}

/// What a further device of an unassigned user gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnassignedOnNewDevice {
    /// The oldest device(s) make room (the seeds' behaviour).
    #[default]
    Replace,
    /// Added beside the others.
    Add,
}

/// What an unassigned user's allowed login gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnassignedAccess {
    /// The app only, no SSO apps.
    #[default]
    Limited,
    /// The app and SSO apps.
    Full,
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn ttl() -> u32 {
    72
}

/// The policy document as written (all defaults resolved).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    /// Always `mdm.policy/v1`.
    pub schema: String,
    /// `false`: MDM is off and no user is assigned.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Who is assigned.
    #[serde(default)]
    pub assignment: Assignment,
    /// What makes a login device the same as a registered one.
    #[serde(default)]
    pub device_match: DeviceMatch,
    /// Settings for assigned users.
    #[serde(default)]
    pub assigned: AssignedSettings,
    /// Settings for unassigned users.
    #[serde(default)]
    pub unassigned: UnassignedSettings,
    /// Device posture, for assigned users.
    #[serde(default)]
    pub requirements: Requirements,
}

/// Who is assigned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Every user is assigned (exclusions still apply).
    #[serde(default)]
    pub organization: bool,
    /// Assigned users.
    #[serde(default)]
    pub users: Vec<String>,
    /// Members of these groups are assigned.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Never assigned.
    #[serde(default)]
    pub exclude_users: Vec<String>,
    /// Members are never assigned.
    #[serde(default)]
    pub exclude_groups: Vec<String>,
}

/// Settings for assigned users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignedSettings {
    /// Devices registered without approval.
    #[serde(default = "one")]
    pub max_devices: u32,
    /// What a further device gets.
    #[serde(default)]
    pub on_new_device: AssignedOnNewDevice,
    /// What an approval does.
    #[serde(default)]
    pub on_approve: OnApprove,
    /// Hours until a pending request expires; 0 never.
    #[serde(default = "ttl")]
    pub approval_ttl_hours: u32,
    /// Push MFA on an allowed device.
    #[serde(default = "yes")]
    pub push_mfa: bool,
}

impl Default for AssignedSettings {
    fn default() -> Self {
        AssignedSettings {
            max_devices: 1,
            on_new_device: AssignedOnNewDevice::default(),
            on_approve: OnApprove::default(),
            approval_ttl_hours: 72,
            push_mfa: true,
        }
    }
}

/// Settings for unassigned users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnassignedSettings {
    /// Devices kept.
    #[serde(default = "one")]
    pub max_devices: u32,
    /// What a further device gets.
    #[serde(default)]
    pub on_new_device: UnassignedOnNewDevice,
    /// Limited or full.
    #[serde(default)]
    pub access: UnassignedAccess,
    /// Push MFA (the seeds: disabled).
    #[serde(default)]
    pub push_mfa: bool,
}

impl Default for UnassignedSettings {
    fn default() -> Self {
        UnassignedSettings {
            max_devices: 1,
            on_new_device: UnassignedOnNewDevice::default(),
            access: UnassignedAccess::default(),
            push_mfa: false,
        }
    }
}

/// Device posture rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// Allowed OS types; empty: all.
    #[serde(default)]
    pub platforms: Vec<OsType>,
    /// Lowest OS version per OS type.
    #[serde(default)]
    pub min_os_version: BTreeMap<String, String>,
    /// PIN at least this long; 0 not checked.
    #[serde(default)]
    pub min_pin_length: u32,
    /// Storage must be encrypted.
    #[serde(default)]
    pub require_encryption: bool,
    /// Jailbroken or rooted devices are denied.
    #[serde(default)]
    pub block_compromised: bool,
}

/// A finding about a policy document: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// JSON Pointer to the field.
    pub pointer: String,
    /// What a person should know.
    pub message: String,
}

/// Everything `validate` found: errors make the policy unusable, warnings do not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Validation {
    /// Errors (`invalid_policy`).
    pub errors: Vec<Issue>,
    /// Warnings.
    pub warnings: Vec<Issue>,
}

/// How the policy names a user or group, folded into bits so that scope is a few ORs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Membership(u8);

impl Membership {
    const INCLUDED: u8 = 1;
    const EXCLUDED: u8 = 2;

    /// Named in an inclusion list.
    pub fn included(self) -> bool {
        self.0 & Self::INCLUDED != 0
    }
    /// Named in an exclusion list.
    pub fn excluded(self) -> bool {
        self.0 & Self::EXCLUDED != 0
    }
}

impl std::ops::BitOr for Membership {
    type Output = Membership;
    fn bitor(self, rhs: Self) -> Self {
        Membership(self.0 | rhs.0)
    }
}

/// The ids one kind of entity (users or groups) the policy names, interned: each id
/// gets a dense index, and the index gives its membership bits.
#[derive(Debug, Clone, Default)]
pub struct IdTable {
    // Fx: ids are short strings and the table is the policy's own, so speed over
    // flooding resistance (a request can only look ids up, never insert them).
    index: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    bits: Vec<Membership>,
}

impl IdTable {
    fn add(&mut self, id: &str, bit: u8) {
        let next = self.names.len() as u32;
        let i = *self.index.entry(id.into()).or_insert_with(|| next);
        if i == next {
            self.names.push(id.into());
            self.bits.push(Membership(0));
        }
        if let Some(b) = self.bits.get_mut(i as usize) {
            b.0 |= bit;
        }
    }

    /// The index of `id`, if the policy names it.
    pub fn lookup(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The membership bits of an id by name; nothing for an id the policy does not name.
    pub fn membership(&self, id: &str) -> Membership {
        self.lookup(id).map(|i| self.membership_at(i)).unwrap_or_default()
    }

    /// The membership bits of an interned index; nothing for an out-of-range index.
    pub fn membership_at(&self, index: u32) -> Membership {
        self.bits.get(index as usize).copied().unwrap_or_default()
    }

    /// The ids in index order: what a host interns against.
    pub fn names(&self) -> &[Box<str>] {
        &self.names
    }
}

/// A parsed, validated and indexed policy: built once, then used for many decisions.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) doc: PolicyDoc,
    pub(crate) users: IdTable,
    pub(crate) groups: IdTable,
    /// Lowest version per OS type, by [`OsType::index`].
    pub(crate) min_os: [Option<Version>; 3],
    /// Allowed platforms, by [`OsType::index`].
    pub(crate) platform_allowed: [bool; 3],
    pub(crate) warnings: Vec<Issue>,
}

impl Policy {
    /// Parses, validates and compiles a policy document.
    pub fn from_json(text: &str) -> Result<Policy, Error> {
        let doc: PolicyDoc = json::from_str(text, ErrorCode::InvalidPolicy)?;
        Policy::compile(doc)
    }

    /// Same as [`Policy::from_json`], from bytes that must be UTF-8.
    pub fn from_slice(bytes: &[u8]) -> Result<Policy, Error> {
        Policy::from_json(json::utf8(bytes, ErrorCode::InvalidPolicy)?)
    }

    /// Same as [`Policy::from_json`], from a parsed JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Policy, Error> {
        let doc: PolicyDoc = json::from_value(value, ErrorCode::InvalidPolicy)?;
        Policy::compile(doc)
    }

    /// Validates and compiles a typed document.
    pub fn compile(doc: PolicyDoc) -> Result<Policy, Error> {
        let validation = check(&doc);
        if let Some(first) = validation.errors.into_iter().next() {
            return Err(Error::InvalidPolicy { pointer: first.pointer, message: first.message });
        }
        let mut users = IdTable::default();
        let mut groups = IdTable::default();
        let a = &doc.assignment;
        a.users.iter().for_each(|u| users.add(u, Membership::INCLUDED));
        a.exclude_users.iter().for_each(|u| users.add(u, Membership::EXCLUDED));
        a.groups.iter().for_each(|g| groups.add(g, Membership::INCLUDED));
        a.exclude_groups.iter().for_each(|g| groups.add(g, Membership::EXCLUDED));
        let mut min_os = [None; 3];
        for (os, v) in &doc.requirements.min_os_version {
            if let (Some(os), Ok(v)) = (OsType::parse(os), v.parse::<Version>())
                && let Some(slot) = min_os.get_mut(os.index())
            {
                *slot = Some(v);
            }
        }
        let platforms = &doc.requirements.platforms;
        let platform_allowed = OsType::ALL.map(|o| platforms.is_empty() || platforms.contains(&o));
        Ok(Policy { doc, users, groups, min_os, platform_allowed, warnings: validation.warnings })
    }

    /// The document, defaults resolved.
    pub fn doc(&self) -> &PolicyDoc {
        &self.doc
    }

    /// Warnings found while validating (ids both included and excluded).
    pub fn warnings(&self) -> &[Issue] {
        &self.warnings
    }

    /// The users the policy names, interned.
    pub fn user_ids(&self) -> &IdTable {
        &self.users
    }

    /// The groups the policy names, interned.
    pub fn group_ids(&self) -> &IdTable {
        &self.groups
    }
}

/// Validates a policy document without compiling it: every error and warning found.
pub fn validate(text: &str) -> Validation {
    match json::from_str::<PolicyDoc>(text, ErrorCode::InvalidPolicy) {
        Ok(doc) => check(&doc),
        Err(e) => Validation {
            errors: vec![Issue { pointer: e.pointer().to_string(), message: e.message() }],
            warnings: Vec::new(),
        },
    }
}

/// The rules serde cannot express: bounds, id and version syntax, overlaps.
fn check(doc: &PolicyDoc) -> Validation {
    let mut v = Validation::default();
    let mut err = |pointer: String, message: String| v.errors.push(Issue { pointer, message });
    if doc.schema != SCHEMA {
        err("/schema".into(), format!("unsupported schema `{}`, expected `{SCHEMA}`", doc.schema));
    }
    let a = &doc.assignment;
    for (list, ids) in [
        ("users", &a.users),
        ("groups", &a.groups),
        ("exclude_users", &a.exclude_users),
        ("exclude_groups", &a.exclude_groups),
    ] {
        for (i, id) in ids.iter().enumerate() {
            if id.is_empty() {
                err(format!("/assignment/{list}/{i}"), "must not be an empty id".into());
            } else if id.len() > MAX_ID_BYTES {
                err(
                    format!("/assignment/{list}/{i}"),
                    format!("must be at most {MAX_ID_BYTES} bytes, got {}", id.len()),
                );
            }
        }
    }
    for (side, n) in [("assigned", doc.assigned.max_devices), ("unassigned", doc.unassigned.max_devices)] {
        if n < 1 {
            err(format!("/{side}/max_devices"), format!("must be at least 1, got {n}"));
        } else if n > MAX_DEVICES_LIMIT {
            err(format!("/{side}/max_devices"), format!("must be at most {MAX_DEVICES_LIMIT}, got {n}"));
        }
    }
    let r = &doc.requirements;
    if r.min_pin_length > MAX_PIN_LENGTH {
        err(
            "/requirements/min_pin_length".into(),
            format!("must be at most {MAX_PIN_LENGTH}, got {}", r.min_pin_length),
        );
    }
    for (os, version) in &r.min_os_version {
        let pointer = format!("/requirements/min_os_version/{}", json::escape_pointer(os));
        if OsType::parse(os).is_none() {
            err(pointer, format!("unknown OS type `{os}`, expected `ios`, `android` or `other`"));
        } else if let Err(e) = version.parse::<Version>() {
            err(pointer, e);
        }
    }
    for (inc, exc, what) in [
        (&a.users, &a.exclude_users, ("users", "exclude_users", "user")),
        (&a.groups, &a.exclude_groups, ("groups", "exclude_groups", "group")),
    ] {
        let included: rustc_hash::FxHashSet<&str> = inc.iter().map(String::as_str).collect();
        for (i, id) in exc.iter().enumerate() {
            if included.contains(id.as_str()) {
                v.warnings.push(Issue {
                    pointer: format!("/assignment/{}/{i}", what.1),
                    message: format!(
                        "{} `{id}` is both in `{}` and in `{}`; the exclusion wins",
                        what.2, what.0, what.1
                    ),
                });
            }
        }
    }
    v
}
