//! The engine exported as a WebAssembly component. Each export delegates to
//! `mdm-engine`; what is here converts between WIT values and engine types.

// wit-bindgen's generated exports are `unsafe extern` shims over the canonical ABI.
#[allow(unsafe_code, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../wit", world: "mdm" });
}

use std::cell::RefCell;

/// Talc instead of the standard library's dlmalloc, as in the browser module: smaller and
/// faster (see docs/decisions.md). Out of memory is still a trap: talc asks for pages
/// with `memory.grow`, which the host's memory cap refuses.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use bindings::exports::mdm::policy::engine::{self as wit, GuestPolicy};
use bindings::mdm::policy::types as t;
use mdm_engine as e;

struct Component;

// The export glue is `unsafe extern` too, expanded where `export!` is called.
#[allow(unsafe_code)]
mod glue {
    use super::Component;
    crate::bindings::export!(Component with_types_in crate::bindings);
}

/// The context of the call in progress, and the rich parts of the last login's answer.
#[derive(Default)]
struct Scratch {
    principals: Vec<u32>,
    installed: Vec<(u32, bool)>,
    state: e::UserState<u32>,
    details: Details,
}

/// What `login-details` gives: the last login's remediation texts, app store and effects.
#[derive(Default)]
struct Details {
    remediation: Vec<String>,
    apps: Vec<e::OfferedApp>,
    effects: Vec<e::Effect<u32>>,
}

thread_local! {
    /// Kept between calls so that its lists keep their capacity: once warm, a decision
    /// allocates nothing for its context.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl wit::Guest for Component {
    type Policy = Policy;

    fn validate(document: String) -> t::Validation {
        validation(e::validate(&document))
    }

    fn version() -> String {
        e::VERSION.to_string()
    }

    fn preview(
        current: String,
        proposed: String,
        population: String,
        at: String,
    ) -> Result<String, t::Error> {
        let report = e::preview::preview_json(&current, &proposed, &population, &at).map_err(error)?;
        // The report has no map with non-string keys and no fallible `Serialize`, so
        // this cannot fail; if a bug made it, the guest traps and every host reports a
        // fault (fail closed), rather than blaming one of the inputs.
        Ok(report.to_json().unwrap_or_else(|_| std::process::abort()))
    }
}

/// A compiled policy, owned by the component instance.
struct Policy(e::Policy);

impl GuestPolicy for Policy {
    fn parse(document: String) -> Result<wit::Policy, t::Error> {
        e::Policy::from_json(&document).map(|p| wit::Policy::new(Policy(p))).map_err(error)
    }

    fn warnings(&self) -> Vec<t::Issue> {
        self.0.warnings().iter().map(issue).collect()
    }

    fn principals(&self) -> t::Principals {
        let (users, groups) = e::abi::principals(&self.0);
        let names = |ids: &[Box<str>]| ids.iter().map(|s| s.to_string()).collect();
        t::Principals { users: names(users), groups: names(groups) }
    }

    fn apps(&self) -> Vec<t::AppInfo> {
        e::abi::apps(&self.0)
            .map(|(platform, id, name, id_index)| t::AppInfo {
                platform: match platform {
                    e::AppPlatform::Ios => t::AppPlatform::Ios,
                    e::AppPlatform::Android => t::AppPlatform::Android,
                },
                id: id.to_string(),
                name: name.to_string(),
                id_index,
            })
            .collect()
    }

    fn policy_names(&self) -> Option<Vec<String>> {
        self.0.policy_names().map(|names| names.map(str::to_string).collect())
    }

    fn decide_login(
        &self,
        context: Vec<u8>,
        login: t::Device,
        at: i64,
    ) -> Result<t::LoginAnswer, t::ContextError> {
        SCRATCH.with_borrow_mut(|s| {
            e::abi::context::read(&context, &mut s.principals, &mut s.installed, &mut s.state)
                .map_err(context_error)?;
            let at = e::Timestamp::from_millis(at);
            let d = e::abi::decide_login(&self.0, &s.principals, &s.state, &device(login), &s.installed, at);
            Ok(answer(d, &mut s.details))
        })
    }

