//! The shadow policy: `GET`, `PUT`, `DELETE /v1/policy/shadow` and `GET /v1/shadow/report`.

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::{Api, POLICY, Token, phone};

fn strict() -> Value {
    let mut p: Value = serde_json::from_str(POLICY).unwrap();
    p["requirements"] = json!({ "min_pin_length": 8 });
    p
}

#[tokio::test]
async fn a_shadow_policy_reports_what_it_would_change_and_changes_nothing() {
    let api = Api::new(POLICY).await;
    api.get("/v1/policy/shadow").await.assert_error(404, "service.not_found", "");
    let empty = api.get("/v1/shadow/report").await;
    assert_eq!(empty.status, 200);
    assert_eq!(
        empty.json,
        json!({
            "shadow": null, "counts": [], "differences": 0, "policies": [], "policy_differences": 0, "latest": [],
        })
    );

    let put = api.call(Method::PUT, "/v1/policy/shadow", Token::Admin, Some(strict())).await;
    assert_eq!(put.status, 200, "{}", put.text);
    let shadow = api.get("/v1/policy/shadow").await;
    assert_eq!(shadow.json["role"], "shadow");
    assert_eq!(shadow.json["document"], strict());
    assert_eq!(shadow.json["digest"], put.json["digest"]);

    let live = api.login("carol", phone("K1")).await;
    assert_eq!(live.json["outcome"], "allow", "the live policy decides");
    let report = api.get("/v1/shadow/report").await;
    assert_eq!(report.json["shadow"]["digest"], put.json["digest"]);
    assert_eq!(report.json["counts"], json!([{ "live": "allow", "shadow": "deny", "count": 1 }]));
    assert_eq!(report.json["differences"], 1);
    assert_eq!(report.json["latest"][0]["user"], "carol");
    assert_eq!(report.json["latest"][0]["shadow"]["outcome"], "deny");
    let user = api.get("/v1/users/carol").await;
    assert_eq!(
        user.json["state"]["devices"].as_array().unwrap().len(),
        1,
        "the live decision's effects only"
    );

    let deleted = api.call(Method::DELETE, "/v1/policy/shadow", Token::Admin, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    api.get("/v1/policy/shadow").await.assert_error(404, "service.not_found", "");
    assert_eq!(api.get("/v1/shadow/report").await.json["shadow"], Value::Null);
    let roles: Vec<Value> = api.get("/v1/policy/versions").await.json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["role"].clone())
        .collect();
    assert_eq!(roles, [json!("shadow"), json!("shadow"), json!("live")]);
}

#[tokio::test]
async fn an_invalid_shadow_is_refused_and_only_an_admin_sets_one() {
    let api = Api::new(POLICY).await;
    let bad = api.call(Method::PUT, "/v1/policy/shadow", Token::Admin, Some(json!({ "schema": "x" }))).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.code(), "invalid_policy");
    let r = api.call(Method::PUT, "/v1/policy/shadow", Token::Gateway, Some(strict())).await;
    r.assert_error(403, "service.forbidden", "");
    let r = api.call(Method::DELETE, "/v1/policy/shadow", Token::None, None).await;
    r.assert_error(401, "service.unauthorized", "");
    api.get("/v1/policy/shadow").await.assert_error(404, "service.not_found", "");
    let r = api.call(Method::GET, "/v1/shadow/report", Token::Gateway, None).await;
    r.assert_error(403, "service.forbidden", "");
}

/// Issue 28, 10: a `PUT /v1/policy/shadow` that failed with 503 left the shadow in effect
/// while `GET` said there was none.
#[tokio::test]
async fn a_shadow_the_database_refused_is_not_in_effect() {
    let api = Api::new(POLICY).await;
    api.execute("CREATE TRIGGER refuse BEFORE INSERT ON policies BEGIN SELECT RAISE(ABORT, 'refused'); END")
        .await;
    let put = api.call(Method::PUT, "/v1/policy/shadow", Token::Admin, Some(strict())).await;
    put.assert_error(503, "service.database", "");
    api.get("/v1/policy/shadow").await.assert_error(404, "service.not_found", "");
    api.login("carol", phone("K1")).await;
    let log = api.get("/v1/decisions?user=carol").await;
    assert!(log.json["decisions"][0].get("shadow").is_none(), "no shadow decided: {}", log.text);
    let delete = api.call(Method::DELETE, "/v1/policy/shadow", Token::Admin, None).await;
    delete.assert_error(503, "service.database", "");
}
