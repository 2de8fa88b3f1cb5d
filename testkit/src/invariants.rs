//! The contract's invariants, checked on any decided event by the differential test and
//! the `decide` fuzz target.

use mdm_engine::{
    AdminAction, AssignedSettings, Decision, EnrollmentSettings, Event, OnApprove, Policy, PolicyDocument,
    Reason, UnassignedAccess, UnassignedSettings, UserPlacement, UserState,
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
    match (policy.doc(), decision.policy().name()) {
        (PolicyDocument::Set(set), Some(name)) => {
            let entry = set.policies.get(name.index() as usize);
            if !entry.is_some_and(|e| e.enabled && e.name.as_deref() == Some(name.name())) {
                return Err("a user is assigned only under an enabled policy of the set, by its own name");
            }
        }
        (PolicyDocument::Set(_), None) if placed.assigned() => {
            return Err("an assigned user of a set has a policy");
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
            if state.is_rejected(&login.device.device_id) && allowed {
                return Err("a rejected device is never allowed");
            }
            if !allowed && (d.access.app || d.access.sso || d.access.push_mfa) {
                return Err("no access unless allowed");
            }
            if d.assigned != placed.assigned() {
                return Err("a login is assigned exactly when the policy places its user so");
            }
            if d.assigned {
                if after.devices.len() > cap {
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
                let enrollment = user_settings(policy, &placed).and_then(|(_, e)| e).filter(|e| e.required);
                let enrolled = state
                    .device(&login.device.device_id)
                    .and_then(|r| r.enrollment)
                    .is_some_and(|e| enrollment.is_some_and(|x| x.methods.contains(&e.method)));
                if enrollment.is_some() && !enrolled && (d.access.sso || d.access.push_mfa) {
                    return Err("an unenrolled device never gets SSO or push MFA under enrollment.required");
                }
            } else {
                if d.apps.is_some() || d.enroll.is_some() || d.configuration.is_some() {
                    return Err("an unassigned user never gets apps, an enrollment or a configuration");
                }
                if d.reasons.has_posture_failure() || d.reasons.contains(Reason::EnrollmentRequired) {
                    return Err("an unassigned user is never held to a policy's requirements or enrollment");
                }
                let u = unassigned(policy);
                if d.access.sso && u.is_none_or(|u| u.access != UnassignedAccess::Full) {
                    return Err("no SSO for an unassigned user unless the policy grants it");
                }
                if d.access.push_mfa && u.is_none_or(|u| !u.push_mfa) {
                    return Err("no push MFA for an unassigned user unless the policy grants it");
                }
            }
            Ok(())
        }
        (Decision::Admin { .. }, Event::Admin(a)) => {
            let replaces =
                user_settings(policy, &placed).is_some_and(|(s, _)| s.on_approve == OnApprove::Replace);
            if a.action == AdminAction::Approve && replaces && after.devices.len() > cap {
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
