//! The contract's invariants, checked on any decided event by the differential test and
//! the `decide` fuzz target; and the checks of the fuzz targets, which the test suite
//! also runs on their committed corpora (`tests/fuzz_corpus.rs`).

mod json;
mod sequence;

pub use json::json_text;
pub use sequence::{Reach, decide_sequence, decide_sequence_reach};

use mdm_engine::{
    AdminAction, AppDoc, AppPlatform, AppStatus, AssignedSettings, Assignment, Decision, Effect,
    EnrollmentSettings, Event, OnApprove, OsType, Policy, PolicyDocument, Reason, UnassignedAccess,
    UnassignedSettings, UserPlacement, UserState,
};

/// The settings the user's policy gives: its assigned side and its enrollment (version
/// 2 and 3), by the decision's placement.
fn user_settings<'p>(
    policy: &'p Policy,
    placed: &UserPlacement<'_>,
) -> Option<(&'p AssignedSettings, Option<&'p EnrollmentSettings>)> {
    match policy.doc() {
        PolicyDocument::Set(set) => {
            let entry = set.policies.get(placed.policy().name()?.index() as usize)?;
            Some((&entry.assigned, Some(&entry.enrollment)))
        }
        PolicyDocument::Single(doc) => Some((&doc.assigned, doc.enrollment.as_ref())),
        _ => None,
    }
}

/// The settings of users no policy assigns.
fn unassigned(policy: &Policy) -> Option<&UnassignedSettings> {
    match policy.doc() {
        PolicyDocument::Set(set) => Some(&set.unassigned),
        PolicyDocument::Single(doc) => Some(&doc.unassigned),
        _ => None,
    }
}

/// Where the contract's words place a user, read from the document alone: a second
/// opinion beside the engine's index of principals, which finds the same answer another
/// way (one pass over the policies that name the user's principals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scope {
    /// The scope's reason.
    reason: Reason,
    /// Under a set, the index of the user's policy in its list.
    policy: Option<usize>,
}

impl Scope {
    fn assigned(self) -> bool {
        matches!(self.reason, Reason::ScopeUser | Reason::ScopeGroup | Reason::ScopeOrganization)
    }
}

/// Version 1's scope rules inside one assignment: exclusions first, then the user, their
/// groups, the organisation.
fn scope_in<G: AsRef<str>>(a: &Assignment, user: &str, groups: &[G]) -> Reason {
    let any_group = |list: &[String]| groups.iter().any(|g| list.iter().any(|x| x == g.as_ref()));
    if a.exclude_users.iter().any(|x| x == user) {
        Reason::ScopeExcludedUser
    } else if any_group(&a.exclude_groups) {
        Reason::ScopeExcludedGroup
    } else if a.users.iter().any(|x| x == user) {
        Reason::ScopeUser
    } else if any_group(&a.groups) {
        Reason::ScopeGroup
    } else if a.organization {
        Reason::ScopeOrganization
    } else {
        Reason::ScopeNone
    }
}

/// The scope of `user` in `groups` (contract v1 section 3, v3 section 2); `None` for a
/// document of a kind this check does not know.
fn scope_of<G: AsRef<str>>(policy: &Policy, user: &str, groups: &[G]) -> Option<Scope> {
    let disabled = Scope { reason: Reason::ScopeDisabled, policy: None };
    match policy.doc() {
        PolicyDocument::Single(doc) if !doc.enabled => Some(disabled),
        PolicyDocument::Single(doc) => {
            Some(Scope { reason: scope_in(&doc.assignment, user, groups), policy: None })
        }
        PolicyDocument::Set(set) if !set.enabled => Some(disabled),
        PolicyDocument::Set(set) => {
            let mut excluded = None;
            for (i, entry) in set.policies.iter().enumerate().filter(|(_, e)| e.enabled) {
                let reason = scope_in(&entry.assignment, user, groups);
                let scope = Scope { reason, policy: Some(i) };
                if scope.assigned() {
                    return Some(scope);
                }
                if matches!(reason, Reason::ScopeExcludedUser | Reason::ScopeExcludedGroup) {
                    excluded.get_or_insert(reason);
                }
            }
            Some(Scope { reason: excluded.unwrap_or(Reason::ScopeNone), policy: None })
        }
        _ => None,
    }
}

/// The app store of the document (a set's, or a version 2 policy's).
fn store(policy: &Policy) -> &[AppDoc] {
    match policy.doc() {
        PolicyDocument::Set(set) => &set.apps,
        PolicyDocument::Single(doc) => doc.apps.as_deref().unwrap_or_default(),
        _ => &[],
    }
}

