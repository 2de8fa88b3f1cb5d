//! The policy document (spec section 1): parsing, validation and the compiled form.

use rustc_hash::FxHashMap;

use serde::Serialize;
use serde::de::MapAccess;

use std::sync::Arc;

use crate::document::DocumentKind;
use crate::error::Error;
use crate::ids::{MAX_ID_BYTES, OsType};
use crate::json;
use crate::manage::{AppPlatform, Approver, Configuration, EnrollmentMethod, Methods};
use crate::version::Version;

/// The schema of a version 1 policy.
pub const SCHEMA: &str = "mdm.policy/v1";
/// The schema of a version 2 policy.
pub const SCHEMA_V2: &str = "mdm.policy/v2";
/// The most apps a policy's store may hold.
pub const MAX_APPS: usize = 2000;

/// The contract version a policy is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SchemaVersion {
    /// `mdm.policy/v1`: version 2's fields are unknown fields.
    V1,
    /// `mdm.policy/v2`.
    V2,
}
/// The most devices a policy may let one user keep.
pub const MAX_DEVICES_LIMIT: u32 = 1000;
/// The longest PIN a policy may require.
pub const MAX_PIN_LENGTH: u32 = 16;

/// What makes a login device the same as a registered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum DeviceMatch {
    /// Equal `device_id`.
    #[default]
    DeviceId,
    /// Equal `device_id`; a registered device with that id but another (or a missing)
    /// serial number is a cloned identity and is denied.
    DeviceIdAndSerial,
}

/// What a further device of an assigned user gets once `max_devices` are active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum OnApprove {
    /// The oldest device(s) make room, so the count stays at `max_devices`.
    #[default]
    Replace,
    /// The device is added beside the others.
    Add,
}

/// What a further device of an unassigned user gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum UnassignedOnNewDevice {
    /// The oldest device(s) make room (the seeds' behaviour).
    #[default]
    Replace,
    /// Added beside the others.
    Add,
}

/// What an unassigned user's allowed login gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum UnassignedAccess {
    /// The app only, no SSO apps.
    #[default]
    Limited,
    /// The app and SSO apps.
    Full,
}

/// The policy document, every setting resolved: a field the document leaves out has the
/// value of its struct's `Default`, the one place each default is written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(description = "An mdm-policy policy: who is assigned to MDM, and what their mobile logins get. Every field but `schema` is optional.", transform = crate::schema::parts::require_schema))]
pub struct PolicyDoc {
    /// An editor's hint to a JSON Schema; ignored.
    #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    /// `mdm.policy/v1` or `mdm.policy/v2`: the contract version the policy is written for,
    /// and the one field a document must give.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "SchemaName"))]
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
    /// Enrollment in management (version 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment: Option<EnrollmentSettings>,
    /// What a managed device must apply besides the requirements (version 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<ConfigurationSettings>,
    /// The managed app store (version 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 2000)))]
    pub apps: Option<Vec<AppDoc>>,
}

impl Default for PolicyDoc {
    fn default() -> Self {
        PolicyDoc {
            json_schema: None,
            schema: None,
            enabled: true,
            assignment: Assignment::default(),
            device_match: DeviceMatch::default(),
            assigned: AssignedSettings::default(),
            unassigned: UnassignedSettings::default(),
            requirements: Requirements::default(),
            enrollment: None,
            configuration: None,
            apps: None,
        }
    }
}

impl PolicyDoc {
    /// The version the document is written for; `None` for a missing or unknown schema.
    pub fn version(&self) -> Option<SchemaVersion> {
        match self.schema.as_deref() {
            Some(SCHEMA) => Some(SchemaVersion::V1),
            Some(SCHEMA_V2) => Some(SchemaVersion::V2),
            _ => None,
        }
    }

