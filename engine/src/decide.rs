//! The decisions of spec section 3: scope, device match, posture, login, admin events.

use serde::{Serialize, Serializer};

use crate::device::{Device, Effect, OsType, UserState};
use crate::error::{Error, ErrorCode};
use crate::policy::{
    AssignedOnNewDevice, DeviceMatch, Membership, OnApprove, Policy, UnassignedAccess, UnassignedOnNewDevice,
};
use crate::time::Timestamp;
use crate::version::Version;

macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// A stable reason code. The declaration order is the order in which rules fire,
        /// so a set of reasons iterates in firing order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
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
}

impl Reason {
    /// Parses the contract's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// Whether this is a posture failure.
    pub fn is_posture(self) -> bool {
        self.as_str().starts_with("posture.")
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
}

impl Serialize for Reasons {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// How the user stands with the policy, in the order of spec section 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
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
    /// Whether the user is assigned.
    pub fn assigned(self) -> bool {
        matches!(self, Scope::User | Scope::Group | Scope::Organization)
    }

    /// The scope's reason code.
    pub fn reason(self) -> Reason {
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

/// What the policy says about one user, folded from their id and groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Subject {
    /// How the policy names the user.
    pub user: Membership,
    /// How the policy names the user's groups, ORed together.
    pub groups: Membership,
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

/// The answer to a login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginDecision<K = crate::Text> {
    /// allow, limited, pending_approval or deny.
    pub outcome: Outcome,
    /// Whether the user is assigned.
    pub assigned: bool,
    /// What the login may use.
    pub access: Access,
    /// Why, in the order the rules fired; the first is the scope's.
    pub reasons: Reasons,
    /// For a posture deny, what the user can do, one text per failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remediation: Vec<String>,
    /// The state changes, in order.
    pub effects: Vec<Effect<K>>,
}

/// An admin's action on one device of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminAction {
    /// Approve a pending request.
    Approve,
    /// Reject a pending request.
    Reject,
    /// Remove a rejection.
    Unblock,
    /// Remove an active device.
    RemoveDevice,
}

impl AdminAction {
    /// As the contract spells the event type.
    pub const fn as_str(self) -> &'static str {
        match self {
            AdminAction::Approve => "approve",
            AdminAction::Reject => "reject",
            AdminAction::Unblock => "unblock",
            AdminAction::RemoveDevice => "remove_device",
        }
    }
}

/// An id a device can be named by in an admin error.
pub trait Named {
    /// How to show it in a message.
    fn name(&self) -> String;
}
impl Named for crate::Text {
    fn name(&self) -> String {
        self.to_string()
    }
}
impl Named for u32 {
    fn name(&self) -> String {
        format!("#{self}")
    }
}

impl Policy {
    /// Folds a user and their groups into what the policy says of them. Groups the policy
    /// does not name are ignored.
    pub fn subject<G: AsRef<str>>(&self, user: &str, groups: &[G]) -> Subject {
        Subject {
            user: self.users.membership(user),
            groups: groups.iter().fold(Membership::default(), |m, g| m | self.groups.membership(g.as_ref())),
        }
    }

    /// Same as [`Policy::subject`], from principals: user `i` of [`Policy::user_ids`] is
    /// `i`, group `j` of [`Policy::group_ids`] is `user_ids().len() + j`. A host interns
    /// the user and the groups the policy names, and passes nothing for the rest.
    pub fn subject_interned(&self, principals: &[u32]) -> Subject {
        let users = self.users.names().len() as u32;
        principals.iter().fold(Subject::default(), |s, &p| {
            if p < users {
                Subject { user: s.user | self.users.membership_at(p), ..s }
            } else {
                Subject { groups: s.groups | self.groups.membership_at(p - users), ..s }
            }
        })
    }

    /// The user's scope.
    pub fn scope(&self, s: Subject) -> Scope {
        let a = &self.doc.assignment;
        if !self.doc.enabled {
            Scope::Disabled
        } else if s.user.excluded() {
            Scope::ExcludedUser
        } else if s.groups.excluded() {
            Scope::ExcludedGroup
        } else if s.user.included() {
            Scope::User
        } else if s.groups.included() {
            Scope::Group
        } else if a.organization {
            Scope::Organization
        } else {
            Scope::None
        }
    }

    /// What an allowed login gets on this side of the policy.
    pub fn allowed(&self, assigned: bool) -> (Outcome, Access) {
        if assigned {
            let push_mfa = self.doc.assigned.push_mfa;
            (Outcome::Allow, Access { app: true, sso: true, push_mfa })
        } else {
            let u = &self.doc.unassigned;
            let full = u.access == UnassignedAccess::Full;
            let outcome = if full { Outcome::Allow } else { Outcome::Limited };
            (outcome, Access { app: true, sso: full, push_mfa: u.push_mfa })
        }
    }

