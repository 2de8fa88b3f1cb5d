//! The decisions of spec section 3: scope, device match, posture, login, admin events.

use std::ops::ControlFlow;

use serde::{Serialize, Serializer};

use crate::device::{Device, Effect, Registered, UserState};
use crate::error::AdminFailure;
use crate::event::{AdminAction, Login};
use crate::ids::OsType;
use crate::manage::{
    AppPlatform, AppStatus, Approver, Command, CommandAction, Configuration, Enroll, EnrollmentMethod,
    InstalledApp, OfferedApp,
};
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
    /// What the user can do: one text per failed rule, for an unsupported device, a grace
    /// period and each unmanaged copy of an app.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remediation: Vec<String>,
    /// The method the device must enroll with (version 2's `enrollment.required`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enroll: Option<Enroll>,
    /// Until when a device in its grace period keeps access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_until: Option<Timestamp>,
    /// What the managed device must apply: an assigned user's allowed login only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Configuration>,
    /// The app store for this device: an assigned user's `allow` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apps: Option<Vec<OfferedApp>>,
    /// The state changes, in order.
    pub effects: Vec<Effect<K>>,
}

/// The approving device of an admin event, with ids of any kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FromDevice<K> {
    /// None given (or not a non-empty string).
    Missing,
    /// A string that cannot be a device id: it names no device.
    NotADevice,
    /// A device id.
    Device(K),
}

/// An admin event as the rules read it, with ids of any kind (strings natively, tokens in
/// the component).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AdminRequest<K> {
    /// What is done.
    pub action: AdminAction,
    /// To which device.
    pub device_id: K,
    /// When.
    pub at: Timestamp,
    /// Who approves (`approve`).
    pub by: Approver,
    /// The device a self-approval is made from (`approve` by `self`).
    pub from_device: FromDevice<K>,
    /// The method a device enrolled with (`enrolled`).
    pub method: Option<EnrollmentMethod>,
}

impl AdminRequest<crate::Text> {
    /// The request of an admin event.
    pub fn of(admin: &crate::Admin) -> Self {
        AdminRequest {
            action: admin.action,
            device_id: admin.device_id.clone(),
            at: admin.at,
            by: admin.by,
            from_device: match &admin.from_device {
                None => FromDevice::Missing,
                Some(s) => crate::Text::new(s).map_or(FromDevice::NotADevice, FromDevice::Device),
            },
            method: admin.method,
        }
    }
}

/// What an admin event changes: the state, and the commands the gateway sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminDecision<K> {
    /// The state changes, in order.
    pub effects: Vec<Effect<K>>,
    /// The device commands (`deprovision`, `wipe`).
    pub commands: Vec<Command<K>>,
}

