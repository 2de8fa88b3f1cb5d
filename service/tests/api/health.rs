//! `GET /healthz`, `GET /readyz` and `GET /metrics`: open, and without user data.

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

async fn quick_health() -> Api {
    let db = crate::common::fresh_db();
    let mut options = crate::common::options(&db, Some(POLICY));
    options.limits.health_timeout = std::time::Duration::from_millis(300);
    Api::open(options).await
}

/// Issue 27: liveness is the process, not the database. A database that is locked,
/// broken or read-only makes the replica unready (taken out of the balancer), not dead
/// (restarted by its orchestrator, which mends nothing): `/healthz` still answers 200.
async fn assert_alive(api: &Api) {
    let r = api.call(Method::GET, "/healthz", Token::None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "ok");
    assert_eq!(r.json["problems"], serde_json::json!([]));
    assert!(r.json["policy_digest"].as_str().unwrap().starts_with("sha256:"));
}

fn problems(r: &crate::common::Answer) -> Vec<String> {
    r.json["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_string()).collect()
}

/// Issue 28, 1: `/healthz` ran `SELECT 1` on the read pool, so it said ok while an
/// exclusive lock held every login for 10 s and then denied it.
#[tokio::test]
async fn health_takes_a_write_and_reports_a_lock() {
    use sqlx::Executor as _;
    let api = quick_health().await;
    let r = api.call(Method::GET, "/readyz", Token::None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["problems"], serde_json::json!([]));
    let mut lock = api.sqlite().await;
    lock.execute("BEGIN EXCLUSIVE").await.unwrap();
    let r = api.call(Method::GET, "/readyz", Token::None, None).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json["status"], "unavailable");
    assert_eq!(problems(&r), ["database.timeout"], "{}", r.text);
    assert!(r.json["policy_digest"].as_str().unwrap().starts_with("sha256:"));
    assert_alive(&api).await;
    lock.execute("ROLLBACK").await.unwrap();
    drop(lock);
    // The writer may still be in the busy wait the timed-out check started.
    let mut status = 0;
    for _ in 0..100 {
        status = api.call(Method::GET, "/readyz", Token::None, None).await.status.as_u16();
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200, "healthy again once the lock is gone");
}

/// Issue 28, 1: a missing table looked healthy.
#[tokio::test]
async fn health_reports_a_missing_table() {
    let api = quick_health().await;
    api.execute("DROP TABLE decisions").await;
    let r = api.call(Method::GET, "/readyz", Token::None, None).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(problems(&r), ["database.schema"]);
    assert!(!r.text.contains("decisions"), "no table name to an anonymous caller: {}", r.text);
    assert_alive(&api).await;
}

/// Issue 28, 1: a read-only database (`?mode=ro`) looked healthy while every login failed.
#[tokio::test]
async fn health_reports_a_read_only_database() {
    let api = quick_health().await;
    let db = api.db.clone();
    drop(api);
    let mut options = crate::common::options(&db, Some(POLICY));
    options.db = format!("sqlite://{}?mode=ro", db.display());
    options.create = false;
    let api = Api::open(options).await;
    let r = api.call(Method::GET, "/readyz", Token::None, None).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(problems(&r), ["database.read_only"]);
    assert_alive(&api).await;
    let login = api.login("alice", phone("A1")).await;
    assert_eq!(login.json["outcome"], "deny", "and indeed a login cannot be stored: {}", login.text);
}