    /// Version 2's settings that the document gives, by pointer: unknown fields in a
    /// version 1 document.
    fn v2_fields(&self) -> impl Iterator<Item = &'static str> {
        [
            ("/assigned/approvers", self.assigned.approvers.is_some()),
            ("/requirements/grace_hours", self.requirements.grace_hours.is_some()),
            ("/enrollment", self.enrollment.is_some()),
            ("/configuration", self.configuration.is_some()),
            ("/apps", self.apps.is_some()),
        ]
        .into_iter()
        .filter_map(|(pointer, given)| given.then_some(pointer))
    }

    /// Fills in version 2's settings with their defaults, so that the resolved document of
    /// a version 2 policy shows them; a version 1 document stays a version 1 document.
    fn resolve(&mut self) {
        if self.version() == Some(SchemaVersion::V2) {
            self.assigned.approvers.get_or_insert_with(|| crate::manage::ADMIN_ONLY.to_vec());
            self.requirements.grace_hours.get_or_insert(0);
            self.enrollment.get_or_insert_with(EnrollmentSettings::default);
            self.configuration.get_or_insert_with(ConfigurationSettings::default);
            self.apps.get_or_insert_with(Vec::new);
        }
    }
}

/// Enrollment in management (version 2).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EnrollmentSettings {
    /// Assigned users' devices must be enrolled before they get SSO and push MFA.
    pub required: bool,
    /// The methods the organisation allows.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub methods: Vec<EnrollmentMethod>,
}

impl Default for EnrollmentSettings {
    fn default() -> Self {
        EnrollmentSettings { required: false, methods: EnrollmentMethod::ALL.to_vec() }
    }
}

/// What a managed device must apply besides the requirements (version 2).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConfigurationSettings {
    /// Documents in managed apps open only in other managed apps.
    pub data_separation: bool,
}

/// An app of the managed store (version 2).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AppDoc {
    /// The bundle id (iOS) or package name (Android).
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::parts::Id"))]
    pub id: String,
    /// What the store shows.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 256)))]
    pub name: String,
    /// The platform the id belongs to.
    pub platform: AppPlatform,
    /// Users who get the app.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::parts::Id>"))]
    pub users: Vec<String>,
    /// Members of these groups get the app. Both lists empty: every assigned user.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::parts::Id>"))]
    pub groups: Vec<String>,
}

/// Who is assigned.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Assignment {
    /// Every user is assigned (exclusions still apply).
    pub organization: bool,
    /// Assigned users.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::parts::Id>"))]
    pub users: Vec<String>,
    /// Members of these groups are assigned.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::parts::Id>"))]
    pub groups: Vec<String>,
    /// Never assigned.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::parts::Id>"))]
    pub exclude_users: Vec<String>,
    /// Members are never assigned.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::parts::Id>"))]
    pub exclude_groups: Vec<String>,
}

/// Settings for assigned users.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AssignedSettings {
    /// Devices registered without approval.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1000)))]
    pub max_devices: u32,
    /// What a further device gets.
    pub on_new_device: AssignedOnNewDevice,
    /// What an approval does.
    pub on_approve: OnApprove,
    /// Hours until a pending request expires; 0 never.
    pub approval_ttl_hours: u32,
    /// Push MFA on an allowed device.
    pub push_mfa: bool,
    /// Who may approve a pending request (version 2; the admin alone when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub approvers: Option<Vec<Approver>>,
}

impl Default for AssignedSettings {
    fn default() -> Self {
        AssignedSettings {
            max_devices: 1,
            on_new_device: AssignedOnNewDevice::default(),
            on_approve: OnApprove::default(),
            approval_ttl_hours: 72,
            push_mfa: true,
            approvers: None,
        }
    }
}

/// Settings for unassigned users.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnassignedSettings {
    /// Devices kept.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1000)))]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Requirements {
    /// Allowed OS types; empty: all.
    pub platforms: Vec<OsType>,
    /// Lowest OS version per OS type.
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::parts::MinOsVersion"))]
    pub min_os_version: OsVersions,
    /// PIN at least this long; 0 not checked.
    #[cfg_attr(feature = "schema", schemars(range(max = 16)))]
    pub min_pin_length: u32,
    /// Storage must be encrypted.
    pub require_encryption: bool,
    /// Jailbroken or rooted devices are denied.
    pub block_compromised: bool,
    /// Hours an active device that stops meeting the OS version, PIN or encryption rule
    /// keeps its access (version 2; none when absent or 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_hours: Option<u32>,
}

// The documents' decoders: the names are the fields' spellings in declaration order, so
// an unknown name's error lists them as the struct reads.