impl Policy {
    /// The principals of `user` in `groups` that the policy names: user `i` of its user
    /// ids is `i`, group `j` of its group ids is `users + j`. Ids it does not name are
    /// dropped: they change no scope and get no app.
    pub(crate) fn principals<'a, G: AsRef<str>>(
        &'a self,
        user: &str,
        groups: &'a [G],
    ) -> impl Iterator<Item = u32> + Clone + 'a {
        let groups = groups.iter().filter_map(move |g| self.group_principal(g.as_ref()));
        self.user_principal(user).into_iter().chain(groups)
    }

    /// The principal of a user id, if the policy names it.
    pub(crate) fn user_principal(&self, user: &str) -> Option<u32> {
        self.users.lookup(user)
    }

    /// The principal of a group id, if the policy names it.
    pub(crate) fn group_principal(&self, group: &str) -> Option<u32> {
        let users = self.users.names().len() as u32;
        self.groups.lookup(group).map(|g| g + users)
    }

    /// Folds principals into what the policy says of the user.
    pub(crate) fn subject(&self, principals: impl Iterator<Item = u32>) -> Subject {
        let users = self.users.names().len() as u32;
        principals.fold(Subject::default(), |s, p| {
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

    /// What the user can do about each failed rule of step 3.
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
                Reason::EnrollmentUnsupported => {
                    let names: Vec<&str> = self.methods.iter().map(EnrollmentMethod::display_name).collect();
                    Some(format!("use a device that can enroll in management with {}", names.join(" or ")))
                }
                _ => None,
            })
            .collect()
    }

    fn expired(&self, requested_at: Timestamp, at: Timestamp) -> bool {
        let ttl = self.doc.assigned.approval_ttl_hours;
        ttl > 0 && at >= requested_at.plus_hours(ttl)
    }

    /// Whether a registered device is enrolled: it finished enrolling with a method the
    /// policy still allows.
    pub(crate) fn enrolled<K>(&self, device: &Registered<K>) -> bool {
        device.enrollment.is_some_and(|e| self.methods.contains(e.method))
    }

    /// The user's apps for one platform (every platform: `None`), in policy order, with
    /// their status on a device that reports `installed` (app id index, managed).
    pub(crate) fn store(
        &self,
        principals: &[u32],
        os: Option<OsType>,
        installed: &[(u32, bool)],
    ) -> Vec<OfferedApp> {
        let status = |id: u32| {
            installed.iter().filter(|(i, _)| *i == id).fold(AppStatus::Available, |s, (_, managed)| {
                match (s, managed) {
                    (AppStatus::Unmanaged, _) | (_, false) => AppStatus::Unmanaged,
                    _ => AppStatus::Managed,
                }
            })
        };
        self.apps
            .iter()
            .enumerate()
            .filter(|(_, a)| os.is_none_or(|os| a.platform.os() == os))
            .filter(|(_, a)| a.everyone || principals.iter().any(|p| a.audience.binary_search(p).is_ok()))
            .map(|(i, a)| OfferedApp {
                index: i as u32,
                id: a.id.clone(),
                name: a.name.clone(),
                status: status(a.id_index),
            })
            .collect()
    }

    /// The platform of the policy's app at `index`.
    pub(crate) fn app_platform(&self, index: u32) -> AppPlatform {
        self.apps.get(index as usize).map_or(AppPlatform::Ios, |a| a.platform)
    }

    /// The installed apps the policy names, as (app id index, managed); the rest can
    /// change nothing.
    pub(crate) fn installed(&self, apps: &[InstalledApp]) -> Vec<(u32, bool)> {
        apps.iter().filter_map(|a| Some((self.app_ids.lookup(&a.id)?, a.managed))).collect()
    }

    /// Decides `login` of a user in `groups` whose stored state is `state` (spec section
    /// 3). Pure: the state is only read; the decision lists the effects that lead to the
    /// new state.
    pub fn decide_login<G: AsRef<str>>(
        &self,
        login: &Login,
        groups: &[G],
        state: &UserState,
    ) -> LoginDecision {
        let installed = self.installed(&login.apps);
        self.login(self.principals(&login.user, groups), state, &login.device, &installed, login.at)
    }

    /// Decides a login of the user who is `principals`, with ids of any kind (strings
    /// natively, tokens in the component).
    pub(crate) fn login<K: Clone + PartialEq>(
        &self,
        principals: impl Iterator<Item = u32>,
        state: &UserState<K>,
        device: &Device<K>,
        installed: &[(u32, bool)],
        at: Timestamp,
    ) -> LoginDecision<K> {
        self.login_with(principals, state, device, installed, at, Detail::Full)
    }

    /// A login's outcome and reasons alone, for the preview: the same steps, without the
    /// effects, remediation texts, configuration and app store it would not read (each of
    /// them allocates, four logins a user, a million users).
    pub(crate) fn login_outcome<K: Clone + PartialEq>(
        &self,
        principals: impl Iterator<Item = u32>,
        state: &UserState<K>,
        device: &Device<K>,
        at: Timestamp,
    ) -> (Outcome, Reasons) {
        let d = self.login_with(principals, state, device, &[], at, Detail::Outcome);
        (d.outcome, d.reasons)
    }

    fn login_with<K: Clone + PartialEq>(
        &self,
        principals: impl Iterator<Item = u32>,
        state: &UserState<K>,
        device: &Device<K>,
        installed: &[(u32, bool)],
        at: Timestamp,
        detail: Detail,
    ) -> LoginDecision<K> {
        // Looked up once (natively, each is a hash lookup) and read by scope and the store; a
        // user is rarely named by more than a few ids, so they stay on the stack.
        let principals: Principals = principals.collect();
        let scope = self.scope(self.subject(principals.iter().copied()));
        let mut login = Steps {
            policy: self,
            assigned: scope.assigned(),
            state,
            device,
            installed,
            principals,
            at,
            full: detail == Detail::Full,
            last: None,
            d: LoginDecision {
                outcome: Outcome::Deny,
                assigned: scope.assigned(),
                access: Access::default(),
                reasons: Reasons::default().with(scope.reason()),
                remediation: Vec::new(),
                enroll: None,
                grace_until: None,
                configuration: None,
                apps: None,
                effects: Vec::new(),
            },
        };
        // Whichever step decides, the decision is in `login.d`; steps 9 and after read it.
        let _ = login.steps();
        login.enrollment();
        login.managed();
        login.d.effects.extend(login.last.take());
        login.d
    }

    /// Carries out an admin event: the effects and commands, or why not (the state is
    /// then unchanged).
    pub(crate) fn decide_admin<K: Clone + PartialEq>(
        &self,
        state: &UserState<K>,
        req: &AdminRequest<K>,
    ) -> Result<AdminDecision<K>, AdminFailure> {
        let mut effects = Vec::new();
        let mut commands = Vec::new();
        let device_id = &req.device_id;
        match req.action {
            AdminAction::Approve => {
                if !self.approvers.allows(req.by) {
                    return Err(AdminFailure::ApproverNotAllowed);
                }
                if req.by == Approver::User {
                    let from = match &req.from_device {
                        FromDevice::Missing => return Err(AdminFailure::NoApprovingDevice),
                        FromDevice::NotADevice => return Err(AdminFailure::UnknownApprovingDevice),
                        FromDevice::Device(from) => from,
                    };
                    let approving = state.device(from).ok_or(AdminFailure::UnknownApprovingDevice)?;
                    if self.enrollment_required && !self.enrolled(approving) {
                        return Err(AdminFailure::ApprovingDeviceNotEnrolled);
                    }
                }
                let p = state.pending_for(device_id).ok_or(AdminFailure::NoPendingRequest)?;
                if self.expired(p.requested_at, req.at) {
                    return Err(AdminFailure::RequestExpired);
                }
                if self.doc.assigned.on_approve == OnApprove::Replace {
                    make_room(&mut effects, state, self.max_devices(true));
                }
                register(&mut effects, &p.device, true, req.at);
            }
            AdminAction::Reject => {
                if state.pending_for(device_id).is_none() {
                    return Err(AdminFailure::NoPendingRequest);
                }
                effects.push(Effect::RemovePending { device_id: device_id.clone() });
                effects.push(Effect::AddRejected { device_id: device_id.clone(), at: req.at });
            }
            AdminAction::Unblock => {
                if !state.is_rejected(device_id) {
                    return Err(AdminFailure::UnknownDevice);
                }
                effects.push(Effect::RemoveRejected { device_id: device_id.clone() });
            }
            AdminAction::RemoveDevice | AdminAction::Deprovision | AdminAction::Wipe => {
                if state.device(device_id).is_none() {
                    return Err(AdminFailure::UnknownDevice);
                }
                effects.push(Effect::RemoveDevice { device_id: device_id.clone() });
                let action = match req.action {
                    AdminAction::Deprovision => Some(CommandAction::Deprovision),
                    AdminAction::Wipe => Some(CommandAction::Wipe),
                    _ => None,
                };
                commands.extend(action.map(|action| Command { action, device_id: device_id.clone() }));
            }
            AdminAction::Enrolled => {
                let device = state.device(device_id).ok_or(AdminFailure::UnknownDevice)?;
                // An `enrolled` event without a method does not parse; a host that sends
                // one anyway names no method the policy allows.
                let method = req.method.ok_or(AdminFailure::MethodNotAllowed)?;
                if !self.methods.contains(method) {
                    return Err(AdminFailure::MethodNotAllowed);
                }
                if method.platform() != device.device.os_type {
                    return Err(AdminFailure::MethodOfAnotherPlatform);
                }
                effects.push(Effect::SetEnrollment { device_id: device_id.clone(), method, at: req.at });
            }
        }
        Ok(AdminDecision { effects, commands })
    }
}

