//! Engine types to WIT values and back. Ids become tokens on the way in and ids again on
//! the way out; everything else is a field-by-field copy.

use std::sync::Arc;

use mdm_engine as e;

use crate::HostError;
use crate::bindings::mdm::policy::types as t;
use crate::tokens::Tokens;

pub(crate) fn os(o: e::OsType) -> t::OsType {
    match o {
        e::OsType::Ios => t::OsType::Ios,
        e::OsType::Android => t::OsType::Android,
        e::OsType::Other => t::OsType::Other,
    }
}

pub(crate) fn device<'a>(d: &'a e::Device, tok: &mut Tokens<'a>) -> t::Device {
    let mut reported = t::Reported::empty();
    let [major, minor, patch, build] = d.os_version.map(|v| v.parts()).unwrap_or_default();
    if d.os_version.is_some() {
        reported |= t::Reported::OS_VERSION;
    }
    if d.pin_length.is_some() {
        reported |= t::Reported::PIN_LENGTH;
    }
    match d.encrypted {
        Some(true) => reported |= t::Reported::ENCRYPTED,
        Some(false) => reported |= t::Reported::UNENCRYPTED,
        None => {}
    }
    match d.compromised {
        Some(true) => reported |= t::Reported::COMPROMISED,
        Some(false) => reported |= t::Reported::INTACT,
        None => {}
    }
    let fit = d.fit();
    if fit.work_profile {
        reported |= t::Reported::WORK_PROFILE;
    }
    if fit.samsung {
        reported |= t::Reported::SAMSUNG;
    }
    t::Device {
        id: tok.token(&d.device_id),
        os: os(d.os_type),
        serial: d.serial_number.as_ref().map(|s| tok.token(s)),
        os_version: t::Version { major, minor, patch, build },
        pin_length: d.pin_length.unwrap_or(0),
        reported,
    }
}

/// Packs a call's context into `out`: the principals, the installed apps and the stored
/// state, its device ids as tokens (kept in `ids`, a buffer reused from call to call).
pub(crate) fn context<'a>(
    out: &mut Vec<u8>,
    ids: &mut Vec<u32>,
    principals: &[u32],
    installed: &[(u32, bool)],
    s: &'a e::UserState,
    tok: &mut Tokens<'a>,
) {
    use e::abi::context::{Active, write};
    // Every id gets its token first, in the order the lists are written: two per active
    // device (its id, its serial or none), then one per request and rejection.
    const NONE: u32 = u32::MAX;
    ids.clear();
    for r in &s.devices {
        ids.push(tok.token(&r.device.device_id));
        ids.push(r.device.serial_number.as_ref().map_or(NONE, |x| tok.token(x)));
    }
    ids.extend(s.pending.iter().map(|p| tok.token(&p.device.device_id)));
    ids.extend(s.rejected.iter().map(|r| tok.token(&r.device_id)));
    let (devices, rest) = ids.split_at_checked(2 * s.devices.len()).unwrap_or_default();
    let (pending, rejected) = rest.split_at_checked(s.pending.len()).unwrap_or_default();
    let active = s.devices.iter().zip(devices.chunks_exact(2)).map(|(r, pair)| {
        let (id, serial) = match pair {
            [id, serial] => (*id, (*serial != NONE).then_some(*serial)),
            _ => (NONE, None),
        };
        Active {
            id,
            serial,
            os: r.device.os_type,
            registered_at: r.registered_at,
            enrollment: r.enrollment,
            noncompliant_since: r.noncompliant_since,
        }
    });
    let pending = pending.iter().zip(&s.pending).map(|(t, p)| (*t, p.requested_at));
    let rejected = rejected.iter().zip(&s.rejected).map(|(t, r)| (*t, r.rejected_at));
    write(out, principals, installed, active, pending, rejected);
}

/// A context the guest refused: this host packed it wrong.
pub(crate) fn context_error(x: t::ContextError) -> HostError {
    HostError::Protocol(format!("the guest refused the call's context: {x:?}"))
}

