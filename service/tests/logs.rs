//! The service's log: a failure on the service's side is logged with its cause, in the
//! request's span with the decision's id, as JSON lines when asked; the client reads
//! none of it.
//!
//! A test binary of its own: `tracing` caches per call site whether a subscriber wants
//! it, and a subscriber set for one thread (as this test does) could miss call sites that
//! another test's thread registers at the same moment.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};

use axum::http::Method;
use mdm_service::LogFormat;
use serde_json::{Value, json};

use common::{Api, POLICY, Token, phone};

/// The log's lines, as a test reads them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Logs the current thread's events (a `current_thread` test runtime runs every
    /// request there) in JSON lines.
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = mdm_service::subscriber(LogFormat::Json, "debug", move || writer.clone()).unwrap();
        tracing::subscriber::set_default(subscriber)
    }

    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
            .collect()
    }
}

/// No driver's or database's words in what a client reads.
fn assert_no_driver_text(text: &str) {
    for leak in ["no such table", "decisions", "sqlite", "SQL", "error returned from database"] {
        assert!(!text.contains(leak), "`{leak}` reaches the client: {text}");
    }
}

#[tokio::test]
async fn a_login_whose_log_row_cannot_be_stored_is_denied_and_the_cause_is_logged() {
    let log = Captured::default();
    let _guard = log.install();
    let api = Api::new(POLICY).await;
    api.execute("DROP TABLE decisions").await;
    let r = api.login("alice", phone("A1")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["outcome"], "deny");
    assert_eq!(r.json["effects"], json!([]));
    assert_eq!(
        r.json["fault"],
        json!({ "code": "service.database", "message": "the database did not answer" })
    );
    assert_no_driver_text(&r.text);
    let metrics = api.call(Method::GET, "/metrics", Token::None, None).await;
    assert!(metrics.text.contains("mdm_database_errors_total 1"), "{}", metrics.text);
    assert!(metrics.text.contains(r#"mdm_decisions_total{event="login",outcome="deny"} 1"#));

    let lines = log.lines();
    let failure = lines
        .iter()
        .find(|l| l["level"] == "ERROR" && l["fields"]["code"] == "service.database")
        .unwrap_or_else(|| panic!("no error line: {lines:#?}"));
    let cause = failure["fields"]["cause"].as_str().unwrap();
    assert!(cause.contains("no such table: decisions"), "the log keeps the cause: {cause}");
    assert_eq!(failure["span"]["name"], "request", "{failure}");
    assert_eq!(failure["span"]["path"], "/v1/login");
    let id = failure["span"]["decision_id"].as_str().unwrap_or_else(|| panic!("no decision id: {failure}"));
    assert!(!id.is_empty());
    // The request id the answer names is the span's.
    let request_id = r.headers["x-request-id"].to_str().unwrap();
    assert!(request_id.starts_with("req_"), "{request_id}");
    assert_eq!(failure["span"]["request_id"], request_id, "{failure}");
    assert_eq!(api.get("/v1/users/alice").await.status, 404, "nothing was stored");
}
