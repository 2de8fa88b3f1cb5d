//! The service's errors: each a stable code, a JSON Pointer into the request and a 4xx
//! (the caller's fault) or 5xx (ours) status.
//!
//! What the client reads is the code and a message of the service's own. The cause of a
//! failure on our side (the database's or the driver's text, SQL, file names) is kept as
//! the error's source and goes to the service's log, never into an answer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mdm_engine::{ErrorCode, Issue};
use mdm_host::HostError;
use serde::Serialize;

use crate::store::StoreError;

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
    /// The database failed; nothing was changed. The client is told only that; the
    /// cause is the source, for the log.
    #[error("the database did not answer")]
    Database(#[from] StoreError),
    /// The sandbox failed on a request that is not a login (a login is denied instead).
    #[error(transparent)]
    Host(HostError),
    /// A bug of the service (an answer that does not encode, a task that panicked): the
    /// request is refused, the cause is logged.
    #[error("the service failed on this request; its log says why")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The service cannot start as configured; the message names the cause, for the
    /// operator (it never reaches a client).
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
            ServiceError::Internal(_) => "service.internal",
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
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceError::Database(_) | ServiceError::Host(_) | ServiceError::Start(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    pub(crate) fn bad(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::BadRequest { pointer: pointer.into(), message: message.into() }
    }

    pub(crate) fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServiceError::Internal(Box::new(e))
    }

    /// Logs a failure on the service's side with its whole chain of causes (the client
    /// never sees them); a refused request is the caller's business and is logged at
    /// debug level only.
    pub(crate) fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(code = self.code(), cause = %chain(self), "request failed");
        } else {
            tracing::debug!(code = self.code(), message = %self, "request refused");
        }
    }
}

/// An error and its sources, joined by `: `: what the log keeps.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl From<HostError> for ServiceError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Engine(e) => ServiceError::Engine(e),
            other => ServiceError::Host(other),
        }
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
        self.log();
        let issues = match &self {
            ServiceError::InvalidPolicy { issues } => Some(issues.as_slice()),
            _ => None,
        };
        let body =
            ErrorBody { code: self.code(), pointer: self.pointer(), message: self.to_string(), issues };
        (self.status(), axum::Json(body)).into_response()
    }
}
