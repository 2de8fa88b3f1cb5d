//! The policy documents as written (contract sections 1 of v1, v2 and v3): their types,
//! defaults and decoders. What a document means is compiled in [`super`]; what makes one
//! invalid is checked in [`super::check`].

use serde::Serialize;

use crate::ids::OsType;
use crate::json;
use crate::manage::{AppPlatform, Approver, EnrollmentMethod};

/// The schema of a version 1 policy.
pub const SCHEMA: &str = "mdm.policy/v1";
/// The schema of a version 2 policy.
pub const SCHEMA_V2: &str = "mdm.policy/v2";
/// The schema of a version 3 document: several policies, by priority.
pub const SCHEMA_V3: &str = "mdm.policy/v3";
/// The most policies a version 3 document may hold.
pub const MAX_POLICIES: usize = 1000;
/// The most apps a policy's store may hold.
pub const MAX_APPS: usize = 2000;

/// The contract version a policy is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SchemaVersion {
    /// `mdm.policy/v1`: version 2's fields are unknown fields.
    V1,
    /// `mdm.policy/v2`.
    V2,
    /// `mdm.policy/v3`: the organisation's settings and its policies, in priority order.
    V3,
}

impl SchemaVersion {
    /// The version a `schema` names; `None` for one this engine does not know.
    pub fn of(schema: &str) -> Option<SchemaVersion> {
        match schema {
            SCHEMA => Some(SchemaVersion::V1),
            SCHEMA_V2 => Some(SchemaVersion::V2),
            SCHEMA_V3 => Some(SchemaVersion::V3),
            _ => None,
        }
    }
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
#[cfg_attr(feature = "schema", schemars(description = "An mdm-policy policy: who is assigned to MDM, and what their mobile logins get. Every field but `schema` is optional.", transform = crate::schema_parts::require_schema))]
pub struct PolicyDoc {
    /// An editor's hint to a JSON Schema; ignored.
    #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    /// `mdm.policy/v1` or `mdm.policy/v2`: the contract version the policy is written for,
    /// and the one field a document must give (a set of policies, `mdm.policy/v3`, is
    /// another document).
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
        self.schema.as_deref().and_then(SchemaVersion::of)
    }

    /// Version 2's settings that the document gives, by pointer: unknown fields in a
    /// version 1 document.
    pub(crate) fn v2_fields(&self) -> impl Iterator<Item = &'static str> {
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
    pub(crate) fn resolve(&mut self) {
        if self.version() == Some(SchemaVersion::V2) {
            self.assigned.approvers.get_or_insert_with(|| crate::manage::ADMIN_ONLY.to_vec());
            self.requirements.grace_hours.get_or_insert(0);
            self.enrollment.get_or_insert_with(EnrollmentSettings::default);
            self.configuration.get_or_insert_with(ConfigurationSettings::default);
            self.apps.get_or_insert_with(Vec::new);
        }
    }
}

/// A version 3 document: the organisation's settings, and its policies in priority
/// order, every setting resolved. The first enabled policy that assigns a user is theirs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(description = "An mdm-policy policy set (`mdm.policy/v3`): the organisation's settings and its MDM policies in priority order; the first enabled policy that assigns a user is theirs. Every field but `schema` is optional.", transform = crate::schema_parts::require_schema))]
pub struct PolicySetDoc {
    /// An editor's hint to a JSON Schema; ignored.
    #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    /// `mdm.policy/v3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "SetSchemaName"))]
    pub schema: Option<String>,
    /// `false`: MDM is off and no user is assigned (`scope.disabled`).
    pub enabled: bool,
    /// What makes a login device the same as a registered one.
    pub device_match: DeviceMatch,
    /// Settings for users no policy assigns.
    pub unassigned: UnassignedSettings,
    /// The organisation's managed app store, for users assigned under any policy.
    #[cfg_attr(feature = "schema", schemars(length(max = 2000)))]
    pub apps: Vec<AppDoc>,
    /// The policies, in priority order.
    #[cfg_attr(feature = "schema", schemars(length(max = 1000)))]
    pub policies: Vec<PolicyEntryDoc>,
}

impl Default for PolicySetDoc {
    fn default() -> Self {
        PolicySetDoc {
            json_schema: None,
            schema: None,
            enabled: true,
            device_match: DeviceMatch::default(),
            unassigned: UnassignedSettings::default(),
            apps: Vec::new(),
            policies: Vec::new(),
        }
    }
}

impl PolicySetDoc {
    /// Fills in every policy's version 2 settings with their defaults, so that the resolved
    /// document shows them.
    pub(crate) fn resolve(&mut self) {
        for p in &mut self.policies {
            p.assigned.approvers.get_or_insert_with(|| crate::manage::ADMIN_ONLY.to_vec());
            p.requirements.grace_hours.get_or_insert(0);
        }
    }
}

/// One policy of a version 3 document: who it assigns and what their logins get, with the
/// fields, defaults and rules of version 2.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = crate::schema_parts::require_name))]
pub struct PolicyEntryDoc {
    /// What decisions, the preview and the admin call it: 1 to 128 bytes, unique in the
    /// set. An `Option` so that validation, not decoding, words its absence (and the
    /// entry's other errors are still found); a compiled policy's entries all have one.
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema_parts::PolicyName"))]
    pub name: Option<String>,
    /// `false`: skipped (staged): it assigns and excludes nobody.
    pub enabled: bool,
    /// Who it assigns.
    pub assignment: Assignment,
    /// Settings for the users it assigns.
    pub assigned: AssignedSettings,
    /// Device posture, for the users it assigns.
    pub requirements: Requirements,
    /// Enrollment in management.
    pub enrollment: EnrollmentSettings,
    /// What a managed device must apply besides the requirements.
    pub configuration: ConfigurationSettings,
}

