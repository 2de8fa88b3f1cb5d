//! Issue 28, 7: no header read timeout; 400 half-open connections stayed open 36 s and
//! trickled headers 66 s. Real sockets, `Service::serve` on a loopback port.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{POLICY, fresh_db, options, runtimes};

/// A service answering on a loopback port with a 300 ms header timeout; send on the
/// sender to stop it.
async fn serving() -> (SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let db = fresh_db();
    let mut options = options(&db, Some(POLICY));
    options.limits.header_timeout = Duration::from_millis(300);
    let (gateway, admin) = runtimes();
    let service = mdm_service::Service::open(gateway, admin, options).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        service
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (address, stop, task)
}

/// Everything the server sends until it closes the connection. Fails the test when it is
/// still open after 10 s: the header timeout is 300 ms, the old default 30 s.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the connection is still open after 10 s");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let (address, stop, task) = serving().await;
    let mut silent = TcpStream::connect(address).await.unwrap();
    until_closed(&mut silent).await;
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn trickled_headers_are_cut_off() {
    let (address, _stop, _task) = serving().await;
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let trickle = tokio::spawn(async move {
        if write.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-slow: ").await.is_err() {
            return;
        }
        // A byte every 50 ms, for as long as the server takes them.
        for _ in 0..400 {
            if write.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut out = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut out)).await;
    assert!(closed.is_ok(), "trickled headers are still read after 10 s");
    assert!(!String::from_utf8_lossy(&out).contains("200 OK"), "never answered");
    trickle.abort();
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_its_answer() {
    let (address, _stop, _task) = serving().await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n").await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("x-content-type-options: nosniff"), "{answer}");
}
