//! The what-if preview (spec section 5): what a proposed policy changes for a population,
//! computed with the same decision functions as a login, without changing anything.

use std::sync::Arc;

use serde::Serialize;

use crate::decide::login_outcome;
use crate::device::UserState;
use crate::document::DocumentKind;
use crate::error::Error;
use crate::ids::Text;
use crate::manage::AppPlatform;
use crate::outcome::{Access, Outcome, Reason, Reasons};
use crate::policy::{Placement, Policy, PolicyKey, PolicyName};
use crate::time::Timestamp;

mod population;

use population::PROBE_ID;
pub use population::Population;
#[cfg(feature = "schema")]
pub(crate) use population::PopulationDoc;

/// What a further compliant device would get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NewDevice {
    /// Registered: the user is under the limit.
    Register,
    /// An approval request.
    Approval,
    /// The oldest device makes room.
    Replace,
    /// Added beyond the limit.
    Add,
    /// Denied.
    Deny,
}

/// One active device's login under one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceOutcome {
    /// The device.
    pub device_id: Text,
    /// Its login's outcome.
    pub outcome: Outcome,
    /// Why.
    pub reasons: Reasons,
}

/// An app of the store, as the preview names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AppKey {
    /// The platform the id belongs to.
    pub platform: AppPlatform,
    /// The bundle id or package name.
    pub id: Arc<str>,
}

/// One user under one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    /// Whether the user is assigned.
    pub assigned: bool,
    /// The scope's reason.
    pub scope: Reason,
    /// What an allowed login gets on this side of the policy.
    pub access: Access,
    /// The login of each active device.
    pub devices: Vec<DeviceOutcome>,
    /// What a further compliant device would get.
    pub new_device: NewDevice,
    /// The apps assigned to the user, sorted by platform then id (none when unassigned).
    pub apps: Vec<AppKey>,
    /// The user's policy, when either side is a version 3 document: its name, or `null`
    /// when unassigned (and throughout on a version 1 or 2 side).
    #[serde(skip_serializing_if = "PolicyKey::is_absent")]
    pub policy: PolicyKey,
}

/// A user for whom something differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The user.
    pub user: String,
    /// Under the current policy.
    pub before: UserView,
    /// Under the proposed policy.
    pub after: UserView,
}

/// The counts of spec section 5.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Users in the population.
    pub users: u64,
    /// Assigned under the current policy.
    pub assigned_before: u64,
    /// Assigned under the proposed policy.
    pub assigned_after: u64,
    /// Unassigned before, assigned after.
    pub became_assigned: u64,
    /// Assigned before, unassigned after.
    pub became_unassigned: u64,
    /// Users whose allowed login gains push MFA.
    pub push_mfa_gained: u64,
    /// Users whose allowed login loses push MFA.
    pub push_mfa_lost: u64,
    /// Users whose allowed login gains SSO.
    pub sso_gained: u64,
    /// Users whose allowed login loses SSO.
    pub sso_lost: u64,
    /// Active devices allowed before and denied after.
    pub devices_blocked: u64,
    /// Active devices denied before and allowed after.
    pub devices_unblocked: u64,
    /// Users whose further device would get something else.
    pub new_device_changed: u64,
    /// Active devices of users assigned after whose login after must enroll, and before
    /// did not have to.
    pub devices_need_enrollment: u64,
    /// Active devices whose login after is in a grace period, and before was not.
    pub devices_in_grace: u64,
    /// (user, app) pairs assigned after and not before.
    pub apps_gained: u64,
    /// (user, app) pairs assigned before and not after.
    pub apps_lost: u64,
    /// Users assigned on both sides whose policy differs, when both sides are version 3
    /// documents (else 0); present when either side is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_changed: Option<u64>,
}

/// The preview's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The counts.
    pub summary: Summary,
    /// Only the users for whom something differs, sorted by user id.
    pub changes: Vec<Change>,
}

/// One user under one policy, as the preview compares it: the device outcomes without
/// their ids, so that only a user who is listed pays for copying them.
struct View {
    assigned: bool,
    scope: Reason,
    access: Access,
    devices: smallvec::SmallVec<[(Outcome, Reasons); 4]>,
    new_device: NewDevice,
    apps: Vec<AppKey>,
    /// The user's policy, under a set.
    policy: Option<PolicyName>,
}

