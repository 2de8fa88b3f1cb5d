//! The service's errors: each a stable code, a JSON Pointer into the request and a 4xx
//! (the caller's fault) or 5xx (ours) status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mdm_engine::{ErrorCode, Issue};
use mdm_host::HostError;
use serde::Serialize;

/// Why a request was refused, or the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The engine's error of the contract (`invalid_event`, `no_pending_request`...).
    #[error(transparent)]
    Engine(#[from] mdm_engine::Error),
    /// A proposed policy has errors; `issues` lists every one.
    #[error("the policy has {} error(s); the first: {}", .issues.len(), .issues.first().map(|i| i.message.as_str()).unwrap_or_default())]
    InvalidPolicy {
        /// Every error and warning.
        issues: Vec<Issue>,
    },
    /// The request's envelope is not what the route takes.
    #[error("{message}")]
    BadRequest {
        /// Where in the body (a JSON Pointer), or the path's parameter.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// No bearer token, or one that matches no configured token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// A valid token of the other role.
    #[error("the {role} token may not use `{route}`")]
    Forbidden {
        /// The token's role.
        role: &'static str,
        /// The route asked for.
        route: String,
    },
    /// Nothing stored under this id.
    #[error("`{0}` is not stored")]
    NotFound(String),
    /// The body is over the document limit.
    #[error("the request body is over the limit of {0} bytes")]
    TooLarge(usize),
    /// The database failed; nothing was changed.
    #[error("the database failed: {0}")]
    Database(String),
    /// The sandbox failed on a request that is not a login (a login is denied instead).
    #[error(transparent)]
    Host(HostError),
    /// The service cannot start as configured.
    #[error("cannot start the service: {0}")]
    Start(String),
}

impl ServiceError {
    /// The stable code: the contract's for engine errors, `service.*` for the service's own.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Engine(e) => e.code().as_str(),
            ServiceError::InvalidPolicy { .. } => ErrorCode::InvalidPolicy.as_str(),
            ServiceError::BadRequest { .. } => "service.bad_request",
            ServiceError::Unauthorized => "service.unauthorized",
            ServiceError::Forbidden { .. } => "service.forbidden",
            ServiceError::NotFound(_) => "service.not_found",
            ServiceError::TooLarge(_) => "service.too_large",
            ServiceError::Database(_) => "service.database",
            ServiceError::Host(e) => e.code(),
            ServiceError::Start(_) => "service.start",
        }
    }

    /// Where in the request the problem is (a JSON Pointer), empty for the whole of it.
    pub fn pointer(&self) -> &str {
        match self {
            ServiceError::Engine(e) => e.pointer(),
            ServiceError::InvalidPolicy { issues } => {
                issues.first().map(|i| i.pointer.as_str()).unwrap_or("")
            }
            ServiceError::BadRequest { pointer, .. } => pointer,
            _ => "",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ServiceError::Engine(e) => match e.code() {
                ErrorCode::InvalidPolicy | ErrorCode::InvalidEvent | ErrorCode::InvalidState => {
                    StatusCode::BAD_REQUEST
                }
                ErrorCode::NoPendingRequest | ErrorCode::RequestExpired | ErrorCode::UnknownDevice => {
                    StatusCode::CONFLICT
                }
                ErrorCode::NotPermitted => StatusCode::FORBIDDEN,
            },
            ServiceError::InvalidPolicy { .. } | ServiceError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ServiceError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::Database(_) | ServiceError::Host(_) | ServiceError::Start(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    pub(crate) fn bad(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::BadRequest { pointer: pointer.into(), message: message.into() }
    }
}

impl From<HostError> for ServiceError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Engine(e) => ServiceError::Engine(e),
            other => ServiceError::Host(other),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Database(e.to_string())
    }
}

/// The body of every error answer.
#[derive(Serialize)]
pub(crate) struct ErrorBody<'a> {
    code: &'a str,
    pointer: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    issues: Option<&'a [Issue]>,
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let issues = match &self {
            ServiceError::InvalidPolicy { issues } => Some(issues.as_slice()),
            _ => None,
        };
        let body =
            ErrorBody { code: self.code(), pointer: self.pointer(), message: self.to_string(), issues };
        (self.status(), axum::Json(body)).into_response()
    }
}
