//! What every route shares at the HTTP level: the media type of bodies, the Host of an
//! open role, security headers, the `Authorization` header's parsing.

use axum::http::Method;
use mdm_service::Tokens;

use crate::common::{ADMIN, Api, GATEWAY, POLICY, fresh_db, options, phone};

/// A service whose admin role has no token (loopback only): what a developer runs.
async fn open_admin() -> Api {
    let db = fresh_db();
    let mut options = options(&db, Some(POLICY));
    options.tokens = Tokens::new(&[GATEWAY], &[] as &[&str]).unwrap();
    Api::open(options).await
}

/// Issue 28, 4: with the admin role open, a cross-site "simple" POST (`text/plain`, no
/// preflight) to `/v1/events` wiped a device.
#[tokio::test]
async fn a_body_that_is_not_declared_json_is_refused() {
    let api = open_admin().await;
    let gateway = format!("Bearer {GATEWAY}");
    let login =
        serde_json::json!({ "user": "alice", "groups": ["sales"], "device": phone("A1") }).to_string();
    let r = api
        .with_headers(
            Method::POST,
            "/v1/login",
            &[("host", "localhost:8080"), ("authorization", &gateway), ("content-type", "application/json")],
            &login,
        )
        .await;
    assert_eq!(r.json["outcome"], "allow", "{}", r.text);
    let wipe = r#"{"type":"wipe","user":"alice","device_id":"A1"}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonx"),
        None,
    ] {
        let mut headers = vec![("host", "localhost:8080")];
        if let Some(t) = content_type {
            headers.push(("content-type", t));
        }
        let r = api.with_headers(Method::POST, "/v1/events", &headers, wipe).await;
        r.assert_error(415, "service.unsupported_media_type", "");
    }
    let state = api.get("/v1/users/alice").await.json["state"].clone();
    assert_eq!(state["devices"][0]["device_id"], "A1", "nothing was wiped");
    for content_type in ["application/json; charset=utf-8", "Application/JSON"] {
        let r = api
            .with_headers(
                Method::POST,
                "/v1/login",
                &[("host", "localhost"), ("authorization", &gateway), ("content-type", content_type)],
                &login,
            )
            .await;
        assert_eq!(r.json["outcome"], "allow", "{content_type}: {}", r.text);
    }
    let policy = api
        .with_headers(
            Method::PUT,
            "/v1/policy",
            &[("host", "127.0.0.1:8080"), ("content-type", "text/plain")],
            POLICY,
        )
        .await;
    policy.assert_error(415, "service.unsupported_media_type", "");
}

/// Issue 28, 4: an open role answers only requests addressed to a loopback name, so a
/// page that rebinds its own name to 127.0.0.1 cannot reach it.
#[tokio::test]
async fn an_open_role_answers_only_a_loopback_host() {
    let api = open_admin().await;
    for host in ["localhost:8080", "127.0.0.1:8080", "[::1]:8080", "localhost"] {
        let r = api.with_headers(Method::GET, "/v1/pending", &[("host", host)], "").await;
        assert_eq!(r.status, 200, "{host}: {}", r.text);
    }
    for host in [Some("evil.example:8080"), Some("127.0.0.1.evil.example"), None] {
        let headers: Vec<(&str, &str)> = host.map(|h| vec![("host", h)]).unwrap_or_default();
        let r = api.with_headers(Method::GET, "/v1/pending", &headers, "").await;
        r.assert_error(403, "service.forbidden", "");
    }
    // With both roles' tokens, the token is what counts: any Host.
    let api = Api::new(POLICY).await;
    let admin = format!("Bearer {ADMIN}");
    let r = api
        .with_headers(
            Method::GET,
            "/v1/pending",
            &[("host", "mdm.example.com"), ("authorization", &admin)],
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Issue 28, 9: no CSP, `X-Content-Type-Options` or `frame-ancestors` on the console or
/// the API.
#[tokio::test]
async fn every_answer_carries_security_headers() {
    let api = Api::new(POLICY).await;
    let answers = [
        api.with_headers(Method::GET, "/healthz", &[], "").await,
        api.get("/v1/pending").await,
        api.with_headers(Method::GET, "/v1/pending", &[], "").await,
        api.get("/v2/nothing").await,
    ];
    for r in &answers {
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{r:?}");
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.headers["x-frame-options"], "DENY");
        assert_eq!(r.headers["referrer-policy"], "no-referrer");
        assert_eq!(r.headers["cache-control"], "no-store");
    }
}

/// Issue 28, 11: the scheme is case-insensitive (RFC 9110), and two `Authorization`
/// headers are refused instead of the first deciding.
#[tokio::test]
async fn the_authorization_header_is_read_as_http_says() {
    let api = Api::new(POLICY).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let header = format!("{scheme} {ADMIN}");
        let r = api.with_headers(Method::GET, "/v1/pending", &[("authorization", &header)], "").await;
        assert_eq!(r.status, 200, "{scheme}: {}", r.text);
    }
    let (admin, gateway) = (format!("Bearer {ADMIN}"), format!("Bearer {GATEWAY}"));
    for pair in [[&admin, &gateway], [&gateway, &admin], [&admin, &admin]] {
        let r = api
            .with_headers(
                Method::GET,
                "/v1/pending",
                &[("authorization", pair[0]), ("authorization", pair[1])],
                "",
            )
            .await;
        r.assert_error(400, "service.bad_request", "");
    }
    for header in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", ADMIN] {
        let r = api.with_headers(Method::GET, "/v1/pending", &[("authorization", header)], "").await;
        r.assert_error(401, "service.unauthorized", "");
    }
}