impl View {
    /// Whether the edit affects the user: the scope reason alone changing is no change.
    fn differs(&self, other: &View) -> bool {
        self.assigned != other.assigned
            || self.access != other.access
            || self.new_device != other.new_device
            || self.apps != other.apps
            || self.devices.len() != other.devices.len()
            || self.devices.iter().zip(&other.devices).any(|(a, b)| a.0 != b.0)
    }

    /// Whether both sides assign the user, under policies of different names.
    fn policy_differs(&self, other: &View) -> bool {
        let name = |v: &View| v.policy.as_ref().map(PolicyName::name).map(str::to_owned);
        self.assigned && other.assigned && name(self) != name(other)
    }

    fn listed(self, state: &UserState<u32>, population: &Population, keyed: bool) -> UserView {
        UserView {
            assigned: self.assigned,
            scope: self.scope,
            access: self.access,
            devices: state
                .devices
                .iter()
                .zip(self.devices)
                .map(|(r, (outcome, reasons))| DeviceOutcome {
                    device_id: Text::kept(population.id(r.device.device_id)),
                    outcome,
                    reasons,
                })
                .collect(),
            new_device: self.new_device,
            apps: self.apps,
            policy: match (keyed, self.policy) {
                (false, _) => PolicyKey::Absent,
                (true, Some(name)) => PolicyKey::Named(name),
                (true, None) => PolicyKey::Null,
            },
        }
    }
}

/// The probes for "a further device" under `policy`: one per policy of the document,
/// each passing that policy's rules, with an id no stored device has.
struct Probe {
    devices: Vec<crate::device::Device<u32>>,
    unassigned: crate::device::Device<u32>,
}

impl Probe {
    fn new(policy: &Policy) -> Probe {
        Probe {
            devices: policy.all_rules().iter().map(|r| r.compliant_probe(PROBE_ID)).collect(),
            unassigned: crate::device::Device::new(PROBE_ID, crate::ids::OsType::Ios),
        }
    }

    /// The probe of the user's policy; an unassigned user's is the first policy's (no
    /// posture rule applies to them, so any device would do).
    fn for_placement(&self, placement: Placement) -> &crate::device::Device<u32> {
        self.devices.get(placement.policy.unwrap_or(0) as usize).unwrap_or(&self.unassigned)
    }
}

/// How one user fares under `policy`: the same decisions a login would get.
fn user_view(
    policy: &Policy,
    probe: &Probe,
    principals: &[u32],
    state: &UserState<u32>,
    at: Timestamp,
) -> View {
    let placement = policy.placement(principals);
    let scope = placement.scope;
    let rules = policy.rules_of(placement);
    let devices = state
        .devices
        .iter()
        .map(|r| login_outcome(policy, placement, principals, state, &r.device, at))
        .collect();
    let (outcome, r) =
        login_outcome(policy, placement, principals, state, probe.for_placement(placement), at);
    let max_devices = rules.map_or(policy.unassigned().max_devices, |r| r.max_devices());
    let new_device = if r.contains(Reason::DeviceFirst) {
        NewDevice::Register
    } else if r.contains(Reason::DeviceWithinLimit) {
        if state.devices.len() < max_devices as usize { NewDevice::Register } else { NewDevice::Add }
    } else if r.contains(Reason::DeviceReplaced) {
        NewDevice::Replace
    } else if outcome == Outcome::PendingApproval {
        NewDevice::Approval
    } else {
        NewDevice::Deny
    };
    let mut apps: Vec<AppKey> = if scope.assigned() {
        policy
            .store(principals, None, &[])
            .into_iter()
            .map(|a| AppKey { platform: policy.app_platform(a.index), id: a.id })
            .collect()
    } else {
        Vec::new()
    };
    crate::sort::sort(&mut apps);
    View {
        assigned: scope.assigned(),
        scope: scope.reason(),
        access: rules.map_or_else(|| policy.allowed_unassigned().1, |r| r.allowed().1),
        devices,
        new_device,
        apps,
        policy: policy.key(placement).name().cloned(),
    }
}

