//! `GET /v1/users/{user}`.

use axum::http::Method;
use serde_json::json;

use crate::common::{Api, POLICY, Token, phone};

#[tokio::test]
async fn a_user_is_their_groups_state_and_version() {
    let api = Api::new(POLICY).await;
    api.login("alice", phone("A1")).await;
    let r = api.get("/v1/users/alice").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["user"], "alice");
    assert_eq!(r.json["groups"], json!(["sales"]));
    assert_eq!(r.json["version"], 1);
    assert_eq!(r.json["state"]["devices"][0]["device_id"], "A1");
    assert!(r.json["updated_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn an_unknown_user_is_a_404_and_a_long_id_a_400() {
    let api = Api::new(POLICY).await;
    api.get("/v1/users/nobody").await.assert_error(404, "service.not_found", "");
    let long = "u".repeat(10_240);
    api.get(&format!("/v1/users/{long}")).await.assert_error(400, "service.bad_request", "user");
    let r = api.call(Method::GET, "/v1/users/alice", Token::Gateway, None).await;
    r.assert_error(403, "service.forbidden", "");
    let r = api.call(Method::GET, "/v1/users/alice", Token::None, None).await;
    r.assert_error(401, "service.unauthorized", "");
}
