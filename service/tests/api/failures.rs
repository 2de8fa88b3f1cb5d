//! A failing database: the client learns `service.database` and a message of the
//! service's own, never the driver's text (the log keeps the cause: `tests/logs.rs`).

use axum::http::Method;
use serde_json::json;

use crate::common::{Api, POLICY, Token, options, phone};

/// No driver's or database's words in what a client reads.
fn assert_no_driver_text(text: &str) {
    for leak in
        ["no such table", "decisions", "users", "policies", "sqlite", "SQL", "error returned from database"]
    {
        assert!(!text.contains(leak), "`{leak}` reaches the client: {text}");
    }
}

#[tokio::test]
async fn a_login_whose_state_cannot_be_read_is_denied() {
    let api = Api::new(POLICY).await;
    api.execute("DROP TABLE users").await;
    let r = api.login("alice", phone("A1")).await;
    assert_eq!(r.json["outcome"], "deny", "{}", r.text);
    assert_eq!(r.json["fault"]["code"], "service.database");
    assert_no_driver_text(&r.text);
}

#[tokio::test]
async fn an_admin_route_on_a_failing_database_is_a_503_with_a_stable_message() {
    let api = Api::new(POLICY).await;
    api.login("alice", phone("A1")).await;
    api.login("alice", phone("B2")).await;
    api.execute("DROP TABLE pending").await;
    let expect = |r: crate::common::Answer| {
        r.assert_error(503, "service.database", "");
        assert_eq!(r.json["message"], "the database did not answer");
        assert_no_driver_text(&r.text);
    };
    expect(api.get("/v1/pending").await);
    expect(api.admin(json!({ "type": "approve", "user": "alice", "device_id": "B2" })).await);
    api.execute("DROP TABLE users").await;
    expect(api.get("/v1/users/alice").await);
    api.execute("DROP TABLE decisions").await;
    expect(api.get("/v1/decisions").await);
    api.execute("DROP TABLE policies").await;
    expect(api.get("/v1/policy").await);
    expect(
        api.call(Method::PUT, "/v1/policy", Token::Admin, Some(serde_json::from_str(POLICY).unwrap())).await,
    );
}

#[tokio::test]
async fn a_stored_value_that_does_not_decode_is_a_database_error() {
    let api = Api::new(POLICY).await;
    api.login("alice", phone("A1")).await;
    api.execute("UPDATE users SET state = 'not json', groups = 'nor this'").await;
    // Started again: a running service on SQLite trusts the rows it wrote itself (it is the
    // file's one writer), so the broken row is read by the next process.
    let db = api.db.clone();
    drop(api);
    let api = Api::open(options(&db, Some(POLICY))).await;
    let r = api.login("alice", phone("A1")).await;
    assert_eq!(r.json["fault"]["code"], "service.database", "{}", r.text);
    let r = api.get("/v1/users/alice").await;
    r.assert_error(503, "service.database", "");
    let r = api.admin(json!({ "type": "wipe", "user": "alice", "device_id": "A1" })).await;
    r.assert_error(503, "service.database", "");
}
