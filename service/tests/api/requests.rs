//! Request ids: a client's `x-request-id` is honoured and echoed, one is made otherwise.

use axum::body::Body;
use axum::http::{Method, Request};

use crate::common::{Api, POLICY, Token};

async fn with_id(api: &Api, ids: &[&str]) -> String {
    let mut request = Request::builder().method(Method::GET).uri("/healthz").header("host", "localhost");
    for id in ids {
        request = request.header("x-request-id", *id);
    }
    let r = api.send(request.body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.headers["x-request-id"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_request_id_is_honoured_or_made() {
    let api = Api::new(POLICY).await;
    assert_eq!(with_id(&api, &["lb-7f3a:42"]).await, "lb-7f3a:42", "a proxy's id is kept");
    let made = with_id(&api, &[]).await;
    assert!(made.starts_with("req_") && made.len() == 20, "{made}");
    assert_ne!(with_id(&api, &[]).await, made, "each request its own");
    for bad in ["has space", "", &"x".repeat(129)] {
        let id = with_id(&api, &[bad]).await;
        assert!(id.starts_with("req_"), "`{bad}` is replaced: {id}");
    }
    let twice = with_id(&api, &["a", "b"]).await;
    assert!(twice.starts_with("req_"), "two ids: neither is chosen, {twice}");
    // Errors carry it too.
    let r = api.call(Method::GET, "/v1/policy", Token::None, None).await;
    assert_eq!(r.status, 401);
    assert!(r.headers["x-request-id"].to_str().unwrap().starts_with("req_"));
}