/// The apps of the store an assigned user's login on an `os` device is offered, in the
/// store's order (contract v2 section 3).
fn offered<'p, G: AsRef<str>>(policy: &'p Policy, user: &str, groups: &[G], os: OsType) -> Vec<&'p AppDoc> {
    let platform = match os {
        OsType::Ios => AppPlatform::Ios,
        OsType::Android => AppPlatform::Android,
        OsType::Other => return Vec::new(),
    };
    store(policy)
        .iter()
        .filter(|a| a.platform == platform)
        .filter(|a| {
            (a.users.is_empty() && a.groups.is_empty())
                || a.users.iter().any(|u| u == user)
                || groups.iter().any(|g| a.groups.iter().any(|x| x == g.as_ref()))
        })
        .collect()
}

/// Checks the contract's invariants on one decided event of a user in `groups`: `state`
/// is the user's state before it. Returns the invariant that does not hold. Determinism
/// is the caller's to check (decide twice), and so is "an error leaves the state
/// unchanged".
pub fn check<G: AsRef<str>>(
    policy: &Policy,
    groups: &[G],
    state: &UserState,
    event: &Event,
    decision: &Decision,
) -> Result<(), &'static str> {
    let mut after = state.clone();
    after.apply(decision.effects());
    if state.check().is_ok() && after.check().is_err() {
        return Err("effects turn a valid state into an invalid one");
    }
    if serde_json::to_string(&after).is_ok_and(|s| s.contains("\"apps\"")) {
        return Err("apps are never stored");
    }
    let placed = policy.place(event.user(), groups);
    if *decision.policy() != placed.policy() {
        return Err("a decision names the policy that places its user now");
    }
    let scope = scope_of(policy, event.user(), groups);
    if let Some(scope) = scope {
        if placed.scope() != scope.reason || placed.assigned() != scope.assigned() {
            return Err("the engine places a user where the contract's scope rules do not");
        }
        if decision.policy().name().map(|n| n.index() as usize) != scope.policy {
            return Err(
                "a user of a set is assigned under the first enabled policy that assigns them, and no other",
            );
        }
    }
    match (policy.doc(), decision.policy().name()) {
        (PolicyDocument::Set(set), Some(name)) => {
            let Some(entry) = set.policies.get(name.index() as usize) else {
                return Err("a decision names a policy of the set");
            };
            if !entry.enabled {
                return Err("a disabled policy never assigns");
            }
            if entry.name.as_deref() != Some(name.name()) {
                return Err("a decision names the user's policy by its own name");
            }
        }
        (PolicyDocument::Set(_), None) if placed.assigned() => {
            return Err("an assigned user of a set has a policy");
        }
        (PolicyDocument::Set(_), None) if decision.policy().is_absent() => {
            return Err("a decision of a set has a policy key");
        }
        (PolicyDocument::Set(_), None) => {}
        (_, Some(_)) => return Err("only a policy set names a policy"),
        (_, None) if !decision.policy().is_absent() => {
            return Err("a version 1 or 2 decision has no policy key");
        }
        _ => {}
    }
    // Devices the user already had may stay; only the decision must not add past the cap.
    let cap = state.devices.len().max(placed.max_devices() as usize);
    match (decision, event) {
        (Decision::Login(d), Event::Login(login)) => {
            let allowed = d.outcome.is_allowed();
            if d.reasons.iter().next() != Some(placed.scope())
                || d.reasons.iter().filter(|r| r.as_str().starts_with("scope.")).count() != 1
            {
                return Err("a login's first reason is its scope's, and the only one of its kind");
            }
            if state.is_rejected(&login.device.device_id) && allowed {
                return Err("a rejected device is never allowed");
            }
            if !allowed && (d.access.app || d.access.sso || d.access.push_mfa) {
                return Err("no access unless allowed");
            }
            if d.assigned != placed.assigned() {
                return Err("a login is assigned exactly when the policy places its user so");
            }
            if d.apps.is_some() && d.outcome != mdm_engine::Outcome::Allow {
                return Err("only an allowed login gets the app store");
            }
            if d.assigned {
                assigned_login(policy, groups, &placed, state, login, d, after.devices.len() > cap)
            } else {
                unassigned_login(policy, d)
            }
        }
        (Decision::Admin { .. }, Event::Admin(a)) => {
            // An approval reads the `assigned` side: of a version 1 or 2 document whatever
            // the user's scope now, of a set the user's policy now.
            let over = user_settings(policy, &placed).is_some_and(|(s, _)| {
                s.on_approve == OnApprove::Replace
                    && after.devices.len() > state.devices.len().max(s.max_devices as usize)
            });
            if a.action == AdminAction::Approve && over {
                return Err("a replacing approval never goes over max_devices");
            }
            if policy.is_set()
                && !placed.assigned()
                && matches!(a.action, AdminAction::Approve | AdminAction::Enrolled)
            {
                return Err(
                    "under a set, an unassigned user's request is never approved nor a device enrolled",
                );
            }
            Ok(())
        }
        _ => Err("a decision of the wrong kind for its event"),
    }
}

