//! The service's errors: each a stable code, a JSON Pointer into the request and a 4xx
//! (the caller's fault) or 5xx (ours) status.
//!
//! What the client reads is the code and a message of the service's own. The cause of a
//! failure on our side (the database's or the driver's text, SQL, file names) is kept as
//! the error's source and goes to the service's log, never into an answer.

use axum::http::{HeaderValue, StatusCode, header};
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
    /// A role without a token answers only requests addressed to a loopback name, so
    /// that a web page whose name was rebound to 127.0.0.1 cannot use it.
    #[error(
        "a role without a token answers only requests addressed to a loopback name (`localhost`, `127.0.0.1`, `[::1]`), not `{0}`"
    )]
    NotLoopback(String),
    /// Nothing stored under this id.
    #[error("`{0}` is not stored")]
    NotFound(String),
    /// The route exists, not with this method.
    #[error("`{0}` is not a method of this route")]
    MethodNotAllowed(String),
    /// The body is over the document limit.
    #[error("the request body is over the limit of {0} bytes")]
    TooLarge(usize),
    /// A body that is not declared `application/json`: what a cross-site form or a
    /// `text/plain` "simple" request sends.
    #[error("the body must be sent as `content-type: application/json`")]
    UnsupportedMediaType,
    /// Too many requests, or too many bytes of bodies, in flight: the client may try again.
    #[error("the service is busy: try again in {0} s")]
    Overloaded(u64),
    /// The client stopped sending its body.
    #[error("no byte of the body arrived for {0} ms")]
    Timeout(u128),
    /// The database failed; nothing was changed. The client is told only that; the
    /// cause is the source, for the log.
    #[error("the database did not answer")]
    Database(#[from] StoreError),
    /// The sandbox failed on a request that is not a login (a login is denied instead).
    /// The client reads the code and [`host_message`]; the host's words (a trap's
    /// backtrace, a path) go to the log.
    #[error("{}", host_message(.0))]
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
            ServiceError::Forbidden { .. } | ServiceError::NotLoopback(_) => "service.forbidden",
            ServiceError::NotFound(_) => "service.not_found",
            ServiceError::MethodNotAllowed(_) => "service.method_not_allowed",
            ServiceError::TooLarge(_) => "service.too_large",
            ServiceError::UnsupportedMediaType => "service.unsupported_media_type",
            ServiceError::Overloaded(_) => "service.overloaded",
            ServiceError::Timeout(_) => "service.timeout",
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
            ServiceError::Forbidden { .. } | ServiceError::NotLoopback(_) => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ServiceError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ServiceError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
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
            let cause = match self {
                // The host's own words, which the client does not read.
                ServiceError::Host(e) => e.to_string(),
                _ => chain(self),
            };
            tracing::error!(code = self.code(), cause, "request failed");
        } else {
            tracing::debug!(code = self.code(), message = %self, "request refused");
        }
    }
}

/// What a client reads of a sandbox fault: fixed words per code.
pub(crate) fn host_message(e: &HostError) -> String {
    match e {
        HostError::Engine(e) => e.message(),
        HostError::Deadline => "the engine ran past its deadline and was stopped".into(),
        HostError::MemoryLimit { .. } => "the engine hit the sandbox's memory limit".into(),
        HostError::Trap(_) | HostError::Protocol(_) => "the engine failed".into(),
        HostError::Read { .. } | HostError::Load(_) => "the engine could not be loaded".into(),
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
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorBody)]
pub(crate) struct ErrorBody<'a> {
    /// A stable code: the contract's (`invalid_event`...), `service.*` or `host.*`.
    code: &'a str,
    /// Where in the request, as a JSON Pointer (or the parameter's name); empty for the
    /// whole of it.
    pointer: &'a str,
    /// For a person; a failure on the service's side says only what failed.
    message: String,
    /// With `invalid_policy`: every error and warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::api::schema::Issue>>)]
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
        let mut response = (self.status(), axum::Json(body)).into_response();
        match self {
            ServiceError::Overloaded(seconds) => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            // The rest of the body is not read: the connection cannot carry another request.
            ServiceError::TooLarge(_) | ServiceError::Timeout(_) => {
                response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 28, 6: a client reads a code and the service's own words, never the
    /// sandbox's or the driver's.
    #[test]
    fn a_failure_on_our_side_tells_the_client_no_internals() {
        let trap = ServiceError::from(HostError::Trap("wasm backtrace: 0x1f3a - mdm_engine::decide".into()));
        assert_eq!(trap.code(), "host.trap");
        assert!(!trap.to_string().contains("backtrace"), "{trap}");
        let load =
            ServiceError::from(HostError::Load("/root/.cache/mdm-policy/abc: permission denied".into()));
        assert!(!load.to_string().contains("/root"), "{load}");
        let deadline = ServiceError::from(HostError::Deadline);
        assert_eq!(deadline.code(), "host.deadline");
        let database = ServiceError::Database(StoreError::WriterStopped);
        assert_eq!(database.to_string(), "the database did not answer");
        // The engine's errors are about the request: they keep their words.
        let engine =
            ServiceError::from(HostError::Engine(mdm_engine::DocumentKind::Event.error("/at", "bad time")));
        assert!(engine.to_string().ends_with("bad time"), "{engine}");
    }
}
