//! `POST /v1/login`.

use axum::http::Method;
use serde_json::json;

use crate::common::{Api, POLICY, Token, ago, phone};

#[tokio::test]
async fn a_login_is_decided_stored_and_logged() {
    let api = Api::new(POLICY).await;
    let mut a1 = phone("A1");
    a1["serial_number"] = json!("F2LXK0QJHG7F");
    let first = api.login("alice", a1).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["outcome"], "allow");
    let id = first.decision_id();
    let second = api.login("alice", phone("B2")).await;
    assert_eq!(second.json["outcome"], "pending_approval");

    let user = api.get("/v1/users/alice").await;
    assert_eq!(user.json["groups"], json!(["sales"]));
    assert_eq!(user.json["state"]["devices"][0]["device_id"], "A1");
    assert_eq!(user.json["state"]["devices"][0]["serial_number"], "F2LXK0QJHG7F", "the state keeps it whole");
    assert_eq!(user.json["state"]["pending"][0]["device"]["device_id"], "B2");

    let log = api.get("/v1/decisions?user=alice").await;
    let records = log.json["decisions"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["id"], id.as_str());
    assert_eq!(records[1]["effects"][0]["device"]["serial_number"], "****HG7F", "the log masks it");
    assert!(records[0]["actor"].as_str().unwrap().starts_with("token:"));
}

#[tokio::test]
async fn a_known_device_changes_nothing_and_is_still_logged() {
    let api = Api::new(POLICY).await;
    assert_eq!(api.login("alice", phone("A1")).await.json["outcome"], "allow");
    let version = api.get("/v1/users/alice").await.json["version"].clone();
    let again = api.login("alice", phone("A1")).await;
    assert_eq!(again.json["outcome"], "allow");
    assert_eq!(api.get("/v1/users/alice").await.json["version"], version, "no write of the state");
    let log = api.get("/v1/decisions?user=alice").await;
    assert_eq!(log.json["decisions"][0]["id"], again.decision_id().as_str());
}

#[tokio::test]
async fn groups_are_stored_as_last_seen_and_at_is_taken_when_given() {
    let api = Api::new(POLICY).await;
    let at = ago(3600);
    let body = json!({ "user": "bob", "groups": ["sales", "support"], "device": phone("B1"), "at": at });
    let r = api.call(Method::POST, "/v1/login", Token::Gateway, Some(body)).await;
    assert_eq!(r.json["outcome"], "allow", "{}", r.text);
    let user = api.get("/v1/users/bob").await;
    assert_eq!(user.json["groups"], json!(["sales", "support"]));
    let log = api.get("/v1/decisions?user=bob").await;
    assert_eq!(log.json["decisions"][0]["at"], at.as_str());
    // Unassigned without groups: limited, never an error.
    let r = api
        .call(
            Method::POST,
            "/v1/login",
            Token::Gateway,
            Some(json!({ "user": "carol", "device": phone("C1") })),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["assigned"], false);
}

