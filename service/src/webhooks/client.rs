//! One webhook attempt: a `POST` over HTTP/1.1 on a connection of its own, HTTPS through
//! rustls with the system's roots (and `SSL_CERT_FILE`'s), plain HTTP only to a loopback
//! host. No redirect is followed: a receiver that moved is a failed attempt, and the
//! admin changes the URL.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where a webhook goes: a URL the service may send to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    https: bool,
    /// The host as the URL spells it (`[::1]` for an IPv6 address).
    host: String,
    port: u16,
    /// The path and query.
    path: String,
}

impl Target {
    /// Reads a webhook URL: `https://`, or `http://` to `localhost` or a loopback
    /// address; no user name or password in it (they would be sent in the clear to
    /// every log on the way), no fragment.
    pub(crate) fn parse(url: &str) -> Result<Target, String> {
        let u = url::Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
        if !u.username().is_empty() || u.password().is_some() {
            return Err("must not hold a user name or password".into());
        }
        if u.fragment().is_some() {
            return Err("must not have a fragment".into());
        }
        let host = u.host().ok_or("must name a host")?;
        let loopback = match &host {
            url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        };
        let https = match u.scheme() {
            "https" => true,
            "http" if loopback => false,
            "http" => return Err("must be `https://`, or `http://` to a loopback host".into()),
            other => return Err(format!("must be `https://`, not `{other}://`")),
        };
        let port = u.port_or_known_default().ok_or("must have a port")?;
        let mut path = u.path().to_string();
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        Ok(Target { https, host: host.to_string(), port, path })
    }

    /// The `Host` header.
    fn authority(&self) -> String {
        let default = if self.https { 443 } else { 80 };
        let host = match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
            _ => self.host.clone(),
        };
        if self.port == default { host } else { format!("{host}:{}", self.port) }
    }
}

/// Why an attempt failed: a stable code for the deliveries' list (the details, which may
/// name addresses, go to the log).
#[derive(Debug, thiserror::Error)]
pub(crate) enum AttemptError {
    /// The URL is no longer one the service sends to.
    #[error("the URL is not one the service sends to: {0}")]
    Url(String),
    /// No connection could be made.
    #[error("connecting: {0}")]
    Connect(#[source] std::io::Error),
    /// The TLS handshake failed (a certificate the system does not trust, say).
    #[error("the TLS handshake: {0}")]
    Tls(#[source] std::io::Error),
    /// The HTTP exchange failed (the receiver closed the connection...).
    #[error("the HTTP exchange: {0}")]
    Http(#[source] hyper::Error),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The request could not be built (a header value the URL made invalid).
    #[error("building the request: {0}")]
    Request(#[source] axum::http::Error),
}

impl AttemptError {
    /// The stable code the deliveries' list shows.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            AttemptError::Url(_) | AttemptError::Request(_) => "webhook.url",
            AttemptError::Connect(_) => "webhook.connect",
            AttemptError::Tls(_) => "webhook.tls",
            AttemptError::Http(_) => "webhook.http",
            AttemptError::Timeout(_) => "webhook.timeout",
        }
    }
}

/// Sends webhooks: the TLS configuration, made once.
#[derive(Clone)]
pub(crate) struct Client {
    tls: tokio_rustls::TlsConnector,
    timeout: Duration,
}

impl Client {
    /// A client trusting the system's roots (and `SSL_CERT_FILE`'s), each attempt given
    /// `timeout`.
    pub(crate) fn new(timeout: Duration) -> Result<Client, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::warn!(cause = %e, "reading the system's root certificates for webhooks");
        }
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            tracing::warn!("no root certificate found: webhooks to https:// URLs will fail");
        }
        let config =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots)
                .with_no_client_auth();
        Ok(Client { tls: tokio_rustls::TlsConnector::from(Arc::new(config)), timeout })
    }

    /// `POST`s `body` to `url` with `headers`; the receiver's status.
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<u16, AttemptError> {
        let target = Target::parse(url).map_err(AttemptError::Url)?;
        let mut request = Request::post(&target.path)
            .header(header::HOST, target.authority())
            .header(header::CONTENT_TYPE, "application/cloudevents+json")
            .header(header::USER_AGENT, concat!("mdm-serve/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(AttemptError::Request)?;
        tokio::time::timeout(self.timeout, self.exchange(&target, request))
            .await
            .map_err(|_| AttemptError::Timeout(self.timeout))?
    }

    async fn exchange(&self, target: &Target, request: Request<Full<Bytes>>) -> Result<u16, AttemptError> {
        let tcp = TcpStream::connect((target.host.trim_matches(['[', ']']), target.port))
            .await
            .map_err(AttemptError::Connect)?;
        let _ = tcp.set_nodelay(true);
        if target.https {
            let name =
                rustls::pki_types::ServerName::try_from(target.host.trim_matches(['[', ']']).to_string())
                    .map_err(|e| AttemptError::Url(e.to_string()))?;
            let tls = self.tls.connect(name, tcp).await.map_err(AttemptError::Tls)?;
            send(TokioIo::new(tls), request).await
        } else {
            send(TokioIo::new(tcp), request).await
        }
    }
}

/// The most of a receiver's answer that is read (and thrown away) before the connection
/// is dropped.
const MAX_ANSWER_BYTES: usize = 64 << 10;

async fn send<IO>(io: IO, request: Request<Full<Bytes>>) -> Result<u16, AttemptError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(io).await.map_err(AttemptError::Http)?;
    let connection = tokio::spawn(connection);
    let result = async {
        let response = sender.send_request(request).await.map_err(AttemptError::Http)?;
        let status = response.status().as_u16();
        // Read a little of the answer, so that a receiver that writes its body before it
        // reads ours is not cut off mid-write; the rest is dropped with the connection.
        let mut body = response.into_body();
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len()),
                _ => break,
            }
        }
        Ok(status)
    }
    .await;
    connection.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn https_anywhere_http_on_loopback_only() {
        for ok in [
            "https://hooks.example.com/mdm",
            "https://10.0.0.1:8443/x?y=1",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:9000/",
        ] {
            assert!(Target::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.example.com/mdm",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/#frag",
            "not a url",
            "http://127.0.0.1.example.com/",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        let t = Target::parse("http://[::1]:9000/a?b=c").unwrap();
        assert_eq!((t.authority().as_str(), t.path.as_str()), ("[::1]:9000", "/a?b=c"));
        assert_eq!(Target::parse("https://h.example/").unwrap().authority(), "h.example");
    }
}