/// The principals of one user that a policy names.
type Principals = smallvec::SmallVec<[u32; 16]>;

/// A step of a login: `Break` when it decided, `Continue` to the next step.
type Step = ControlFlow<()>;
const DECIDED: Step = ControlFlow::Break(());
const NEXT: Step = ControlFlow::Continue(());

/// A login being decided: its inputs, and the decision so far (a deny with the scope's
/// reason until a step says otherwise).
struct Steps<'a, K> {
    policy: &'a Policy,
    assigned: bool,
    state: &'a UserState<K>,
    device: &'a Device<K>,
    installed: &'a [(u32, bool)],
    principals: Principals,
    at: Timestamp,
    /// Whether the decision gets everything but its outcome and reasons (see [`Detail`]).
    full: bool,
    /// An effect of step 3 (grace), which applies after those of steps 4 to 8.
    last: Option<Effect<K>>,
    d: LoginDecision<K>,
}

/// How much of a login's decision is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// All of it.
    Full,
    /// Its outcome, access and reasons only.
    Outcome,
}

impl<K: Clone + PartialEq> Steps<'_, K> {
    /// "Login, in this order" of spec section 3, steps 1 to 8, one method per step.
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
        if !self.full {
            return;
        }
        let pending = self.state.pending_for(&self.device.device_id).is_some();
        register(&mut self.d.effects, self.device, pending, self.at);
    }

    fn active(&self) -> Option<&'_ Registered<K>> {
        self.state.device(&self.device.device_id)
    }

    /// Whether the login device is enrolled (a device this login registers never is).
    fn enrolled(&self) -> bool {
        self.active().is_some_and(|r| self.policy.enrolled(r))
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
        match self.active() {
            Some(reg) => match (&reg.device.serial_number, &self.device.serial_number) {
                (Some(a), Some(b)) if a == b => NEXT,
                _ => self.deny(Reason::DeviceSerialMismatch),
            },
            None => NEXT,
        }
    }

    /// Step 3: An assigned user's device that fails a requirement, or must enroll and
    /// fits no allowed method, is denied, one reason and one remediation text per
    /// failure; an active device whose failures all have grace goes on within its grace
    /// period.
    fn posture(&mut self) -> Step {
        if !self.assigned {
            return NEXT;
        }
        let policy = self.policy;
        let mut failures = policy.posture(self.device);
        if policy.enrollment_required
            && !self.enrolled()
            && self.device.fit().method(policy.methods).is_none()
        {
            failures.insert(Reason::EnrollmentUnsupported);
        }
        let id = &self.device.device_id;
        let since = self.active().map(|r| r.noncompliant_since);
        let full = self.full;
        if failures.is_empty() {
            if let Some(Some(_)) = since
                && full
            {
                self.last = Some(Effect::ClearNoncompliant { device_id: id.clone() });
            }
            return NEXT;
        }
        self.d.reasons = self.d.reasons.union(failures);
        if full {
            self.d.remediation = policy.remediation(self.device.os_type, failures);
        }
        let graced = policy.grace_hours > 0 && failures.iter().all(Reason::has_grace);
        let Some(since) = since.filter(|_| graced) else { return DECIDED };
        let until = since.unwrap_or(self.at).plus_hours(policy.grace_hours);
        if self.at >= until {
            self.d.reasons.insert(Reason::PostureGraceExpired);
            if full {
                self.d
                    .remediation
                    .push(format!("the grace period ended at {until}: fix this to sign in again"));
            }
            return DECIDED;
        }
        if since.is_none() && full {
            self.last = Some(Effect::SetNoncompliant { device_id: id.clone(), at: self.at });
        }
        self.d.reasons.insert(Reason::PostureGrace);
        if full {
            self.d.remediation.push(format!("fix this before {until} to keep access"));
        }
        self.d.grace_until = Some(until);
        NEXT
    }

    /// Step 4: An active device is allowed.
    fn known(&mut self) -> Step {
        if self.active().is_some() { self.allow(Reason::DeviceKnown) } else { NEXT }
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
                if self.full {
                    let id = &self.device.device_id;
                    if expired {
                        self.d.effects.push(Effect::RemovePending { device_id: id.clone() });
                    }
                    self.d.effects.push(Effect::AddPending { device: self.device.clone(), at: self.at });
                }
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
        if self.full {
            make_room(&mut self.d.effects, self.state, self.policy.max_devices(self.assigned));
        }
        self.register();
        self.allow(Reason::DeviceReplaced)
    }

    /// Whether the device's pending request has expired; `None` when it has none.
    fn expired_request(&self) -> Option<bool> {
        let p = self.state.pending_for(&self.device.device_id)?;
        Some(self.policy.expired(p.requested_at, self.at))
    }

    /// Step 9: Under `enrollment.required`, an assigned user's allowed login on a device
    /// that is not enrolled is limited to the app, and names the method to enroll with.
    fn enrollment(&mut self) {
        let policy = self.policy;
        if !self.assigned
            || self.d.outcome != Outcome::Allow
            || !policy.enrollment_required
            || self.enrolled()
        {
            return;
        }
        self.d.outcome = Outcome::Limited;
        self.d.access = Access { app: true, sso: false, push_mfa: false };
        self.d.reasons.insert(Reason::EnrollmentRequired);
        self.d.enroll = self.device.fit().method(policy.methods).map(|method| Enroll { method });
    }

    /// What an assigned user's allowed login carries: the configuration, and for `allow`
    /// the app store, with unmanaged copies flagged.
    fn managed(&mut self) {
        if !self.full || !self.assigned || !self.d.outcome.is_allowed() {
            return;
        }
        self.d.configuration = Some(self.policy.configuration);
        if self.d.outcome != Outcome::Allow {
            return;
        }
        let apps = self.policy.store(&self.principals, Some(self.device.os_type), self.installed);
        for app in apps.iter().filter(|a| a.status == AppStatus::Unmanaged) {
            self.d.reasons.insert(Reason::AppsUnmanaged);
            self.d
                .remediation
                .push(format!("remove the unmanaged copy of {}, then reopen the app", app.name));
        }
        self.d.apps = Some(apps);
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
    // The position breaks ties, so the order is the stable one (and no stable sort is
    // compiled in for it: the browser module pays for each sort).
    crate::sort::sort_by_key(&mut order, |&i| (state.devices.get(i).map(|d| d.registered_at), i));
    for i in order.into_iter().take(excess) {
        if let Some(d) = state.devices.get(i) {
            effects.push(Effect::RemoveDevice { device_id: d.device.device_id.clone() });
        }
    }
}

