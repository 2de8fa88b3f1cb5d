//! Events (spec section 3): a login, or an admin's action on one device.

use crate::device::{Device, UserState};
use crate::document::DocumentKind;
use crate::error::{AdminFailure, Error};
use crate::ids::MAX_ID_BYTES;
use crate::ids::Text;
use crate::json::{self, Raw};
use crate::manage::{Approver, EnrollmentMethod, InstalledApp, MAX_INSTALLED_APPS};
use crate::time::Timestamp;

/// An admin's action on one device of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminAction {
    /// Approve a pending request.
    Approve,
    /// Reject a pending request.
    Reject,
    /// Remove a rejection.
    Unblock,
    /// Remove an active device.
    RemoveDevice,
    /// The gateway's MDM server reports that an active device finished enrolling.
    Enrolled,
    /// Remove the work accounts and managed apps from an active device, and forget it.
    Deprovision,
    /// Factory-reset an active device, and forget it.
    Wipe,
}

impl AdminAction {
    /// Every action, in the contract's order.
    pub const ALL: [AdminAction; 7] = [
        AdminAction::Approve,
        AdminAction::Reject,
        AdminAction::Unblock,
        AdminAction::RemoveDevice,
        AdminAction::Enrolled,
        AdminAction::Deprovision,
        AdminAction::Wipe,
    ];

    /// Parses the contract's event type (`approve`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// As the contract spells the event type.
    pub const fn as_str(self) -> &'static str {
        match self {
            AdminAction::Approve => "approve",
            AdminAction::Reject => "reject",
            AdminAction::Unblock => "unblock",
            AdminAction::RemoveDevice => "remove_device",
            AdminAction::Enrolled => "enrolled",
            AdminAction::Deprovision => "deprovision",
            AdminAction::Wipe => "wipe",
        }
    }
}

/// A mobile login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// Who logs in.
    pub user: String,
    /// When.
    pub at: Timestamp,
    /// The device as the app reports it; unknown attributes are already dropped.
    pub device: Device,
    /// The apps installed on the device, as it reports them (version 2): read for this
    /// login only, never stored.
    pub apps: Vec<InstalledApp>,
}

impl Login {
    /// A login of `user` on `device` at `at`, reporting no apps.
    pub fn new(user: impl Into<String>, device: Device, at: Timestamp) -> Self {
        Login { user: user.into(), at, device, apps: Vec::new() }
    }
}

/// An admin's action on one device of one user, or a report about it from the gateway's
/// MDM server (`enrolled`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// What the admin does.
    pub action: AdminAction,
    /// Whose device.
    pub user: String,
    /// Which device.
    pub device_id: Text,
    /// When.
    pub at: Timestamp,
    /// Who approves (`approve` only; the admin unless the event says `self`).
    pub by: Approver,
    /// The device a self-approval is made from (`approve` only), as the event gives it;
    /// `None` when absent, empty or not a string.
    pub from_device: Option<String>,
    /// The method a device enrolled with (`enrolled` only).
    pub method: Option<EnrollmentMethod>,
}

impl Admin {
    /// The admin's `action` on `user`'s `device_id` at `at`, by the admin.
    pub fn new(action: AdminAction, user: impl Into<String>, device_id: Text, at: Timestamp) -> Self {
        Admin {
            action,
            user: user.into(),
            device_id,
            at,
            by: Approver::Admin,
            from_device: None,
            method: None,
        }
    }
}

/// An event the engine decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// See [`Login`].
    Login(Login),
    /// See [`Admin`].
    Admin(Admin),
}

impl Event {
    /// The user the event is about.
    pub fn user(&self) -> &str {
        match self {
            Event::Login(l) => &l.user,
            Event::Admin(a) => &a.user,
        }
    }

    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Event::Login(l) => l.at,
            Event::Admin(a) => a.at,
        }
    }

    /// Decodes an event document. Unknown top-level fields are ignored (a gateway may
    /// send more than the engine reads); missing or malformed ones are `invalid_event`.
    pub fn from_value(value: &serde_json::Value) -> Result<Event, Error> {
        Event::from_json(&value.to_string())
    }

    /// Same as [`Event::from_value`], from bytes that must be UTF-8.
    pub fn from_slice(bytes: &[u8]) -> Result<Event, Error> {
        Event::from_json(DocumentKind::Event.text(bytes)?)
    }

    /// Same as [`Event::from_value`], from text.
    pub fn from_json(text: &str) -> Result<Event, Error> {
        let raw: RawEvent<'_> = DocumentKind::Event.parse(text)?;
        raw.into_event()
    }
}

