//! The decisions of spec section 3: scope, device match, posture, login, admin events.

use std::ops::ControlFlow;

use serde::Serialize;

use crate::device::{Device, Effect, Registered, UserState};
use crate::error::AdminFailure;
use crate::event::AdminAction;
use crate::manage::{
    AppStatus, Approver, Command, CommandAction, Configuration, Enroll, EnrollmentMethod, OfferedApp,
};
use crate::outcome::{Access, Outcome, Reason, Reasons};
use crate::policy::{
    AssignedOnNewDevice, DeviceMatch, OnApprove, Placement, Policy, PolicyKey, Principals, Rules,
    UnassignedOnNewDevice,
};
use crate::time::Timestamp;

/// The answer to a login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginDecision<K = crate::ids::Text> {
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
    /// The user's policy, under a version 3 document: its name, or `null` when no policy
    /// assigns the user; no key under version 1 and 2.
    #[serde(skip_serializing_if = "PolicyKey::is_absent")]
    pub policy: PolicyKey,
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

impl AdminRequest<crate::ids::Text> {
    /// The request of an admin event.
    pub fn of(admin: &crate::event::Admin) -> Self {
        AdminRequest {
            action: admin.action,
            device_id: admin.device_id.clone(),
            at: admin.at,
            by: admin.by,
            from_device: match &admin.from_device {
                None => FromDevice::Missing,
                Some(s) => crate::ids::Text::new(s).map_or(FromDevice::NotADevice, FromDevice::Device),
            },
            method: admin.method,
        }
    }
}

/// What an admin event changes: the state, and the commands the gateway sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminDecision<K = crate::ids::Text> {
    /// The state changes, in order.
    pub effects: Vec<Effect<K>>,
    /// The device commands (`deprovision`, `wipe`).
    pub commands: Vec<Command<K>>,
    /// The user's policy now, under a version 3 document.
    pub policy: PolicyKey,
}

/// Decides a login of the user who is `principals`, with ids of any kind (strings
/// natively, tokens in the component). Pure: the state is only read; the decision lists
/// the effects that lead to the new state.
pub(crate) fn login<K: Clone + PartialEq>(
    policy: &Policy,
    principals: impl Iterator<Item = u32>,
    state: &UserState<K>,
    device: &Device<K>,
    installed: &[(u32, bool)],
    at: Timestamp,
) -> LoginDecision<K> {
    login_with(policy, principals, state, device, installed, at, Detail::Full)
}

/// A login's outcome and reasons alone, for the preview: the same steps, without the
/// effects, remediation texts, configuration and app store it would not read (each of
/// them allocates, four logins a user, a million users).
pub(crate) fn login_outcome<K: Clone + PartialEq>(
    policy: &Policy,
    placement: Placement,
    principals: &[u32],
    state: &UserState<K>,
    device: &Device<K>,
    at: Timestamp,
) -> (Outcome, Reasons) {
    let d = steps(policy, placement, principals, state, device, &[], at, Detail::Outcome);
    (d.outcome, d.reasons)
}

fn login_with<K: Clone + PartialEq>(
    policy: &Policy,
    principals: impl Iterator<Item = u32>,
    state: &UserState<K>,
    device: &Device<K>,
    installed: &[(u32, bool)],
    at: Timestamp,
    detail: Detail,
) -> LoginDecision<K> {
    // Looked up once (natively, each is a hash lookup) and read by the scope and the
    // store; a user is rarely named by more than a few ids, so they stay on the stack.
    let principals: Principals = principals.collect();
    let placement = policy.placement(&principals);
    steps(policy, placement, &principals, state, device, installed, at, detail)
}

