//! `GET /healthz` and `GET /metrics`: open, and without user data.

use axum::http::Method;

use crate::common::{Api, POLICY, Token, phone};

#[tokio::test]
async fn health_says_ok_without_a_token() {
    let api = Api::new(POLICY).await;
    let r = api.call(Method::GET, "/healthz", Token::None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "ok");
    assert_eq!(r.json["service"], "mdm");
    assert_eq!(r.json["database"], "sqlite");
    assert!(r.json["policy_digest"].as_str().unwrap().starts_with("sha256:"));
}

#[tokio::test]
async fn metrics_count_decisions_and_name_no_user() {
    let api = Api::new(POLICY).await;
    api.login("alice", phone("A1")).await;
    api.login("alice", phone("B2")).await;
    let r = api.call(Method::GET, "/metrics", Token::None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    assert!(r.text.contains(r#"mdm_decisions_total{event="login",outcome="allow"} 1"#), "{}", r.text);
    assert!(
        r.text.contains(r#"mdm_decisions_total{event="login",outcome="pending_approval"} 1"#),
        "{}",
        r.text
    );
    assert!(r.text.contains("mdm_decision_seconds_bucket"));
    assert!(r.text.contains("mdm_database_errors_total 0"));
    for secret in ["alice", "A1", "B2"] {
        assert!(!r.text.contains(secret), "{secret}");
    }
}
