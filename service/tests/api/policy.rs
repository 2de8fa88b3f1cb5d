//! `GET`, `PUT /v1/policy` and `GET /v1/policy/versions`.

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::{Api, POLICY, Token, phone};

fn policy() -> Value {
    serde_json::from_str(POLICY).unwrap()
}

#[tokio::test]
async fn the_live_policy_is_the_one_given_at_start() {
    let api = Api::new(POLICY).await;
    let r = api.get("/v1/policy").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["role"], "live");
    assert_eq!(r.json["actor"], "startup");
    assert_eq!(r.json["document"], policy());
    assert!(r.json["digest"].as_str().unwrap().starts_with("sha256:"));
    let health = api.call(Method::GET, "/healthz", Token::None, None).await;
    assert_eq!(health.json["policy_digest"], r.json["digest"]);
}

#[tokio::test]
async fn a_new_policy_is_validated_swapped_and_kept_as_a_version() {
    let api = Api::new(POLICY).await;
    let bad = api
        .call(
            Method::PUT,
            "/v1/policy",
            Token::Admin,
            Some(json!({ "schema": "mdm.policy/v1", "assigned": { "max_devices": 0 } })),
        )
        .await;
    bad.assert_error(400, "invalid_policy", "/assigned/max_devices");
    assert!(!bad.json["issues"].as_array().unwrap().is_empty());
    let before = api.get("/v1/policy").await;
    let mut disabled = policy();
    disabled["enabled"] = json!(false);
    let put = api.call(Method::PUT, "/v1/policy", Token::Admin, Some(disabled.clone())).await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert!(put.json["version"].as_i64().unwrap() > before.json["version"].as_i64().unwrap());
    assert!(put.json["warnings"].is_array());
    let now = api.get("/v1/policy").await;
    assert_eq!(now.json["document"], disabled);
    assert_eq!(now.json["digest"], put.json["digest"]);
    assert!(now.json["actor"].as_str().unwrap().starts_with("token:"));
    assert_eq!(api.login("bob", phone("C3")).await.json["outcome"], "limited", "the next login uses it");
    let health = api.call(Method::GET, "/healthz", Token::None, None).await;
    assert_eq!(health.json["policy_digest"], put.json["digest"]);

    let versions = api.get("/v1/policy/versions").await;
    assert_eq!(versions.status, 200, "{}", versions.text);
    let versions = versions.json["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["version"], put.json["version"], "newest first");
    assert!(versions[0].get("document").is_none(), "versions list no documents");
    assert_eq!(api.get("/v1/policy/versions?limit=1").await.json["versions"].as_array().unwrap().len(), 1);
    api.get("/v1/policy/versions?limit=0").await.assert_error(400, "service.bad_request", "limit");
}

#[tokio::test]
async fn a_policy_that_is_not_json_or_not_utf8_is_refused() {
    let api = Api::new(POLICY).await;
    let r = api.raw(Method::PUT, "/v1/policy", Token::Admin, Some("{\"schema\":")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.code(), "invalid_policy");
    let request = axum::http::Request::builder()
        .method(Method::PUT)
        .uri("/v1/policy")
        .header("authorization", format!("Bearer {}", crate::common::ADMIN))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(vec![b'{', 0xff, b'}']))
        .unwrap();
    let r = api.send(request).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.code(), "invalid_policy");
    assert_eq!(api.get("/v1/policy/versions").await.json["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_an_admin_reads_or_changes_the_policy() {
    let api = Api::new(POLICY).await;
    let r = api.call(Method::PUT, "/v1/policy", Token::Gateway, Some(policy())).await;
    r.assert_error(403, "service.forbidden", "");
    let r = api.call(Method::GET, "/v1/policy", Token::Gateway, None).await;
    r.assert_error(403, "service.forbidden", "");
    let r = api.call(Method::GET, "/v1/policy/versions", Token::None, None).await;
    r.assert_error(401, "service.unauthorized", "");
}

/// Issue 28, 8: a route takes only its own query parameters.
#[tokio::test]
async fn a_query_parameter_the_route_does_not_take_is_refused() {
    let api = Api::new(POLICY).await;
    for path in [
        "/v1/policy/versions?user=alice",
        "/v1/policy?version=1",
        "/v1/policy/shadow?x=1",
        "/v1/shadow/report?limit=5",
        "/v1/users/alice?limit=1",
    ] {
        api.get(path).await.assert_error(400, "service.bad_request", "");
    }
}

/// Refuses every insert into `policies`, from outside the service: a database that
/// fails the write of a new version (and only that).
async fn refuse_policy_writes(api: &Api) {
    api.execute("CREATE TRIGGER refuse BEFORE INSERT ON policies BEGIN SELECT RAISE(ABORT, 'refused'); END")
        .await;
}

/// Issue 28, 10: a live `PUT` that failed showed its digest in `/healthz` (and decided
/// logins) for as long as the database was waited for.
#[tokio::test]
async fn a_new_policy_is_in_force_only_once_stored() {
    use sqlx::Executor as _;
    let db = crate::common::fresh_db();
    let mut options = crate::common::options(&db, Some(POLICY));
    options.limits.health_timeout = std::time::Duration::from_millis(50);
    let api = Api::open(options).await;
    let before = api.call(Method::GET, "/healthz", Token::None, None).await.json["policy_digest"].clone();
    let mut disabled = policy();
    disabled["enabled"] = json!(false);

    // While the database is locked, the PUT waits to store it: the old one decides.
    let mut lock = api.sqlite().await;
    lock.execute("BEGIN EXCLUSIVE").await.unwrap();
    let router = api.router.clone();
    let db = api.db.clone();
    let body = disabled.clone();
    let put = tokio::spawn(async move {
        let api = Api { router, db };
        api.call(Method::PUT, "/v1/policy", Token::Admin, Some(body)).await
    });
    for _ in 0..10 {
        let health = api.call(Method::GET, "/healthz", Token::None, None).await;
        assert_eq!(health.json["policy_digest"], before, "not stored yet, not in force");
    }
    lock.execute("ROLLBACK").await.unwrap();
    let put = put.await.unwrap();
    assert_eq!(put.status, 200, "{}", put.text);
    let mut after = Value::Null;
    for _ in 0..100 {
        after = api.call(Method::GET, "/healthz", Token::None, None).await.json["policy_digest"].clone();
        if after == put.json["digest"] {
            break;
        }
    }
    assert_eq!(after, put.json["digest"], "stored, then in force");

    // A database that refuses it: never in force.
    refuse_policy_writes(&api).await;
    let put = api.call(Method::PUT, "/v1/policy", Token::Admin, Some(policy())).await;
    put.assert_error(503, "service.database", "");
    let health = api.call(Method::GET, "/healthz", Token::None, None).await;
    assert_eq!(health.json["policy_digest"], after);
    assert_eq!(api.login("bob", phone("C3")).await.json["outcome"], "limited", "the stored one decides");
}

/// The digest the service stores and answers is the one the host reports and records.
#[tokio::test]
async fn the_stored_digest_is_the_hosts() {
    let api = Api::new(POLICY).await;
    let put = api.call(Method::PUT, "/v1/policy", Token::Admin, Some(policy())).await;
    let r = api.login("alice", phone("A1")).await;
    assert_eq!(r.status, 200);
    let log = api.get("/v1/decisions?limit=1").await;
    assert_eq!(log.json["decisions"][0]["policy_digest"], put.json["digest"]);
}