/// The invariants of an assigned user's login: their own policy's rules, enrollment,
/// configuration and apps.
fn assigned_login<G: AsRef<str>>(
    policy: &Policy,
    groups: &[G],
    placed: &UserPlacement<'_>,
    state: &UserState,
    login: &mdm_engine::Login,
    d: &mdm_engine::LoginDecision,
    over_cap: bool,
) -> Result<(), &'static str> {
    let allowed = d.outcome.is_allowed();
    if over_cap {
        return Err("an assigned login never goes over max_devices");
    }
    if allowed
        && placed.posture(&login.device).has_posture_failure()
        && !d.reasons.contains(Reason::PostureGrace)
    {
        return Err(
            "a device failing posture is never allowed for an assigned user, but in its grace period",
        );
    }
    if allowed && d.reasons.contains(Reason::PostureGraceExpired) {
        return Err("a device in expired grace is never allowed for an assigned user");
    }
    let settings = user_settings(policy, placed);
    let enrollment = settings.and_then(|(_, e)| e);
    let required = enrollment.filter(|e| e.required);
    let enrolled = state
        .device(&login.device.device_id)
        .and_then(|r| r.enrollment)
        .is_some_and(|e| required.is_some_and(|x| x.methods.contains(&e.method)));
    if required.is_some() && !enrolled && (d.access.sso || d.access.push_mfa) {
        return Err("an unenrolled device never gets SSO or push MFA under enrollment.required");
    }
    if d.enroll.is_some_and(|e| required.is_none_or(|x| !x.methods.contains(&e.method))) {
        return Err(
            "a login is told to enroll only under its policy's enrollment.required, by an allowed method",
        );
    }
    if let Some(c) = d.configuration {
        let own = match policy.doc() {
            PolicyDocument::Set(set) => placed
                .policy()
                .name()
                .and_then(|n| set.policies.get(n.index() as usize))
                .map(|e| (&e.requirements, e.configuration.data_separation)),
            PolicyDocument::Single(doc) => {
                Some((&doc.requirements, doc.configuration.as_ref().is_some_and(|c| c.data_separation)))
            }
            _ => None,
        };
        if own.is_some_and(|(r, separation)| {
            (c.min_pin_length, c.require_encryption, c.data_separation)
                != (r.min_pin_length, r.require_encryption, separation)
        }) {
            return Err("a login's configuration is its user's policy's");
        }
    }
    if let Some(apps) = &d.apps {
        let due = offered(policy, &login.user, groups, login.device.os_type);
        if apps.len() != due.len() || apps.iter().zip(&due).any(|(a, b)| *a.id != b.id || *a.name != b.name) {
            return Err(
                "the app store is the store's apps for the device's platform assigned to the user, in order",
            );
        }
        let status = |id: &str| {
            let mut installed = login.apps.iter().filter(|i| i.id == id);
            match (installed.next(), installed.next()) {
                (None, _) => Some(AppStatus::Available),
                (Some(i), None) => Some(if i.managed { AppStatus::Managed } else { AppStatus::Unmanaged }),
                // Reported twice: either report may be the one read.
                (Some(_), Some(_)) => None,
            }
        };
        if apps.iter().any(|a| status(&a.id).is_some_and(|s| s != a.status)) {
            return Err("an app's status is what the login reports of it");
        }
        let unmanaged = apps.iter().any(|a| a.status == AppStatus::Unmanaged);
        if unmanaged != d.reasons.contains(Reason::AppsUnmanaged) {
            return Err("apps.unmanaged exactly when an offered app is installed unmanaged");
        }
    }
    Ok(())
}

