//! `GET /v1/decisions`.

use crate::common::{Api, POLICY, phone};

#[tokio::test]
async fn the_log_is_newest_first_by_user_and_limited() {
    let api = Api::new(POLICY).await;
    let mut answered = Vec::new();
    for (user, device) in [("alice", "A1"), ("bob", "B1"), ("alice", "A2")] {
        answered.push(api.login(user, phone(device)).await.decision_id());
    }
    let all = api.get("/v1/decisions").await;
    assert_eq!(all.status, 200, "{}", all.text);
    let all: Vec<&str> =
        all.json["decisions"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(all, [&answered[2], &answered[1], &answered[0]]);
    let alice = api.get("/v1/decisions?user=alice").await;
    let alice: Vec<&str> =
        alice.json["decisions"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(alice, [&answered[2], &answered[0]]);
    let one = api.get("/v1/decisions?limit=1").await;
    assert_eq!(one.json["decisions"][0]["id"], answered[2].as_str());
    assert_eq!(one.json["decisions"].as_array().unwrap().len(), 1);
    let record = &one.json["decisions"][0];
    for field in [
        "time",
        "at",
        "policy_digest",
        "engine_version",
        "event",
        "user",
        "device_id",
        "outcome",
        "elapsed_us",
        "actor",
    ] {
        assert!(!record[field].is_null(), "{field} in {record}");
    }
}

#[tokio::test]
async fn a_bad_query_is_a_400() {
    let api = Api::new(POLICY).await;
    api.get("/v1/decisions?limit=100000").await.assert_error(400, "service.bad_request", "limit");
    api.get("/v1/decisions?user=").await.assert_error(400, "service.bad_request", "user");
    api.get("/v1/decisions?who=alice").await.assert_error(400, "service.bad_request", "");
}
