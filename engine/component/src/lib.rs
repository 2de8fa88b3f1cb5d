//! The engine exported as a WebAssembly component. Each export delegates to
//! `mdm-engine`; what is here converts between WIT values and engine types.

// wit-bindgen's generated exports are `unsafe extern` shims over the canonical ABI.
#[allow(unsafe_code, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../../wit", world: "mdm" });
}

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
        e::preview::preview_json(&current, &proposed, &population, &at)
            .map_err(error)
            .and_then(|r| serde_json::to_string(&r).map_err(|m| internal(&m.to_string())))
    }
}

/// A compiled policy, owned by the component instance.
struct Policy(e::Policy);

impl GuestPolicy for Policy {
    fn parse(document: String) -> Result<wit::Policy, t::Error> {
        e::Policy::from_json(&document)
            .map(|p| wit::Policy::new(Policy(p)))
            .map_err(error)
    }

    fn warnings(&self) -> Vec<t::Issue> {
        self.0.warnings().iter().map(issue).collect()
    }

    fn user_ids(&self) -> Vec<String> {
        self.0
            .user_ids()
            .names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn group_ids(&self) -> Vec<String> {
        self.0
            .group_ids()
            .names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn decide_login(
        &self,
        who: t::Subject,
        state: t::UserState,
        login: t::Device,
        at: i64,
    ) -> t::LoginDecision {
        let p = &self.0;
        let scope = p.scope(p.subject_interned(who.user, &who.groups));
        decision(p.decide_login(scope, &user_state(state), &device(login), e::Timestamp(at)))
    }

    fn decide_admin(
        &self,
        state: t::UserState,
        action: t::AdminAction,
        target: u32,
        at: i64,
    ) -> Result<Vec<t::Effect>, t::Error> {
        let effects = self.0.decide_admin(
            &user_state(state),
            admin_action(action),
            &target,
            e::Timestamp(at),
        );
        effects
            .map(|v| v.into_iter().map(effect).collect())
            .map_err(error)
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
    e::Device {
        os_version: d
            .os_version
            .and_then(|v| e::Version::from_parts(&[v.major, v.minor, v.patch, v.build])),
        serial_number: d.serial,
        pin_length: d.pin_length,
        encrypted: d.encrypted,
        compromised: d.compromised,
        ..e::Device::new(d.id, os(d.os))
    }
}

fn user_state(s: t::UserState) -> e::UserState<u32> {
    e::UserState {
        devices: s
            .devices
            .into_iter()
            .map(|r| e::Registered {
                device: e::Device {
                    serial_number: r.serial,
                    ..e::Device::new(r.id, os(r.os))
                },
                registered_at: e::Timestamp(r.registered_at),
            })
            .collect(),
        pending: s
            .pending
            .into_iter()
            .map(|p| e::Pending {
                device: e::Device::new(p.id, os(p.os)),
                requested_at: e::Timestamp(p.requested_at),
            })
            .collect(),
        rejected: s
            .rejected
            .into_iter()
            .map(|r| e::Rejected {
                device_id: r.id,
                rejected_at: e::Timestamp(r.rejected_at),
            })
            .collect(),
    }
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
        access: t::Access {
            app: d.access.app,
            sso: d.access.sso,
            push_mfa: d.access.push_mfa,
        },
        // Both sides declare the reasons in the same order, so the bits are the same.
        reasons: t::Reasons::from_bits_retain(d.reasons.bits()),
        remediation: d.remediation,
        effects: d.effects.into_iter().map(effect).collect(),
    }
}

fn effect(x: e::Effect<u32>) -> t::Effect {
    match x {
        e::Effect::AddDevice { device, at } => t::Effect::AddDevice(t::Stamped {
            id: device.device_id,
            at: at.0,
        }),
        e::Effect::RemoveDevice { device_id } => t::Effect::RemoveDevice(device_id),
        e::Effect::AddPending { device, at } => t::Effect::AddPending(t::Stamped {
            id: device.device_id,
            at: at.0,
        }),
        e::Effect::RemovePending { device_id } => t::Effect::RemovePending(device_id),
        e::Effect::AddRejected { device_id, at } => t::Effect::AddRejected(t::Stamped {
            id: device_id,
            at: at.0,
        }),
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
    t::Error {
        code,
        pointer: x.pointer().to_string(),
        message: x.message(),
    }
}

fn internal(message: &str) -> t::Error {
    t::Error {
        code: t::ErrorCode::InvalidPolicy,
        pointer: String::new(),
        message: message.to_string(),
    }
}

fn issue(i: &e::Issue) -> t::Issue {
    t::Issue {
        pointer: i.pointer.clone(),
        message: i.message.clone(),
    }
}

fn validation(v: e::Validation) -> t::Validation {
    t::Validation {
        errors: v.errors.iter().map(issue).collect(),
        warnings: v.warnings.iter().map(issue).collect(),
    }
}
