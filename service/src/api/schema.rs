//! The shapes of what the API takes and answers that are not the handlers' own types,
//! for the OpenAPI document (`super::openapi`).
//!
//! The engine's documents (a policy, a user's state, an event, a device) are the engine's
//! own JSON Schemas, generated from its types (`mdm_engine::schema`); the types here that
//! name them ([`Policy`], [`UserState`], [`AdminEvent`], [`LoginDevice`]) are placeholders the
//! document replaces with those schemas. The engine's answers (a login's decision, an
//! admin event's, a record of the log, a preview's report) are serialised from the
//! engine's and the host's types, which have no schema of their own: their shapes are
//! written here, field by field as the contract gives them, and the Node suite checks
//! every answer of a real server against them, so they cannot drift unnoticed.
//!
//! A request body the handlers read member by member (never as a tree of values, see
//! `body.rs`) is described here too; a test checks that each description names exactly
//! the members its handler takes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::{PartialSchema, ToSchema};

/// A placeholder for one of the engine's JSON Schemas, replaced in the document by the
/// schema `mdm_engine::schema` generates under the same name.
macro_rules! engine_schema {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        pub(crate) struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(Some(concat!("replaced by the engine's `", $name, "` schema")))
                    .into()
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

engine_schema!(
    /// A policy document, version 1, 2 or 3 (the contract's section 1, V2 and V3).
    Policy,
    "Policy"
);
engine_schema!(
    /// One user's stored state: devices, pending requests, rejections.
    UserState,
    "UserState"
);
engine_schema!(
    /// An admin event of the contract as `POST /v1/events` takes it: `at` may be left
    /// out (the server's clock then stands for it).
    AdminEvent,
    "AdminEvent"
);
engine_schema!(
    /// A device as a login reports it.
    LoginDevice,
    "LoginDevice"
);

/// The names of the engine's schemas that the document takes, with the placeholder each
/// replaces.
pub(crate) const ENGINE_SCHEMAS: [(&str, mdm_engine::schema::Document); 3] = [
    ("Policy", mdm_engine::schema::Document::Policy),
    ("UserState", mdm_engine::schema::Document::State),
    ("Event", mdm_engine::schema::Document::Event),
];

/// `POST /v1/login`'s body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct LoginRequest {
    /// Who logs in (an id of 1 to 256 bytes).
    user: String,
    /// The user's groups as the identity provider reports them now; stored as last seen.
    groups: Option<Vec<String>>,
    /// The device as the app reports it.
    device: LoginDevice,
    /// The login's time (RFC 3339), within `--at-window-hours` of the server's clock; the
    /// server's clock without it.
    at: Option<String>,
}

/// `POST /v1/preview`'s body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct PreviewRequest {
    /// The policy to compare with the live one.
    proposed: Policy,
    /// The time to judge at (RFC 3339); the server's clock without it.
    at: Option<String>,
    /// How many changed users the answer holds (1 to 1,000; 100 without it).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only this user's change.
    user: Option<String>,
}

/// An outcome of a login.
#[derive(ToSchema, Serialize)]
#[allow(dead_code)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LoginOutcome {
    Allow,
    Limited,
    PendingApproval,
    Deny,
}

/// What a login may use.
#[derive(ToSchema, Serialize)]
pub(crate) struct Access {
    /// The mobile app.
    app: bool,
    /// Single sign-on apps.
    sso: bool,
    /// Push-notification MFA.
    push_mfa: bool,
}

/// A change to the user's state, in the order it applies: `op` says which (the
/// contract's "Effects" table), the other members are the operation's.
#[derive(ToSchema, Serialize)]
pub(crate) struct Effect {
    /// `add_device`, `remove_device`, `add_pending`, `remove_pending`, `add_rejected`,
    /// `remove_rejected`, `set_noncompliant`, `clear_noncompliant`, `set_enrollment`.
    op: String,
}

/// A command the gateway's MDM server must send to a device.
#[derive(ToSchema, Serialize)]
pub(crate) struct Command {
    /// `deprovision` or `wipe`.
    action: String,
    /// To which device.
    device_id: String,
}

/// Why a login was denied without a decision of the engine: the sandbox or the
/// database failed (the service fails closed).
#[derive(ToSchema, Serialize)]
pub(crate) struct Fault {
    /// `host.*` or `service.*`.
    code: String,
    /// Fixed words for the code.
    message: String,
}

