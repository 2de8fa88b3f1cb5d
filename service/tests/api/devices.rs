//! `GET /v1/devices` (the inventory, its filters, pages and CSV export) and `GET /v1/users`.

use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::{ADMIN, Api, POLICY, Token, options, phone};

/// `n` users `u0000`.. with one phone each, written straight into the database as another
/// version of the service would have left them, then the inventory filled from them by a
/// restart (the backfill a migration asks for).
async fn seeded(n: usize, device: impl Fn(usize) -> Value) -> Api {
    let api = Api::new(POLICY).await;
    let mut sql = String::from("BEGIN;");
    for i in 0..n {
        let state = json!({ "devices": [device(i)] }).to_string().replace('\'', "''");
        sql.push_str(&format!(
            "INSERT INTO users (user_id, groups, state, version, updated_ms) VALUES ('u{i:04}', '[\"sales\"]', '{state}', 1, 0);"
        ));
    }
    sql.push_str("INSERT INTO backfills (name) VALUES ('devices'); COMMIT;");
    api.execute(&sql).await;
    let db = api.db.clone();
    drop(api);
    Api::open(options(&db, Some(POLICY))).await
}

fn ids(r: &Value) -> Vec<String> {
    r["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{}/{}", d["user"].as_str().unwrap(), d["device_id"].as_str().unwrap()))
        .collect()
}

async fn csv(api: &Api, path: &str) -> crate::common::Answer {
    let bearer = format!("Bearer {ADMIN}");
    api.with_headers(
        Method::GET,
        path,
        &[("host", "localhost"), ("authorization", &bearer), ("accept", "text/csv")],
        "",
    )
    .await
}