json::decoder! {
    PolicyDoc {
        json_schema: "$schema",
        schema: "schema",
        enabled: "enabled",
        assignment: "assignment",
        device_match: "device_match",
        assigned: "assigned",
        unassigned: "unassigned",
        requirements: "requirements",
        enrollment: "enrollment",
        configuration: "configuration",
        apps: "apps",
    } = PolicyDoc::default()
}

json::decoder! {
    EnrollmentSettings {
        required: "required",
        methods: "methods",
    } = EnrollmentSettings::default()
}

json::decoder! {
    ConfigurationSettings {
        data_separation: "data_separation",
    } = ConfigurationSettings::default()
}

json::decoder! {
    AppDoc {
        id: "id" required,
        name: "name" required,
        platform: "platform" required,
        users: "users",
        groups: "groups",
    } = AppDoc { id: String::new(), name: String::new(), platform: AppPlatform::Ios, users: Vec::new(), groups: Vec::new() }
}

json::decoder! {
    Assignment {
        organization: "organization",
        users: "users",
        groups: "groups",
        exclude_users: "exclude_users",
        exclude_groups: "exclude_groups",
    } = Assignment::default()
}

json::decoder! {
    AssignedSettings {
        max_devices: "max_devices",
        on_new_device: "on_new_device",
        on_approve: "on_approve",
        approval_ttl_hours: "approval_ttl_hours",
        push_mfa: "push_mfa",
        approvers: "approvers",
    } = AssignedSettings::default()
}

json::decoder! {
    UnassignedSettings {
        max_devices: "max_devices",
        on_new_device: "on_new_device",
        access: "access",
        push_mfa: "push_mfa",
    } = UnassignedSettings::default()
}

json::decoder! {
    Requirements {
        platforms: "platforms",
        min_os_version: "min_os_version",
        min_pin_length: "min_pin_length",
        require_encryption: "require_encryption",
        block_compromised: "block_compromised",
        grace_hours: "grace_hours",
    } = Requirements::default()
}

json::variants!(DeviceMatch { DeviceId = "device_id", DeviceIdAndSerial = "device_id_and_serial" });

json::variants!(AssignedOnNewDevice { Approval = "approval", Replace = "replace", Deny = "deny" });

json::variants!(OnApprove { Replace = "replace", Add = "add" });

json::variants!(UnassignedOnNewDevice { Replace = "replace", Add = "add" });

json::variants!(UnassignedAccess { Limited = "limited", Full = "full" });

/// `min_os_version` as the document gives it: each OS name once, with its version, in the
/// order of the names (an object's, as a map keeps them). Validation checks the names
/// and versions, so that each wrong one is reported at its pointer.
///
/// A list rather than a `BTreeMap`: a map's insertion code was 5 KB of each WebAssembly
/// module, for three entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsVersions(Vec<(String, String)>);

impl OsVersions {
    /// Each OS name and its version, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(os, version)| (os.as_str(), version.as_str()))
    }

    /// Whether no OS type has a lowest version.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a OsVersions {
    type Item = &'a (String, String);
    type IntoIter = std::slice::Iter<'a, (String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for OsVersions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(os, version)| (os, version)))
    }
}

impl<'de> serde::Deserialize<'de> for OsVersions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;

        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = OsVersions;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OsVersions, A::Error> {
                // The reader refuses a repeated name, at the name (`json::unique`).
                let mut out = Vec::new();
                while let Some(os) = map.next_key::<String>()? {
                    let version: String = map.next_value()?;
                    out.push((os, version));
                }
                crate::sort::sort(&mut out);
                Ok(OsVersions(out))
            }
        }

        json::unique(d, Entries)
    }
}

/// What kind of finding an [`Issue`] is: a stable code a tool can act on, beside the
/// message a person reads. Every error is `invalid_policy` in the contract; this says
/// which rule of section 1 it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// The text is not JSON (or not UTF-8); nothing past it can be read.
    Syntax,
    /// A field the schema does not have (a version 2 field in a version 1 policy, too).
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A value of the wrong JSON type.
    InvalidType,
    /// A value of the right type that is not one of the allowed ones.
    InvalidValue,
    /// A number or a list outside its bounds.
    OutOfRange,
    /// An empty or too long user, group or app id.
    InvalidId,
    /// An OS version that is not `N(.N){0,3}`.
    InvalidVersion,
    /// An entry listed twice.
    Duplicate,
    /// A list that must not be empty is.
    Empty,
    /// `schema` names no contract version this engine knows.
    UnsupportedSchema,
    /// Warning: an id both included and excluded (the exclusion wins).
    IncludedAndExcluded,
}

