//! `GET /v1/openapi.json`: the OpenAPI document, without a token, as committed under
//! `schemas/`; every route the router answers is in it.

use axum::http::Method;

use crate::common::{Api, POLICY, Token};

/// The committed document. `MDM_BLESS=1 cargo test -p mdm-service openapi` rewrites it.
fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/openapi.json");
    let generated = mdm_service::openapi_document().unwrap();
    if std::env::var_os("MDM_BLESS").is_some() {
        std::fs::write(path, generated).unwrap();
    }
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test]
async fn the_committed_document_is_the_generated_one() {
    let generated = mdm_service::openapi_document().unwrap();
    assert!(
        committed() == generated,
        "schemas/openapi.json is stale: `MDM_BLESS=1 cargo test -p mdm-service --test api openapi` rewrites it"
    );
}

#[tokio::test]
async fn it_is_served_without_a_token() {
    let api = Api::new(POLICY).await;
    let r = api.call(Method::GET, "/v1/openapi.json", Token::None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(r.text, mdm_service::openapi_document().unwrap());
    assert_eq!(r.json["openapi"], "3.1.0");
}

/// Every route of the API is in the document, with the role's token scheme, and the
/// engine's documents are the engine's schemas with their references rebased.
#[tokio::test]
async fn every_route_is_described() {
    let doc: serde_json::Value = serde_json::from_str(mdm_service::openapi_document().unwrap()).unwrap();
    let routes = [
        ("post", "/v1/login", Some("gateway")),
        ("post", "/v1/events", Some("admin")),
        ("get", "/v1/users/{user}", Some("admin")),
        ("get", "/v1/users", Some("admin")),
        ("get", "/v1/devices", Some("admin")),
        ("get", "/v1/pending", Some("admin")),
        ("get", "/v1/decisions", Some("admin")),
        ("get", "/v1/policy", Some("admin")),
        ("put", "/v1/policy", Some("admin")),
        ("get", "/v1/policy/versions", Some("admin")),
        ("get", "/v1/policy/shadow", Some("admin")),
        ("put", "/v1/policy/shadow", Some("admin")),
        ("delete", "/v1/policy/shadow", Some("admin")),
        ("get", "/v1/shadow/report", Some("admin")),
        ("post", "/v1/preview", Some("admin")),
        ("get", "/v1/webhooks", Some("admin")),
        ("put", "/v1/webhooks", Some("admin")),
        ("get", "/v1/webhooks/deliveries", Some("admin")),
        ("post", "/v1/webhooks/deliveries/{id}/replay", Some("admin")),
        ("get", "/healthz", None),
        ("get", "/readyz", None),
        ("get", "/metrics", None),
        ("get", "/v1/openapi.json", None),
    ];
    let mut count = 0;
    for (method, path, role) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path}");
        match role {
            Some(role) => {
                assert_eq!(op["security"][0][role], serde_json::json!([]), "{method} {path}");
                assert_eq!(
                    op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody"
                );
            }
            None => assert!(op.get("security").is_none(), "{method} {path}"),
        }
        count += 1;
    }
    let described: usize =
        doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(described, count, "no route the list above misses");
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["Policy"]["anyOf"].is_array(), "the engine's policy schema");
    assert_eq!(schemas["LoginDevice"]["$ref"], "#/components/schemas/Event.LoginDevice");
    let text = doc.to_string();
    assert!(!text.contains("#/$defs/"), "every engine reference is rebased");
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(schemas[name].is_object(), "{name} is a component");
    }
}