impl Default for PolicyEntryDoc {
    fn default() -> Self {
        PolicyEntryDoc {
            name: None,
            enabled: true,
            assignment: Assignment::default(),
            assigned: AssignedSettings::default(),
            requirements: Requirements::default(),
            enrollment: EnrollmentSettings::default(),
            configuration: ConfigurationSettings::default(),
        }
    }
}

/// A policy document of any version, every setting resolved: what [`crate::Policy::doc`]
/// gives, and what an editor shows for the fields a document leaves out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(
        description = "An mdm-policy policy document: one policy (`mdm.policy/v1` or `mdm.policy/v2`), or a set of policies by priority (`mdm.policy/v3`); its `schema` says which."
    )
)]
pub enum PolicyDocument {
    /// `mdm.policy/v1` or `mdm.policy/v2`: one policy.
    Single(Box<PolicyDoc>),
    /// `mdm.policy/v3`: several, by priority.
    Set(PolicySetDoc),
}

impl PolicyDocument {
    /// The version the document is written for.
    pub fn version(&self) -> Option<SchemaVersion> {
        match self {
            PolicyDocument::Single(d) => d.version(),
            PolicyDocument::Set(_) => Some(SchemaVersion::V3),
        }
    }

    /// Whether MDM is on (the document's, or the set's, `enabled`).
    pub fn enabled(&self) -> bool {
        match self {
            PolicyDocument::Single(d) => d.enabled,
            PolicyDocument::Set(d) => d.enabled,
        }
    }

    /// The version 1 or 2 document, if it is one.
    pub fn single(&self) -> Option<&PolicyDoc> {
        match self {
            PolicyDocument::Single(d) => Some(d),
            PolicyDocument::Set(_) => None,
        }
    }

    /// The version 3 document, if it is one.
    pub fn set(&self) -> Option<&PolicySetDoc> {
        match self {
            PolicyDocument::Set(d) => Some(d),
            PolicyDocument::Single(_) => None,
        }
    }
}

/// The member of a document that says which version it is written for; every other
/// member is passed over. Read first, so that the document is then decoded as the type of
/// its version, with that version's names in its errors.
#[derive(Default)]
struct Schema {
    schema: Option<String>,
}

json::decoder! {
    open Schema {
        schema: "schema",
    } = Schema::default()
}

/// Whether `text` names `mdm.policy/v3`. A text that cannot say (not an object, a
/// `schema` that is not a string or is given twice) is read as a version 1 or 2
/// document, whose decoder then reports what is wrong with it.
pub(crate) fn is_set(text: &str) -> bool {
    json::from_str::<Schema>(text).is_ok_and(|s| s.schema.as_deref() == Some(SCHEMA_V3))
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
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema_parts::Id"))]
    pub id: String,
    /// What the store shows.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 256)))]
    pub name: String,
    /// The platform the id belongs to.
    pub platform: AppPlatform,
    /// Users who get the app.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema_parts::Id>"))]
    pub users: Vec<String>,
    /// Members of these groups get the app. Both lists empty: every assigned user.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema_parts::Id>"))]
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
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema_parts::Id>"))]
    pub users: Vec<String>,
    /// Members of these groups are assigned.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema_parts::Id>"))]
    pub groups: Vec<String>,
    /// Never assigned.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema_parts::Id>"))]
    pub exclude_users: Vec<String>,
    /// Members are never assigned.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema_parts::Id>"))]
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
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema_parts::MinOsVersion"))]
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
    PolicySetDoc {
        json_schema: "$schema",
        schema: "schema",
        enabled: "enabled",
        device_match: "device_match",
        unassigned: "unassigned",
        apps: "apps",
        policies: "policies",
    } = PolicySetDoc::default()
}

json::decoder! {
    PolicyEntryDoc {
        name: "name",
        enabled: "enabled",
        assignment: "assignment",
        assigned: "assigned",
        requirements: "requirements",
        enrollment: "enrollment",
        configuration: "configuration",
    } = PolicyEntryDoc::default()
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

impl<'de> json::Decode<'de> for OsVersions {
    fn decode(r: &mut json::Reader<'de, '_>) -> Result<Self, json::ReadError> {
        // The reader refuses a repeated name, at the name.
        r.unique_object();
        let mut object = r.object(&"a map")?;
        let mut out = Vec::new();
        while r.member(&mut object)? {
            let version = String::decode(r).map_err(|e| object.failed_value(e))?;
            out.push((object.name().to_string(), version));
        }
        crate::sort::sort(&mut out);
        Ok(OsVersions(out))
    }
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

/// The `schema` of a version 3 document.
#[cfg(feature = "schema")]
pub(crate) struct SetSchemaName;

#[cfg(feature = "schema")]
impl schemars::JsonSchema for SetSchemaName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SetSchemaName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "const": SCHEMA_V3,
        })
    }
}