pub(crate) fn method(m: e::EnrollmentMethod) -> t::EnrollmentMethod {
    match m {
        e::EnrollmentMethod::IosProfile => t::EnrollmentMethod::IosProfile,
        e::EnrollmentMethod::AndroidWorkProfile => t::EnrollmentMethod::AndroidWorkProfile,
        e::EnrollmentMethod::SamsungKnox => t::EnrollmentMethod::SamsungKnox,
        e::EnrollmentMethod::AndroidDeviceAdmin => t::EnrollmentMethod::AndroidDeviceAdmin,
    }
}

fn engine_method(m: t::EnrollmentMethod) -> e::EnrollmentMethod {
    match m {
        t::EnrollmentMethod::IosProfile => e::EnrollmentMethod::IosProfile,
        t::EnrollmentMethod::AndroidWorkProfile => e::EnrollmentMethod::AndroidWorkProfile,
        t::EnrollmentMethod::SamsungKnox => e::EnrollmentMethod::SamsungKnox,
        t::EnrollmentMethod::AndroidDeviceAdmin => e::EnrollmentMethod::AndroidDeviceAdmin,
    }
}

/// An admin event as the guest reads it: ids as tokens.
pub(crate) fn admin_request<'a>(
    r: &'a e::abi::AdminRequest<e::Text>,
    tok: &mut Tokens<'a>,
) -> t::AdminRequest {
    t::AdminRequest {
        action: match r.action {
            e::AdminAction::Approve => t::AdminAction::Approve,
            e::AdminAction::Reject => t::AdminAction::Reject,
            e::AdminAction::Unblock => t::AdminAction::Unblock,
            e::AdminAction::RemoveDevice => t::AdminAction::RemoveDevice,
            e::AdminAction::Enrolled => t::AdminAction::Enrolled,
            e::AdminAction::Deprovision => t::AdminAction::Deprovision,
            e::AdminAction::Wipe => t::AdminAction::Wipe,
        },
        target: tok.token(&r.device_id),
        at: r.at.as_millis(),
        by: match r.by {
            e::Approver::Admin => t::Approver::Admin,
            e::Approver::User => t::Approver::User,
        },
        from_device: match &r.from_device {
            e::abi::FromDevice::Missing => t::FromDevice::Missing,
            e::abi::FromDevice::NotADevice => t::FromDevice::NotADevice,
            e::abi::FromDevice::Device(id) => t::FromDevice::Device(tok.token(id)),
        },
        method: r.method.map(method),
    }
}

pub(crate) fn admin_failure(f: t::AdminFailure) -> e::AdminFailure {
    match f {
        t::AdminFailure::NoPendingRequest => e::AdminFailure::NoPendingRequest,
        t::AdminFailure::RequestExpired => e::AdminFailure::RequestExpired,
        t::AdminFailure::UnknownDevice => e::AdminFailure::UnknownDevice,
        t::AdminFailure::UnknownApprovingDevice => e::AdminFailure::UnknownApprovingDevice,
        t::AdminFailure::NoApprovingDevice => e::AdminFailure::NoApprovingDevice,
        t::AdminFailure::ApproverNotAllowed => e::AdminFailure::ApproverNotAllowed,
        t::AdminFailure::ApprovingDeviceNotEnrolled => e::AdminFailure::ApprovingDeviceNotEnrolled,
        t::AdminFailure::MethodNotAllowed => e::AdminFailure::MethodNotAllowed,
        t::AdminFailure::MethodOfAnotherPlatform => e::AdminFailure::MethodOfAnotherPlatform,
        t::AdminFailure::NotAssigned => e::AdminFailure::NotAssigned,
    }
}

pub(crate) fn commands(commands: Vec<t::Command>, tok: &Tokens<'_>) -> Result<Vec<e::Command>, HostError> {
    commands
        .into_iter()
        .map(|c| {
            let device_id = tok
                .id(c.id)
                .cloned()
                .ok_or_else(|| HostError::Protocol(format!("unknown device token {}", c.id)))?;
            let action = match c.action {
                t::CommandAction::Deprovision => e::CommandAction::Deprovision,
                t::CommandAction::Wipe => e::CommandAction::Wipe,
            };
            Ok(e::Command { action, device_id })
        })
        .collect()
}