#[tokio::test]
async fn a_bad_envelope_is_a_400_at_its_pointer_and_changes_nothing() {
    let api = Api::new(POLICY).await;
    let cases: &[(&str, &str, &str, &str)] = &[
        ("malformed JSON", r#"{"user": "alice", "#, "service.bad_request", ""),
        ("an array", "[]", "service.bad_request", ""),
        (
            "a name given twice",
            r#"{"user":"alice","user":"mallory","device":{"device_id":"A1","os_type":"ios"}}"#,
            "service.bad_request",
            "/user",
        ),
        // Inside the event's parts, the engine's reader refuses it, with the contract's code.
        (
            "a device field given twice",
            r#"{"user":"alice","device":{"device_id":"A1","os_type":"ios","device_id":"B2"}}"#,
            "invalid_event",
            "/device/device_id",
        ),
        (
            "an unknown field",
            r#"{"user":"alice","device":{"device_id":"A1","os_type":"ios"},"grups":[]}"#,
            "service.bad_request",
            "/grups",
        ),
        (
            "a group not a string",
            r#"{"user":"alice","groups":[7],"device":{"device_id":"A1","os_type":"ios"}}"#,
            "service.bad_request",
            "/groups/0",
        ),
        (
            "groups not a list",
            r#"{"user":"alice","groups":"sales","device":{"device_id":"A1","os_type":"ios"}}"#,
            "service.bad_request",
            "/groups",
        ),
        (
            "an empty group",
            r#"{"user":"alice","groups":[""],"device":{"device_id":"A1","os_type":"ios"}}"#,
            "service.bad_request",
            "/groups/0",
        ),
        (
            "a device without an id",
            r#"{"user":"alice","device":{"os_type":"ios"}}"#,
            "invalid_event",
            "/device/device_id",
        ),
        ("no device", r#"{"user":"alice"}"#, "invalid_event", "/device"),
        ("no user", r#"{"device":{"device_id":"A1","os_type":"ios"}}"#, "invalid_event", "/user"),
        (
            "a time not RFC 3339",
            r#"{"user":"alice","device":{"device_id":"A1","os_type":"ios"},"at":"yesterday"}"#,
            "invalid_event",
            "/at",
        ),
    ];
    for (name, body, code, pointer) in cases {
        let r = api.raw(Method::POST, "/v1/login", Token::Gateway, Some(body)).await;
        assert_eq!(r.status, 400, "{name}: {}", r.text);
        assert_eq!(r.code(), *code, "{name}: {}", r.text);
        assert_eq!(r.json["pointer"], *pointer, "{name}: {}", r.text);
    }
    let not_utf8 = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/login")
        .header("authorization", format!("Bearer {}", crate::common::GATEWAY))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(vec![b'{', 0xff, b'}']))
        .unwrap();
    api.send(not_utf8).await.assert_error(400, "service.bad_request", "");
    let groups: Vec<String> = (0..10_001).map(|i| format!("g{i}")).collect();
    let r = api
        .call(
            Method::POST,
            "/v1/login",
            Token::Gateway,
            Some(json!({ "user": "alice", "groups": groups, "device": phone("A1") })),
        )
        .await;
    r.assert_error(400, "service.bad_request", "/groups");
    assert_eq!(api.get("/v1/users/alice").await.status, 404, "nothing was stored");
    assert_eq!(api.get("/v1/decisions").await.json["decisions"], json!([]), "nothing was logged");
}

#[tokio::test]
async fn only_the_gateway_token_decides_logins() {
    let api = Api::new(POLICY).await;
    let body = Some(json!({ "user": "eve", "device": phone("E1") }));
    let none = api.call(Method::POST, "/v1/login", Token::None, body.clone()).await;
    none.assert_error(401, "service.unauthorized", "");
    let wrong = api
        .call(Method::POST, "/v1/login", Token::Literal("not-a-token-of-this-service"), body.clone())
        .await;
    wrong.assert_error(401, "service.unauthorized", "");
    let admin = api.call(Method::POST, "/v1/login", Token::Admin, body).await;
    admin.assert_error(403, "service.forbidden", "");
    assert_eq!(api.get("/v1/users/eve").await.status, 404);
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_before_it_is_read() {
    let api = Api::new(POLICY).await;
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/login")
        .header("content-length", (100u64 << 20).to_string())
        .header("content-type", "application/json")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = api.send(request).await;
    r.assert_error(413, "service.too_large", "");
    assert_eq!(r.headers["connection"], "close");
}

#[tokio::test]
async fn fifty_logins_of_one_user_at_once_register_one_device() {
    let api = Api::new(POLICY).await;
    let answers = futures_join(&api, 50).await;
    let allowed = answers.iter().filter(|o| o.as_str() == "allow").count();
    let pending = answers.iter().filter(|o| o.as_str() == "pending_approval").count();
    assert_eq!((allowed, pending), (1, 49), "{answers:?}");
    let user = api.get("/v1/users/alice").await;
    assert_eq!(user.json["state"]["devices"].as_array().unwrap().len(), 1);
    assert_eq!(user.json["state"]["pending"].as_array().unwrap().len(), 49);
    assert_eq!(api.get("/v1/decisions?limit=1000").await.json["decisions"].as_array().unwrap().len(), 50);
}

/// `n` logins of alice from `n` new phones, all in flight at once; their outcomes.
async fn futures_join(api: &Api, n: usize) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let router = api.router.clone();
        let db = api.db.clone();
        tasks.spawn(async move {
            let api = Api { router, db };
            api.login("alice", phone(&format!("D{i}"))).await.json["outcome"].as_str().unwrap().to_string()
        });
    }
    tasks.join_all().await
}

/// Issue 28, 2: one login at year 9999 stored `noncompliant_since` there, and an
/// outdated phone was then "in grace" for good.
#[tokio::test]
async fn an_at_outside_the_window_around_the_clock_is_refused_and_stores_nothing() {
    let api = Api::new(POLICY).await;
    let far = [
        "9999-01-01T00:00:00Z".to_string(),
        "1970-01-02T00:00:00Z".to_string(),
        ago(-25 * 3600),
        ago(25 * 3600),
    ];
    for at in &far {
        let body = json!({ "user": "alice", "groups": ["sales"], "device": phone("A1"), "at": at });
        let r = api.call(Method::POST, "/v1/login", Token::Gateway, Some(body)).await;
        r.assert_error(400, "invalid_event", "/at");
        assert!(r.json["message"].as_str().unwrap().contains("24 h"), "{}", r.text);
    }
    assert_eq!(api.get("/v1/users/alice").await.status, 404, "nothing was stored");
    for at in [ago(23 * 3600), ago(-23 * 3600)] {
        let body = json!({ "user": "alice", "groups": ["sales"], "device": phone("A1"), "at": at });
        let r = api.call(Method::POST, "/v1/login", Token::Gateway, Some(body)).await;
        assert_eq!(r.json["outcome"], "allow", "{}", r.text);
    }
}
