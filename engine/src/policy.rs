//! The policy document (spec section 1): parsing, validation and the compiled form.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::device::OsType;
use crate::error::{DocumentKind, Error};
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

/// The policy document, every setting resolved: a field the document leaves out has the
/// value of its struct's `Default`, the one place each default is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyDoc {
    /// `mdm.policy/v1`: the one field a document must give (`None` when it does not,
    /// which validation refuses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `false`: MDM is off and no user is assigned.
    pub enabled: bool,
    /// Who is assigned.
    pub assignment: Assignment,
    /// What makes a login device the same as a registered one.
    pub device_match: DeviceMatch,
    /// Settings for assigned users.
    pub assigned: AssignedSettings,
    /// Settings for unassigned users.
    pub unassigned: UnassignedSettings,
    /// Device posture, for assigned users.
    pub requirements: Requirements,
}

impl Default for PolicyDoc {
    fn default() -> Self {
        PolicyDoc {
            schema: None,
            enabled: true,
            assignment: Assignment::default(),
            device_match: DeviceMatch::default(),
            assigned: AssignedSettings::default(),
            unassigned: UnassignedSettings::default(),
            requirements: Requirements::default(),
        }
    }
}

/// Who is assigned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Assignment {
    /// Every user is assigned (exclusions still apply).
    pub organization: bool,
    /// Assigned users.
    pub users: Vec<String>,
    /// Members of these groups are assigned.
    pub groups: Vec<String>,
    /// Never assigned.
    pub exclude_users: Vec<String>,
    /// Members are never assigned.
    pub exclude_groups: Vec<String>,
}

/// Settings for assigned users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssignedSettings {
    /// Devices registered without approval.
    pub max_devices: u32,
    /// What a further device gets.
    pub on_new_device: AssignedOnNewDevice,
    /// What an approval does.
    pub on_approve: OnApprove,
    /// Hours until a pending request expires; 0 never.
    pub approval_ttl_hours: u32,
    /// Push MFA on an allowed device.
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
#[serde(deny_unknown_fields, default)]
pub struct UnassignedSettings {
    /// Devices kept.
    pub max_devices: u32,
    /// What a further device gets.
    pub on_new_device: UnassignedOnNewDevice,
    /// Limited or full.
    pub access: UnassignedAccess,
    /// Push MFA (the seeds: disabled).
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
#[serde(deny_unknown_fields, default)]
pub struct Requirements {
    /// Allowed OS types; empty: all.
    pub platforms: Vec<OsType>,
    /// Lowest OS version per OS type.
    pub min_os_version: BTreeMap<String, String>,
    /// PIN at least this long; 0 not checked.
    pub min_pin_length: u32,
    /// Storage must be encrypted.
    pub require_encryption: bool,
    /// Jailbroken or rooted devices are denied.
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
pub(crate) struct Membership(u8);

impl Membership {
    const INCLUDED: u8 = 1;
    const EXCLUDED: u8 = 2;

    /// Named in an inclusion list.
    pub(crate) fn included(self) -> bool {
        self.0 & Self::INCLUDED != 0
    }
    /// Named in an exclusion list.
    pub(crate) fn excluded(self) -> bool {
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
pub(crate) struct IdTable {
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
    pub(crate) fn lookup(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The membership bits of an id by name; nothing for an id the policy does not name.
    pub(crate) fn membership(&self, id: &str) -> Membership {
        self.lookup(id).map(|i| self.membership_at(i)).unwrap_or_default()
    }

    /// The membership bits of an interned index; nothing for an out-of-range index.
    pub(crate) fn membership_at(&self, index: u32) -> Membership {
        self.bits.get(index as usize).copied().unwrap_or_default()
    }

    /// The ids in index order: what a host interns against.
    pub(crate) fn names(&self) -> &[Box<str>] {
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
        let doc: PolicyDoc = json::from_str(text, DocumentKind::Policy)?;
        Policy::compile(doc)
    }

    /// Same as [`Policy::from_json`], from bytes that must be UTF-8.
    pub fn from_slice(bytes: &[u8]) -> Result<Policy, Error> {
        Policy::from_json(DocumentKind::Policy.text(bytes)?)
    }

    /// Same as [`Policy::from_json`], from a parsed JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Policy, Error> {
        let doc: PolicyDoc = json::from_value(value, DocumentKind::Policy)?;
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

    /// The document with every default filled in: what an editor shows for the fields a
    /// document leaves out (serialise it for the JSON).
    pub fn doc(&self) -> &PolicyDoc {
        &self.doc
    }

    /// The `max_devices` of one side of the policy.
    pub fn max_devices(&self, assigned: bool) -> u32 {
        if assigned { self.doc.assigned.max_devices } else { self.doc.unassigned.max_devices }
    }

    /// Warnings found while validating (ids both included and excluded).
    pub fn warnings(&self) -> &[Issue] {
        &self.warnings
    }

    /// The users the policy names, interned.
    pub(crate) fn user_ids(&self) -> &IdTable {
        &self.users
    }

    /// The groups the policy names, interned.
    pub(crate) fn group_ids(&self) -> &IdTable {
        &self.groups
    }
}

/// Validates a policy document without compiling it: every error and warning found.
pub fn validate(text: &str) -> Validation {
    match json::from_str::<PolicyDoc>(text, DocumentKind::Policy) {
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
    match &doc.schema {
        None => err("/schema".into(), "missing field `schema`".into()),
        Some(schema) if schema != SCHEMA => {
            err("/schema".into(), format!("unsupported schema `{schema}`, expected `{SCHEMA}`"))
        }
        Some(_) => {}
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
            err(pointer, e.to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resolved_document_is_the_defaults_and_means_the_same() {
        let p = Policy::from_json(r#"{"schema":"mdm.policy/v1"}"#).unwrap();
        let expected = PolicyDoc { schema: Some(SCHEMA.into()), ..PolicyDoc::default() };
        assert_eq!(p.doc(), &expected);
        assert_eq!(p.doc().assigned.approval_ttl_hours, 72);
        assert!(p.doc().enabled && p.doc().assigned.push_mfa && !p.doc().unassigned.push_mfa);
        assert_eq!((p.max_devices(true), p.max_devices(false)), (1, 1));
        let text = serde_json::to_string(p.doc()).unwrap();
        assert_eq!(Policy::from_json(&text).unwrap().doc(), p.doc());
    }

    #[test]
    fn a_missing_schema_is_reported_with_the_other_errors() {
        let v = validate(r#"{"assigned":{"max_devices":0}}"#);
        let pointers: Vec<&str> = v.errors.iter().map(|i| i.pointer.as_str()).collect();
        assert_eq!(pointers, ["/schema", "/assigned/max_devices"]);
        assert_eq!(v.errors[0].message, "missing field `schema`");
    }
}
