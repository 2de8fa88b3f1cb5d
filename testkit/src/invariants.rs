//! The contract's invariants, checked on any decided event by the differential test and
//! the `decide` fuzz target.

use mdm_engine::{AdminAction, Decision, Event, OnApprove, Policy, Reason, UnassignedAccess, UserState};

/// Checks the contract's invariants (issue #6) on one decided event: `state` is the
/// user's state before it. Returns the invariant that does not hold. Determinism is the
/// caller's to check (decide twice), and so is "an error leaves the state unchanged".
pub fn check(
    policy: &Policy,
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
    let doc = policy.doc();
    // Devices the user already had may stay; only the decision must not add past the cap.
    let cap = state.devices.len().max(policy.max_devices(true) as usize);
    match (decision, event) {
        (Decision::Login(d), Event::Login(login)) => {
            let allowed = d.outcome.is_allowed();
            if state.is_rejected(&login.device.device_id) && allowed {
                return Err("a rejected device is never allowed");
            }
            if !allowed && (d.access.app || d.access.sso || d.access.push_mfa) {
                return Err("no access unless allowed");
            }
            if d.assigned {
                if after.devices.len() > cap {
                    return Err("an assigned login never goes over max_devices");
                }
                if allowed
                    && policy.posture(&login.device).has_posture_failure()
                    && !d.reasons.contains(Reason::PostureGrace)
                {
                    return Err(
                        "a device failing posture is never allowed for an assigned user, but in its grace period",
                    );
                }
                if allowed && d.reasons.contains(Reason::PostureGraceExpired) {
                    return Err("a device in expired grace is never allowed for an assigned user");
                }
                let enrollment = doc.enrollment.as_ref().filter(|e| e.required);
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
                if d.access.sso && doc.unassigned.access != UnassignedAccess::Full {
                    return Err("no SSO for an unassigned user unless the policy grants it");
                }
                if d.access.push_mfa && !doc.unassigned.push_mfa {
                    return Err("no push MFA for an unassigned user unless the policy grants it");
                }
            }
            Ok(())
        }
        (Decision::Admin { .. }, Event::Admin(a)) => {
            if a.action == AdminAction::Approve
                && doc.assigned.on_approve == OnApprove::Replace
                && after.devices.len() > cap
            {
                return Err("a replacing approval never goes over max_devices");
            }
            Ok(())
        }
        _ => Err("a decision of the wrong kind for its event"),
    }
}
