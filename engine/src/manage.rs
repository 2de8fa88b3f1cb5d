//! What version 2 adds to a managed device: enrollment methods, approvers, the
//! configuration a device must apply, the app store, and device commands.

use std::sync::Arc;

use serde::Serialize;

use crate::ids::OsType;
use crate::json;
use crate::time::Timestamp;

/// An enrollment path of the contract (`docs/contract.md`, "Enrollment methods"), in the
/// order a device is fitted to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum EnrollmentMethod {
    /// iOS: the over-the-air attribute request, then the MDM profile.
    IosProfile,
    /// Android for Work: a work profile (the device reports `work_profile: true`).
    AndroidWorkProfile,
    /// Samsung SAFE (Knox), on a device whose manufacturer is Samsung.
    SamsungKnox,
    /// Native Android enrollment as a device administrator.
    AndroidDeviceAdmin,
}

impl EnrollmentMethod {
    /// Every method, in the order a device is fitted to one.
    pub const ALL: [EnrollmentMethod; 4] = [
        EnrollmentMethod::IosProfile,
        EnrollmentMethod::AndroidWorkProfile,
        EnrollmentMethod::SamsungKnox,
        EnrollmentMethod::AndroidDeviceAdmin,
    ];

    /// As the contract spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            EnrollmentMethod::IosProfile => "ios_profile",
            EnrollmentMethod::AndroidWorkProfile => "android_work_profile",
            EnrollmentMethod::SamsungKnox => "samsung_knox",
            EnrollmentMethod::AndroidDeviceAdmin => "android_device_admin",
        }
    }

    /// Parses the contract's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The platform the method enrolls.
    pub const fn platform(self) -> OsType {
        match self {
            EnrollmentMethod::IosProfile => OsType::Ios,
            _ => OsType::Android,
        }
    }

    /// As a person calls it, for remediation texts.
    pub const fn display_name(self) -> &'static str {
        match self {
            EnrollmentMethod::IosProfile => "the iOS management profile",
            EnrollmentMethod::AndroidWorkProfile => "an Android work profile",
            EnrollmentMethod::SamsungKnox => "Samsung Knox",
            EnrollmentMethod::AndroidDeviceAdmin => "Android device administration",
        }
    }

    pub(crate) const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of enrollment methods: what a policy allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Methods(u8);

impl Methods {
    /// Every method.
    pub const ALL: Methods = Methods(0b1111);

    /// The set of `methods`.
    pub fn of(methods: &[EnrollmentMethod]) -> Self {
        Methods(methods.iter().fold(0, |b, m| b | m.bit()))
    }

    /// Whether `m` is in the set.
    pub fn contains(self, m: EnrollmentMethod) -> bool {
        self.0 & m.bit() != 0
    }

    /// The methods, in fitting order.
    pub fn iter(self) -> impl Iterator<Item = EnrollmentMethod> {
        EnrollmentMethod::ALL.into_iter().filter(move |m| self.contains(*m))
    }
}

/// What a device reports that decides which method fits it. A registered device's stored
/// attributes, or a login's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Fit {
    /// The OS type.
    pub os: Option<OsType>,
    /// `work_profile: true` was reported.
    pub work_profile: bool,
    /// The manufacturer is Samsung, ignoring case.
    pub samsung: bool,
}

impl Fit {
    /// The first allowed method whose conditions the device meets.
    pub fn method(self, allowed: Methods) -> Option<EnrollmentMethod> {
        allowed.iter().find(|m| {
            Some(m.platform()) == self.os
                && match m {
                    EnrollmentMethod::AndroidWorkProfile => self.work_profile,
                    EnrollmentMethod::SamsungKnox => self.samsung,
                    EnrollmentMethod::IosProfile | EnrollmentMethod::AndroidDeviceAdmin => true,
                }
        })
    }
}

/// That a registered device finished enrolling: how, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Enrollment {
    /// The method it enrolled with.
    pub method: EnrollmentMethod,
    /// When it finished.
    pub at: Timestamp,
}

