//! What is not a resource: an unknown route, the console's files.

use axum::http::Method;

use crate::common::{Api, POLICY, Token, fresh_db, options};

#[tokio::test]
async fn an_unknown_route_is_a_404() {
    let api = Api::new(POLICY).await;
    api.get("/v2/everything").await.assert_error(404, "service.not_found", "");
    let r = api.call(Method::GET, "/v1", Token::None, None).await;
    r.assert_error(404, "service.not_found", "");
}

/// Issue 26: `GET /v1/login` answered 405 with an empty body.
#[tokio::test]
async fn a_wrong_method_is_a_405_in_json() {
    let api = Api::new(POLICY).await;
    let r = api.call(Method::GET, "/v1/login", Token::Gateway, None).await;
    r.assert_error(405, "service.method_not_allowed", "");
    assert!(r.json["message"].as_str().unwrap().contains("`GET`"), "{}", r.text);
    assert_eq!(r.headers["allow"], "POST", "the methods the route takes");
    api.call(Method::DELETE, "/v1/devices", Token::Admin, None).await.assert_error(
        405,
        "service.method_not_allowed",
        "",
    );
}

#[tokio::test]
async fn the_console_and_only_its_files_are_served() {
    let dir = fresh_db().with_extension("console");
    std::fs::create_dir_all(dir.join("console")).unwrap();
    std::fs::create_dir_all(dir.join("node_modules")).unwrap();
    std::fs::write(dir.join("console/index.html"), "<!doctype html><title>console</title>").unwrap();
    std::fs::write(dir.join("index.mjs"), "export {};").unwrap();
    std::fs::write(dir.join("node_modules/secret.js"), "no").unwrap();
    let db = fresh_db();
    let mut options = options(&db, Some(POLICY));
    options.console = Some(dir);
    let api = Api::open(options).await;
    let root = api.call(Method::GET, "/", Token::None, None).await;
    assert_eq!(root.status, 307);
    assert_eq!(root.headers["location"], "/console/");
    let page = api.call(Method::GET, "/console/", Token::None, None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<title>console</title>"));
    // Issue 28, 9: the console runs the engine's WebAssembly from its own origin only,
    // and no other site may frame it.
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(api.call(Method::GET, "/index.mjs", Token::None, None).await.status, 200);
    let hidden = api.call(Method::GET, "/node_modules/secret.js", Token::None, None).await;
    hidden.assert_error(404, "service.not_found", "");
}
