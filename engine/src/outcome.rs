//! The vocabulary of a decision: its outcome, the access it grants, the reason codes that
//! say why (a bit set in firing order), and how a policy scopes a user. A leaf of the
//! engine: the policy's rules and the decisions both speak it, and it depends on neither.

use serde::{Serialize, Serializer};

macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// A stable reason code. The declaration order is the order in which rules fire,
        /// so a set of reasons iterates in firing order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum Reason {
            $($(#[$doc])* $variant,)*
        }

        impl Reason {
            /// Every reason, in firing order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The code as the contract spells it (`scope.group`, ...).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $code,)*
                }
            }
        }
    };
}

reasons! {
    /// MDM is off.
    ScopeDisabled = "scope.disabled",
    /// The user is in `exclude_users`.
    ScopeExcludedUser = "scope.excluded_user",
    /// One of the user's groups is in `exclude_groups`.
    ScopeExcludedGroup = "scope.excluded_group",
    /// The user is in `users`.
    ScopeUser = "scope.user",
    /// One of the user's groups is in `groups`.
    ScopeGroup = "scope.group",
    /// The whole organisation is assigned.
    ScopeOrganization = "scope.organization",
    /// Nothing assigns the user.
    ScopeNone = "scope.none",
    /// The admin rejected this device.
    DeviceRejected = "device.rejected",
    /// The device id is registered on other hardware.
    DeviceSerialMismatch = "device.serial_mismatch",
    /// The OS type is not allowed.
    PosturePlatform = "posture.platform",
    /// The OS version is too old or unknown.
    PostureOsVersion = "posture.os_version",
    /// The PIN is too short or unknown.
    PosturePin = "posture.pin",
    /// Storage is not (known to be) encrypted.
    PostureEncryption = "posture.encryption",
    /// The device is (or may be) jailbroken or rooted.
    PostureCompromised = "posture.compromised",
    /// Enrollment is required, the device is not enrolled, and no allowed method fits it.
    EnrollmentUnsupported = "enrollment.unsupported",
    /// The failures are within the device's grace period: access goes on for now.
    PostureGrace = "posture.grace",
    /// The device's grace period has ended.
    PostureGraceExpired = "posture.grace_expired",
    /// The device is active.
    DeviceKnown = "device.known",
    /// The user's first device was registered.
    DeviceFirst = "device.first",
    /// A further device was registered within the limit.
    DeviceWithinLimit = "device.within_limit",
    /// The device already waits for approval.
    DevicePending = "device.pending",
    /// An approval request was made.
    DeviceApprovalRequested = "device.approval_requested",
    /// The device's earlier request had expired and was replaced.
    DeviceRequestExpired = "device.request_expired",
    /// The limit is reached and further devices are denied.
    DeviceLimitReached = "device.limit_reached",
    /// The oldest device(s) made room for this one.
    DeviceReplaced = "device.replaced",
    /// The device must enroll in management before it gets SSO and push MFA.
    EnrollmentRequired = "enrollment.required",
    /// A managed app is installed on the device, but not by management.
    AppsUnmanaged = "apps.unmanaged",
}

impl Reason {
    /// Parses the contract's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// Whether this is a failed posture rule.
    pub fn is_posture(self) -> bool {
        matches!(
            self,
            Reason::PosturePlatform
                | Reason::PostureOsVersion
                | Reason::PosturePin
                | Reason::PostureEncryption
                | Reason::PostureCompromised
        )
    }

