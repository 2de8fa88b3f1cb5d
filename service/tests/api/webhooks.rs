//! Webhooks through the router: `GET`/`PUT /v1/webhooks`, the outbox rows each change
//! writes in its own transaction (and a rolled-back change does not), the deliveries'
//! list and replays. Sending them is the Node suite's (`webhooks.test.mjs`), against a
//! real receiver process.

use axum::http::Method;
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::common::{Api, POLICY, Token, ago, phone};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn endpoint(id: &str, events: Option<&[&str]>) -> Value {
    let mut e = json!({ "id": id, "url": "http://127.0.0.1:9/hook", "secret": SECRET });
    if let Some(events) = events {
        e["events"] = json!(events);
    }
    e
}

async fn put(api: &Api, endpoints: Value) -> crate::common::Answer {
    api.call(Method::PUT, "/v1/webhooks", Token::Admin, Some(json!({ "endpoints": endpoints }))).await
}

/// Every event row's (type, CloudEvents document), oldest first.
async fn events(api: &Api) -> Vec<(String, Value)> {
    let mut conn = api.sqlite().await;
    sqlx::query("SELECT type, body FROM webhook_events ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("type"), serde_json::from_str(&r.get::<String, _>("body")).unwrap()))
        .collect()
}

/// Every delivery's (event type, endpoint, state).
async fn deliveries(api: &Api) -> Vec<(String, String, String)> {
    let r = api.get("/v1/webhooks/deliveries").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut out: Vec<_> = r.json["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap().to_string();
            (s("event"), s("endpoint"), s("state"))
        })
        .collect();
    out.reverse();
    out
}

fn types(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(t, _)| t.as_str()).collect()
}