    /// The posture rules the device fails, as reasons (empty when it passes).
    pub fn posture<K>(&self, device: &Device<K>) -> Reasons {
        let r = &self.doc.requirements;
        let mut out = Reasons::default();
        let os = device.os_type.index();
        if !self.platform_allowed.get(os).copied().unwrap_or(false) {
            out.insert(Reason::PosturePlatform);
        }
        if let Some(Some(min)) = self.min_os.get(os)
            && device.os_version.is_none_or(|v| v < *min)
        {
            out.insert(Reason::PostureOsVersion);
        }
        if r.min_pin_length > 0 && device.pin_length.is_none_or(|p| p < r.min_pin_length) {
            out.insert(Reason::PosturePin);
        }
        if r.require_encryption && device.encrypted != Some(true) {
            out.insert(Reason::PostureEncryption);
        }
        if r.block_compromised && device.compromised != Some(false) {
            out.insert(Reason::PostureCompromised);
        }
        out
    }

    /// What the user can do about each failed posture rule.
    pub fn remediation(&self, os: OsType, failures: Reasons) -> Vec<String> {
        let r = &self.doc.requirements;
        failures
            .iter()
            .filter_map(|f| match f {
                Reason::PosturePlatform => {
                    let names: Vec<&str> = r.platforms.iter().map(|p| p.display_name()).collect();
                    Some(format!("use a device running {}", names.join(" or ")))
                }
                Reason::PostureOsVersion => {
                    let min = self.min_os.get(os.index()).copied().flatten()?;
                    Some(format!("update {} to {min} or later", os.display_name()))
                }
                Reason::PosturePin => Some(format!("set a PIN of at least {} digits", r.min_pin_length)),
                Reason::PostureEncryption => Some("turn on device encryption".into()),
                Reason::PostureCompromised => Some("use a device that is not jailbroken or rooted".into()),
                _ => None,
            })
            .collect()
    }

    fn expired(&self, requested_at: Timestamp, at: Timestamp) -> bool {
        let ttl = self.doc.assigned.approval_ttl_hours;
        ttl > 0 && at >= requested_at.plus_hours(ttl)
    }

    /// Decides a login (spec section 3, "Login, in this order"). Pure: the state is only
    /// read; the decision lists the effects that lead to the new state.
    pub fn decide_login<K: Clone + PartialEq>(
        &self,
        scope: Scope,
        state: &UserState<K>,
        device: &Device<K>,
        at: Timestamp,
    ) -> LoginDecision<K> {
        let assigned = scope.assigned();
        let mut d = LoginDecision {
            outcome: Outcome::Deny,
            assigned,
            access: Access::default(),
            reasons: Reasons::default().with(scope.reason()),
            remediation: Vec::new(),
            effects: Vec::new(),
        };
        let id = &device.device_id;
        if state.is_rejected(id) {
            d.reasons.insert(Reason::DeviceRejected);
            return d;
        }
        let active = state.device(id);
        if self.doc.device_match == DeviceMatch::DeviceIdAndSerial
            && let Some(reg) = active
        {
            let same =
                matches!((&reg.device.serial_number, &device.serial_number), (Some(a), Some(b)) if a == b);
            if !same {
                d.reasons.insert(Reason::DeviceSerialMismatch);
                return d;
            }
        }
        if assigned {
            let failures = self.posture(device);
            if failures != Reasons::default() {
                d.reasons = Reasons(d.reasons.0 | failures.0);
                d.remediation = self.remediation(device.os_type, failures);
                return d;
            }
        }
        let (allowed, access) = self.allowed(assigned);
        let allow = |d: &mut LoginDecision<K>, reason| {
            d.outcome = allowed;
            d.access = access;
            d.reasons.insert(reason);
        };
        if active.is_some() {
            allow(&mut d, Reason::DeviceKnown);
            return d;
        }
        let n = state.devices.len();
        let max = if assigned { self.doc.assigned.max_devices } else { self.doc.unassigned.max_devices };
        let pending = state.pending_for(id);
        if n < max as usize {
            let reason = if n == 0 { Reason::DeviceFirst } else { Reason::DeviceWithinLimit };
            register(&mut d.effects, device, pending.is_some(), at);
            allow(&mut d, reason);
            return d;
        }
        if assigned {
            let expired = pending.map(|p| self.expired(p.requested_at, at));
            if expired == Some(false) {
                d.outcome = Outcome::PendingApproval;
                d.reasons.insert(Reason::DevicePending);
                return d;
            }
            match self.doc.assigned.on_new_device {
                AssignedOnNewDevice::Approval => {
                    if expired == Some(true) {
                        d.effects.push(Effect::RemovePending { device_id: id.clone() });
                    }
                    d.effects.push(Effect::AddPending { device: device.clone(), at });
                    d.outcome = Outcome::PendingApproval;
                    d.reasons.insert(Reason::DeviceApprovalRequested);
                    if expired == Some(true) {
                        d.reasons.insert(Reason::DeviceRequestExpired);
                    }
                }
                AssignedOnNewDevice::Deny => d.reasons.insert(Reason::DeviceLimitReached),
                AssignedOnNewDevice::Replace => {
                    make_room(&mut d.effects, state, max);
                    register(&mut d.effects, device, pending.is_some(), at);
                    allow(&mut d, Reason::DeviceReplaced);
                }
            }
            return d;
        }
        match self.doc.unassigned.on_new_device {
            UnassignedOnNewDevice::Replace => {
                make_room(&mut d.effects, state, max);
                register(&mut d.effects, device, pending.is_some(), at);
                allow(&mut d, Reason::DeviceReplaced);
            }
            UnassignedOnNewDevice::Add => {
                register(&mut d.effects, device, pending.is_some(), at);
                allow(&mut d, Reason::DeviceWithinLimit);
            }
        }
        d
    }

