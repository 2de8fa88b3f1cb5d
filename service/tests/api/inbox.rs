//! `GET /v1/pending`.

use axum::http::Method;
use serde_json::json;

use crate::common::{Api, POLICY, Token, ago, phone};

#[tokio::test]
async fn the_inbox_lists_every_pending_request_oldest_first() {
    let api = Api::new(POLICY).await;
    for user in ["alice", "bob"] {
        api.login(user, phone(&format!("{user}-1"))).await;
    }
    // Requested two minutes and one minute ago: the inbox orders by that time.
    for (user, device, at) in [("bob", "bob-2", ago(120)), ("alice", "alice-2", ago(60))] {
        let body = json!({ "user": user, "groups": ["sales"], "device": phone(device), "at": at });
        let r = api.call(Method::POST, "/v1/login", Token::Gateway, Some(body)).await;
        assert_eq!(r.json["outcome"], "pending_approval", "{}", r.text);
    }
    let r = api.get("/v1/pending").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.json["pending"].as_array().unwrap();
    let who: Vec<(&str, &str)> =
        items.iter().map(|p| (p["user"].as_str().unwrap(), p["device_id"].as_str().unwrap())).collect();
    assert_eq!(who, [("bob", "bob-2"), ("alice", "alice-2")]);
    assert_eq!(items[0]["device"]["device_id"], "bob-2");
    assert!(items[0]["age_seconds"].as_i64().unwrap() >= 120);
    assert!(items[0]["requested_at"].as_str().unwrap().ends_with('Z'));
    let one = api.get("/v1/pending?limit=1").await;
    assert_eq!(one.json["pending"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_bad_query_is_a_400() {
    let api = Api::new(POLICY).await;
    api.get("/v1/pending?lmit=3").await.assert_error(400, "service.bad_request", "");
    api.get("/v1/pending?limit=0").await.assert_error(400, "service.bad_request", "limit");
    api.get("/v1/pending?limit=1001").await.assert_error(400, "service.bad_request", "limit");
    api.get("/v1/pending?limit=ten").await.assert_error(400, "service.bad_request", "");
}

/// Issue 28, 8: `?user=` was ignored and every user's requests came back.
#[tokio::test]
async fn the_inbox_of_one_user() {
    let api = Api::new(POLICY).await;
    for user in ["alice", "bob"] {
        api.login(user, phone(&format!("{user}-1"))).await;
        api.login(user, phone(&format!("{user}-2"))).await;
    }
    let r = api.get("/v1/pending?user=alice").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let users: Vec<&str> =
        r.json["pending"].as_array().unwrap().iter().map(|p| p["user"].as_str().unwrap()).collect();
    assert_eq!(users, ["alice"]);
    api.get("/v1/pending?user=").await.assert_error(400, "service.bad_request", "user");
    api.get("/v1/pending?limit=1&limit=2").await.assert_error(400, "service.bad_request", "");
}