/// A login's answer: the engine's decision, or a deny with its `fault`.
#[derive(ToSchema, Serialize)]
pub(crate) struct LoginDecision {
    outcome: LoginOutcome,
    /// Whether a policy assigns the user.
    assigned: bool,
    access: Access,
    /// The reasons' codes, in firing order (the contract's table).
    reasons: Vec<String>,
    /// Texts the user can act on, one per failed requirement.
    remediation: Option<Vec<String>>,
    /// The enrollment the device must go through (version 2).
    #[schema(value_type = Option<Object>)]
    enroll: Option<()>,
    /// Until when a device in its grace period keeps access (version 2).
    grace_until: Option<String>,
    /// What the managed device must apply (version 2).
    #[schema(value_type = Option<Object>)]
    configuration: Option<()>,
    /// The app store for the device (version 2).
    #[schema(value_type = Option<Vec<Object>>)]
    apps: Option<()>,
    /// Under a policy set (version 3), the user's policy: its name, or `null` when none
    /// assigns them. No key under versions 1 and 2.
    #[schema(nullable = true)]
    policy: Option<String>,
    effects: Vec<Effect>,
    /// Only in a deny the service gives without a decision.
    fault: Option<Fault>,
}

/// An admin event's answer.
#[derive(ToSchema, Serialize)]
pub(crate) struct AdminDecision {
    effects: Vec<Effect>,
    /// The device commands (`deprovision`, `wipe`).
    commands: Option<Vec<Command>>,
    /// Under a policy set, the user's policy now, or `null`.
    #[schema(nullable = true)]
    policy: Option<String>,
}

/// The shadow policy's answer to a login, in its record.
#[derive(ToSchema, Serialize)]
pub(crate) struct ShadowDecision {
    policy_digest: String,
    outcome: LoginOutcome,
    #[schema(nullable = true)]
    policy: Option<String>,
    reasons: Option<Vec<String>>,
    fault: Option<Fault>,
}

/// A registered device as the inventory (`GET /v1/devices`) shows it: its user and the
/// device as the user's state stores it, serial number masked unless the service reveals
/// them.
#[derive(ToSchema, Serialize)]
pub(crate) struct InventoryDevice {
    user: String,
    device_id: String,
    /// `ios`, `android` or `other`.
    os_type: String,
    os_version: Option<String>,
    /// Masked to `****` and, of a serial longer than eight characters, its last four.
    serial_number: Option<String>,
    model: Option<String>,
    name: Option<String>,
    manufacturer: Option<String>,
    pin_length: Option<u32>,
    encrypted: Option<bool>,
    compromised: Option<bool>,
    work_profile: Option<bool>,
    registered_at: String,
    /// That it finished enrolling, and how.
    enrollment: Option<InventoryEnrollment>,
    /// When it was first seen failing a rule that has grace.
    noncompliant_since: Option<String>,
}

/// How and when a device finished enrolling.
#[derive(ToSchema, Serialize)]
pub(crate) struct InventoryEnrollment {
    method: String,
    at: String,
}

/// One decision as the log keeps it.
#[derive(ToSchema, Serialize)]
pub(crate) struct DecisionRecord {
    /// The record's id, as the `mdm-decision-id` header names it.
    id: String,
    /// When the service decided (RFC 3339).
    time: String,
    /// The event's own time.
    at: String,
    /// `sha256:` and the hex digest of the policy document that decided.
    policy_digest: String,
    /// Under a policy set, the user's policy, or `null`.
    #[schema(nullable = true)]
    policy: Option<String>,
    engine_version: String,
    /// `login`, or the admin event's type.
    event: String,
    user: String,
    device_id: String,
    /// A login's outcome.
    outcome: Option<LoginOutcome>,
    reasons: Option<Vec<String>>,
    /// Serial numbers masked to their last four characters.
    effects: Option<Vec<Effect>>,
    commands: Option<Vec<Command>>,
    /// A sandbox fault, or the contract's error of a refused admin event.
    fault: Option<Fault>,
    elapsed_us: u64,
    shadow: Option<ShadowDecision>,
    /// Who asked: `token:` and 12 hex digits of the token's digest, or `startup`.
    actor: String,
}

/// A finding of validation.
#[derive(ToSchema, Serialize)]
pub(crate) struct Issue {
    /// The rule (`invalid_value`, `unknown_field`...).
    code: String,
    /// Where, as a JSON Pointer.
    pointer: String,
    message: String,
}

/// The what-if report (the contract's section 5).
#[derive(ToSchema, Serialize)]
pub(crate) struct PreviewReport {
    /// The figures (`users`, `assigned_before`, `became_assigned`...), each a count of
    /// every stored user.
    summary: BTreeMap<String, u64>,
    /// How many users something changes for (of `user` alone, when it is given).
    total_changes: u64,
    /// A page of the users something changes for, by user id, each side's answers.
    changes: Vec<PreviewChange>,
    /// Gives the next page (with the same request otherwise); `null` on the last.
    next_cursor: Option<String>,
}

/// One user in the what-if report.
#[derive(ToSchema, Serialize)]
pub(crate) struct PreviewChange {
    user: String,
    #[schema(value_type = Object)]
    before: (),
    #[schema(value_type = Object)]
    after: (),
}