    /// Applies an admin's action: the effects, or the error that leaves the state as it is.
    pub fn decide_admin<K: Clone + PartialEq + Named>(
        &self,
        state: &UserState<K>,
        action: AdminAction,
        device_id: &K,
        at: Timestamp,
    ) -> Result<Vec<Effect<K>>, Error> {
        let fail = |code| Error::admin(code, action, device_id.name());
        let mut effects = Vec::new();
        match action {
            AdminAction::Approve => {
                let p = state.pending_for(device_id).ok_or_else(|| fail(ErrorCode::NoPendingRequest))?;
                if self.expired(p.requested_at, at) {
                    return Err(fail(ErrorCode::RequestExpired));
                }
                if self.doc.assigned.on_approve == OnApprove::Replace {
                    make_room(&mut effects, state, self.doc.assigned.max_devices);
                }
                register(&mut effects, &p.device, true, at);
            }
            AdminAction::Reject => {
                if state.pending_for(device_id).is_none() {
                    return Err(fail(ErrorCode::NoPendingRequest));
                }
                effects.push(Effect::RemovePending { device_id: device_id.clone() });
                effects.push(Effect::AddRejected { device_id: device_id.clone(), at });
            }
            AdminAction::Unblock => {
                if !state.is_rejected(device_id) {
                    return Err(fail(ErrorCode::UnknownDevice));
                }
                effects.push(Effect::RemoveRejected { device_id: device_id.clone() });
            }
            AdminAction::RemoveDevice => {
                if state.device(device_id).is_none() {
                    return Err(fail(ErrorCode::UnknownDevice));
                }
                effects.push(Effect::RemoveDevice { device_id: device_id.clone() });
            }
        }
        Ok(effects)
    }
}

/// Registers `device`, first removing its pending request when there is one.
fn register<K: Clone>(effects: &mut Vec<Effect<K>>, device: &Device<K>, had_pending: bool, at: Timestamp) {
    if had_pending {
        effects.push(Effect::RemovePending { device_id: device.device_id.clone() });
    }
    effects.push(Effect::AddDevice { device: device.clone(), at });
}

/// Removes the oldest devices until fewer than `max` are active. Oldest is the earliest
/// `registered_at`, ties broken by position in the list.
fn make_room<K: Clone>(effects: &mut Vec<Effect<K>>, state: &UserState<K>, max: u32) {
    let n = state.devices.len();
    let excess = (n + 1).saturating_sub(max as usize);
    if excess == 0 {
        return;
    }
    let mut order: Vec<usize> = (0..n).collect();
    // A stable sort keeps list order among equal times.
    order.sort_by_key(|&i| state.devices.get(i).map(|d| d.registered_at));
    for i in order.into_iter().take(excess) {
        if let Some(d) = state.devices.get(i) {
            effects.push(Effect::RemoveDevice { device_id: d.device.device_id.clone() });
        }
    }
}

/// A device that passes every posture rule of `policy`: what "a further compliant
/// device" of the preview logs in with.
pub(crate) fn compliant_probe<K>(policy: &Policy, device_id: K) -> Device<K> {
    let os = OsType::ALL
        .into_iter()
        .find(|o| policy.platform_allowed.get(o.index()).copied().unwrap_or(false))
        .unwrap_or(OsType::Ios);
    Device {
        os_version: Some(Version::MAX),
        pin_length: Some(u32::MAX),
        encrypted: Some(true),
        compromised: Some(false),
        ..Device::new(device_id, os)
    }
}
