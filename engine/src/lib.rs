//! mdm-policy's engine: the policy model, its validation, login and admin decisions, and
//! the what-if preview of the contract (`docs/contract.md`, versions 1 to 3).
//!
//! The engine is a pure function: no I/O, no clock, no randomness, no global state. A
//! [`Policy`] is parsed, validated and indexed once; each decision then reads it.
//!
//! ```
//! use mdm_engine::{Policy, UserState, Event, decide};
//! let policy = Policy::from_json(r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]}}"#)?;
//! let event = Event::from_json(r#"{"type":"login","user":"alice","at":"2026-11-22T10:00:00Z",
//!     "device":{"device_id":"A1","os_type":"ios"}}"#)?;
//! let state = UserState::default();
//! let decision = decide(&policy, &["sales"], &state, &event)?;
//! assert_eq!(serde_json::to_value(&decision).unwrap()["outcome"], "allow");
//! # Ok::<(), mdm_engine::Error>(())
//! ```

#[doc(hidden)]
pub mod abi;
mod decide;
mod device;
mod document;
mod error;
mod event;
mod ids;
mod json;
mod manage;
mod outcome;
mod policy;
pub mod preview;
#[cfg(feature = "schema")]
pub mod schema;
#[cfg(feature = "schema")]
mod schema_parts;
mod sort;
mod time;
mod version;

pub use decide::{AdminDecision, LoginDecision};
pub use device::{Device, Effect, MAX_LABEL_CHARS, Pending, Registered, Rejected, StateError, UserState};
pub use document::DocumentKind;
pub use error::{AdminFailure, Error, ErrorCode};
pub use event::{Admin, AdminAction, Event, Login};
pub use ids::{MAX_DEVICE_ID_CHARS, MAX_ID_BYTES, MAX_POLICY_NAME_BYTES, OsType, Text, TextError};
pub use manage::{
    AppPlatform, AppStatus, Approver, Command, CommandAction, Configuration, Enroll, Enrollment,
    EnrollmentMethod, InstalledApp, MAX_INSTALLED_APPS, OfferedApp,
};
pub use outcome::{Access, Outcome, Reason, Reasons};
pub use policy::{
    AppDoc, AssignedOnNewDevice, AssignedSettings, Assignment, ConfigurationSettings, DeviceMatch,
    EnrollmentSettings, Issue, IssueCode, MAX_APPS, MAX_DEVICES_LIMIT, MAX_PIN_LENGTH, MAX_POLICIES,
    OnApprove, OsVersions, Policy, PolicyDoc, PolicyDocument, PolicyEntryDoc, PolicyKey, PolicyName,
    PolicySetDoc, Requirements, SCHEMA, SCHEMA_V2, SCHEMA_V3, SchemaVersion, UnassignedAccess,
    UnassignedOnNewDevice, UnassignedSettings, UserPlacement, Validation, validate,
};
pub use time::{TimeError, Timestamp};
pub use version::{Version, VersionError};

/// The engine's version, as its crate is numbered: what a host reports beside its
/// decisions, so a log says which rules decided.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

use serde::Serialize;

/// The answer to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Decision<K = Text> {
    /// A login's decision.
    Login(LoginDecision<K>),
    /// An admin event's state changes and device commands.
    Admin {
        /// The state changes, in order.
        effects: Vec<Effect<K>>,
        /// The commands the gateway sends to the device (`deprovision`, `wipe`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        commands: Vec<Command<K>>,
        /// The user's policy now, under a version 3 document.
        #[serde(skip_serializing_if = "PolicyKey::is_absent")]
        policy: PolicyKey,
    },
}

impl<K> Decision<K> {
    /// The state changes, in order.
    pub fn effects(&self) -> &[Effect<K>] {
        match self {
            Decision::Login(d) => &d.effects,
            Decision::Admin { effects, .. } => effects,
        }
    }

    /// The user's policy, under a version 3 document.
    pub fn policy(&self) -> &PolicyKey {
        match self {
            Decision::Login(d) => &d.policy,
            Decision::Admin { policy, .. } => policy,
        }
    }

    /// The login decision, if this was a login.
    pub fn login(&self) -> Option<&LoginDecision<K>> {
        match self {
            Decision::Login(d) => Some(d),
            Decision::Admin { .. } => None,
        }
    }
}

/// A decision and the state it leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// The decision.
    pub decision: Decision,
    /// The user's state after the decision's effects.
    pub state: UserState,
}

/// Decides `event` and applies its effects: what a caller that keeps the state as a
/// document (the CLI, the JS package) needs in one step.
pub fn evaluate<G: AsRef<str>>(
    policy: &Policy,
    groups: &[G],
    state: &UserState,
    event: &Event,
) -> Result<Evaluation, Error> {
    let decision = decide(policy, groups, state, event)?;
    let mut state = state.clone();
    state.apply(decision.effects());
    Ok(Evaluation { decision, state })
}

/// Decides `event` for a user in `groups` whose stored state is `state`.
pub fn decide<G: AsRef<str>>(
    policy: &Policy,
    groups: &[G],
    state: &UserState,
    event: &Event,
) -> Result<Decision, Error> {
    match event {
        Event::Login(login) => Ok(Decision::Login(policy.decide_login(login, groups, state))),
        Event::Admin(admin) => {
            let principals: policy::Principals = policy.principals(&admin.user, groups).collect();
            decide::admin(policy, &principals, state, &decide::AdminRequest::of(admin))
                .map(|d| Decision::Admin { effects: d.effects, commands: d.commands, policy: d.policy })
                .map_err(|failure| Error::admin(failure, admin))
        }
    }
}

impl Policy {
    /// Decides `login` of a user in `groups` whose stored state is `state` (spec section
    /// 3). Pure: the state is only read; the decision lists the effects that lead to the
    /// new state.
    pub fn decide_login<G: AsRef<str>>(
        &self,
        login: &Login,
        groups: &[G],
        state: &UserState,
    ) -> LoginDecision {
        let installed = self.installed(&login.apps);
        decide::login(self, self.principals(&login.user, groups), state, &login.device, &installed, login.at)
    }
}