impl IssueCode {
    /// Every code.
    pub const ALL: [IssueCode; 12] = [
        IssueCode::Syntax,
        IssueCode::UnknownField,
        IssueCode::MissingField,
        IssueCode::InvalidType,
        IssueCode::InvalidValue,
        IssueCode::OutOfRange,
        IssueCode::InvalidId,
        IssueCode::InvalidVersion,
        IssueCode::Duplicate,
        IssueCode::Empty,
        IssueCode::UnsupportedSchema,
        IssueCode::IncludedAndExcluded,
    ];

    /// The code as tools read it (`unknown_field`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            IssueCode::Syntax => "syntax",
            IssueCode::UnknownField => "unknown_field",
            IssueCode::MissingField => "missing_field",
            IssueCode::InvalidType => "invalid_type",
            IssueCode::InvalidValue => "invalid_value",
            IssueCode::OutOfRange => "out_of_range",
            IssueCode::InvalidId => "invalid_id",
            IssueCode::InvalidVersion => "invalid_version",
            IssueCode::Duplicate => "duplicate",
            IssueCode::Empty => "empty",
            IssueCode::UnsupportedSchema => "unsupported_schema",
            IssueCode::IncludedAndExcluded => "included_and_excluded",
        }
    }

    /// Parses a code as [`IssueCode::as_str`] spells it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The code of a decoding failure, from its kind.
    fn of_decoding(kind: json::Kind) -> Self {
        match kind {
            json::Kind::Syntax => IssueCode::Syntax,
            json::Kind::UnknownField => IssueCode::UnknownField,
            json::Kind::MissingField => IssueCode::MissingField,
            json::Kind::DuplicateField => IssueCode::Duplicate,
            json::Kind::InvalidType => IssueCode::InvalidType,
            json::Kind::InvalidValue
            | json::Kind::InvalidLength
            | json::Kind::UnknownVariant
            | json::Kind::Other => IssueCode::InvalidValue,
        }
    }
}

impl std::fmt::Display for IssueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding about a policy document: what kind, where, and what a person should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// The kind of finding.
    pub code: IssueCode,
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

impl Validation {
    /// The validation of a document that cannot be read at all (not JSON, not UTF-8):
    /// one `syntax` error at the root.
    pub fn syntax(message: impl Into<String>) -> Validation {
        let issue = Issue { code: IssueCode::Syntax, pointer: String::new(), message: message.into() };
        Validation { errors: vec![issue], warnings: Vec::new() }
    }
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
    /// A table sized for `ids` ids, so that a large policy's tables are not rehashed as
    /// they grow.
    fn with_capacity(ids: usize) -> Self {
        IdTable {
            index: FxHashMap::with_capacity_and_hasher(ids, Default::default()),
            names: Vec::with_capacity(ids),
            bits: Vec::with_capacity(ids),
        }
    }

    fn add(&mut self, id: &str, bit: u8) {
        // Looked up before it is copied: an id listed again costs no allocation.
        let i = match self.index.get(id) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.index.insert(id.into(), i);
                self.names.push(id.into());
                self.bits.push(Membership(0));
                i
            }
        };
        if let Some(b) = self.bits.get_mut(i as usize) {
            b.0 |= bit;
        }
    }

    /// The index of `id`, if the policy names it.
    pub(crate) fn lookup(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
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
    /// Version 2's settings, resolved (their defaults under a version 1 policy).
    pub(crate) approvers: Approvers,
    pub(crate) grace_hours: u32,
    pub(crate) enrollment_required: bool,
    pub(crate) methods: Methods,
    pub(crate) configuration: Configuration,
    pub(crate) apps: Vec<App>,
    /// The distinct app ids of `apps`, interned: a login's installed apps are looked up
    /// here, and cross the wasm boundary as these indices.
    pub(crate) app_ids: IdTable,
}