/// Compares two policies over a population at time `at`.
pub fn preview(current: &Policy, proposed: &Policy, population: &Population, at: Timestamp) -> Report {
    let mut report = Report::default();
    // Either side a set: each side names the user's policy, and the summary counts
    // changes of policy, which only two sets can have.
    let keyed = current.is_set() || proposed.is_set();
    let both_sets = current.is_set() && proposed.is_set();
    if keyed {
        report.summary.policy_changed = Some(0);
    }
    let (probe_before, probe_after) = (Probe::new(current), Probe::new(proposed));
    // Each group's principal under each policy, looked up once.
    let (groups_before, groups_after): (Vec<_>, Vec<_>) = population
        .group_names()
        .iter()
        .map(|g| (current.group_principal(g), proposed.group_principal(g)))
        .unzip();
    population.each(|user, groups, state| {
        // Looked up once for the user, then read by every device's login and by the store.
        let principals = |policy: &Policy, table: &[Option<u32>]| -> smallvec::SmallVec<[u32; 16]> {
            let groups = groups.iter().filter_map(|&g| table.get(g as usize).copied().flatten());
            policy.user_principal(user).into_iter().chain(groups).collect()
        };
        let before = user_view(current, &probe_before, &principals(current, &groups_before), state, at);
        let after = user_view(proposed, &probe_after, &principals(proposed, &groups_after), state, at);
        let s = &mut report.summary;
        s.users += 1;
        s.assigned_before += u64::from(before.assigned);
        s.assigned_after += u64::from(after.assigned);
        s.became_assigned += u64::from(!before.assigned && after.assigned);
        s.became_unassigned += u64::from(before.assigned && !after.assigned);
        s.push_mfa_gained += u64::from(!before.access.push_mfa && after.access.push_mfa);
        s.push_mfa_lost += u64::from(before.access.push_mfa && !after.access.push_mfa);
        s.sso_gained += u64::from(!before.access.sso && after.access.sso);
        s.sso_lost += u64::from(before.access.sso && !after.access.sso);
        for (&(b_outcome, b_reasons), &(a_outcome, a_reasons)) in before.devices.iter().zip(&after.devices) {
            s.devices_blocked += u64::from(b_outcome.is_allowed() && a_outcome == Outcome::Deny);
            s.devices_unblocked += u64::from(b_outcome == Outcome::Deny && a_outcome.is_allowed());
            let newly = |r: Reason| a_reasons.contains(r) && !b_reasons.contains(r);
            s.devices_need_enrollment += u64::from(after.assigned && newly(Reason::EnrollmentRequired));
            s.devices_in_grace += u64::from(newly(Reason::PostureGrace));
        }
        s.new_device_changed += u64::from(before.new_device != after.new_device);
        // Both lists are sorted: count what each has that the other lacks.
        s.apps_gained += after.apps.iter().filter(|a| before.apps.binary_search(a).is_err()).count() as u64;
        s.apps_lost += before.apps.iter().filter(|a| after.apps.binary_search(a).is_err()).count() as u64;
        let policy_changed = both_sets && before.policy_differs(&after);
        if let Some(n) = &mut s.policy_changed {
            *n += u64::from(policy_changed);
        }
        if before.differs(&after) || policy_changed {
            report.changes.push(Change {
                user: user.to_string(),
                before: before.listed(state, population, keyed),
                after: after.listed(state, population, keyed),
            });
        }
    });
    report
}

impl Report {
    /// The report as JSON text, written into a buffer sized for it up front (about 500
    /// bytes a listed user): a million-user report's text is tens of megabytes, and grown
    /// by doubling it would be copied over and over (in WebAssembly, each growth of the
    /// module's memory too).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut out = Vec::with_capacity(1024 + self.changes.len().saturating_mul(512));
        serde_json::to_writer(&mut out, self)?;
        // serde_json writes UTF-8 only. Not `ser::Error::custom`: serde_json parses a
        // custom message for a line and column, 6 KB of each module for an error that
        // cannot happen.
        String::from_utf8(out).map_err(|_| serde_json::Error::io(std::io::ErrorKind::InvalidData.into()))
    }
}

/// The preview from documents: two policies, a population and an RFC 3339 time.
pub fn preview_json(current: &str, proposed: &str, population: &str, at: &str) -> Result<Report, Error> {
    fn which(side: &'static str) -> impl Fn(Error) -> Error {
        move |e: Error| match e {
            Error::InvalidPolicy { pointer, message } => {
                Error::InvalidPolicy { pointer, message: format!("{side} policy: {message}") }
            }
            other => other,
        }
    }
    let current = Policy::from_json(current).map_err(which("current"))?;
    let proposed = Policy::from_json(proposed).map_err(which("proposed"))?;
    let population = Population::from_json(population)?;
    let at = Timestamp::parse(at).map_err(|e| DocumentKind::Event.error("/at", e.to_string()))?;
    Ok(preview(&current, &proposed, &population, at))
}
