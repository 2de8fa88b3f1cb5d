//! Events (spec section 3): a login, or an admin's action on one device.

use serde::Deserialize;

use crate::decide::AdminAction;
use crate::device::{Device, Text, UserState};
use crate::error::{DocumentKind, Error};
use crate::json;
use crate::policy::MAX_ID_BYTES;
use crate::time::Timestamp;

/// A mobile login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// Who logs in.
    pub user: String,
    /// When.
    pub at: Timestamp,
    /// The device as the app reports it; unknown attributes are already dropped.
    pub device: Device,
}

/// An admin's action on one device of one user.
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
        let raw: RawEvent = json::from_value(value, DocumentKind::Event)?;
        raw.into_event()
    }

    /// Same as [`Event::from_value`], from bytes that must be UTF-8.
    pub fn from_slice(bytes: &[u8]) -> Result<Event, Error> {
        Event::from_json(DocumentKind::Event.text(bytes)?)
    }

    /// Same as [`Event::from_value`], from text.
    pub fn from_json(text: &str) -> Result<Event, Error> {
        let raw: RawEvent = json::from_str(text, DocumentKind::Event)?;
        raw.into_event()
    }
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    user: Option<String>,
    at: Option<Timestamp>,
    device: Option<Device>,
    device_id: Option<Text>,
}

fn invalid(pointer: &str, message: impl Into<String>) -> Error {
    DocumentKind::Event.error(pointer, message)
}

impl RawEvent {
    fn into_event(self) -> Result<Event, Error> {
        let action = match self.kind.as_str() {
            "login" => None,
            other => Some(AdminAction::parse(other).ok_or_else(|| {
                invalid(
                    "/type",
                    format!(
                        "unknown event type `{other}`, expected `login`, `approve`, `reject`, `unblock` or `remove_device`"
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
                Event::Login(Login { user, at, device })
            }
            Some(action) => {
                let device_id =
                    self.device_id.ok_or_else(|| invalid("/device_id", "missing field `device_id`"))?;
                Event::Admin(Admin { action, user, device_id, at })
            }
        })
    }
}

impl UserState {
    /// Decodes and checks a stored state document (`invalid_state`).
    pub fn from_value(value: &serde_json::Value) -> Result<UserState, Error> {
        let state: UserState = json::from_value(value, DocumentKind::State)?;
        state.check().map_err(|e| e.at(""))?;
        Ok(state)
    }

    /// Same as [`UserState::from_value`], from bytes that must be UTF-8.
    pub fn from_slice(bytes: &[u8]) -> Result<UserState, Error> {
        UserState::from_json(DocumentKind::State.text(bytes)?)
    }

    /// Same as [`UserState::from_value`], from text.
    pub fn from_json(text: &str) -> Result<UserState, Error> {
        let state: UserState = json::from_str(text, DocumentKind::State)?;
        state.check().map_err(|e| e.at(""))?;
        Ok(state)
    }
}