/// The invariants of an unassigned user's login: nothing of any policy applies to them.
fn unassigned_login(policy: &Policy, d: &mdm_engine::LoginDecision) -> Result<(), &'static str> {
    if d.apps.is_some() || d.enroll.is_some() || d.configuration.is_some() {
        return Err("an unassigned user never gets apps, an enrollment or a configuration");
    }
    let managed = [
        Reason::EnrollmentRequired,
        Reason::EnrollmentUnsupported,
        Reason::PostureGrace,
        Reason::PostureGraceExpired,
        Reason::AppsUnmanaged,
    ];
    if d.reasons.has_posture_failure() || managed.iter().any(|r| d.reasons.contains(*r)) {
        return Err("an unassigned user is never held to a policy's requirements or enrollment");
    }
    if d.grace_until.is_some() || !d.remediation.is_empty() {
        return Err("an unassigned user has no grace period and nothing to remedy");
    }
    if d.effects.iter().any(|e| {
        matches!(
            e,
            Effect::SetNoncompliant { .. } | Effect::ClearNoncompliant { .. } | Effect::SetEnrollment { .. }
        )
    }) {
        return Err("an unassigned user's login leaves a device's compliance and enrollment as they are");
    }
    let u = unassigned(policy);
    if d.access.sso && u.is_none_or(|u| u.access != UnassignedAccess::Full) {
        return Err("no SSO for an unassigned user unless the policy grants it");
    }
    if d.access.push_mfa && u.is_none_or(|u| !u.push_mfa) {
        return Err("no push MFA for an unassigned user unless the policy grants it");
    }
    Ok(())
}

/// A policy document as arbitrary bytes (the `policy` fuzz target's, and the replay of its
/// corpus): validation and compilation agree, a compiled document survives a round trip,
/// and an error names its code and a pointer. Returns what does not hold.
pub fn policy_document(data: &[u8]) -> Result<(), String> {
    // Hosts refuse invalid UTF-8 before the engine; lossy decoding keeps the bytes useful.
    let text = String::from_utf8_lossy(data);
    let report = mdm_engine::validate(&text);
    match Policy::from_json(&text) {
        Ok(policy) => {
            if !report.errors.is_empty() {
                return Err(format!("compiled, yet validate found {:?}", report.errors));
            }
            if policy.warnings() != report.warnings.as_slice() {
                return Err("compiling and validating warn differently".into());
            }
            let again = serde_json::to_string(policy.doc()).map_err(|e| e.to_string())?;
            let reparsed =
                Policy::from_json(&again).map_err(|e| format!("`{again}` does not reparse: {e}"))?;
            if policy.doc() != reparsed.doc() {
                return Err(format!("`{again}` reparses differently"));
            }
            Ok(())
        }
        Err(e) if report.errors.is_empty() => {
            Err(format!("`{}` rejected, yet validate found nothing", e.message()))
        }
        Err(e) => well_formed(&e, mdm_engine::ErrorCode::InvalidPolicy),
    }
}

/// An event or a state document as arbitrary bytes (the `event` fuzz target's, and the
/// replay of its corpus): decoding gives a well-formed error or a document, and a decoded
/// state survives a round trip. Returns what does not hold.
pub fn event_or_state_document(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    match Event::from_json(&text) {
        Ok(event) if event.user().is_empty() => return Err("an event without a user".into()),
        Ok(_) => {}
        Err(e) => well_formed(&e, mdm_engine::ErrorCode::InvalidEvent)?,
    }
    match UserState::from_json(&text) {
        Ok(state) => {
            state.check().map_err(|e| format!("a decoded state fails its check: {e}"))?;
            let json = serde_json::to_string(&state).map_err(|e| e.to_string())?;
            let again = UserState::from_json(&json).map_err(|e| format!("`{json}` does not reparse: {e}"))?;
            if state != again {
                return Err(format!("state round trip through `{json}`"));
            }
            Ok(())
        }
        Err(e) => well_formed(&e, mdm_engine::ErrorCode::InvalidState),
    }
}

fn well_formed(e: &mdm_engine::Error, code: mdm_engine::ErrorCode) -> Result<(), String> {
    if e.code() != code {
        return Err(format!(
            "code `{}` where `{}` was due: {}",
            e.code().as_str(),
            code.as_str(),
            e.message()
        ));
    }
    if !(e.pointer().is_empty() || e.pointer().starts_with('/')) {
        return Err(format!("pointer `{}`", e.pointer()));
    }
    if e.message().is_empty() {
        return Err("an empty message".into());
    }
    Ok(())
}