    /// Whether the failure of this rule may have a grace period.
    pub fn has_grace(self) -> bool {
        matches!(self, Reason::PostureOsVersion | Reason::PosturePin | Reason::PostureEncryption)
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A set of reasons, iterated in firing order. A bit set: no allocation per decision,
/// and it crosses the wasm boundary as one integer (WIT `flags`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Reasons(u32);

impl Reasons {
    /// The set with `r` added.
    pub fn with(self, r: Reason) -> Self {
        Reasons(self.0 | 1 << (r as u32))
    }
    /// Adds `r`.
    pub fn insert(&mut self, r: Reason) {
        *self = self.with(r);
    }
    /// Whether `r` is in the set.
    pub fn contains(self, r: Reason) -> bool {
        self.0 & (1 << (r as u32)) != 0
    }
    /// The bits, one per [`Reason`] in declaration order.
    pub fn bits(self) -> u32 {
        self.0
    }
    /// The set from its bits; unknown bits are dropped.
    pub fn from_bits(bits: u32) -> Self {
        Reasons(bits & ((1u32 << Reason::ALL.len()) - 1))
    }
    /// The reasons in firing order.
    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL.iter().copied().filter(move |r| self.contains(*r))
    }
    /// Whether any posture rule failed.
    pub fn has_posture_failure(self) -> bool {
        self.iter().any(Reason::is_posture)
    }
    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Both sets together.
    pub fn union(self, other: Reasons) -> Reasons {
        Reasons(self.0 | other.0)
    }
}

impl Serialize for Reasons {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// How the user stands with the policy, in the order of spec section 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// `enabled` is false.
    Disabled,
    /// Excluded by user id.
    ExcludedUser,
    /// Excluded by a group.
    ExcludedGroup,
    /// Assigned by user id.
    User,
    /// Assigned by a group.
    Group,
    /// Assigned as part of the organisation.
    Organization,
    /// Not assigned.
    None,
}

impl Scope {
    /// How one policy scopes a user whom it names so (`user` by id, `group` through their
    /// groups, ORed), `everyone` when it assigns the whole organisation; in the
    /// contract's order: exclusions beat inclusions, the user's id beats their groups.
    pub(crate) fn of(user: Membership, group: Membership, everyone: bool) -> Scope {
        if user.excluded() {
            Scope::ExcludedUser
        } else if group.excluded() {
            Scope::ExcludedGroup
        } else if user.included() {
            Scope::User
        } else if group.included() {
            Scope::Group
        } else if everyone {
            Scope::Organization
        } else {
            Scope::None
        }
    }

    /// Whether the user is assigned.
    pub(crate) fn assigned(self) -> bool {
        matches!(self, Scope::User | Scope::Group | Scope::Organization)
    }

    /// The scope's reason code.
    pub(crate) fn reason(self) -> Reason {
        match self {
            Scope::Disabled => Reason::ScopeDisabled,
            Scope::ExcludedUser => Reason::ScopeExcludedUser,
            Scope::ExcludedGroup => Reason::ScopeExcludedGroup,
            Scope::User => Reason::ScopeUser,
            Scope::Group => Reason::ScopeGroup,
            Scope::Organization => Reason::ScopeOrganization,
            Scope::None => Reason::ScopeNone,
        }
    }
}

/// The outcome of a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Full access for this side of the policy.
    Allow,
    /// The app only.
    Limited,
    /// Waiting for the admin.
    PendingApproval,
    /// Nothing.
    Deny,
}

impl Outcome {
    /// Every outcome, in the order of the contract.
    pub const ALL: [Outcome; 4] = [Outcome::Allow, Outcome::Limited, Outcome::PendingApproval, Outcome::Deny];

    /// As the contract spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Limited => "limited",
            Outcome::PendingApproval => "pending_approval",
            Outcome::Deny => "deny",
        }
    }

    /// `allow` or `limited`.
    pub fn is_allowed(self) -> bool {
        matches!(self, Outcome::Allow | Outcome::Limited)
    }
}

/// What a login may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Access {
    /// The mobile app.
    pub app: bool,
    /// SSO apps.
    pub sso: bool,
    /// Push-notification MFA.
    pub push_mfa: bool,
}

/// How one policy names a user or group, folded into bits so that scope is a few ORs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Membership(pub(crate) u8);

impl Membership {
    pub(crate) const INCLUDED: Membership = Membership(1);
    pub(crate) const EXCLUDED: Membership = Membership(2);

    /// Named in an inclusion list.
    pub(crate) fn included(self) -> bool {
        self.0 & Self::INCLUDED.0 != 0
    }

    /// Named in an exclusion list.
    pub(crate) fn excluded(self) -> bool {
        self.0 & Self::EXCLUDED.0 != 0
    }
}

impl std::ops::BitOr for Membership {
    type Output = Membership;
    fn bitor(self, rhs: Self) -> Self {
        Membership(self.0 | rhs.0)
    }
}