#[allow(clippy::too_many_arguments)]
fn steps<K: Clone + PartialEq>(
    policy: &Policy,
    placement: Placement,
    principals: &[u32],
    state: &UserState<K>,
    device: &Device<K>,
    installed: &[(u32, bool)],
    at: Timestamp,
    detail: Detail,
) -> LoginDecision<K> {
    let scope = placement.scope;
    let mut login = Steps {
        policy,
        rules: policy.rules_of(placement),
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
            policy: if detail == Detail::Full { policy.key(placement) } else { PolicyKey::Absent },
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

/// Carries out an admin event of the user who is `principals`: the effects and
/// commands, or why not (the state is then unchanged).
pub(crate) fn admin<K: Clone + PartialEq>(
    policy: &Policy,
    principals: &[u32],
    state: &UserState<K>,
    req: &AdminRequest<K>,
) -> Result<AdminDecision<K>, AdminFailure> {
    let placement = policy.placement(principals);
    // Under a set, `approve` and `enrolled` read the user's policy now, and there is none
    // for an unassigned user; under version 1 and 2, the document's own.
    let rules = policy.admin_rules(placement);
    let mut effects = Vec::new();
    let mut commands = Vec::new();
    let device_id = &req.device_id;
    match req.action {
        AdminAction::Approve => {
            let rules = rules.ok_or(AdminFailure::NotAssigned)?;
            if !rules.allows(req.by) {
                return Err(AdminFailure::ApproverNotAllowed);
            }
            if req.by == Approver::User {
                let from = match &req.from_device {
                    FromDevice::Missing => return Err(AdminFailure::NoApprovingDevice),
                    FromDevice::NotADevice => return Err(AdminFailure::UnknownApprovingDevice),
                    FromDevice::Device(from) => from,
                };
                let approving = state.device(from).ok_or(AdminFailure::UnknownApprovingDevice)?;
                if rules.enrollment_required() && !rules.enrolled(approving) {
                    return Err(AdminFailure::ApprovingDeviceNotEnrolled);
                }
            }
            let p = state.pending_for(device_id).ok_or(AdminFailure::NoPendingRequest)?;
            if rules.expired(p.requested_at, req.at) {
                return Err(AdminFailure::RequestExpired);
            }
            if rules.on_approve() == OnApprove::Replace {
                make_room(&mut effects, state, rules.max_devices());
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
            // An unassigned user's devices are not managed (a set's rule; under version 1
            // and 2 the document's methods apply whatever the scope).
            let rules = rules.ok_or(AdminFailure::NotAssigned)?;
            // An `enrolled` event without a method does not parse; a host that sends one
            // anyway names no method the policy allows.
            let method = req.method.ok_or(AdminFailure::MethodNotAllowed)?;
            if !rules.methods().contains(method) {
                return Err(AdminFailure::MethodNotAllowed);
            }
            if method.platform() != device.device.os_type {
                return Err(AdminFailure::MethodOfAnotherPlatform);
            }
            effects.push(Effect::SetEnrollment { device_id: device_id.clone(), method, at: req.at });
        }
    }
    Ok(AdminDecision { effects, commands, policy: policy.key(placement) })
}

/// A step of a login: `Break` when it decided, `Continue` to the next step.
type Step = ControlFlow<()>;
const DECIDED: Step = ControlFlow::Break(());
const NEXT: Step = ControlFlow::Continue(());

/// A login being decided: its inputs, and the decision so far (a deny with the scope's
/// reason until a step says otherwise).
struct Steps<'a, K> {
    policy: &'a Policy,
    /// The user's policy; `None` for an unassigned user, whom only the document's own
    /// settings apply to.
    rules: Option<&'a Rules>,
    state: &'a UserState<K>,
    device: &'a Device<K>,
    installed: &'a [(u32, bool)],
    /// Borrowed: the preview decides four logins a user with the same principals.
    principals: &'a [u32],
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
        match self.rules {
            Some(rules) => self.assigned_new_device(rules),
            None => self.unassigned_new_device(),
        }
    }

    /// The devices this side of the document keeps without approval (or at all).
    fn max_devices(&self) -> u32 {
        self.rules.map_or(self.policy.unassigned().max_devices, Rules::max_devices)
    }

    fn deny(&mut self, reason: Reason) -> Step {
        self.d.reasons.insert(reason);
        DECIDED
    }

    fn allow(&mut self, reason: Reason) -> Step {
        let (outcome, access) = match self.rules {
            Some(rules) => rules.allowed(),
            None => self.policy.allowed_unassigned(),
        };
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

    /// Whether the login device is enrolled under `rules` (a device this login registers
    /// never is).
    fn enrolled(&self, rules: &Rules) -> bool {
        self.active().is_some_and(|r| rules.enrolled(r))
    }

    /// Step 1: A device rejected for this user is denied, whatever the scope.
    fn rejected(&mut self) -> Step {
        if self.state.is_rejected(&self.device.device_id) { self.deny(Reason::DeviceRejected) } else { NEXT }
    }

    /// Step 2: With `device_id_and_serial`, an active device's id on other hardware is denied.
    fn serial_mismatch(&mut self) -> Step {
        if self.policy.device_match() != DeviceMatch::DeviceIdAndSerial {
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
        let Some(rules) = self.rules else { return NEXT };
        let mut failures = rules.posture(self.device);
        if rules.enrollment_required()
            && !self.enrolled(rules)
            && self.device.fit().method(rules.methods()).is_none()
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
            self.d.remediation = rules.remediation(self.device.os_type, failures);
        }
        let graced = rules.grace_hours() > 0 && failures.iter().all(Reason::has_grace);
        let Some(since) = since.filter(|_| graced) else { return DECIDED };
        let until = since.unwrap_or(self.at).plus_hours(rules.grace_hours());
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
        if n >= self.max_devices() as usize {
            return NEXT;
        }
        self.register();
        self.allow(if n == 0 { Reason::DeviceFirst } else { Reason::DeviceWithinLimit })
    }

    /// Step 6: An assigned user's device with a request that has not expired keeps waiting.
    fn pending(&mut self) -> Step {
        let Some(rules) = self.rules else { return NEXT };
        if self.expired_request(rules) != Some(false) {
            return NEXT;
        }
        self.d.outcome = Outcome::PendingApproval;
        self.deny(Reason::DevicePending)
    }

    /// Step 7: An assigned user's further device: by `assigned.on_new_device`.
    fn assigned_new_device(&mut self, rules: &Rules) -> Step {
        match rules.on_new_device() {
            AssignedOnNewDevice::Approval => {
                let expired = self.expired_request(rules) == Some(true);
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
        match self.policy.unassigned().on_new_device {
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
            let max = self.max_devices();
            make_room(&mut self.d.effects, self.state, max);
        }
        self.register();
        self.allow(Reason::DeviceReplaced)
    }

    /// Whether the device's pending request has expired; `None` when it has none.
    fn expired_request(&self, rules: &Rules) -> Option<bool> {
        let p = self.state.pending_for(&self.device.device_id)?;
        Some(rules.expired(p.requested_at, self.at))
    }

    /// Step 9: Under `enrollment.required`, an assigned user's allowed login on a device
    /// that is not enrolled is limited to the app, and names the method to enroll with.
    fn enrollment(&mut self) {
        let Some(rules) = self.rules else { return };
        if self.d.outcome != Outcome::Allow || !rules.enrollment_required() || self.enrolled(rules) {
            return;
        }
        self.d.outcome = Outcome::Limited;
        self.d.access = Access { app: true, sso: false, push_mfa: false };
        self.d.reasons.insert(Reason::EnrollmentRequired);
        self.d.enroll = self.device.fit().method(rules.methods()).map(|method| Enroll { method });
    }

    /// What an assigned user's allowed login carries: the configuration, and for `allow`
    /// the app store, with unmanaged copies flagged.
    fn managed(&mut self) {
        let Some(rules) = self.rules else { return };
        if !self.full || !self.d.outcome.is_allowed() {
            return;
        }
        self.d.configuration = Some(rules.configuration());
        if self.d.outcome != Outcome::Allow {
            return;
        }
        let apps = self.policy.store(self.principals, Some(self.device.os_type), self.installed);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_failures_keep_their_code_and_pointer() {
        use crate::error::Error;
        use crate::event::Admin;
        use crate::ids::Text;
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
