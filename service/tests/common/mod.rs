//! A service on a fresh SQLite file, and requests to it: shared by the test binaries,
//! each of which uses part of it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use mdm_host::{Config, Runtime};
use mdm_service::{Limits, LogFormat, Options, Service, Tokens, WebhookOptions};
use serde_json::{Value, json};
use sqlx::Connection as _;
use tower::ServiceExt as _;

pub const GATEWAY: &str = "gateway-token-for-tests-0123456789";
pub const ADMIN: &str = "admin-token-for-tests-0123456789";

/// Two devices, one allowed, and further ones waiting for the admin.
pub const POLICY: &str = r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},
  "assigned":{"max_devices":1,"on_new_device":"approval","on_approve":"add"}}"#;

/// The decisions' and the admin's sandboxes, compiled once for every test (the cache
/// under the tests' scratch directory makes later runs start at once).
pub fn runtimes() -> (Runtime, Runtime) {
    static RUNTIMES: OnceLock<(Runtime, Runtime)> = OnceLock::new();
    RUNTIMES
        .get_or_init(|| {
            let cache = Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mdm-cache"));
            let gateway = Runtime::new(Config { cache_dir: cache.clone(), ..Config::default() }).unwrap();
            let admin = Runtime::new(Config {
                cache_dir: cache,
                memory_limit: 512 << 20,
                deadline: Duration::from_secs(60),
                ..Config::default()
            })
            .unwrap();
            (gateway, admin)
        })
        .clone()
}

/// A path for a new SQLite database, unique across tests and runs.
pub fn fresh_db() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("service-api");
    std::fs::create_dir_all(&dir).unwrap();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    dir.join(format!("db-{}-{stamp}-{n}.db", std::process::id()))
}

/// The options of a test service on `db` with both roles' tokens.
pub fn options(db: &std::path::Path, policy: Option<&str>) -> Options {
    Options {
        policy: policy.map(str::to_string),
        replace_policy: false,
        db: format!("sqlite://{}", db.display()),
        create: true,
        listen: "127.0.0.1:0".parse().unwrap(),
        tokens: Tokens::new(&[GATEWAY], &[ADMIN]).unwrap(),
        console: None,
        poll: Duration::from_secs(1),
        log: LogFormat::Text,
        limits: Limits::default(),
        webhooks: WebhookOptions::default(),
        tls: None,
    }
}

/// A service and its database file.
pub struct Api {
    pub router: Router,
    pub db: PathBuf,
}

/// An answer: status, headers, the body as text and as JSON (when it is).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// The error's code, or a panic with the whole answer.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or_else(|| panic!("not an error: {self:?}"))
    }

    /// An error answer with `status`, `code` and `pointer`, and a message.
    pub fn assert_error(&self, status: u16, code: &str, pointer: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.code(), code, "{}", self.text);
        assert_eq!(self.json["pointer"], pointer, "{}", self.text);
        assert!(!self.json["message"].as_str().unwrap().is_empty());
    }

    /// The decision id the answer names.
    pub fn decision_id(&self) -> String {
        self.headers.get("mdm-decision-id").unwrap().to_str().unwrap().to_string()
    }
}

/// Which token a request carries.
#[derive(Clone, Copy)]
pub enum Token<'a> {
    None,
    Gateway,
    Admin,
    Literal(&'a str),
}

impl Api {
    /// A service on a fresh database with `policy`.
    pub async fn new(policy: &str) -> Api {
        let db = fresh_db();
        Api::open(options(&db, Some(policy))).await
    }

    /// A service with these options (on the database they name).
    pub async fn open(options: Options) -> Api {
        let db = PathBuf::from(options.db.trim_start_matches("sqlite://"));
        let (gateway, admin) = runtimes();
        let service = Service::open(gateway, admin, options).await.unwrap();
        Api { router: service.router(), db }
    }