#[tokio::test]
async fn endpoints_are_replaced_whole_and_shown_with_their_secrets_masked() {
    let api = Api::new(POLICY).await;
    assert_eq!(api.get("/v1/webhooks").await.json, json!({ "endpoints": [] }));
    let mut second = endpoint("audit", Some(&["device.wiped", "policy.changed"]));
    second["url"] = json!("https://hooks.example.com/mdm?tenant=1");
    second["max_attempts"] = json!(3);
    let r = put(&api, json!([endpoint("siem", None), second])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let shown = api.get("/v1/webhooks").await;
    assert_eq!(shown.json, r.json);
    let list = shown.json["endpoints"].as_array().unwrap();
    assert_eq!(list[0]["id"], "siem");
    assert_eq!(list[0]["secret"], "whsec_****LaSw");
    assert!(!shown.text.contains(SECRET), "{}", shown.text);
    assert_eq!(
        list[0]["events"],
        json!([
            "approval.requested",
            "approval.expired",
            "device.registered",
            "device.wiped",
            "device.deprovisioned",
            "policy.changed"
        ])
    );
    assert_eq!(list[1]["events"], json!(["device.wiped", "policy.changed"]));
    assert_eq!(list[1]["max_attempts"], 3);
    assert!(list[0].get("max_attempts").is_none());
    let r = put(&api, json!([])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(api.get("/v1/webhooks").await.json, json!({ "endpoints": [] }));
}

#[tokio::test]
async fn an_endpoint_that_breaks_a_rule_is_refused_at_its_pointer_and_nothing_changes() {
    let api = Api::new(POLICY).await;
    assert_eq!(put(&api, json!([endpoint("siem", None)])).await.status, 200);
    let with = |k: &str, v: Value| {
        let mut e = endpoint("x", None);
        e[k] = v;
        json!([e])
    };
    let cases = [
        (with("url", json!("http://hooks.example.com/mdm")), "/endpoints/0/url"),
        (with("url", json!("http://10.1.2.3/mdm")), "/endpoints/0/url"),
        (with("url", json!("https://user:pw@hooks.example.com/")), "/endpoints/0/url"),
        (with("secret", json!("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")), "/endpoints/0/secret"),
        (with("secret", json!("whsec_c2hvcnQ=")), "/endpoints/0/secret"),
        (with("events", json!([])), "/endpoints/0/events"),
        (with("events", json!(["device.wiped", "device.exploded"])), "/endpoints/0/events/1"),
        (with("events", json!(["device.wiped", "device.wiped"])), "/endpoints/0/events/1"),
        (with("max_attempts", json!(0)), "/endpoints/0/max_attempts"),
        (with("id", json!("has space")), "/endpoints/0/id"),
        (json!([endpoint("a", None), endpoint("a", None)]), "/endpoints/1/id"),
    ];
    for (endpoints, pointer) in cases {
        put(&api, endpoints.clone()).await.assert_error(400, "service.bad_request", pointer);
    }
    let r = api
        .call(Method::PUT, "/v1/webhooks", Token::Admin, Some(json!({ "endpoints": [], "extra": 1 })))
        .await;
    r.assert_error(400, "service.bad_request", "");
    put(&api, with("colour", json!("red"))).await.assert_error(400, "service.bad_request", "");
    assert_eq!(api.get("/v1/webhooks").await.json["endpoints"][0]["id"], "siem", "unchanged");
    put(&api, json!([])).await;
    let r = api.call(Method::PUT, "/v1/webhooks", Token::Gateway, Some(json!({ "endpoints": [] }))).await;
    r.assert_error(403, "service.forbidden", "");
    let r = api.call(Method::GET, "/v1/webhooks/deliveries", Token::None, None).await;
    r.assert_error(401, "service.unauthorized", "");
}

#[tokio::test]
async fn each_change_writes_its_events_in_its_own_transaction_as_cloudevents() {
    let api = Api::new(POLICY).await;
    let first = api.login("alice", phone("A1")).await;
    assert!(events(&api).await.is_empty(), "no endpoint: no event is kept");
    put(&api, json!([endpoint("siem", None), endpoint("wipes", Some(&["device.wiped"]))])).await;

    let a2 = api.login("alice", phone("A2")).await;
    assert_eq!(a2.json["outcome"], "pending_approval");
    api.login("alice", phone("A1")).await; // a known device: no event
    let approve = api.admin(json!({ "type": "approve", "user": "alice", "device_id": "A2" })).await;
    assert_eq!(approve.status, 200, "{}", approve.text);
    let wipe = api.admin(json!({ "type": "wipe", "user": "alice", "device_id": "A1" })).await;
    assert_eq!(wipe.status, 200, "{}", wipe.text);
    let policy =
        api.call(Method::PUT, "/v1/policy", Token::Admin, Some(serde_json::from_str(POLICY).unwrap())).await;
    assert_eq!(policy.status, 200, "{}", policy.text);
    let _ = first;

    let events = events(&api).await;
    assert_eq!(
        types(&events),
        ["approval.requested", "device.registered", "device.wiped", "policy.changed"],
        "{events:?}"
    );
    let (_, requested) = &events[0];
    assert_eq!(requested["specversion"], "1.0");
    assert_eq!(requested["type"], "mdm.approval.requested");
    assert_eq!(requested["source"], mdm_service::DEFAULT_SOURCE);
    assert!(requested["id"].as_str().unwrap().starts_with("evt_"));
    assert!(requested["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(requested["data"]["user"], "alice");
    assert_eq!(requested["data"]["device_id"], "A2");
    assert_eq!(requested["data"]["decision_id"], a2.decision_id().as_str());
    assert_eq!(events[1].1["data"]["decision_id"], approve.decision_id().as_str());
    assert_eq!(events[2].1["data"]["device_id"], "A1");
    assert_eq!(events[3].1["data"]["version"], policy.json["version"]);
    assert_eq!(events[3].1["data"]["digest"], policy.json["digest"]);
    let ids: std::collections::HashSet<_> = events.iter().map(|(_, e)| e["id"].clone()).collect();
    assert_eq!(ids.len(), events.len(), "every event has an id of its own");

    assert_eq!(
        deliveries(&api).await,
        [
            ("approval.requested".into(), "siem".into(), "pending".into()),
            ("device.registered".into(), "siem".into(), "pending".into()),
            ("device.wiped".into(), "siem".into(), "pending".into()),
            ("device.wiped".into(), "wipes".into(), "pending".into()),
            ("policy.changed".into(), "siem".into(), "pending".into()),
        ]
    );
}

#[tokio::test]
async fn a_change_that_is_rolled_back_leaves_no_event_and_an_event_that_cannot_be_written_undoes_its_change()
{
    let api = Api::new(POLICY).await;
    put(&api, json!([endpoint("siem", None)])).await;
    api.execute("CREATE TRIGGER refuse BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'refused'); END")
        .await;
    let r = api.login("alice", phone("A1")).await;
    assert_eq!(r.json["fault"]["code"], "service.database", "{}", r.text);
    assert!(events(&api).await.is_empty(), "the login was rolled back: so was its event");

    api.execute("DROP TRIGGER refuse").await;
    api.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON webhook_deliveries BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .await;
    let r = api.login("alice", phone("A1")).await;
    assert_eq!(r.json["outcome"], "deny", "no notification, no change: {}", r.text);
    assert_eq!(r.json["fault"]["code"], "service.database");
    api.get("/v1/users/alice").await.assert_error(404, "service.not_found", "");
    assert!(events(&api).await.is_empty());
    let r =
        api.call(Method::PUT, "/v1/policy", Token::Admin, Some(serde_json::from_str(POLICY).unwrap())).await;
    r.assert_error(503, "service.database", "");
    assert_eq!(api.get("/v1/policy/versions").await.json["versions"].as_array().unwrap().len(), 1);

    api.execute("DROP TRIGGER refuse").await;
    assert_eq!(api.login("alice", phone("A1")).await.json["outcome"], "allow");
    assert_eq!(types(&events(&api).await), ["device.registered"]);
}

#[tokio::test]
async fn an_expired_request_is_notified_once_whoever_finds_it() {
    let mut policy: Value = serde_json::from_str(POLICY).unwrap();
    policy["assigned"]["approval_ttl_hours"] = json!(1);
    let api = Api::new(&policy.to_string()).await;
    put(&api, json!([endpoint("siem", Some(&["approval.requested", "approval.expired"]))])).await;
    api.login("alice", phone("A1")).await;
    let old = json!({ "user": "alice", "groups": ["sales"], "device": phone("A2"), "at": ago(2 * 3600) });
    let r = api.call(Method::POST, "/v1/login", Token::Gateway, Some(old)).await;
    assert_eq!(r.json["outcome"], "pending_approval", "{}", r.text);

    // An approval now finds it expired: refused, and notified.
    let approve = api.admin(json!({ "type": "approve", "user": "alice", "device_id": "A2" })).await;
    approve.assert_error(409, "request_expired", "/device_id");
    // The device's next login finds it too, and asks again: no second `expired`.
    let again = api.login("alice", phone("A2")).await;
    let reasons = again.json["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!("device.request_expired")), "{}", again.text);
    let approve2 = api.admin(json!({ "type": "approve", "user": "alice", "device_id": "A2" })).await;
    assert_eq!(approve2.status, 200, "the new request is not expired: {}", approve2.text);

    let events = events(&api).await;
    assert_eq!(
        types(&events),
        ["approval.requested", "approval.expired", "approval.requested"],
        "{events:?}"
    );
    let expired = &events[1].1["data"];
    assert_eq!(expired["device_id"], "A2");
    assert_eq!(expired["decision_id"], approve.decision_id().as_str());
    assert_eq!(expired["requested_at"], events[0].1["data"]["requested_at"]);
}

#[tokio::test]
async fn deliveries_are_listed_filtered_and_replayed() {
    let api = Api::new(POLICY).await;
    put(&api, json!([endpoint("siem", None), endpoint("wipes", Some(&["device.wiped"]))])).await;
    api.login("alice", phone("A1")).await;
    api.login("bob", phone("B1")).await;
    let all = api.get("/v1/webhooks/deliveries").await;
    let list = all.json["deliveries"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["state"], "pending");
    assert_eq!(list[0]["attempts"], 0);
    assert!(list[0]["next_attempt_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(list[0]["last_error"], Value::Null);
    let newest = list[0]["id"].as_i64().unwrap();

    api.execute(&format!(
        "UPDATE webhook_deliveries SET state = 'dead', attempts = 10, last_status = 500, \
         last_error = 'webhook.status' WHERE id = {newest}"
    ))
    .await;
    let dead = api.get("/v1/webhooks/deliveries?state=dead").await;
    let dead = dead.json["deliveries"].as_array().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0]["last_status"].as_i64(), dead[0]["last_error"].as_str()),
        (Some(500), Some("webhook.status"))
    );
    assert!(dead[0].get("next_attempt_at").is_none());
    assert_eq!(api.get("/v1/webhooks/deliveries?endpoint=wipes").await.json["deliveries"], json!([]));
    assert_eq!(
        api.get("/v1/webhooks/deliveries?limit=1").await.json["deliveries"].as_array().unwrap().len(),
        1
    );

    let replayed =
        api.call(Method::POST, &format!("/v1/webhooks/deliveries/{newest}/replay"), Token::Admin, None).await;
    assert_eq!(replayed.status, 200, "{}", replayed.text);
    assert_eq!(
        (replayed.json["state"].as_str(), replayed.json["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    assert_eq!(replayed.json["event_id"], dead[0]["event_id"], "the same event, under its id");
    let again =
        api.call(Method::POST, &format!("/v1/webhooks/deliveries/{newest}/replay"), Token::Admin, None).await;
    assert_eq!(again.status, 200, "a pending one is left as it is: {}", again.text);

    let r = api.call(Method::POST, "/v1/webhooks/deliveries/999999/replay", Token::Admin, None).await;
    r.assert_error(404, "service.not_found", "");
    let r = api.call(Method::POST, "/v1/webhooks/deliveries/abc/replay", Token::Admin, None).await;
    r.assert_error(400, "service.bad_request", "id");
    api.get("/v1/webhooks/deliveries?state=lost").await.assert_error(400, "service.bad_request", "state");
    api.get("/v1/webhooks/deliveries?colour=red").await.assert_error(400, "service.bad_request", "");

    // Removing an endpoint leaves its pending deliveries dead, for a replay once it is back.
    put(&api, json!([endpoint("wipes", Some(&["device.wiped"]))])).await;
    let dead = api.get("/v1/webhooks/deliveries?state=dead").await;
    let dead = dead.json["deliveries"].as_array().unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(dead.iter().all(|d| d["last_error"] == "webhook.endpoint_removed"));
}