/// An app of the policy's store, as the host keeps it to resolve offered apps.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) id: Arc<str>,
    pub(crate) name: Arc<str>,
}

/// Maps the guest's effects back to ids. A registered or requested device is the login
/// device or, for an approval, the pending request's device.
pub(crate) fn effects(
    effects: Vec<t::Effect>,
    tok: &Tokens<'_>,
    login: Option<&e::Device>,
    state: &e::UserState,
) -> Result<Vec<e::Effect>, HostError> {
    let id = |token: u32| {
        tok.id(token).cloned().ok_or_else(|| HostError::Protocol(format!("unknown device token {token}")))
    };
    let device = |token: u32| -> Result<e::Device, HostError> {
        let want = id(token)?;
        login
            .filter(|d| d.device_id == want)
            .or_else(|| state.pending_for(&want).map(|p| &p.device))
            .cloned()
            .ok_or_else(|| HostError::Protocol(format!("no device `{want}` to register")))
    };
    effects
        .into_iter()
        .map(|x| {
            Ok(match x {
                t::Effect::AddDevice(s) => {
                    e::Effect::AddDevice { device: device(s.id)?, at: e::Timestamp::from_millis(s.at) }
                }
                t::Effect::RemoveDevice(i) => e::Effect::RemoveDevice { device_id: id(i)? },
                t::Effect::AddPending(s) => {
                    e::Effect::AddPending { device: device(s.id)?, at: e::Timestamp::from_millis(s.at) }
                }
                t::Effect::RemovePending(i) => e::Effect::RemovePending { device_id: id(i)? },
                t::Effect::AddRejected(s) => {
                    e::Effect::AddRejected { device_id: id(s.id)?, at: e::Timestamp::from_millis(s.at) }
                }
                t::Effect::RemoveRejected(i) => e::Effect::RemoveRejected { device_id: id(i)? },
                t::Effect::SetNoncompliant(s) => {
                    e::Effect::SetNoncompliant { device_id: id(s.id)?, at: e::Timestamp::from_millis(s.at) }
                }
                t::Effect::ClearNoncompliant(i) => e::Effect::ClearNoncompliant { device_id: id(i)? },
                t::Effect::SetEnrollment(x) => e::Effect::SetEnrollment {
                    device_id: id(x.id)?,
                    method: engine_method(x.method),
                    at: e::Timestamp::from_millis(x.at),
                },
            })
        })
        .collect()
}

/// A decision's `policy` index as its key, with the names the policy set gave at load
/// (`None` for a version 1 or 2 document, whose decisions carry no key).
pub(crate) fn policy_key(index: Option<u32>, names: Option<&[Arc<str>]>) -> Result<e::PolicyKey, HostError> {
    match (names, index) {
        (None, None) => Ok(e::PolicyKey::Absent),
        (None, Some(i)) => Err(HostError::Protocol(format!("policy {i} from a document that is not a set"))),
        (Some(_), None) => Ok(e::PolicyKey::Null),
        (Some(names), Some(i)) => {
            let name =
                names.get(i as usize).ok_or_else(|| HostError::Protocol(format!("unknown policy {i}")))?;
            Ok(e::PolicyKey::Named(e::PolicyName::new(i, name.clone())))
        }
    }
}

/// Whether a login's answer has parts that `login-details` gives.
pub(crate) fn has_details(answer: &t::LoginAnswer) -> bool {
    answer.details & (t::Details::REMEDIATION | t::Details::APPS | t::Details::EFFECTS) != t::Details::empty()
}