/// Who may approve, as a set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Approvers {
    pub(crate) admin: bool,
    pub(crate) user: bool,
}

impl Approvers {
    pub(crate) fn allows(self, a: Approver) -> bool {
        match a {
            Approver::Admin => self.admin,
            Approver::User => self.user,
        }
    }
}

/// An app of the store, compiled.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) platform: AppPlatform,
    pub(crate) id: Arc<str>,
    pub(crate) name: Arc<str>,
    /// The index of `id` in the policy's app ids.
    pub(crate) id_index: u32,
    /// Both lists empty: every assigned user.
    pub(crate) everyone: bool,
    /// The principals (users and groups, in one index space) it is assigned to, sorted.
    pub(crate) audience: Box<[u32]>,
}

impl Policy {
    /// Parses, validates and compiles a policy document.
    pub fn from_json(text: &str) -> Result<Policy, Error> {
        let doc: PolicyDoc = DocumentKind::Policy.parse(text)?;
        Policy::compile(doc)
    }

    /// Same as [`Policy::from_json`], from bytes that must be UTF-8.
    pub fn from_slice(bytes: &[u8]) -> Result<Policy, Error> {
        Policy::from_json(DocumentKind::Policy.text(bytes)?)
    }

    /// Same as [`Policy::from_json`], from a parsed JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Policy, Error> {
        Policy::compile(DocumentKind::Policy.parse_value(value)?)
    }

    /// Validates and compiles a typed document.
    pub fn compile(doc: PolicyDoc) -> Result<Policy, Error> {
        let validation = check(&doc);
        if let Some(first) = validation.errors.into_iter().next() {
            return Err(Error::InvalidPolicy { pointer: first.pointer, message: first.message });
        }
        let mut doc = doc;
        doc.resolve();
        let a = &doc.assignment;
        let app_docs = doc.apps.as_deref().unwrap_or_default();
        let mut users = IdTable::with_capacity(
            a.users.len() + a.exclude_users.len() + app_docs.iter().map(|app| app.users.len()).sum::<usize>(),
        );
        let mut groups = IdTable::with_capacity(
            a.groups.len()
                + a.exclude_groups.len()
                + app_docs.iter().map(|app| app.groups.len()).sum::<usize>(),
        );
        a.users.iter().for_each(|u| users.add(u, Membership::INCLUDED));
        a.exclude_users.iter().for_each(|u| users.add(u, Membership::EXCLUDED));
        a.groups.iter().for_each(|g| groups.add(g, Membership::INCLUDED));
        a.exclude_groups.iter().for_each(|g| groups.add(g, Membership::EXCLUDED));
        // Ids an app names join the tables without membership bits: they change no scope.
        for app in app_docs {
            app.users.iter().for_each(|u| users.add(u, 0));
            app.groups.iter().for_each(|g| groups.add(g, 0));
        }
        let mut app_ids = IdTable::default();
        let user_count = users.names().len() as u32;
        let apps = app_docs
            .iter()
            .map(|app| {
                app_ids.add(&app.id, 0);
                let mut audience: Vec<u32> = app
                    .users
                    .iter()
                    .filter_map(|u| users.lookup(u))
                    .chain(app.groups.iter().filter_map(|g| groups.lookup(g)).map(|g| g + user_count))
                    .collect();
                crate::sort::sort(&mut audience);
                audience.dedup();
                App {
                    platform: app.platform,
                    id: app.id.as_str().into(),
                    name: app.name.as_str().into(),
                    id_index: app_ids.lookup(&app.id).unwrap_or_default(),
                    everyone: app.users.is_empty() && app.groups.is_empty(),
                    audience: audience.into(),
                }
            })
            .collect();
        let approvers = doc.assigned.approvers.as_deref().unwrap_or(crate::manage::ADMIN_ONLY);
        let approvers = Approvers {
            admin: approvers.contains(&Approver::Admin),
            user: approvers.contains(&Approver::User),
        };
        let enrollment = doc.enrollment.clone().unwrap_or_default();
        let configuration = Configuration {
            min_pin_length: doc.requirements.min_pin_length,
            require_encryption: doc.requirements.require_encryption,
            data_separation: doc.configuration.as_ref().is_some_and(|c| c.data_separation),
        };
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
        Ok(Policy {
            grace_hours: doc.requirements.grace_hours.unwrap_or_default(),
            enrollment_required: enrollment.required,
            methods: Methods::of(&enrollment.methods),
            doc,
            users,
            groups,
            min_os,
            platform_allowed,
            warnings: validation.warnings,
            approvers,
            configuration,
            apps,
            app_ids,
        })
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

/// Validates a policy document without compiling it: every error and warning found, up
/// to 100 errors. A syntax error stops it (the rest of the text cannot be read); a field
/// of the wrong type or an unknown field does not: it is reported, left out, and the rest
/// of the document is checked as if it were absent.
///
/// The first error is the one [`Policy::from_json`] returns.
pub fn validate(text: &str) -> Validation {
    if let Err(f) = json::check(text) {
        return Validation::syntax(f.message);
    }
    let (doc, decoding, patches) = json::collect::<PolicyDoc>(text);
    let mut v = Validation {
        errors: decoding
            .into_iter()
            .map(|f| Issue { code: IssueCode::of_decoding(f.kind), pointer: f.pointer, message: f.message })
            .collect(),
        warnings: Vec::new(),
    };
    let Some(doc) = doc else { return v };
    let checked = check(&doc);
    // A rule broken by what stood in for a removed value is no news.
    let reported: Vec<String> = v.errors.iter().map(|i| i.pointer.clone()).collect();
    let news =
        |i: &Issue| !reported.iter().any(|r| i.pointer == *r || i.pointer.starts_with(&format!("{r}/")));
    let original = |i: Issue| Issue { pointer: patches.original(&i.pointer), ..i };
    v.errors.extend(checked.errors.into_iter().map(original).filter(news));
    v.warnings.extend(checked.warnings.into_iter().map(original).filter(news));
    v
}

/// A list of user or group ids, at `pointer`: each 1 to [`MAX_ID_BYTES`] bytes.
fn check_ids(pointer: &str, ids: &[String], err: &mut impl FnMut(IssueCode, String, String)) {
    for (i, id) in ids.iter().enumerate() {
        if id.is_empty() {
            err(IssueCode::InvalidId, format!("{pointer}/{i}"), "must not be an empty id".into());
        } else if id.len() > MAX_ID_BYTES {
            err(
                IssueCode::InvalidId,
                format!("{pointer}/{i}"),
                format!("must be at most {MAX_ID_BYTES} bytes, got {}", id.len()),
            );
        }
    }
}

/// Version 2's rules serde cannot express: empty or repeated lists, app ids and names.
fn check_v2(doc: &PolicyDoc, err: &mut impl FnMut(IssueCode, String, String)) {
    fn distinct<T: PartialEq + Copy>(
        items: &[T],
        list: &str,
        name: impl Fn(T) -> &'static str,
        err: &mut impl FnMut(IssueCode, String, String),
    ) {
        if items.is_empty() {
            err(IssueCode::Empty, list.into(), "must not be empty".into());
        }
        for (i, item) in items.iter().enumerate() {
            if items.get(..i).is_some_and(|before| before.contains(item)) {
                err(
                    IssueCode::Duplicate,
                    format!("{list}/{i}"),
                    format!("`{}` is listed twice", name(*item)),
                );
            }
        }
    }
    if let Some(approvers) = &doc.assigned.approvers {
        distinct(approvers, "/assigned/approvers", Approver::as_str, err);
    }
    if let Some(enrollment) = &doc.enrollment {
        distinct(&enrollment.methods, "/enrollment/methods", EnrollmentMethod::as_str, err);
    }
    let apps = doc.apps.as_deref().unwrap_or_default();
    if apps.len() > MAX_APPS {
        err(
            IssueCode::OutOfRange,
            "/apps".into(),
            format!("must hold at most {MAX_APPS} apps, got {}", apps.len()),
        );
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for (i, app) in apps.iter().enumerate() {
        if app.id.is_empty() || app.id.len() > MAX_ID_BYTES {
            err(
                IssueCode::InvalidId,
                format!("/apps/{i}/id"),
                format!("must be 1 to {MAX_ID_BYTES} bytes, got {}", app.id.len()),
            );
        }
        let chars = app.name.chars().count();
        if chars == 0 || chars > MAX_ID_BYTES {
            err(
                IssueCode::InvalidValue,
                format!("/apps/{i}/name"),
                format!("must be 1 to {MAX_ID_BYTES} characters, got {chars}"),
            );
        }
        if !seen.insert((app.platform, app.id.as_str())) {
            err(
                IssueCode::Duplicate,
                format!("/apps/{i}"),
                format!("app `{}` is listed twice for `{}`", app.id, app.platform.os().as_str()),
            );
        }
        for (list, ids) in [("users", &app.users), ("groups", &app.groups)] {
            check_ids(&format!("/apps/{i}/{list}"), ids, err);
        }
    }
}

/// The rules serde cannot express: bounds, id and version syntax, overlaps.
fn check(doc: &PolicyDoc) -> Validation {
    let mut v = Validation::default();
    let mut err =
        |code: IssueCode, pointer: String, message: String| v.errors.push(Issue { code, pointer, message });
    match (&doc.schema, doc.version()) {
        (None, _) => err(IssueCode::MissingField, "/schema".into(), "missing field `schema`".into()),
        (Some(schema), None) => err(
            IssueCode::UnsupportedSchema,
            "/schema".into(),
            format!("unsupported schema `{schema}`, expected `{SCHEMA}` or `{SCHEMA_V2}`"),
        ),
        (Some(_), Some(SchemaVersion::V1)) => {
            for pointer in doc.v2_fields() {
                let field = pointer.rsplit('/').next().unwrap_or(pointer);
                err(
                    IssueCode::UnknownField,
                    pointer.into(),
                    format!("unknown field `{field}` in a `{SCHEMA}` policy (it is a `{SCHEMA_V2}` field)"),
                );
            }
        }
        (Some(_), Some(SchemaVersion::V2)) => {}
    }
    check_v2(doc, &mut err);
    let a = &doc.assignment;
    for (list, ids) in [
        ("users", &a.users),
        ("groups", &a.groups),
        ("exclude_users", &a.exclude_users),
        ("exclude_groups", &a.exclude_groups),
    ] {
        check_ids(&format!("/assignment/{list}"), ids, &mut err);
    }
    for (side, n) in [("assigned", doc.assigned.max_devices), ("unassigned", doc.unassigned.max_devices)] {
        if n < 1 {
            err(
                IssueCode::OutOfRange,
                format!("/{side}/max_devices"),
                format!("must be at least 1, got {n}"),
            );
        } else if n > MAX_DEVICES_LIMIT {
            err(
                IssueCode::OutOfRange,
                format!("/{side}/max_devices"),
                format!("must be at most {MAX_DEVICES_LIMIT}, got {n}"),
            );
        }
    }
    let r = &doc.requirements;
    if r.min_pin_length > MAX_PIN_LENGTH {
        err(
            IssueCode::OutOfRange,
            "/requirements/min_pin_length".into(),
            format!("must be at most {MAX_PIN_LENGTH}, got {}", r.min_pin_length),
        );
    }
    for (os, version) in &r.min_os_version {
        let pointer = format!("/requirements/min_os_version/{}", json::escape_pointer(os));
        if OsType::parse(os).is_none() {
            err(
                IssueCode::InvalidValue,
                pointer,
                format!("unknown OS type `{os}`, expected `ios`, `android` or `other`"),
            );
        } else if let Err(e) = version.parse::<Version>() {
            err(IssueCode::InvalidVersion, pointer, e.to_string());
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
                    code: IssueCode::IncludedAndExcluded,
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

/// The `schema` of a policy: the contract versions this engine reads.
#[cfg(feature = "schema")]
pub(crate) struct SchemaName;

#[cfg(feature = "schema")]
impl schemars::JsonSchema for SchemaName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SchemaName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "enum": [SCHEMA, SCHEMA_V2],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resolved_document_is_the_defaults_and_means_the_same() {
        let p = Policy::from_json(r#"{"schema":"mdm.policy/v1"}"#).unwrap();
        let expected = PolicyDoc { schema: Some(SCHEMA.into()), ..PolicyDoc::default() };
        assert_eq!(p.doc().enrollment, None, "a version 1 document stays one");
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