/// A device that passes every posture rule of `policy`: what "a further compliant
/// device" of the preview logs in with.
pub(crate) fn compliant_probe<K>(policy: &Policy, device_id: K) -> Device<K> {
    // It reports a work profile and Samsung as its maker, so that every allowed Android
    // method fits it; its OS is the first allowed one that some allowed method enrolls
    // when enrollment is required.
    let allowed = |o: &OsType| policy.platform_allowed.get(o.index()).copied().unwrap_or(false);
    let fits = |o: &OsType| !policy.enrollment_required || policy.methods.iter().any(|m| m.platform() == *o);
    let os = OsType::ALL
        .into_iter()
        .find(|o| allowed(o) && fits(o))
        .or_else(|| OsType::ALL.into_iter().find(allowed))
        .unwrap_or(OsType::Ios);
    Device {
        os_version: Some(Version::MAX),
        pin_length: Some(u32::MAX),
        encrypted: Some(true),
        compromised: Some(false),
        work_profile: Some(true),
        manufacturer: Some("samsung".into()),
        ..Device::new(device_id, os)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_failures_keep_their_code_and_pointer() {
        use crate::{Admin, Error, Text};
        let at = Timestamp::from_millis(0);
        let mut admin = Admin::new(AdminAction::Approve, "alice", Text::new("A1").unwrap(), at);
        admin.from_device = Some("A9".into());
        let cases = [
            (AdminFailure::NoPendingRequest, "no_pending_request", "/device_id"),
            (AdminFailure::RequestExpired, "request_expired", "/device_id"),
            (AdminFailure::UnknownDevice, "unknown_device", "/device_id"),
            (AdminFailure::UnknownApprovingDevice, "unknown_device", "/from_device"),
            (AdminFailure::NoApprovingDevice, "invalid_event", "/from_device"),
            (AdminFailure::ApproverNotAllowed, "not_permitted", "/by"),
            (AdminFailure::ApprovingDeviceNotEnrolled, "not_permitted", "/from_device"),
            (AdminFailure::MethodNotAllowed, "not_permitted", "/method"),
            (AdminFailure::MethodOfAnotherPlatform, "not_permitted", "/method"),
        ];
        for (failure, code, pointer) in cases {
            let e = Error::admin(failure, &admin);
            assert_eq!((e.code().as_str(), e.pointer()), (code, pointer), "{failure:?}");
        }
        assert_eq!(
            Error::admin(AdminFailure::UnknownApprovingDevice, &admin).to_string(),
            "no active device `A9`"
        );
        admin.action = AdminAction::Unblock;
        assert_eq!(Error::admin(AdminFailure::UnknownDevice, &admin).to_string(), "no rejected device `A1`");
    }
}