pub(crate) fn decision(
    d: t::LoginAnswer,
    details: Option<t::LoginDetails>,
    tok: &Tokens<'_>,
    login: &e::Device,
    state: &e::UserState,
    apps: &[App],
    names: Option<&[Arc<str>]>,
) -> Result<e::LoginDecision, HostError> {
    let offered = |o: t::Offered| {
        let app =
            apps.get(o.app as usize).ok_or_else(|| HostError::Protocol(format!("unknown app {}", o.app)))?;
        let status = match o.status {
            t::AppStatus::Available => e::AppStatus::Available,
            t::AppStatus::Managed => e::AppStatus::Managed,
            t::AppStatus::Unmanaged => e::AppStatus::Unmanaged,
        };
        Ok(e::OfferedApp { index: o.app, id: app.id.clone(), name: app.name.clone(), status })
    };
    let has = |part| d.details.contains(part);
    let granted = |flag| d.grant.contains(flag);
    let details =
        details.unwrap_or(t::LoginDetails { remediation: Vec::new(), apps: Vec::new(), effects: Vec::new() });
    // A part the answer announced and the details lack, or the reverse, is a broken guest.
    if has(t::Details::REMEDIATION) == details.remediation.is_empty()
        || has(t::Details::EFFECTS) == details.effects.is_empty()
        || has(t::Details::APPS) == details.apps.is_empty()
        || (has(t::Details::APPS) && !has(t::Details::STORE))
    {
        return Err(HostError::Protocol("the login's details disagree with its answer".into()));
    }
    Ok(e::LoginDecision {
        outcome: match d.outcome {
            t::Outcome::Allow => e::Outcome::Allow,
            t::Outcome::Limited => e::Outcome::Limited,
            t::Outcome::PendingApproval => e::Outcome::PendingApproval,
            t::Outcome::Deny => e::Outcome::Deny,
        },
        assigned: granted(t::Grant::ASSIGNED),
        access: e::Access {
            app: granted(t::Grant::APP),
            sso: granted(t::Grant::SSO),
            push_mfa: granted(t::Grant::PUSH_MFA),
        },
        // Both sides declare the reasons in the same order, so the bits are the same.
        reasons: e::Reasons::from_bits(d.reasons.as_array().first().copied().unwrap_or(0)),
        remediation: details.remediation,
        enroll: has(t::Details::ENROLL).then(|| e::Enroll { method: engine_method(d.enroll) }),
        grace_until: has(t::Details::GRACE).then(|| e::Timestamp::from_millis(d.grace_until)),
        configuration: has(t::Details::CONFIGURATION).then(|| e::Configuration {
            min_pin_length: d.min_pin_length,
            require_encryption: d.configuration.contains(t::Configuration::REQUIRE_ENCRYPTION),
            data_separation: d.configuration.contains(t::Configuration::DATA_SEPARATION),
        }),
        apps: has(t::Details::STORE)
            .then(|| details.apps.into_iter().map(offered).collect::<Result<Vec<_>, HostError>>())
            .transpose()?,
        policy: policy_key(has(t::Details::POLICY).then_some(d.policy), names)?,
        effects: effects(details.effects, tok, Some(login), state)?,
    })
}

/// A guest error about a document (a policy to parse, a preview's inputs). An admin code
/// cannot answer such a call: a guest that sends one is broken, and says so.
pub(crate) fn document_error(x: t::Error) -> HostError {
    let kind = match x.code {
        t::ErrorCode::InvalidPolicy => e::DocumentKind::Policy,
        t::ErrorCode::InvalidEvent => e::DocumentKind::Event,
        t::ErrorCode::InvalidState => e::DocumentKind::State,
        t::ErrorCode::NoPendingRequest
        | t::ErrorCode::RequestExpired
        | t::ErrorCode::UnknownDevice
        | t::ErrorCode::NotPermitted => {
            return HostError::Protocol(format!("an admin error about a document: {}", x.message));
        }
    };
    HostError::Engine(kind.error(x.pointer, x.message))
}

