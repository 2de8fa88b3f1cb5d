//! `POST /v1/events`.

use axum::http::Method;
use serde_json::json;

use crate::common::{ADMIN, Api, POLICY, Token, phone};

/// alice with A1 registered and B2 waiting.
async fn waiting() -> Api {
    let api = Api::new(POLICY).await;
    assert_eq!(api.login("alice", phone("A1")).await.json["outcome"], "allow");
    assert_eq!(api.login("alice", phone("B2")).await.json["outcome"], "pending_approval");
    api
}

#[tokio::test]
async fn approving_lets_the_device_in_and_approving_again_is_a_409() {
    let api = waiting().await;
    let ok = api.admin(json!({ "type": "approve", "user": "alice", "device_id": "B2" })).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.json["effects"].as_array().unwrap().iter().any(|e| e["op"] == "add_device"));
    let id = ok.decision_id();
    assert_eq!(api.get("/v1/pending").await.json["pending"], json!([]));
    assert_eq!(api.login("alice", phone("B2")).await.json["outcome"], "allow");
    let again = api.admin(json!({ "type": "approve", "user": "alice", "device_id": "B2" })).await;
    again.assert_error(409, "no_pending_request", "/device_id");
    let log = api.get("/v1/decisions?user=alice&limit=3").await;
    let records = log.json["decisions"].as_array().unwrap();
    assert_eq!(records[0]["event"], "approve", "the refused approval is logged");
    assert_eq!(records[0]["fault"]["code"], "no_pending_request");
    assert_eq!(records[2]["id"], id.as_str());
}

#[tokio::test]
async fn rejecting_and_unblocking_change_the_inbox_and_the_rejections() {
    let api = waiting().await;
    let r = api.admin(json!({ "type": "reject", "user": "alice", "device_id": "B2" })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(api.get("/v1/pending").await.json["pending"], json!([]));
    let state = api.get("/v1/users/alice").await.json["state"].clone();
    assert_eq!(state["rejected"][0]["device_id"], "B2", "{state}");
    assert_eq!(api.login("alice", phone("B2")).await.json["outcome"], "deny");
    let r = api.admin(json!({ "type": "unblock", "user": "alice", "device_id": "B2" })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(api.get("/v1/users/alice").await.json["state"]["rejected"], json!([]));
}

#[tokio::test]
async fn wipe_returns_the_device_command_and_records_which_admin_asked() {
    let api = waiting().await;
    let wiped = api.admin(json!({ "type": "wipe", "user": "alice", "device_id": "A1" })).await;
    assert_eq!(wiped.status, 200, "{}", wiped.text);
    assert_eq!(wiped.json["commands"], json!([{ "action": "wipe", "device_id": "A1" }]));
    let log = api.get("/v1/decisions?user=alice&limit=1").await;
    assert_eq!(log.json["decisions"][0]["event"], "wipe");
    let actor = log.json["decisions"][0]["actor"].as_str().unwrap();
    assert!(actor.starts_with("token:") && actor.len() == "token:".len() + 12, "{actor}");
    assert!(!log.text.contains(ADMIN), "the token itself is never stored");
    let removed = api.admin(json!({ "type": "remove_device", "user": "alice", "device_id": "A1" })).await;
    removed.assert_error(409, "unknown_device", "/device_id");
}

#[tokio::test]
async fn a_bad_event_is_refused_at_its_pointer() {
    let api = waiting().await;
    let cases = [
        (json!({ "type": "login", "user": "alice", "device": phone("A1") }), "invalid_event", "/type"),
        (json!({ "type": "erase", "user": "alice", "device_id": "A1" }), "invalid_event", "/type"),
        (json!({ "user": "alice", "device_id": "A1" }), "invalid_event", "/type"),
        (json!({ "type": "approve", "device_id": "B2" }), "invalid_event", "/user"),
        (json!({ "type": "approve", "user": "alice" }), "invalid_event", "/device_id"),
        (
            json!({ "type": "approve", "user": "alice", "device_id": "B2", "at": "soon" }),
            "invalid_event",
            "/at",
        ),
        (
            json!({ "type": "approve", "user": "alice", "device_id": "B2", "by": "nobody" }),
            "invalid_event",
            "/by",
        ),
    ];
    for (event, code, pointer) in cases {
        let r = api.admin(event.clone()).await;
        r.assert_error(400, code, pointer);
    }
    let r =
        api.raw(Method::POST, "/v1/events", Token::Admin, Some(r#"{"type":"wipe","type":"approve"}"#)).await;
    r.assert_error(400, "service.bad_request", "/type");
    assert_eq!(api.get("/v1/pending").await.json["pending"].as_array().unwrap().len(), 1, "B2 still waits");
}

#[tokio::test]
async fn the_gateway_token_may_not_send_admin_events() {
    let api = waiting().await;
    let event = json!({ "type": "wipe", "user": "alice", "device_id": "A1" });
    let r = api.call(Method::POST, "/v1/events", Token::Gateway, Some(event.clone())).await;
    r.assert_error(403, "service.forbidden", "");
    let r = api.call(Method::POST, "/v1/events", Token::None, Some(event)).await;
    r.assert_error(401, "service.unauthorized", "");
    let state = api.get("/v1/users/alice").await.json["state"].clone();
    assert_eq!(state["devices"][0]["device_id"], "A1", "nothing was wiped");
}

/// Issue 28, 2: an admin event's `at` is held to the same window as a login's.
#[tokio::test]
async fn an_event_at_outside_the_window_is_refused() {
    let api = waiting().await;
    let r = api
        .admin(json!({ "type": "approve", "user": "alice", "device_id": "B2", "at": "9999-01-01T00:00:00Z" }))
        .await;
    r.assert_error(400, "invalid_event", "/at");
    assert_eq!(api.get("/v1/pending").await.json["pending"].as_array().unwrap().len(), 1, "B2 still waits");
}

/// Issue 28, 8: `frm_device` (for `from_device`) was ignored and the approval made as the
/// admin; a field the event's type does not take is refused at its pointer.
#[tokio::test]
async fn a_field_the_event_type_does_not_take_is_refused() {
    let api = waiting().await;
    let cases = [
        (
            json!({ "type": "approve", "user": "alice", "device_id": "B2", "by": "self", "frm_device": "A1" }),
            "/frm_device",
        ),
        (json!({ "type": "wipe", "user": "alice", "device_id": "A1", "by": "self" }), "/by"),
        (json!({ "type": "reject", "user": "alice", "device_id": "B2", "method": "ios_profile" }), "/method"),
        (json!({ "type": "approve", "user": "alice", "device_id": "B2", "device": {} }), "/device"),
    ];
    for (event, pointer) in cases {
        api.admin(event).await.assert_error(400, "service.bad_request", pointer);
    }
    assert_eq!(api.get("/v1/pending").await.json["pending"].as_array().unwrap().len(), 1, "B2 still waits");
    assert_eq!(
        api.get("/v1/users/alice").await.json["state"]["devices"][0]["device_id"],
        "A1",
        "A1 not wiped"
    );
    let ok = api.admin(json!({ "type": "approve", "user": "alice", "device_id": "B2", "by": "admin" })).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}
