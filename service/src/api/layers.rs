//! The layers every request goes through, outermost first: security headers, the
//! request's span, the loopback Host of an open role, the limit of requests in flight,
//! the declared body size.

use std::net::IpAddr;
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;

use super::body::{RETRY_AFTER_SECONDS, declared_length};
use crate::ServiceError;

/// The console's pages: scripts, styles, workers and requests of its own origin only, the
/// engine's WebAssembly compiled (`'wasm-unsafe-eval'`, not `'unsafe-eval'`), no plugin,
/// and never inside another site's frame.
const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                           img-src 'self' data:; connect-src 'self'; worker-src 'self'; object-src 'none'; \
                           base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// The API's answers are data: nothing in them may run, load or be framed.
const API_CSP: &str = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether `path` is one of the console's files (served with `--console`).
fn console(path: &str) -> bool {
    path == "/"
        || path == "/console"
        || path.starts_with("/console/")
        || path.starts_with("/pkg/")
        || path == "/index.mjs"
        || path == "/errors.mjs"
}

/// Sets the security headers on every answer, errors included: `nosniff`, no framing, no
/// referrer, a content security policy (the console's or the API's), and `no-store` on
/// what is not the console (users' state and the log must not sit in a cache).
pub(super) async fn security_headers(request: Request, next: Next) -> Response {
    let console = console(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let csp = if console { CONSOLE_CSP } else { API_CSP };
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    if !console {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The request header that names a request, and the answer's that echoes it.
const REQUEST_ID: &str = "x-request-id";
/// The longest request id taken from a client.
const MAX_REQUEST_ID: usize = 128;

/// The request's id: the client's `x-request-id` when it sends one (once) of 1 to 128
/// letters, digits and `-._:/+=`, so that a proxy's id follows the request into the log;
/// otherwise one made here, `req_` and 64 random bits in hex.
fn request_id(request: &Request) -> String {
    let mut given = request.headers().get_all(REQUEST_ID).iter();
    if let (Some(id), None) = (given.next(), given.next())
        && let Ok(id) = id.to_str()
        && (1..=MAX_REQUEST_ID).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:/+=".contains(&b))
    {
        return id.to_string();
    }
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // Without random bytes, ids still differ within the process.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        bytes = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_be_bytes();
    }
    format!("req_{:016x}", u64::from_be_bytes(bytes))
}

/// Runs the request in a span of its own, so that every line the service logs while
/// answering it names it (its request id and, once decided, the decision's id); answers
/// with the request id in `x-request-id`; logs its answer at debug level.
pub(super) async fn traced(request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let span = tracing::info_span!(
        "request",
        request_id = id.as_str(),
        method = %request.method(),
        path = request.uri().path(),
        decision_id = tracing::field::Empty,
    );
    let started = Instant::now();
    async move {
        let mut response = next.run(request).await;
        tracing::debug!(
            status = response.status().as_u16(),
            elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "answered"
        );
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        response
    }
    .instrument(span)
    .await
}

/// When a role has no token (`open`), answers only requests whose `Host` is a loopback
/// name. The service then listens on loopback only, but a web page can rebind its own
/// name to 127.0.0.1 and call it from the browser: the `Host` it sends is still its name.
pub(super) async fn loopback_host(open: bool, request: Request, next: Next) -> Response {
    if open {
        let mut hosts = request.headers().get_all(header::HOST).iter();
        let host = match (hosts.next(), hosts.next()) {
            (Some(h), None) => h.to_str().unwrap_or_default(),
            _ => "",
        };
        if !loopback(host) {
            return ServiceError::NotLoopback(host.to_string()).into_response();
        }
    }
    next.run(request).await
}

/// Whether `host` (a `Host` header: a name or an address, and maybe a port) is
/// `localhost` or a loopback address.
fn loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a body whose declared length is over the limit before reading any of it (and
/// before the token check: an anonymous client must not make the service read 100 MB).
/// A body without a declared length is cut off at the limit as it is read.
pub(super) async fn declared_size(limit: usize, request: Request, next: Next) -> Response {
    if declared_length(request.headers()).is_some_and(|n| n > limit) {
        return ServiceError::TooLarge(limit).into_response();
    }
    next.run(request).await
}

/// The answer when the limit of requests in flight is reached (tower's load shedding in
/// front of its concurrency limit): 503, try again shortly.
pub(super) async fn overloaded(_: tower::BoxError) -> Response {
    ServiceError::Overloaded(RETRY_AFTER_SECONDS).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_names() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.1.2.3:1",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(super::loopback(host), "{host}");
        }
        for host in
            ["", "evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "[::2]:80", "10.0.0.1"]
        {
            assert!(!super::loopback(host), "{host}");
        }
    }
}