/// Who may approve a pending request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Approver {
    /// The admin, from the console.
    #[serde(rename = "admin")]
    Admin,
    /// The user, from one of their own managed devices.
    #[serde(rename = "self")]
    User,
}

impl Approver {
    /// As the contract spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Approver::Admin => "admin",
            Approver::User => "self",
        }
    }

    /// Parses the contract's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Approver::Admin, Approver::User].into_iter().find(|a| a.as_str() == s)
    }
}

/// The approvers of a policy that does not name them: the admin alone (version 1).
pub(crate) const ADMIN_ONLY: &[Approver] = &[Approver::Admin];

/// What a managed device must apply: sent with an assigned user's allowed login.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Configuration {
    /// A PIN at least this long; 0: none required.
    pub min_pin_length: u32,
    /// Storage must be encrypted.
    pub require_encryption: bool,
    /// Documents in managed apps open only in other managed apps.
    pub data_separation: bool,
}

/// The method a login must enroll with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Enroll {
    /// The method that fits the login device.
    pub method: EnrollmentMethod,
}

/// A platform a managed app belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AppPlatform {
    /// An iOS bundle id.
    Ios,
    /// An Android package name.
    Android,
}

impl AppPlatform {
    /// The OS type of the platform.
    pub const fn os(self) -> OsType {
        match self {
            AppPlatform::Ios => OsType::Ios,
            AppPlatform::Android => OsType::Android,
        }
    }
}

/// An app installed on the login device, as the device reports it. Read for this login
/// only, never stored; unknown attributes are ignored, as a device's are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InstalledApp {
    /// The bundle id or package name.
    pub id: String,
    /// Installed by management.
    pub managed: bool,
}

/// The most installed apps a login may report.
pub const MAX_INSTALLED_APPS: usize = 2000;

/// An app of the store, seen from one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppStatus {
    /// Not installed.
    Available,
    /// Installed by management.
    Managed,
    /// Installed, but not by management: not subject to the policy.
    Unmanaged,
}

impl AppStatus {
    /// As the contract spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            AppStatus::Available => "available",
            AppStatus::Managed => "managed",
            AppStatus::Unmanaged => "unmanaged",
        }
    }
}

/// One app of a login's store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct OfferedApp {
    /// The app's index in the policy's `apps`.
    #[serde(skip)]
    pub index: u32,
    /// The bundle id or package name.
    pub id: Arc<str>,
    /// What the store shows.
    pub name: Arc<str>,
    /// Whether it is installed, and how.
    pub status: AppStatus,
}

/// A device command the gateway sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandAction {
    /// Remove the work accounts and managed apps.
    Deprovision,
    /// Factory-reset the device.
    Wipe,
}

impl CommandAction {
    /// As the contract spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            CommandAction::Deprovision => "deprovision",
            CommandAction::Wipe => "wipe",
        }
    }
}

/// A command for one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Command<K = crate::ids::Text> {
    /// What to do.
    pub action: CommandAction,
    /// To which device.
    pub device_id: K,
}

// The decoders. An enum with an `as_str` spells its names through it, so each spelling
// is written once.

json::variants!(EnrollmentMethod {
    IosProfile = EnrollmentMethod::IosProfile.as_str(),
    AndroidWorkProfile = EnrollmentMethod::AndroidWorkProfile.as_str(),
    SamsungKnox = EnrollmentMethod::SamsungKnox.as_str(),
    AndroidDeviceAdmin = EnrollmentMethod::AndroidDeviceAdmin.as_str(),
});

json::variants!(Approver { Admin = Approver::Admin.as_str(), User = Approver::User.as_str() });

json::variants!(AppPlatform { Ios = "ios", Android = "android" });

json::decoder! {
    Enrollment {
        method: "method" required,
        at: "at" required,
    } = Enrollment { method: EnrollmentMethod::IosProfile, at: Timestamp::from_millis(0) }
}

json::decoder! {
    /// Other attributes of an installed app are ignored.
    open InstalledApp {
        id: "id" required,
        managed: "managed" required,
    } = InstalledApp { id: String::new(), managed: false }
}