    fn login_details(&self) -> t::LoginDetails {
        SCRATCH.with_borrow_mut(|s| {
            let d = std::mem::take(&mut s.details);
            t::LoginDetails {
                remediation: d.remediation,
                apps: d
                    .apps
                    .into_iter()
                    .map(|a| t::Offered {
                        app: a.index,
                        status: match a.status {
                            e::AppStatus::Available => t::AppStatus::Available,
                            e::AppStatus::Managed => t::AppStatus::Managed,
                            e::AppStatus::Unmanaged => t::AppStatus::Unmanaged,
                        },
                    })
                    .collect(),
                effects: d.effects.into_iter().map(effect).collect(),
            }
        })
    }

    fn decide_admin(
        &self,
        context: Vec<u8>,
        request: t::AdminRequest,
    ) -> Result<Result<t::AdminDecision, t::AdminFailure>, t::ContextError> {
        let request = e::abi::AdminRequest {
            action: admin_action(request.action),
            device_id: request.target,
            at: e::Timestamp::from_millis(request.at),
            by: match request.by {
                t::Approver::Admin => e::Approver::Admin,
                t::Approver::User => e::Approver::User,
            },
            from_device: match request.from_device {
                t::FromDevice::Missing => e::abi::FromDevice::Missing,
                t::FromDevice::NotADevice => e::abi::FromDevice::NotADevice,
                t::FromDevice::Device(d) => e::abi::FromDevice::Device(d),
            },
            method: request.method.map(method),
        };
        let decided = SCRATCH.with_borrow_mut(|s| {
            s.details = Details::default();
            e::abi::context::read(&context, &mut s.principals, &mut s.installed, &mut s.state)
                .map_err(context_error)?;
            Ok(e::abi::decide_admin(&self.0, &s.principals, &s.state, &request))
        })?;
        Ok(match decided {
            Ok(d) => Ok(t::AdminDecision {
                effects: d.effects.into_iter().map(effect).collect(),
                commands: d
                    .commands
                    .into_iter()
                    .map(|c| t::Command {
                        action: match c.action {
                            e::CommandAction::Deprovision => t::CommandAction::Deprovision,
                            e::CommandAction::Wipe => t::CommandAction::Wipe,
                        },
                        id: c.device_id,
                    })
                    .collect(),
                policy: d.policy.name().map(e::PolicyName::index),
            }),
            Err(f) => Err(match f {
                e::AdminFailure::NoPendingRequest => t::AdminFailure::NoPendingRequest,
                e::AdminFailure::RequestExpired => t::AdminFailure::RequestExpired,
                e::AdminFailure::UnknownDevice => t::AdminFailure::UnknownDevice,
                e::AdminFailure::UnknownApprovingDevice => t::AdminFailure::UnknownApprovingDevice,
                e::AdminFailure::NoApprovingDevice => t::AdminFailure::NoApprovingDevice,
                e::AdminFailure::ApproverNotAllowed => t::AdminFailure::ApproverNotAllowed,
                e::AdminFailure::ApprovingDeviceNotEnrolled => t::AdminFailure::ApprovingDeviceNotEnrolled,
                e::AdminFailure::MethodNotAllowed => t::AdminFailure::MethodNotAllowed,
                e::AdminFailure::MethodOfAnotherPlatform => t::AdminFailure::MethodOfAnotherPlatform,
                e::AdminFailure::NotAssigned => t::AdminFailure::NotAssigned,
            }),
        })
    }

    fn evaluate(&self, groups: Vec<String>, state: String, event: String) -> Result<String, t::Error> {
        let state = if state.is_empty() {
            e::UserState::default()
        } else {
            e::UserState::from_json(&state).map_err(error)?
        };
        let event = e::Event::from_json(&event).map_err(error)?;
        let evaluation = e::evaluate(&self.0, &groups, &state, &event).map_err(error)?;
        // As for the preview's report: nothing in an evaluation can fail to serialise.
        Ok(serde_json::to_string(&evaluation).unwrap_or_else(|_| std::process::abort()))
    }
}

fn method(m: t::EnrollmentMethod) -> e::EnrollmentMethod {
    match m {
        t::EnrollmentMethod::IosProfile => e::EnrollmentMethod::IosProfile,
        t::EnrollmentMethod::AndroidWorkProfile => e::EnrollmentMethod::AndroidWorkProfile,
        t::EnrollmentMethod::SamsungKnox => e::EnrollmentMethod::SamsungKnox,
        t::EnrollmentMethod::AndroidDeviceAdmin => e::EnrollmentMethod::AndroidDeviceAdmin,
    }
}