    /// A request as built; the answer read whole.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, headers, text, json }
    }

    /// A request with `token` and, if any, a JSON body given as text.
    pub async fn raw(&self, method: Method, path: &str, token: Token<'_>, body: Option<&str>) -> Answer {
        // As an HTTP/1.1 client sends it.
        let mut request = Request::builder().method(method).uri(path).header(header::HOST, "localhost");
        let bearer = match token {
            Token::None => None,
            Token::Gateway => Some(GATEWAY),
            Token::Admin => Some(ADMIN),
            Token::Literal(t) => Some(t),
        };
        if let Some(t) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    /// A request with exactly these headers (no token or content type added) and body.
    pub async fn with_headers(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(body.to_string())).unwrap()).await
    }

    /// A request with `token` and a JSON body.
    pub async fn call(&self, method: Method, path: &str, token: Token<'_>, body: Option<Value>) -> Answer {
        let text = body.map(|b| b.to_string());
        self.raw(method, path, token, text.as_deref()).await
    }

    /// `GET path` as the admin.
    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, Token::Admin, None).await
    }

    /// A login of `user` in `groups` on `device`.
    pub async fn login_in(&self, user: &str, device: Value, groups: &[&str]) -> Answer {
        let body = json!({ "user": user, "groups": groups, "device": device });
        self.call(Method::POST, "/v1/login", Token::Gateway, Some(body)).await
    }

    /// A login of `user` of `sales` on `device`.
    pub async fn login(&self, user: &str, device: Value) -> Answer {
        self.login_in(user, device, &["sales"]).await
    }

    /// An admin event.
    pub async fn admin(&self, event: Value) -> Answer {
        self.call(Method::POST, "/v1/events", Token::Admin, Some(event)).await
    }

    /// A connection of the test's own to the service's database, to look at it or break it.
    pub async fn sqlite(&self) -> sqlx::SqliteConnection {
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.db.display())).await.unwrap()
    }

    /// Runs `sql` on the service's database from outside the service.
    pub async fn execute(&self, sql: &str) {
        let mut conn = self.sqlite().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
}

/// A phone that meets the policy.
pub fn phone(id: &str) -> Value {
    json!({ "device_id": id, "os_type": "ios", "os_version": "17.2", "pin_length": 6, "encrypted": true })
}

/// The server's clock `seconds` ago, as an event's `at`.
pub fn ago(seconds: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    mdm_engine::Timestamp::from_millis(i64::try_from(now).unwrap() - seconds * 1000).to_rfc3339()
}

/// A request body that sends `first` (if any), then nothing more, ever: a client that
/// stalls. `polled` is told when the service first waits for more, so that a test knows
/// the request got that far.
pub struct Stalled {
    pub first: Option<axum::body::Bytes>,
    pub polled: Option<tokio::sync::oneshot::Sender<()>>,
}

impl http_body::Body for Stalled {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Some(first) = self.first.take() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(first))));
        }
        if let Some(polled) = self.polled.take() {
            let _ = polled.send(());
        }
        std::task::Poll::Pending
    }
}

/// A stalled request in flight on `router`: resolves once the service waits for more of
/// its body (`true`), or has dropped it (`false`: refused); the task holds the request
/// until aborted or answered.
pub async fn stalled(
    router: &Router,
    path: &str,
    declared: Option<usize>,
    first: &[u8],
) -> (tokio::task::JoinHandle<Answer>, bool) {
    let (polled, waiting) = tokio::sync::oneshot::channel();
    let body = Stalled { first: Some(axum::body::Bytes::copy_from_slice(first)), polled: Some(polled) };
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {GATEWAY}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(n) = declared {
        request = request.header(header::CONTENT_LENGTH, n.to_string());
    }
    let request = request.body(Body::new(body)).unwrap();
    let api = Api { router: router.clone(), db: PathBuf::new() };
    let task = tokio::spawn(async move { api.send(request).await });
    let waits = waiting.await.is_ok();
    (task, waits)
}
