//! How the service starts: which policy is in force, which database it opens, and what
//! it says when it cannot.

use axum::http::Method;
use mdm_service::{Service, ServiceError};
use serde_json::{Value, json};

use crate::common::{Api, POLICY, Token, fresh_db, options, phone, runtimes};

async fn open(options: mdm_service::Options) -> Result<Service, ServiceError> {
    let (gateway, admin) = runtimes();
    Service::open(gateway, admin, options).await
}

fn strict() -> Value {
    let mut p: Value = serde_json::from_str(POLICY).unwrap();
    p["requirements"] = json!({ "min_pin_length": 8 });
    p
}

/// Issue 28, 5: a second process started with an older `--policy` stored it as the newest
/// version and every replica applied it: the admin's stricter policy was rolled back.
#[tokio::test]
async fn an_older_policy_at_start_does_not_roll_back_the_stored_one() {
    let db = fresh_db();
    let first = Api::open(options(&db, Some(POLICY))).await;
    let put = first.call(Method::PUT, "/v1/policy", Token::Admin, Some(strict())).await;
    assert_eq!(put.status, 200, "{}", put.text);
    let mut again = options(&db, Some(POLICY));
    again.create = false;
    let second = Api::open(again).await;
    let live = second.get("/v1/policy").await;
    assert_eq!(live.json["document"], strict(), "the admin's policy stays in force");
    assert_eq!(live.json["digest"], put.json["digest"]);
    let health = second.call(Method::GET, "/healthz", Token::None, None).await;
    assert_eq!(health.json["policy_digest"], put.json["digest"], "and decides");
    let weak = second.login("alice", phone("A1")).await;
    assert_eq!(weak.json["outcome"], "deny", "a 6-digit PIN is refused: {}", weak.text);
    let versions = second.get("/v1/policy/versions").await;
    assert_eq!(versions.json["versions"].as_array().unwrap().len(), 2, "nothing stored at start");

    // Asked for explicitly, the file replaces it.
    let mut replace = options(&db, Some(POLICY));
    replace.replace_policy = true;
    let third = Api::open(replace).await;
    let live = third.get("/v1/policy").await;
    assert_eq!(live.json["document"], serde_json::from_str::<Value>(POLICY).unwrap());
    assert_eq!(live.json["actor"], "startup");
    assert_eq!(third.get("/v1/policy/versions").await.json["versions"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn replacing_needs_a_policy_and_a_database_without_one_needs_it_too() {
    let db = fresh_db();
    let mut o = options(&db, None);
    o.replace_policy = true;
    let e = open(o).await.err().unwrap();
    assert!(e.to_string().contains("`--replace-policy` needs `--policy`"), "{e}");
    let e = open(options(&db, None)).await.err().unwrap();
    assert!(e.to_string().contains("holds no policy"), "{e}");
}

/// Issue 28, 5: with the database file moved away, a restart created an empty one, and a
/// device that was rejected was allowed as `device.first`.
#[tokio::test]
async fn a_missing_or_empty_database_is_refused_unless_asked_to_create_it() {
    let db = fresh_db();
    let mut o = options(&db, Some(POLICY));
    o.create = false;
    let e = open(o.clone()).await.err().unwrap();
    let text = e.to_string();
    assert!(text.contains(&db.display().to_string()) && text.contains("--create"), "{text}");
    assert!(!db.exists(), "nothing was created");
    std::fs::write(&db, b"").unwrap();
    let e = open(o.clone()).await.err().unwrap();
    assert!(e.to_string().contains("holds none of the service's tables"), "{e}");
    let mut create = o.clone();
    create.create = true;
    drop(open(create).await.unwrap());
    drop(open(o).await.unwrap());
}

/// Issue 28, 10: a file that is not a database hung 10 s and said `pool timed out`;
/// `unable to open database file` did not name the path.
#[tokio::test]
async fn a_database_that_cannot_be_opened_is_named_with_the_reason() {
    let db = fresh_db();
    std::fs::write(&db, vec![b'x'; 8192]).unwrap();
    let mut o = options(&db, Some(POLICY));
    o.create = false;
    let e = open(o).await.err().unwrap();
    let text = e.to_string();
    assert_eq!(e.code(), "service.start");
    assert!(text.contains(&db.display().to_string()), "{text}");
    assert!(text.contains("not a database"), "{text}");
    assert!(!text.contains("timed out"), "{text}");

    let nowhere = fresh_db().join("no/such/dir/mdm.db");
    let e = open(options(&nowhere, Some(POLICY))).await.err().unwrap();
    let text = e.to_string();
    assert!(text.contains(&nowhere.display().to_string()), "{text}");
    assert!(text.contains("unable to open database file"), "{text}");
}

/// Issue 28, 10: an invalid policy was refused only after the database was created and
/// migrated.
#[tokio::test]
async fn an_invalid_policy_is_refused_before_the_database_is_touched() {
    let db = fresh_db();
    let e = open(options(&db, Some(r#"{"schema":"mdm.policy/v1","assigned":{"max_devices":0}}"#))).await;
    let e = e.err().unwrap();
    assert_eq!(e.code(), "service.start");
    assert!(e.to_string().contains("--policy"), "{e}");
    assert!(!db.exists(), "no database was created for it");
}

/// Issue 28, 11: a token file of comments only, or with a line of spaces, is refused at
/// start, naming the file and the line (the parsing itself: `auth`'s unit tests).
#[tokio::test]
async fn a_token_file_without_a_token_or_with_a_blank_line_is_refused() {
    let comments = fresh_db().with_extension("tokens");
    std::fs::write(&comments, "# nothing yet\n").unwrap();
    let e = mdm_service::role_tokens("MDM_ADMIN_TOKEN", None, Some(&comments)).unwrap_err();
    assert!(e.to_string().contains("holds no token"), "{e}");
    let blank = fresh_db().with_extension("tokens");
    std::fs::write(&blank, "admin-token-0123456789\n \n").unwrap();
    let e = mdm_service::role_tokens("MDM_ADMIN_TOKEN", None, Some(&blank)).unwrap_err();
    assert!(e.to_string().contains("line 2") && e.to_string().contains(&blank.display().to_string()), "{e}");
    let good = fresh_db().with_extension("tokens");
    std::fs::write(&good, "# admins\n\nadmin-token-0123456789\n").unwrap();
    let tokens = mdm_service::role_tokens("MDM_ADMIN_TOKEN", None, Some(&good)).unwrap();
    assert_eq!(tokens, ["admin-token-0123456789"]);
}
