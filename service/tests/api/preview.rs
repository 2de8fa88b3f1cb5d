//! `POST /v1/preview`.

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::{Api, POLICY, Token, fresh_db, options, phone};

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

/// Issue 25: the whole report of every stored user was one answer (34 MB at 71,468 users).
#[tokio::test]
async fn the_report_counts_everyone_and_pages_its_changes_by_user() {
    pages_of_changes(Api::new(POLICY).await).await;
}

/// The same report when the users are read three at a time, one sandbox call each, all
/// three batches previewed at once: the summaries add up, and pages run across the
/// batches in their order.
#[tokio::test]
async fn users_previewed_in_batches_give_the_same_report() {
    pages_of_changes(in_batches(3, 3).await).await;
}

/// Batches that divide the users exactly (4 and 4), one previewed at a time: the read
/// after the last full batch finds no one, and the report is still the same.
#[tokio::test]
async fn batches_that_divide_the_users_exactly_give_the_same_report() {
    pages_of_changes(in_batches(4, 1).await).await;
}

/// Ids that JSON must escape reach the engine as they were stored: the database writes
/// the batch's document, quoting each id itself.
#[tokio::test]
async fn ids_that_json_escapes_are_previewed_as_stored() {
    let api = in_batches(2, 2).await;
    let ids = ["a\"quote", "b\\backslash", "c\u{e9}t\u{e9} \u{1f600}", "d/slash", "e\ttab"];
    for (i, user) in ids.iter().enumerate() {
        let r = api.login_in(user, phone(&format!("D{i}")), &["support"]).await;
        assert_eq!(r.status, 200, "{user:?}: {}", r.text);
    }
    let mut proposed: Value = serde_json::from_str(POLICY).unwrap();
    proposed["assignment"] = json!({ "groups": ["support"] });
    let r = api.call(Method::POST, "/v1/preview", Token::Admin, Some(json!({ "proposed": proposed }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["summary"]["users"], 5);
    assert_eq!(r.json["summary"]["became_assigned"], 5);
    let mut listed: Vec<&str> =
        r.json["changes"].as_array().unwrap().iter().map(|c| c["user"].as_str().unwrap()).collect();
    listed.sort_unstable();
    let mut expected = ids.to_vec();
    expected.sort_unstable();
    assert_eq!(listed, expected);
}

/// A service on a fresh database whose preview reads `batch` users at a time and previews
/// `parallel` batches at once.
async fn in_batches(batch: usize, parallel: usize) -> Api {
    let db = fresh_db();
    let mut options = options(&db, Some(POLICY));
    options.limits.preview_batch = batch;
    options.limits.preview_parallel = parallel;
    Api::open(options).await
}

async fn pages_of_changes(api: Api) {
    for i in 0..7 {
        api.login_in(&format!("u{i}"), phone(&format!("D{i}")), &["support"]).await;
    }
    api.login("alice", phone("A1")).await;
    let mut proposed: Value = serde_json::from_str(POLICY).unwrap();
    proposed["assignment"] = json!({ "groups": ["sales", "support"] });
    let page = |extra: Value| {
        let (api, proposed) = (&api, proposed.clone());
        async move {
            let mut body = json!({ "proposed": proposed });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let r = api.call(Method::POST, "/v1/preview", Token::Admin, Some(body)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json
        }
    };
    let users = |r: &Value| -> Vec<String> {
        r["changes"].as_array().unwrap().iter().map(|c| c["user"].as_str().unwrap().to_string()).collect()
    };
    let first = page(json!({ "limit": 3 })).await;
    assert_eq!(first["summary"]["became_assigned"], 7, "the summary counts every user");
    assert_eq!(first["summary"]["users"], 8);
    assert_eq!(first["summary"]["assigned_before"], 1);
    assert_eq!(first["total_changes"], 7);
    assert_eq!(users(&first), ["u0", "u1", "u2"]);
    let mut seen = users(&first);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_string();
    loop {
        let next = page(json!({ "limit": 3, "cursor": cursor })).await;
        assert_eq!(next["summary"], first["summary"]);
        seen.extend(users(&next));
        match next["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ["u0", "u1", "u2", "u3", "u4", "u5", "u6"]);
    let one = page(json!({ "user": "u4" })).await;
    assert_eq!(users(&one), ["u4"]);
    assert_eq!(one["total_changes"], 1);
    assert_eq!(one["next_cursor"], Value::Null);
    assert_eq!(
        users(&page(json!({ "user": "alice" })).await),
        Vec::<String>::new(),
        "alice's answers do not change"
    );
    let all = page(json!({})).await;
    assert_eq!(users(&all).len(), 7, "100 by default");

    for (extra, pointer) in [
        (json!({ "limit": 0 }), "/limit"),
        (json!({ "limit": 1001 }), "/limit"),
        (json!({ "limit": "3" }), "/limit"),
        (json!({ "cursor": "%%" }), "/cursor"),
        (json!({ "cursor": 3 }), "/cursor"),
        (json!({ "user": "" }), "/user"),
    ] {
        let mut body = json!({ "proposed": proposed });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        api.call(Method::POST, "/v1/preview", Token::Admin, Some(body)).await.assert_error(
            400,
            "service.bad_request",
            pointer,
        );
    }
}

#[tokio::test]
async fn no_stored_user_is_a_report_of_zeros() {
    let api = Api::new(POLICY).await;
    let body = json!({ "proposed": serde_json::from_str::<Value>(POLICY).unwrap() });
    let r = api.call(Method::POST, "/v1/preview", Token::Admin, Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["summary"]["users"], 0);
    assert_eq!(r.json["total_changes"], 0);
    assert_eq!(r.json["changes"], json!([]));
}
