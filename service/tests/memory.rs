//! Issue 28, 3: a request's memory was about 36 times its body (one 60 MB login, a large
//! array in an unknown device attribute, peaked at 2.2 GB). A body is now decoded within
//! a small multiple of its size.
//!
//! A test binary of its own, with one test: it counts every allocation of the process
//! (`peak_alloc`), which other tests running beside it would disturb.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use peak_alloc::PeakAlloc;

use common::{Api, GATEWAY, POLICY};

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// A login whose device has an unknown attribute holding `bytes` of `0,0,0,...`.
fn huge_login(bytes: usize) -> Vec<u8> {
    let mut body =
        br#"{"user":"alice","groups":["sales"],"device":{"device_id":"A1","os_type":"ios","x":["#.to_vec();
    while body.len() < bytes {
        body.extend_from_slice(b"0,");
    }
    body.extend_from_slice(b"0]}}");
    body
}

#[tokio::test]
async fn a_login_is_decoded_within_a_small_multiple_of_its_body() {
    let api = Api::new(POLICY).await;
    // Warm up: the first login instantiates the sandbox and fills the pools.
    let small = huge_login(1 << 10);
    let request = |body: Vec<u8>| {
        Request::builder()
            .method(Method::POST)
            .uri("/v1/login")
            .header("authorization", format!("Bearer {GATEWAY}"))
            .header("content-type", "application/json")
            .header("content-length", body.len().to_string())
            .body(Body::from(body))
            .unwrap()
    };
    assert_eq!(api.send(request(small)).await.json["outcome"], "allow");

    let size = 16 << 20;
    let body = huge_login(size);
    let request = request(body);
    ALLOCATOR.reset_peak_usage();
    let before = ALLOCATOR.current_usage();
    let answer = api.send(request).await;
    let peak = ALLOCATOR.peak_usage() - before;
    assert_eq!(answer.json["outcome"], "allow", "{}", answer.text);
    let ratio = peak as f64 / size as f64;
    assert!(
        ratio < 4.0,
        "a {size} B login peaked at {peak} B over what was allocated before: {ratio:.1} times its size"
    );
}
