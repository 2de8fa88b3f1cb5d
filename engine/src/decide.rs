//! The decisions of spec section 3: scope, device match, posture, login, admin events.

use std::ops::ControlFlow;

use serde::{Serialize, Serializer};

use crate::device::{Device, Effect, OsType, UserState};
use crate::error::{AdminFailure, Error};
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

/// What the policy says about one user, folded from their id and groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Subject {
    /// How the policy names the user.
    user: Membership,
    /// How the policy names the user's groups, ORed together.
    groups: Membership,
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
    /// Every action, in the contract's order.
    pub const ALL: [AdminAction; 4] =
        [AdminAction::Approve, AdminAction::Reject, AdminAction::Unblock, AdminAction::RemoveDevice];

    /// Parses the contract's event type (`approve`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

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
    pub(crate) fn subject<G: AsRef<str>>(&self, user: &str, groups: &[G]) -> Subject {
        Subject {
            user: self.users.membership(user),
            groups: groups.iter().fold(Membership::default(), |m, g| m | self.groups.membership(g.as_ref())),
        }
    }

    /// Same as [`Policy::subject`], from principals: user `i` of the policy's user ids is
    /// `i`, group `j` of its group ids is `users + j`. A host interns the user and the
    /// groups the policy names, and passes nothing for the rest.
    pub(crate) fn subject_interned(&self, principals: &[u32]) -> Subject {
        let users = self.users.names().len() as u32;
        principals.iter().fold(Subject::default(), |s, &p| {
            if p < users {
                Subject { user: s.user | self.users.membership_at(p), ..s }
            } else {
                Subject { groups: s.groups | self.groups.membership_at(p - users), ..s }
            }
        })
    }

    /// The user's scope, in the contract's order.
    pub(crate) fn scope(&self, s: Subject) -> Scope {
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
    pub(crate) fn allowed(&self, assigned: bool) -> (Outcome, Access) {
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

    /// The posture rules `device` fails, as reasons (empty when it passes). The rules
    /// apply to assigned users only; this says what they would find.
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
    fn remediation(&self, os: OsType, failures: Reasons) -> Vec<String> {
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

    /// Decides the login of `user`, a member of `groups`, on `device` at `at` (spec
    /// section 3). Pure: the state is only read; the decision lists the effects that lead
    /// to the new state.
    pub fn decide_login<G: AsRef<str>>(
        &self,
        user: &str,
        groups: &[G],
        state: &UserState,
        device: &Device,
        at: Timestamp,
    ) -> LoginDecision {
        self.login(self.scope(self.subject(user, groups)), state, device, at)
    }

    /// Decides a login of a user whose scope is known, with ids of any kind (strings
    /// natively, tokens in the component).
    pub(crate) fn login<K: Clone + PartialEq>(
        &self,
        scope: Scope,
        state: &UserState<K>,
        device: &Device<K>,
        at: Timestamp,
    ) -> LoginDecision<K> {
        let mut login = Login {
            policy: self,
            assigned: scope.assigned(),
            state,
            device,
            at,
            d: LoginDecision {
                outcome: Outcome::Deny,
                assigned: scope.assigned(),
                access: Access::default(),
                reasons: Reasons::default().with(scope.reason()),
                remediation: Vec::new(),
                effects: Vec::new(),
            },
        };
        // Whichever step decides, the decision is in `login.d`.
        let _ = login.steps();
        login.d
    }

    /// Applies an admin's action: the effects, or the error that leaves the state as it is.
    pub(crate) fn decide_admin<K: Clone + PartialEq + Named>(
        &self,
        state: &UserState<K>,
        action: AdminAction,
        device_id: &K,
        at: Timestamp,
    ) -> Result<Vec<Effect<K>>, Error> {
        let fail = |failure| Error::admin(failure, action, device_id.name());
        let mut effects = Vec::new();
        match action {
            AdminAction::Approve => {
                let p = state.pending_for(device_id).ok_or_else(|| fail(AdminFailure::NoPendingRequest))?;
                if self.expired(p.requested_at, at) {
                    return Err(fail(AdminFailure::RequestExpired));
                }
                if self.doc.assigned.on_approve == OnApprove::Replace {
                    make_room(&mut effects, state, self.max_devices(true));
                }
                register(&mut effects, &p.device, true, at);
            }
            AdminAction::Reject => {
                if state.pending_for(device_id).is_none() {
                    return Err(fail(AdminFailure::NoPendingRequest));
                }
                effects.push(Effect::RemovePending { device_id: device_id.clone() });
                effects.push(Effect::AddRejected { device_id: device_id.clone(), at });
            }
            AdminAction::Unblock => {
                if !state.is_rejected(device_id) {
                    return Err(fail(AdminFailure::UnknownDevice));
                }
                effects.push(Effect::RemoveRejected { device_id: device_id.clone() });
            }
            AdminAction::RemoveDevice => {
                if state.device(device_id).is_none() {
                    return Err(fail(AdminFailure::UnknownDevice));
                }
                effects.push(Effect::RemoveDevice { device_id: device_id.clone() });
            }
        }
        Ok(effects)
    }
}

/// A step of a login: `Break` when it decided, `Continue` to the next step.
type Step = ControlFlow<()>;
const DECIDED: Step = ControlFlow::Break(());
const NEXT: Step = ControlFlow::Continue(());

/// A login being decided: its inputs, and the decision so far (a deny with the scope's
/// reason until a step says otherwise).
struct Login<'a, K> {
    policy: &'a Policy,
    assigned: bool,
    state: &'a UserState<K>,
    device: &'a Device<K>,
    at: Timestamp,
    d: LoginDecision<K>,
}

impl<K: Clone + PartialEq> Login<'_, K> {
    /// "Login, in this order" of spec section 3, one method per numbered step.
    fn steps(&mut self) -> Step {
        self.rejected()?;
        self.serial_mismatch()?;
        self.posture()?;
        self.known()?;
        self.within_limit()?;
        self.pending()?;
        if self.assigned { self.assigned_new_device() } else { self.unassigned_new_device() }
    }

    fn deny(&mut self, reason: Reason) -> Step {
        self.d.reasons.insert(reason);
        DECIDED
    }

    fn allow(&mut self, reason: Reason) -> Step {
        let (outcome, access) = self.policy.allowed(self.assigned);
        self.d.outcome = outcome;
        self.d.access = access;
        self.d.reasons.insert(reason);
        DECIDED
    }

    /// Registers the login device, removing its pending request if it has one.
    fn register(&mut self) {
        let pending = self.state.pending_for(&self.device.device_id).is_some();
        register(&mut self.d.effects, self.device, pending, self.at);
    }

    /// Step 1: A device rejected for this user is denied, whatever the scope.
    fn rejected(&mut self) -> Step {
        if self.state.is_rejected(&self.device.device_id) { self.deny(Reason::DeviceRejected) } else { NEXT }
    }

    /// Step 2: With `device_id_and_serial`, an active device's id on other hardware is denied.
    fn serial_mismatch(&mut self) -> Step {
        if self.policy.doc.device_match != DeviceMatch::DeviceIdAndSerial {
            return NEXT;
        }
        match self.state.device(&self.device.device_id) {
            Some(reg) => match (&reg.device.serial_number, &self.device.serial_number) {
                (Some(a), Some(b)) if a == b => NEXT,
                _ => self.deny(Reason::DeviceSerialMismatch),
            },
            None => NEXT,
        }
    }

    /// Step 3: An assigned user's device that fails a requirement is denied, one reason and
    /// one remediation text per failure.
    fn posture(&mut self) -> Step {
        if !self.assigned {
            return NEXT;
        }
        let failures = self.policy.posture(self.device);
        if failures == Reasons::default() {
            return NEXT;
        }
        self.d.reasons = Reasons(self.d.reasons.0 | failures.0);
        self.d.remediation = self.policy.remediation(self.device.os_type, failures);
        DECIDED
    }

    /// Step 4: An active device is allowed.
    fn known(&mut self) -> Step {
        if self.state.device(&self.device.device_id).is_some() {
            self.allow(Reason::DeviceKnown)
        } else {
            NEXT
        }
    }

    /// Step 5: Under the side's `max_devices`, the device is registered and allowed.
    fn within_limit(&mut self) -> Step {
        let n = self.state.devices.len();
        if n >= self.policy.max_devices(self.assigned) as usize {
            return NEXT;
        }
        self.register();
        self.allow(if n == 0 { Reason::DeviceFirst } else { Reason::DeviceWithinLimit })
    }

    /// Step 6: An assigned user's device with a request that has not expired keeps waiting.
    fn pending(&mut self) -> Step {
        if !self.assigned || self.expired_request() != Some(false) {
            return NEXT;
        }
        self.d.outcome = Outcome::PendingApproval;
        self.deny(Reason::DevicePending)
    }

    /// Step 7: An assigned user's further device: by `assigned.on_new_device`.
    fn assigned_new_device(&mut self) -> Step {
        match self.policy.doc.assigned.on_new_device {
            AssignedOnNewDevice::Approval => {
                let expired = self.expired_request() == Some(true);
                let id = &self.device.device_id;
                if expired {
                    self.d.effects.push(Effect::RemovePending { device_id: id.clone() });
                }
                self.d.effects.push(Effect::AddPending { device: self.device.clone(), at: self.at });
                self.d.outcome = Outcome::PendingApproval;
                self.d.reasons.insert(Reason::DeviceApprovalRequested);
                if expired {
                    self.d.reasons.insert(Reason::DeviceRequestExpired);
                }
                DECIDED
            }
            AssignedOnNewDevice::Deny => self.deny(Reason::DeviceLimitReached),
            AssignedOnNewDevice::Replace => self.replace(),
        }
    }

    /// Step 8: An unassigned user's further device: by `unassigned.on_new_device`.
    fn unassigned_new_device(&mut self) -> Step {
        match self.policy.doc.unassigned.on_new_device {
            UnassignedOnNewDevice::Replace => self.replace(),
            UnassignedOnNewDevice::Add => {
                self.register();
                self.allow(Reason::DeviceWithinLimit)
            }
        }
    }

    /// The oldest devices make room, then the device is registered and allowed.
    fn replace(&mut self) -> Step {
        make_room(&mut self.d.effects, self.state, self.policy.max_devices(self.assigned));
        self.register();
        self.allow(Reason::DeviceReplaced)
    }

    /// Whether the device's pending request has expired; `None` when it has none.
    fn expired_request(&self) -> Option<bool> {
        let p = self.state.pending_for(&self.device.device_id)?;
        Some(self.policy.expired(p.requested_at, self.at))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_actions_parse_as_the_contract_spells_them() {
        for a in AdminAction::ALL {
            assert_eq!(AdminAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AdminAction::parse("login"), None);
        assert_eq!(AdminAction::parse("Approve"), None);
    }

    #[test]
    fn admin_failures_keep_their_code() {
        let id = || "A1".to_string();
        let codes: Vec<_> =
            [AdminFailure::NoPendingRequest, AdminFailure::RequestExpired, AdminFailure::UnknownDevice]
                .into_iter()
                .map(|f| Error::admin(f, AdminAction::Approve, id()).code().as_str())
                .collect();
        assert_eq!(codes, ["no_pending_request", "request_expired", "unknown_device"]);
        let unblock = Error::admin(AdminFailure::UnknownDevice, AdminAction::Unblock, id());
        assert_eq!(unblock.to_string(), "no rejected device `A1`");
    }
}