fn wit_method(m: e::EnrollmentMethod) -> t::EnrollmentMethod {
    match m {
        e::EnrollmentMethod::IosProfile => t::EnrollmentMethod::IosProfile,
        e::EnrollmentMethod::AndroidWorkProfile => t::EnrollmentMethod::AndroidWorkProfile,
        e::EnrollmentMethod::SamsungKnox => t::EnrollmentMethod::SamsungKnox,
        e::EnrollmentMethod::AndroidDeviceAdmin => t::EnrollmentMethod::AndroidDeviceAdmin,
    }
}

fn os(o: t::OsType) -> e::OsType {
    match o {
        t::OsType::Ios => e::OsType::Ios,
        t::OsType::Android => e::OsType::Android,
        t::OsType::Other => e::OsType::Other,
    }
}

fn device(d: t::Device) -> e::Device<u32> {
    let r = d.reported;
    let v = d.os_version;
    let fact = |yes, no| {
        if r.contains(no) {
            Some(false)
        } else if r.contains(yes) {
            Some(true)
        } else {
            None
        }
    };
    e::Device {
        os_version: r
            .contains(t::Reported::OS_VERSION)
            .then(|| e::Version::from_parts(&[v.major, v.minor, v.patch, v.build]))
            .flatten(),
        serial_number: d.serial,
        pin_length: r.contains(t::Reported::PIN_LENGTH).then_some(d.pin_length),
        encrypted: fact(t::Reported::ENCRYPTED, t::Reported::UNENCRYPTED),
        // Compromised wins: `intact` counts only when `compromised` is absent.
        compromised: if r.contains(t::Reported::COMPROMISED) {
            Some(true)
        } else {
            r.contains(t::Reported::INTACT).then_some(false)
        },
        work_profile: r.contains(t::Reported::WORK_PROFILE).then_some(true),
        // Only whether it is Samsung crosses; the one string the rule compares to.
        manufacturer: r.contains(t::Reported::SAMSUNG).then(|| "samsung".to_string()),
        ..e::Device::new(d.id, os(d.os))
    }
}

fn admin_action(a: t::AdminAction) -> e::AdminAction {
    match a {
        t::AdminAction::Approve => e::AdminAction::Approve,
        t::AdminAction::Reject => e::AdminAction::Reject,
        t::AdminAction::Unblock => e::AdminAction::Unblock,
        t::AdminAction::RemoveDevice => e::AdminAction::RemoveDevice,
        t::AdminAction::Enrolled => e::AdminAction::Enrolled,
        t::AdminAction::Deprovision => e::AdminAction::Deprovision,
        t::AdminAction::Wipe => e::AdminAction::Wipe,
    }
}

/// The flat answer to a login; its rich parts go to `details` for `login-details`.
fn answer(d: e::LoginDecision<u32>, details: &mut Details) -> t::LoginAnswer {
    let mut has = t::Details::empty();
    let mut grant = t::Grant::empty();
    for (yes, flag) in [
        (d.assigned, t::Grant::ASSIGNED),
        (d.access.app, t::Grant::APP),
        (d.access.sso, t::Grant::SSO),
        (d.access.push_mfa, t::Grant::PUSH_MFA),
    ] {
        if yes {
            grant |= flag;
        }
    }
    let policy = d.policy.name().map(e::PolicyName::index);
    let configuration = d.configuration;
    let enroll = d.enroll.map(|x| wit_method(x.method));
    for (yes, flag) in [
        (policy.is_some(), t::Details::POLICY),
        (configuration.is_some(), t::Details::CONFIGURATION),
        (enroll.is_some(), t::Details::ENROLL),
        (d.grace_until.is_some(), t::Details::GRACE),
        (d.apps.is_some(), t::Details::STORE),
        (!d.remediation.is_empty(), t::Details::REMEDIATION),
        (d.apps.as_ref().is_some_and(|a| !a.is_empty()), t::Details::APPS),
        (!d.effects.is_empty(), t::Details::EFFECTS),
    ] {
        if yes {
            has |= flag;
        }
    }
    let mut applies = t::Configuration::empty();
    if configuration.is_some_and(|c| c.require_encryption) {
        applies |= t::Configuration::REQUIRE_ENCRYPTION;
    }
    if configuration.is_some_and(|c| c.data_separation) {
        applies |= t::Configuration::DATA_SEPARATION;
    }
    *details = Details { remediation: d.remediation, apps: d.apps.unwrap_or_default(), effects: d.effects };
    t::LoginAnswer {
        outcome: match d.outcome {
            e::Outcome::Allow => t::Outcome::Allow,
            e::Outcome::Limited => t::Outcome::Limited,
            e::Outcome::PendingApproval => t::Outcome::PendingApproval,
            e::Outcome::Deny => t::Outcome::Deny,
        },
        grant,
        // Both sides declare the reasons in the same order, so the bits are the same.
        reasons: t::Reasons::from_bits_retain(d.reasons.bits()),
        details: has,
        policy: policy.unwrap_or(0),
        min_pin_length: configuration.map_or(0, |c| c.min_pin_length),
        configuration: applies,
        // Read only when `details` has `enroll`.
        enroll: enroll.unwrap_or(t::EnrollmentMethod::IosProfile),
        grace_until: d.grace_until.map_or(0, e::Timestamp::as_millis),
    }
}