pub(crate) fn issue(i: t::Issue) -> e::Issue {
    use t::IssueCode as C;
    let code = match i.code {
        C::Syntax => e::IssueCode::Syntax,
        C::UnknownField => e::IssueCode::UnknownField,
        C::MissingField => e::IssueCode::MissingField,
        C::InvalidType => e::IssueCode::InvalidType,
        C::InvalidValue => e::IssueCode::InvalidValue,
        C::OutOfRange => e::IssueCode::OutOfRange,
        C::InvalidId => e::IssueCode::InvalidId,
        C::InvalidVersion => e::IssueCode::InvalidVersion,
        C::Duplicate => e::IssueCode::Duplicate,
        C::Empty => e::IssueCode::Empty,
        C::UnsupportedSchema => e::IssueCode::UnsupportedSchema,
        C::IncludedAndExcluded => e::IssueCode::IncludedAndExcluded,
    };
    e::Issue { code, pointer: i.pointer, message: i.message }
}

pub(crate) fn validation(v: t::Validation) -> e::Validation {
    e::Validation {
        errors: v.errors.into_iter().map(issue).collect(),
        warnings: v.warnings.into_iter().map(issue).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest_error(code: t::ErrorCode) -> t::Error {
        t::Error { code, pointer: "/x".into(), message: "m".into() }
    }

    /// No error code is turned into another: an answer out of contract is a fault.
    #[test]
    fn guest_errors_keep_their_code_or_are_faults() {
        let doc = |c| document_error(guest_error(c)).code();
        assert_eq!(doc(t::ErrorCode::InvalidPolicy), "invalid_policy");
        assert_eq!(doc(t::ErrorCode::InvalidEvent), "invalid_event");
        assert_eq!(doc(t::ErrorCode::InvalidState), "invalid_state");
        assert_eq!(doc(t::ErrorCode::NoPendingRequest), "host.protocol");
        assert_eq!(doc(t::ErrorCode::NotPermitted), "host.protocol");
    }

    /// The guest and host pass reasons as bits; both rely on the WIT `flags` declaring
    /// them in the engine's firing order.
    #[test]
    fn reason_flags_follow_the_engine_order() {
        let flags = [
            t::Reasons::SCOPE_DISABLED,
            t::Reasons::SCOPE_EXCLUDED_USER,
            t::Reasons::SCOPE_EXCLUDED_GROUP,
            t::Reasons::SCOPE_USER,
            t::Reasons::SCOPE_GROUP,
            t::Reasons::SCOPE_ORGANIZATION,
            t::Reasons::SCOPE_NONE,
            t::Reasons::DEVICE_REJECTED,
            t::Reasons::DEVICE_SERIAL_MISMATCH,
            t::Reasons::POSTURE_PLATFORM,
            t::Reasons::POSTURE_OS_VERSION,
            t::Reasons::POSTURE_PIN,
            t::Reasons::POSTURE_ENCRYPTION,
            t::Reasons::POSTURE_COMPROMISED,
            t::Reasons::ENROLLMENT_UNSUPPORTED,
            t::Reasons::POSTURE_GRACE,
            t::Reasons::POSTURE_GRACE_EXPIRED,
            t::Reasons::DEVICE_KNOWN,
            t::Reasons::DEVICE_FIRST,
            t::Reasons::DEVICE_WITHIN_LIMIT,
            t::Reasons::DEVICE_PENDING,
            t::Reasons::DEVICE_APPROVAL_REQUESTED,
            t::Reasons::DEVICE_REQUEST_EXPIRED,
            t::Reasons::DEVICE_LIMIT_REACHED,
            t::Reasons::DEVICE_REPLACED,
            t::Reasons::ENROLLMENT_REQUIRED,
            t::Reasons::APPS_UNMANAGED,
        ];
        assert_eq!(flags.len(), e::Reason::ALL.len());
        for (flag, reason) in flags.iter().zip(e::Reason::ALL) {
            let bits = flag.as_array()[0];
            assert_eq!(e::Reasons::from_bits(bits).iter().collect::<Vec<_>>(), vec![*reason]);
            let kebab = reason.as_str().replace(['.', '_'], "-");
            assert!(
                format!("{flag:?}").to_lowercase().replace('_', "-").contains(&kebab),
                "{flag:?} {kebab}"
            );
        }
    }
}
