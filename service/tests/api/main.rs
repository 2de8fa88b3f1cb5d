//! The service's API through its axum router (`tower::ServiceExt::oneshot`), each test on
//! a SQLite file of its own: every route's success and its errors. The Node suite
//! (`service/tests/*.test.mjs`) runs real processes for what needs them: PostgreSQL,
//! several replicas, SIGKILL, the console in Chromium.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../common/mod.rs"]
mod common;

mod connections;
mod decisions;
mod devices;
mod events;
mod failures;
mod health;
mod http;
mod inbox;
mod limits;
mod login;
mod openapi;
mod policy;
mod preview;
mod requests;
mod routes;
mod sets;
mod shadow;
mod start;
mod users;
mod webhooks;