/// The event as its text has it. The parts whose meaning depends on the event's type
/// are kept as text and decoded once the type is known, their errors prefixed with
/// where they are. Other members are ignored.
#[derive(Default)]
struct RawEvent<'a> {
    kind: Option<String>,
    user: Option<String>,
    at: Option<Timestamp>,
    device: Option<Raw<'a>>,
    device_id: Option<Text>,
    by: Option<Raw<'a>>,
    from_device: Option<Raw<'a>>,
    method: Option<Raw<'a>>,
}

json::decoder! {
    open RawEvent<'de> {
        kind: "type" => Some,
        user: "user",
        at: "at",
        device: "device",
        device_id: "device_id",
        by: "by",
        from_device: "from_device",
        method: "method",
    } = RawEvent::default()
}

/// `raw`, a part of the event at `prefix`, decoded; its errors point into the event.
fn part<'a, T: json::Decode<'a>>(raw: Raw<'a>, prefix: &str) -> Result<T, Error> {
    json::from_str(raw.0).map_err(|f| invalid(&format!("{prefix}{}", f.pointer), f.message))
}

/// A part that should be a string, as that string; `None` for any other value.
fn text(raw: Raw<'_>) -> Option<String> {
    raw.0.starts_with('"').then(|| json::from_str::<String>(raw.0).ok()).flatten()
}

/// What the login device says besides its attributes: the apps it reports.
#[derive(Default)]
struct DeviceParts<'a> {
    apps: Option<Raw<'a>>,
}

json::decoder! {
    open DeviceParts<'de> {
        apps: "apps",
    } = DeviceParts::default()
}

/// The login device and the apps it reports.
fn login_device(raw: Raw<'_>) -> Result<(Device, Vec<InstalledApp>), Error> {
    let device: Device = part(raw, "/device")?;
    let parts: DeviceParts<'_> = part(raw, "/device")?;
    let apps = match parts.apps {
        None => Vec::new(),
        Some(list) => {
            if let Ok(count) = json::from_str::<json::Count>(list.0)
                && count.0 > MAX_INSTALLED_APPS
            {
                return Err(invalid(
                    "/device/apps",
                    format!("must list at most {MAX_INSTALLED_APPS} apps, got {}", count.0),
                ));
            }
            part(list, "/device/apps")?
        }
    };
    Ok((device, apps))
}

fn invalid(pointer: &str, message: impl Into<String>) -> Error {
    DocumentKind::Event.error(pointer, message)
}

impl RawEvent<'_> {
    fn into_event(self) -> Result<Event, Error> {
        let kind = self.kind.ok_or_else(|| invalid("/type", "missing field `type`"))?;
        let action = match kind.as_str() {
            "login" => None,
            other => Some(AdminAction::parse(other).ok_or_else(|| {
                invalid(
                    "/type",
                    format!(
                        "unknown event type `{other}`, expected `login`, `approve`, `reject`, `unblock`, `remove_device`, `enrolled`, `deprovision` or `wipe`"
                    ),
                )
            })?),
        };
        let user = self.user.ok_or_else(|| invalid("/user", "missing field `user`"))?;
        if user.is_empty() {
            return Err(invalid("/user", "must not be an empty id"));
        }
        if user.len() > MAX_ID_BYTES {
            return Err(invalid(
                "/user",
                format!("must be at most {MAX_ID_BYTES} bytes, got {}", user.len()),
            ));
        }
        let at = self.at.ok_or_else(|| invalid("/at", "missing field `at`"))?;
        Ok(match action {
            None => {
                let device = self.device.ok_or_else(|| invalid("/device", "missing field `device`"))?;
                let (device, apps) = login_device(device)?;
                Event::Login(Login { user, at, device, apps })
            }
            Some(action) => {
                let device_id =
                    self.device_id.ok_or_else(|| invalid("/device_id", "missing field `device_id`"))?;
                let mut admin = Admin::new(action, user, device_id, at);
                if action == AdminAction::Approve {
                    admin.by = match self.by {
                        None => Approver::Admin,
                        Some(by) => text(by).as_deref().and_then(Approver::parse).ok_or_else(|| {
                            invalid("/by", format!("unknown approver {}, expected `admin` or `self`", by.0))
                        })?,
                    };
                    admin.from_device = self.from_device.and_then(text).filter(|s| !s.is_empty());
                }
                if action == AdminAction::Enrolled {
                    let method = self.method.ok_or_else(|| invalid("/method", "missing field `method`"))?;
                    admin.method = Some(text(method).as_deref().and_then(EnrollmentMethod::parse).ok_or_else(|| {
                        invalid(
                            "/method",
                            format!(
                                "unknown enrollment method {}, expected `ios_profile`, `android_work_profile`, `samsung_knox` or `android_device_admin`",
                                method.0
                            ),
                        )
                    })?);
                }
                Event::Admin(admin)
            }
        })
    }
}

