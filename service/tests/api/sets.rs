//! Contract version 3 (several named policies) in the service: a set taken by `PUT
//! /v1/policy` and used for logins, the policy named in answers, the log and a user's
//! page, and the shadow report's differences of policy.

use axum::http::Method;
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::common::{Api, POLICY, Token, phone};

/// Executives keep three phones, contractors get iOS only, everyone else (but kiosks)
/// one phone with approval.
fn set() -> Value {
    json!({
        "schema": "mdm.policy/v3",
        "policies": [
            { "name": "executives", "assignment": { "groups": ["exec"] },
              "assigned": { "max_devices": 3, "on_new_device": "approval", "on_approve": "add" } },
            { "name": "contractors", "assignment": { "groups": ["contractors"] },
              "assigned": { "on_new_device": "deny" }, "requirements": { "platforms": ["ios"] } },
            { "name": "everyone", "assignment": { "organization": true, "exclude_groups": ["kiosk"] },
              "assigned": { "max_devices": 1, "on_new_device": "approval", "on_approve": "add" } }
        ]
    })
}

/// The same set with executives moved under `everyone`'s rules (their policy removed).
fn set_without_executives() -> Value {
    let mut s = set();
    s["policies"].as_array_mut().unwrap().remove(0);
    s
}

async fn put(api: &Api, path: &str, policy: &Value) {
    let r = api.call(Method::PUT, path, Token::Admin, Some(policy.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// The log row's `policy` column for a decision.
async fn logged_policy(api: &Api, id: &str) -> Option<String> {
    let mut conn = api.sqlite().await;
    sqlx::query("SELECT policy FROM decisions WHERE id = ?")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get::<Option<String>, _>("policy")
}

#[tokio::test]
async fn a_set_put_decides_logins_and_every_answer_and_record_names_the_policy() {
    let api = Api::new(POLICY).await;
    let before = api.login("zoe", phone("Z1")).await;
    assert!(before.json.get("policy").is_none(), "no key under v1: {}", before.text);
    assert!(api.get("/v1/decisions?user=zoe").await.json["decisions"][0].get("policy").is_none());
    assert!(api.get("/v1/users/zoe").await.json.get("policy").is_none());
    assert_eq!(logged_policy(&api, &before.decision_id()).await, None);

    put(&api, "/v1/policy", &set()).await;
    assert_eq!(api.get("/v1/policy").await.json["document"], set());

    let alice = api.login_in("alice", phone("A1"), &["exec"]).await;
    assert_eq!((&alice.json["outcome"], &alice.json["policy"]), (&json!("allow"), &json!("executives")));
    // Executives keep three phones: a second one is let in at once.
    let second = api.login_in("alice", phone("A2"), &["exec"]).await;
    assert_eq!((&second.json["outcome"], &second.json["policy"]), (&json!("allow"), &json!("executives")));
    let bob = api.login_in("bob", phone("B1"), &["sales"]).await;
    assert_eq!(bob.json["policy"], "everyone");
    let bob2 = api.login_in("bob", phone("B2"), &["sales"]).await;
    assert_eq!(
        (&bob2.json["outcome"], &bob2.json["policy"]),
        (&json!("pending_approval"), &json!("everyone"))
    );
    let kiosk = api.login_in("kiosk-7", phone("K1"), &["kiosk"]).await;
    assert_eq!(kiosk.json["assigned"], false);
    assert_eq!(kiosk.json["policy"], Value::Null, "the key is there, null: {}", kiosk.text);

    let log = api.get("/v1/decisions?user=alice").await;
    let records = log.json["decisions"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r["policy"] == "executives"), "{}", log.text);
    assert_eq!(logged_policy(&api, &alice.decision_id()).await.as_deref(), Some("executives"));
    let kiosk_log = api.get("/v1/decisions?user=kiosk-7").await;
    assert_eq!(kiosk_log.json["decisions"][0]["policy"], Value::Null);
    assert!(kiosk_log.json["decisions"][0].as_object().unwrap().contains_key("policy"));
    assert_eq!(logged_policy(&api, &kiosk.decision_id()).await, None);

    // An admin event under a set names the user's policy now, in its answer and record.
    let approve = api.admin(json!({ "type": "approve", "user": "bob", "device_id": "B2" })).await;
    assert_eq!(approve.status, 200, "{}", approve.text);
    assert_eq!(approve.json["policy"], "everyone");
    assert_eq!(logged_policy(&api, &approve.decision_id()).await.as_deref(), Some("everyone"));
}

#[tokio::test]
async fn a_users_page_names_their_policy_now_from_their_last_groups() {
    let api = Api::new(&set().to_string()).await;
    api.login_in("alice", phone("A1"), &["exec"]).await;
    api.login_in("carl", phone("C1"), &["contractors"]).await;
    api.login_in("kim", phone("K1"), &["kiosk"]).await;
    assert_eq!(api.get("/v1/users/alice").await.json["policy"], "executives");
    assert_eq!(api.get("/v1/users/carl").await.json["policy"], "contractors");
    let kim = api.get("/v1/users/kim").await;
    assert_eq!(kim.json["policy"], Value::Null);
    assert!(kim.json.as_object().unwrap().contains_key("policy"), "null, not absent: {}", kim.text);

    // A new document places alice elsewhere: her page says so before she logs in again,
    // while her last decision still names the policy it was made under.
    put(&api, "/v1/policy", &set_without_executives()).await;
    assert_eq!(api.get("/v1/users/alice").await.json["policy"], "everyone");
    assert_eq!(api.get("/v1/decisions?user=alice").await.json["decisions"][0]["policy"], "executives");
    // And the probe that asked stored nothing.
    let page = api.get("/v1/users/alice").await;
    assert_eq!(page.json["version"], 1);
    assert_eq!(page.json["state"]["devices"].as_array().unwrap().len(), 1);
    assert_eq!(api.get("/v1/decisions?user=alice").await.json["decisions"].as_array().unwrap().len(), 1);

    // Back to a single policy: no key.
    put(&api, "/v1/policy", &serde_json::from_str(POLICY).unwrap()).await;
    assert!(api.get("/v1/users/alice").await.json.get("policy").is_none());
}

#[tokio::test]
async fn the_shadow_report_counts_logins_whose_policy_would_differ() {
    let api = Api::new(&set().to_string()).await;
    put(&api, "/v1/policy/shadow", &set_without_executives()).await;
    // Alice's first phone is let in under either policy: only her policy differs.
    let alice = api.login_in("alice", phone("A1"), &["exec"]).await;
    assert_eq!((&alice.json["outcome"], &alice.json["policy"]), (&json!("allow"), &json!("executives")));
    // Her second: let in as an executive, pending under `everyone`.
    api.login_in("alice", phone("A2"), &["exec"]).await;
    // Bob is under `everyone` either way.
    api.login_in("bob", phone("B1"), &["sales"]).await;
    api.login_in("kim", phone("K1"), &["kiosk"]).await;

    let report = api.get("/v1/shadow/report").await;
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(report.json["differences"], 1, "outcomes: {}", report.text);
    assert_eq!(report.json["policy_differences"], 2, "{}", report.text);
    assert_eq!(
        report.json["policies"],
        json!([
            { "live": null, "shadow": null, "count": 1 },
            { "live": "everyone", "shadow": "everyone", "count": 1 },
            { "live": "executives", "shadow": "everyone", "count": 2 },
        ])
    );
    let latest: Vec<(&str, &str)> = report.json["latest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["device_id"].as_str().unwrap(), r["shadow"]["policy"].as_str().unwrap()))
        .collect();
    assert_eq!(latest, [("A2", "everyone"), ("A1", "everyone")], "a policy difference alone is listed");
    assert_eq!(report.json["latest"][1]["policy"], "executives");

    // A single-policy shadow beside a set: outcomes compare, policies do not.
    put(&api, "/v1/policy/shadow", &serde_json::from_str(POLICY).unwrap()).await;
    api.login_in("alice", phone("A1"), &["exec"]).await;
    let report = api.get("/v1/shadow/report").await;
    assert_eq!(report.json["policy_differences"], 0, "{}", report.text);
    assert_eq!(report.json["policies"], json!([]));
    assert_eq!(report.json["counts"].as_array().unwrap().len(), 1, "{}", report.text);
}

#[tokio::test]
async fn a_deny_without_a_stored_decision_says_policy_null_under_a_set() {
    let api = Api::new(&set().to_string()).await;
    api.execute("CREATE TRIGGER refuse BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'refused'); END")
        .await;
    let r = api.login_in("alice", phone("A1"), &["exec"]).await;
    assert_eq!(r.json["outcome"], "deny", "{}", r.text);
    assert_eq!(r.json["fault"]["code"], "service.database");
    assert!(r.json.as_object().unwrap().contains_key("policy"), "{}", r.text);
    assert_eq!(r.json["policy"], Value::Null, "never the name of a decision that was not stored");

    let single = Api::new(POLICY).await;
    single
        .execute("CREATE TRIGGER refuse BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'refused'); END")
        .await;
    let r = single.login("alice", phone("A1")).await;
    assert_eq!(r.json["fault"]["code"], "service.database", "{}", r.text);
    assert!(r.json.get("policy").is_none(), "{}", r.text);
}
