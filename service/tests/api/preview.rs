//! `POST /v1/preview`.

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::{Api, POLICY, Token, phone};

#[tokio::test]
async fn the_preview_runs_the_proposed_policy_over_the_stored_users() {
    let api = Api::new(POLICY).await;
    api.login("alice", phone("A1")).await;
    api.login_in("dave", phone("D1"), &["support"]).await;
    let mut proposed: Value = serde_json::from_str(POLICY).unwrap();
    proposed["assignment"] = json!({ "groups": ["sales", "support"] });
    let r = api.call(Method::POST, "/v1/preview", Token::Admin, Some(json!({ "proposed": proposed }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.json["summary"]["became_assigned"], 1);
    let changed: Vec<&str> =
        r.json["changes"].as_array().unwrap().iter().map(|c| c["user"].as_str().unwrap()).collect();
    assert_eq!(changed, ["dave"]);
    let at = json!({ "proposed": proposed, "at": "2026-11-22T10:00:00Z" });
    assert_eq!(api.call(Method::POST, "/v1/preview", Token::Admin, Some(at)).await.status, 200);
}

#[tokio::test]
async fn a_bad_preview_request_is_a_400() {
    let api = Api::new(POLICY).await;
    let call = |body: Value| {
        let api = &api;
        async move { api.call(Method::POST, "/v1/preview", Token::Admin, Some(body)).await }
    };
    let r = call(json!({ "proposed": { "schema": "x" } })).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.code(), "invalid_policy");
    call(json!({})).await.assert_error(400, "service.bad_request", "/proposed");
    call(json!({ "proposed": {}, "when": 1 })).await.assert_error(400, "service.bad_request", "/when");
    call(json!({ "proposed": serde_json::from_str::<Value>(POLICY).unwrap(), "at": 7 })).await.assert_error(
        400,
        "service.bad_request",
        "/at",
    );
    let r = api.call(Method::POST, "/v1/preview", Token::Gateway, Some(json!({ "proposed": {} }))).await;
    r.assert_error(403, "service.forbidden", "");
}