impl UserState {
    /// Decodes and checks a stored state document (`invalid_state`).
    pub fn from_value(value: &serde_json::Value) -> Result<UserState, Error> {
        let state: UserState = DocumentKind::State.parse_value(value)?;
        state.check().map_err(|e| e.at(""))?;
        Ok(state)
    }

    /// Same as [`UserState::from_value`], from bytes that must be UTF-8.
    pub fn from_slice(bytes: &[u8]) -> Result<UserState, Error> {
        UserState::from_json(DocumentKind::State.text(bytes)?)
    }

    /// Same as [`UserState::from_value`], from text.
    pub fn from_json(text: &str) -> Result<UserState, Error> {
        let state: UserState = DocumentKind::State.parse(text)?;
        state.check().map_err(|e| e.at(""))?;
        Ok(state)
    }
}

impl Error {
    /// The error of the admin event `admin` that failed for `failure`. A host that
    /// decided in a sandbox, with tokens for ids, rebuilds the same error with this.
    pub fn admin(failure: AdminFailure, admin: &Admin) -> Self {
        let device_id = || admin.device_id.to_string();
        let from = || admin.from_device.clone().unwrap_or_default();
        match failure {
            AdminFailure::NoPendingRequest => Error::NoPendingRequest { device_id: device_id() },
            AdminFailure::RequestExpired => Error::RequestExpired { device_id: device_id() },
            AdminFailure::UnknownDevice => Error::UnknownDevice {
                device_id: device_id(),
                what: if admin.action == AdminAction::Unblock { "rejected" } else { "active" },
                field: "/device_id",
            },
            AdminFailure::UnknownApprovingDevice => {
                Error::UnknownDevice { device_id: from(), what: "active", field: "/from_device" }
            }
            AdminFailure::NoApprovingDevice => DocumentKind::Event.error(
                "/from_device",
                "an approval `by` `self` needs `from_device`: the id of one of the user's devices",
            ),
            AdminFailure::ApproverNotAllowed => Error::NotPermitted {
                field: "/by",
                message: format!("the policy does not let `{}` approve requests", admin.by.as_str()),
            },
            AdminFailure::ApprovingDeviceNotEnrolled => Error::NotPermitted {
                field: "/from_device",
                message: format!(
                    "device `{}` is not enrolled, and the policy requires enrollment to approve from it",
                    from()
                ),
            },
            AdminFailure::MethodNotAllowed => Error::NotPermitted {
                field: "/method",
                message: format!("the policy does not allow enrollment with `{}`", method(admin)),
            },
            AdminFailure::NotAssigned => Error::NotPermitted {
                field: "/user",
                message: format!(
                    "no policy assigns user `{}` now: {}",
                    admin.user,
                    if admin.action == AdminAction::Approve {
                        "there is no request to approve (their next login is decided as unassigned)"
                    } else {
                        "an unassigned user's devices are not managed"
                    }
                ),
            },
            AdminFailure::MethodOfAnotherPlatform => Error::NotPermitted {
                field: "/method",
                message: format!("`{}` does not enroll device `{}`'s platform", method(admin), device_id()),
            },
        }
    }
}

fn method(admin: &Admin) -> &'static str {
    admin.method.map_or("", EnrollmentMethod::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_actions_parse_as_the_contract_spells_them() {
        for a in AdminAction::ALL {
            assert_eq!(AdminAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AdminAction::parse("login"), None);
        assert_eq!(AdminAction::parse("Approve"), None);
    }
}
