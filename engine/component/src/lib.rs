//! The engine exported as a WebAssembly component. Each export delegates to
//! `mdm-engine`; what is here converts between WIT values and engine types.

// wit-bindgen's generated exports are `unsafe extern` shims over the canonical ABI.
#[allow(unsafe_code, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../../wit", world: "mdm" });
}

use std::cell::RefCell;

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
        Ok(serde_json::to_string(&report).unwrap_or_else(|_| std::process::abort()))
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

    fn decide_login(&self, context: Vec<t::Fact>, login: t::Device, at: i64) -> t::LoginDecision {
        with_context(context, |principals, state| {
            let at = e::Timestamp::from_millis(at);
            decision(e::abi::decide_login(&self.0, principals, state, &device(login), at))
        })
    }

    fn decide_admin(
        &self,
        state: Vec<t::Fact>,
        action: t::AdminAction,
        target: u32,
        at: i64,
    ) -> Result<Vec<t::Effect>, t::Error> {
        let effects = with_context(state, |_, s| {
            e::abi::decide_admin(&self.0, s, admin_action(action), &target, e::Timestamp::from_millis(at))
        });
        effects.map(|v| v.into_iter().map(effect).collect()).map_err(error)
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
        ..e::Device::new(d.id, os(d.os))
    }
}

/// Runs `f` on the call's principals and state, built in the scratch lists. The guest
/// never reads a stored device's OS type (effects name devices by token), so `Other`
/// stands in.
fn with_context<R>(facts: Vec<t::Fact>, f: impl FnOnce(&[u32], &e::UserState<u32>) -> R) -> R {
    SCRATCH.with_borrow_mut(|Scratch { principals, state }| {
        principals.clear();
        state.devices.clear();
        state.pending.clear();
        state.rejected.clear();
        for fact in facts {
            match fact {
                t::Fact::Principal(p) => principals.push(p),
                t::Fact::Active(r) => state.devices.push(e::Registered {
                    device: e::Device { serial_number: r.serial, ..e::Device::new(r.id, e::OsType::Other) },
                    registered_at: e::Timestamp::from_millis(r.registered_at),
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
        f(principals, state)
    })
}

fn admin_action(a: t::AdminAction) -> e::AdminAction {
    match a {
        t::AdminAction::Approve => e::AdminAction::Approve,
        t::AdminAction::Reject => e::AdminAction::Reject,
        t::AdminAction::Unblock => e::AdminAction::Unblock,
        t::AdminAction::RemoveDevice => e::AdminAction::RemoveDevice,
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
    };
    t::Error { code, pointer: x.pointer().to_string(), message: x.message() }
}

fn issue(i: &e::Issue) -> t::Issue {
    t::Issue { pointer: i.pointer.clone(), message: i.message.clone() }
}

fn validation(v: e::Validation) -> t::Validation {
    t::Validation {
        errors: v.errors.iter().map(issue).collect(),
        warnings: v.warnings.iter().map(issue).collect(),
    }
}
