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

/// The context of the call in progress.
#[derive(Default)]
struct Scratch {
    principals: Vec<u32>,
    installed: Vec<(u32, bool)>,
    state: e::UserState<u32>,
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

    fn decide_login(&self, context: Vec<t::Fact>, login: t::Device, at: i64) -> t::LoginDecision {
        with_context(context, |principals, installed, state| {
            let at = e::Timestamp::from_millis(at);
            decision(e::abi::decide_login(&self.0, principals, state, &device(login), installed, at))
        })
    }

    fn decide_admin(
        &self,
        context: Vec<t::Fact>,
        request: t::AdminRequest,
    ) -> Result<t::AdminDecision, t::AdminFailure> {
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
        let decided =
            with_context(context, |principals, _, s| e::abi::decide_admin(&self.0, principals, s, &request));
        match decided {
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
        }
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

/// Runs `f` on the call's principals, installed apps and state, built in the scratch
/// lists. Of a stored device, the guest reads its id, serial number, OS type, enrollment
/// and grace (effects name devices by token; the host keeps the rest).
fn with_context<R>(
    facts: Vec<t::Fact>,
    f: impl FnOnce(&[u32], &[(u32, bool)], &e::UserState<u32>) -> R,
) -> R {
    SCRATCH.with_borrow_mut(|Scratch { principals, installed, state }| {
        principals.clear();
        installed.clear();
        state.devices.clear();
        state.pending.clear();
        state.rejected.clear();
        for fact in facts {
            match fact {
                t::Fact::Principal(p) => principals.push(p),
                t::Fact::Installed(i) => installed.push((i.app, i.managed)),
                t::Fact::Active(r) => state.devices.push(e::Registered {
                    device: e::Device { serial_number: r.serial, ..e::Device::new(r.id, os(r.os)) },
                    registered_at: e::Timestamp::from_millis(r.registered_at),
                    enrollment: r.enrollment.map(|x| e::Enrollment {
                        method: method(x.method),
                        at: e::Timestamp::from_millis(x.at),
                    }),
                    noncompliant_since: r.noncompliant_since.map(e::Timestamp::from_millis),
                }),
                t::Fact::Pending(p) => state.pending.push(e::Pending {
                    device: e::Device::new(p.id, e::OsType::Other),
                    requested_at: e::Timestamp::from_millis(p.at),
                }),
                t::Fact::Rejected(r) => {
                    let rejected_at = e::Timestamp::from_millis(r.at);
                    state.rejected.push(e::Rejected { device_id: r.id, rejected_at })
                }
            }
        }
        f(principals, installed, state)
    })
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

fn decision(d: e::LoginDecision<u32>) -> t::LoginDecision {
    t::LoginDecision {
        outcome: match d.outcome {
            e::Outcome::Allow => t::Outcome::Allow,
            e::Outcome::Limited => t::Outcome::Limited,
            e::Outcome::PendingApproval => t::Outcome::PendingApproval,
            e::Outcome::Deny => t::Outcome::Deny,
        },
        assigned: d.assigned,
        access: t::Access { app: d.access.app, sso: d.access.sso, push_mfa: d.access.push_mfa },
        // Both sides declare the reasons in the same order, so the bits are the same.
        reasons: t::Reasons::from_bits_retain(d.reasons.bits()),
        remediation: d.remediation,
        enroll: d.enroll.map(|x| wit_method(x.method)),
        grace_until: d.grace_until.map(e::Timestamp::as_millis),
        configuration: d.configuration.map(|c| t::Configuration {
            min_pin_length: c.min_pin_length,
            require_encryption: c.require_encryption,
            data_separation: c.data_separation,
        }),
        apps: d.apps.map(|apps| {
            apps.into_iter()
                .map(|a| t::Offered {
                    app: a.index,
                    status: match a.status {
                        e::AppStatus::Available => t::AppStatus::Available,
                        e::AppStatus::Managed => t::AppStatus::Managed,
                        e::AppStatus::Unmanaged => t::AppStatus::Unmanaged,
                    },
                })
                .collect()
        }),
        policy: d.policy.name().map(e::PolicyName::index),
        effects: d.effects.into_iter().map(effect).collect(),
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
