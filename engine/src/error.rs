//! The engine's one error type, with the stable codes of the contract (spec section 3).

use std::fmt;

/// The stable error codes of the contract. A gateway that gets any of them fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The policy document is malformed or breaks a rule of section 1.
    InvalidPolicy,
    /// The event is malformed (missing field, unknown type, bad time, bad device).
    InvalidEvent,
    /// The user's stored state is malformed.
    InvalidState,
    /// `approve` or `reject` for a device that has no pending request.
    NoPendingRequest,
    /// `approve` for a request that has expired.
    RequestExpired,
    /// `unblock`, `remove_device` (and version 2's device events) for a device that is not
    /// there.
    UnknownDevice,
    /// An approver, enrollment method or approving device the policy does not allow
    /// (version 2).
    NotPermitted,
}

impl ErrorCode {
    /// Every code, in the order of the contract.
    pub const ALL: [ErrorCode; 7] = [
        ErrorCode::InvalidPolicy,
        ErrorCode::InvalidEvent,
        ErrorCode::InvalidState,
        ErrorCode::NoPendingRequest,
        ErrorCode::RequestExpired,
        ErrorCode::UnknownDevice,
        ErrorCode::NotPermitted,
    ];

    /// The code as the contract spells it (`invalid_policy`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidPolicy => "invalid_policy",
            ErrorCode::InvalidEvent => "invalid_event",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::NoPendingRequest => "no_pending_request",
            ErrorCode::RequestExpired => "request_expired",
            ErrorCode::UnknownDevice => "unknown_device",
            ErrorCode::NotPermitted => "not_permitted",
        }
    }

    /// Parses a code as the contract spells it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error: never a decision, and it leaves the state unchanged.
///
/// Errors about a document carry the JSON Pointer (RFC 6901) of the offending field;
/// the pointer is empty for the document's root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorCode::InvalidPolicy`].
    #[error("invalid policy at `{pointer}`: {message}")]
    InvalidPolicy {
        /// Where in the policy document.
        pointer: String,
        /// What is wrong, for a person.
        message: String,
    },
    /// See [`ErrorCode::InvalidEvent`].
    #[error("invalid event at `{pointer}`: {message}")]
    InvalidEvent {
        /// Where in the event document.
        pointer: String,
        /// What is wrong, for a person.
        message: String,
    },
    /// See [`ErrorCode::InvalidState`].
    #[error("invalid state at `{pointer}`: {message}")]
    InvalidState {
        /// Where in the state document.
        pointer: String,
        /// What is wrong, for a person.
        message: String,
    },
    /// See [`ErrorCode::NoPendingRequest`].
    #[error("no pending request for device `{device_id}`")]
    NoPendingRequest {
        /// The device the admin acted on.
        device_id: String,
    },
    /// See [`ErrorCode::RequestExpired`].
    #[error("the request for device `{device_id}` has expired")]
    RequestExpired {
        /// The device the admin acted on.
        device_id: String,
    },
    /// See [`ErrorCode::UnknownDevice`].
    #[error("no {what} device `{device_id}`")]
    UnknownDevice {
        /// The device the event names.
        device_id: String,
        /// `active` or `rejected`: the list it was looked for in.
        what: &'static str,
        /// The field that names it: `/device_id`, or `/from_device` for the approving
        /// device of a self-approval.
        field: &'static str,
    },
    /// See [`ErrorCode::NotPermitted`].
    #[error("{message}")]
    NotPermitted {
        /// The field the policy does not allow: `/by`, `/method` or `/from_device`; `/user`
        /// when no policy of a set assigns the user.
        field: &'static str,
        /// What is not allowed, for a person.
        message: String,
    },
}

impl Error {
    /// The stable code of the contract.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidPolicy { .. } => ErrorCode::InvalidPolicy,
            Error::InvalidEvent { .. } => ErrorCode::InvalidEvent,
            Error::InvalidState { .. } => ErrorCode::InvalidState,
            Error::NoPendingRequest { .. } => ErrorCode::NoPendingRequest,
            Error::RequestExpired { .. } => ErrorCode::RequestExpired,
            Error::UnknownDevice { .. } => ErrorCode::UnknownDevice,
            Error::NotPermitted { .. } => ErrorCode::NotPermitted,
        }
    }

    /// The JSON Pointer of the offending field. Admin errors point into the event: at
    /// `/device_id`, the field the admin got wrong, or at the field the policy refuses.
    pub fn pointer(&self) -> &str {
        match self {
            Error::InvalidPolicy { pointer, .. }
            | Error::InvalidEvent { pointer, .. }
            | Error::InvalidState { pointer, .. } => pointer,
            Error::NoPendingRequest { .. } | Error::RequestExpired { .. } => "/device_id",
            Error::UnknownDevice { field, .. } | Error::NotPermitted { field, .. } => field,
        }
    }

    /// The message without the code and pointer.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidPolicy { message, .. }
            | Error::InvalidEvent { message, .. }
            | Error::InvalidState { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

/// Why an admin event could not be carried out. The engine decides this without the
/// ids' text (in the sandbox, ids are tokens); [`Error::admin`] words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminFailure {
    /// `no_pending_request`: the device has no pending request.
    NoPendingRequest,
    /// `request_expired`: its request has expired.
    RequestExpired,
    /// `unknown_device`: the device is not active (or, for `unblock`, not rejected).
    UnknownDevice,
    /// `unknown_device` at `/from_device`: the approving device is not an active device of
    /// the user.
    UnknownApprovingDevice,
    /// `invalid_event` at `/from_device`: a self-approval that names no approving device.
    NoApprovingDevice,
    /// `not_permitted` at `/by`: the policy does not list this approver.
    ApproverNotAllowed,
    /// `not_permitted` at `/from_device`: enrollment is required and the approving device
    /// is not enrolled.
    ApprovingDeviceNotEnrolled,
    /// `not_permitted` at `/method`: the policy does not allow the method.
    MethodNotAllowed,
    /// `not_permitted` at `/method`: the method enrolls another platform than the device's.
    MethodOfAnotherPlatform,
    /// `not_permitted` at `/user`: under a policy set, no policy assigns the user now, so
    /// there is nothing to approve and no managed device to enroll.
    NotAssigned,
}