fn context_error(x: e::abi::context::ContextError) -> t::ContextError {
    match x {
        e::abi::context::ContextError::Truncated => t::ContextError::Truncated,
        e::abi::context::ContextError::Trailing => t::ContextError::Trailing,
        e::abi::context::ContextError::BadValue => t::ContextError::BadValue,
    }
}

fn effect(x: e::Effect<u32>) -> t::Effect {
    match x {
        e::Effect::AddDevice { device, at } => {
            t::Effect::AddDevice(t::Stamped { id: device.device_id, at: at.as_millis() })
        }
        e::Effect::RemoveDevice { device_id } => t::Effect::RemoveDevice(device_id),
        e::Effect::AddPending { device, at } => {
            t::Effect::AddPending(t::Stamped { id: device.device_id, at: at.as_millis() })
        }
        e::Effect::RemovePending { device_id } => t::Effect::RemovePending(device_id),
        e::Effect::AddRejected { device_id, at } => {
            t::Effect::AddRejected(t::Stamped { id: device_id, at: at.as_millis() })
        }
        e::Effect::RemoveRejected { device_id } => t::Effect::RemoveRejected(device_id),
        e::Effect::SetNoncompliant { device_id, at } => {
            t::Effect::SetNoncompliant(t::Stamped { id: device_id, at: at.as_millis() })
        }
        e::Effect::ClearNoncompliant { device_id } => t::Effect::ClearNoncompliant(device_id),
        e::Effect::SetEnrollment { device_id, method, at } => t::Effect::SetEnrollment(t::Enrolled {
            id: device_id,
            method: wit_method(method),
            at: at.as_millis(),
        }),
    }
}

fn error(x: e::Error) -> t::Error {
    let code = match x.code() {
        e::ErrorCode::InvalidPolicy => t::ErrorCode::InvalidPolicy,
        e::ErrorCode::InvalidEvent => t::ErrorCode::InvalidEvent,
        e::ErrorCode::InvalidState => t::ErrorCode::InvalidState,
        e::ErrorCode::NoPendingRequest => t::ErrorCode::NoPendingRequest,
        e::ErrorCode::RequestExpired => t::ErrorCode::RequestExpired,
        e::ErrorCode::UnknownDevice => t::ErrorCode::UnknownDevice,
        e::ErrorCode::NotPermitted => t::ErrorCode::NotPermitted,
    };
    t::Error { code, pointer: x.pointer().to_string(), message: x.message() }
}

fn issue(i: &e::Issue) -> t::Issue {
    use e::IssueCode as C;
    let code = match i.code {
        C::Syntax => t::IssueCode::Syntax,
        C::UnknownField => t::IssueCode::UnknownField,
        C::MissingField => t::IssueCode::MissingField,
        C::InvalidType => t::IssueCode::InvalidType,
        C::InvalidValue => t::IssueCode::InvalidValue,
        C::OutOfRange => t::IssueCode::OutOfRange,
        C::InvalidId => t::IssueCode::InvalidId,
        C::InvalidVersion => t::IssueCode::InvalidVersion,
        C::Duplicate => t::IssueCode::Duplicate,
        C::Empty => t::IssueCode::Empty,
        C::UnsupportedSchema => t::IssueCode::UnsupportedSchema,
        C::IncludedAndExcluded => t::IssueCode::IncludedAndExcluded,
    };
    t::Issue { code, pointer: i.pointer.clone(), message: i.message.clone() }
}

fn validation(v: e::Validation) -> t::Validation {
    t::Validation {
        errors: v.errors.iter().map(issue).collect(),
        warnings: v.warnings.iter().map(issue).collect(),
    }
}