#[tokio::test]
async fn a_login_or_an_admin_event_changes_the_inventory_in_the_same_write() {
    let api = Api::new(POLICY).await;
    let mut a1 = phone("A1");
    a1["serial_number"] = json!("F2LXK0QJHG7F");
    a1["model"] = json!("iPhone15,2");
    a1["name"] = json!("Alice's iPhone");
    api.login("alice", a1).await;
    api.login("alice", phone("B2")).await; // pending: not a registered device
    api.login("bob", phone("C3")).await;
    let r = api.get("/v1/devices").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r.json), ["alice/A1", "bob/C3"], "oldest registration first");
    let a1 = &r.json["devices"][0];
    assert_eq!(a1["serial_number"], "****HG7F", "masked as the log masks it");
    assert_eq!(a1["model"], "iPhone15,2");
    assert_eq!(a1["name"], "Alice's iPhone");
    assert!(a1["registered_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r.json["next_cursor"], Value::Null);

    let approved = api.admin(json!({ "type": "approve", "user": "alice", "device_id": "B2" })).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let removed = api.admin(json!({ "type": "remove_device", "user": "alice", "device_id": "A1" })).await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    let r = api.get("/v1/devices?sort=user").await;
    assert_eq!(ids(&r.json), ["alice/B2", "bob/C3"]);
}

#[tokio::test]
async fn every_filter_narrows_the_list() {
    let api = seeded(12, |i| {
        let os = ["ios", "android", "other"][i % 3];
        let mut d = json!({
            "device_id": format!("D{i:02}"),
            "os_type": os,
            "model": if i % 2 == 0 { "iPhone15,2" } else { "Pixel 8" },
            "name": format!("phone {i}"),
            "registered_at": format!("2026-01-{:02}T09:00:00Z", i + 1),
        });
        if i % 4 == 0 {
            d["enrollment"] = json!({ "method": "ios_profile", "at": "2026-02-01T00:00:00Z" });
        }
        if i == 5 {
            d["noncompliant_since"] = json!("2026-03-01T00:00:00Z");
        }
        d
    })
    .await;
    let count = |path: &'static str| {
        let api = &api;
        async move {
            let r = api.get(path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            ids(&r.json)
        }
    };
    assert_eq!(count("/v1/devices").await.len(), 12);
    assert_eq!(count("/v1/devices?user=u0003").await, ["u0003/D03"]);
    assert_eq!(
        count("/v1/devices?os_type=android").await,
        ["u0001/D01", "u0004/D04", "u0007/D07", "u0010/D10"]
    );
    assert_eq!(count("/v1/devices?model=Pix").await.len(), 6);
    assert_eq!(count("/v1/devices?model=iPhone15,2&os_type=ios").await, ["u0000/D00", "u0006/D06"]);
    assert_eq!(count("/v1/devices?enrolled=true").await, ["u0000/D00", "u0004/D04", "u0008/D08"]);
    assert_eq!(count("/v1/devices?enrolled=false").await.len(), 9);
    assert_eq!(count("/v1/devices?noncompliant=true").await, ["u0005/D05"]);
    assert_eq!(
        count("/v1/devices?registered_after=2026-01-03T09:00:00Z&registered_before=2026-01-05T00:00:00Z")
            .await,
        ["u0002/D02", "u0003/D03"],
        "after is inclusive, before exclusive"
    );
    // `q`: a prefix of the device id, the user or the name.
    assert_eq!(count("/v1/devices?q=D1").await, ["u0010/D10", "u0011/D11"]);
    assert_eq!(count("/v1/devices?q=u0009").await, ["u0009/D09"]);
    assert_eq!(count("/v1/devices?q=phone%201").await, ["u0001/D01", "u0010/D10", "u0011/D11"]);
    assert_eq!(count("/v1/devices?q=nothing").await, Vec::<String>::new());
    let r = api.get("/v1/devices?enrolled=true&limit=1").await;
    assert_eq!(r.json["devices"][0]["enrollment"]["method"], "ios_profile");
}

#[tokio::test]
async fn pages_by_cursor_neither_repeat_nor_skip_a_device_written_meanwhile() {
    let api = seeded(25, |i| {
        json!({ "device_id": format!("D{i:02}"), "os_type": "ios", "registered_at": format!("2026-01-01T00:{i:02}:00Z") })
    })
    .await;
    for (sort, removed_id, total) in [("registered", 3, 26), ("user", 4, 25)] {
        let mut seen = Vec::new();
        let mut path = format!("/v1/devices?sort={sort}&limit=10");
        let mut pages = 0;
        loop {
            let r = api.get(&path).await;
            assert_eq!(r.status, 200, "{}", r.text);
            seen.extend(ids(&r.json));
            pages += 1;
            if pages == 1 {
                // Written while the admin reads page one: a device removed before the
                // cursor and one added after it.
                let (user, device) = (format!("u{removed_id:04}"), format!("D{removed_id:02}"));
                let removed =
                    api.admin(json!({ "type": "remove_device", "user": user, "device_id": device })).await;
                assert_eq!(removed.status, 200, "{}", removed.text);
                api.login("zed", phone("Z9")).await;
            }
            match r.json["next_cursor"].as_str() {
                Some(c) => path = format!("/v1/devices?sort={sort}&limit=10&cursor={c}"),
                None => break,
            }
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: no device twice: {seen:?}");
        assert!(seen.contains(&"zed/Z9".to_string()), "{sort}: the new device is on a later page");
        // Each round removes a device read on page one and adds one after the cursor.
        assert_eq!(seen.len(), total, "{sort}: {seen:?}");
        api.admin(json!({ "type": "remove_device", "user": "zed", "device_id": "Z9" })).await;
    }
}

#[tokio::test]
async fn the_csv_export_holds_every_device_in_batches_with_formulas_made_inert() {
    let api = seeded(2345, |i| {
        let mut d = json!({ "device_id": format!("D{i:04}"), "os_type": "android",
            "registered_at": "2026-01-01T00:00:00Z", "serial_number": format!("SERIAL{i:06}") });
        if i == 7 {
            d["name"] = json!("=HYPERLINK(\"http://evil\",\"x\")");
        }
        if i == 8 {
            d["name"] = json!("Bob, \"work\" phone");
        }
        d
    })
    .await;
    let r = csv(&api, "/v1/devices").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let mut reader = csv::Reader::from_reader(r.text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[..5], ["user", "device_id", "os_type", "os_version", "serial_number"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2345, "every device, across three batches of the database");
    let users: BTreeSet<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(users.len(), 2345);
    assert_eq!(&rows[7][4], "****0007", "serial masked");
    assert_eq!(&rows[7][6], "'=HYPERLINK(\"http://evil\",\"x\")", "a formula is text to a spreadsheet");
    assert_eq!(&rows[8][6], "Bob, \"work\" phone", "quoted and read back whole");
    assert!(r.text.contains("\r\n"), "RFC 4180 line ends");

    let r = csv(&api, "/v1/devices?q=u000").await;
    assert_eq!(r.text.lines().count(), 1 + 10);
    csv(&api, "/v1/devices?limit=5").await.assert_error(400, "service.bad_request", "limit");
}

#[tokio::test]
async fn a_bad_filter_or_cursor_is_a_400_that_names_it() {
    let api = Api::new(POLICY).await;
    api.login("alice", phone("A1")).await;
    for (path, pointer) in [
        ("/v1/devices?os_type=windows", "os_type"),
        ("/v1/devices?registered_before=yesterday", "registered_before"),
        ("/v1/devices?registered_after=2026-13-01T00:00:00Z", "registered_after"),
        ("/v1/devices?sort=name", "sort"),
        ("/v1/devices?limit=0", "limit"),
        ("/v1/devices?limit=1001", "limit"),
        ("/v1/devices?cursor=not-a-cursor", "cursor"),
        ("/v1/devices?q=", "q"),
        ("/v1/users?cursor=%25%25", "cursor"),
        ("/v1/users?limit=0", "limit"),
    ] {
        api.get(path).await.assert_error(400, "service.bad_request", pointer);
    }
    // An unknown parameter or a wrong type is refused as a whole.
    api.get("/v1/devices?color=red").await.assert_error(400, "service.bad_request", "");
    api.get("/v1/devices?enrolled=maybe").await.assert_error(400, "service.bad_request", "");
    // A cursor of one order is not taken by the other.
    api.login("bob", phone("B1")).await;
    let r = api.get("/v1/devices?limit=1").await;
    let c = r.json["next_cursor"].as_str().unwrap();
    api.get(&format!("/v1/devices?sort=user&cursor={c}")).await.assert_error(
        400,
        "service.bad_request",
        "cursor",
    );
    let r = api.call(Method::GET, "/v1/devices", Token::Gateway, None).await;
    r.assert_error(403, "service.forbidden", "");
}

#[tokio::test]
async fn users_are_listed_by_prefix_with_their_device_and_request_counts() {
    let api = Api::new(POLICY).await;
    api.login("alice", phone("A1")).await;
    api.login("alice", phone("A2")).await;
    api.login("albert", phone("L1")).await;
    api.login("bob", phone("B1")).await;
    let r = api.get("/v1/users?q=al").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let users = r.json["users"].as_array().unwrap();
    assert_eq!(users.iter().map(|u| u["user"].as_str().unwrap()).collect::<Vec<_>>(), ["albert", "alice"]);
    assert_eq!(users[1]["devices"], 1);
    assert_eq!(users[1]["pending"], 1);
    assert_eq!(users[1]["groups"], json!(["sales"]));
    let first = api.get("/v1/users?limit=2").await;
    assert_eq!(first.json["users"].as_array().unwrap().len(), 2);
    let c = first.json["next_cursor"].as_str().unwrap();
    let rest = api.get(&format!("/v1/users?limit=2&cursor={c}")).await;
    assert_eq!(rest.json["users"][0]["user"], "bob");
    assert_eq!(rest.json["next_cursor"], Value::Null);
}
