//! Issue 28, 3 and 7: limits on what is in flight, and on a body that stops coming.

use std::time::Duration;

use axum::http::Method;
use mdm_service::Limits;

use crate::common::{Api, POLICY, Token, fresh_db, options, stalled};

async fn with_limits(limits: Limits) -> Api {
    let db = fresh_db();
    let mut options = options(&db, Some(POLICY));
    options.limits = limits;
    Api::open(options).await
}

/// No limit on concurrent requests: now one over it is a 503 with `retry-after`, at once.
#[tokio::test]
async fn a_request_over_the_concurrency_limit_is_a_503_to_retry() {
    let api = with_limits(Limits { max_concurrent: 1, ..Limits::default() }).await;
    let (first, waits) = stalled(&api.router, "/v1/login", None, b"{").await;
    assert!(waits);
    let r = api.call(Method::GET, "/healthz", Token::None, None).await;
    r.assert_error(503, "service.overloaded", "");
    assert_eq!(r.headers["retry-after"], "1");
    first.abort();
    let _ = first.await;
    let r = api.call(Method::GET, "/healthz", Token::None, None).await;
    assert_eq!(r.status, 200, "the slot is free again: {}", r.text);
}

/// No limit on in-flight bytes: now the bodies held at once are counted, declared or not.
#[tokio::test]
async fn bodies_over_the_in_flight_budget_are_a_503_to_retry() {
    let api = with_limits(Limits { max_inflight_bytes: 64 << 20, ..Limits::default() }).await;
    let (first, waits) = stalled(&api.router, "/v1/login", Some(40 << 20), b"{").await;
    assert!(waits);
    // Declared: refused before a byte is read.
    let (second, waits) = stalled(&api.router, "/v1/login", Some(40 << 20), b"").await;
    assert!(!waits);
    let r = second.await.unwrap();
    r.assert_error(503, "service.overloaded", "");
    assert_eq!(r.headers["retry-after"], "1");
    // Not declared: refused at the chunk that goes over.
    let chunk = vec![b' '; 30 << 20];
    let (third, waits) = stalled(&api.router, "/v1/login", None, &chunk).await;
    assert!(!waits);
    let r = third.await.unwrap();
    r.assert_error(503, "service.overloaded", "");
    // What needs no body is still answered.
    assert_eq!(api.call(Method::GET, "/healthz", Token::None, None).await.status, 200);
    first.abort();
    let _ = first.await;
    let (fourth, waits) = stalled(&api.router, "/v1/login", Some(40 << 20), b"{").await;
    assert!(waits, "the first body's share is given back when it is answered or dropped");
    fourth.abort();
}

/// Issue 28, 7: a body that stops coming is refused after the idle timeout (408), and
/// its connection closed.
#[tokio::test]
async fn a_stalled_body_is_a_408() {
    let api = with_limits(Limits { idle_timeout: Duration::from_millis(200), ..Limits::default() }).await;
    let (task, waits) = stalled(&api.router, "/v1/login", Some(100), br#"{"user":"#).await;
    assert!(waits);
    let r = task.await.unwrap();
    r.assert_error(408, "service.timeout", "");
    assert_eq!(r.headers["connection"], "close");
}

#[tokio::test]
async fn limits_that_cannot_work_are_refused_at_start() {
    let db = fresh_db();
    let mut o = options(&db, Some(POLICY));
    o.limits.max_inflight_bytes = 1 << 20;
    let (gateway, admin) = crate::common::runtimes();
    let e = mdm_service::Service::open(gateway.clone(), admin.clone(), o).await.err().unwrap();
    assert!(e.to_string().contains("in-flight limit"), "{e}");
    let mut o = options(&db, Some(POLICY));
    o.limits.max_concurrent = 0;
    let e = mdm_service::Service::open(gateway, admin, o).await.err().unwrap();
    assert!(e.to_string().contains("concurrent"), "{e}");
}
