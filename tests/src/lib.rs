//! Helpers for the integration tests: a relay on a free loopback port and a native
//! y-websocket client built on yrs and the shared protocol code.

#[cfg(feature = "browser")]
pub mod browser;
pub mod caddy;
pub mod client;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod hook_server;
pub mod nginx;
pub mod process;
#[cfg(feature = "cluster")]
pub mod redis_cluster;
pub mod redis_server;
pub mod relay;
pub mod secured;
pub mod slow_proxy;

pub use client::TestClient;
pub use relay::TestRelay;

use std::future::Future;
use std::time::Duration;

/// Polls `check` every 20 ms until it holds; panics with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {limit:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A minimal HTTP/1.1 GET over loopback: returns the status code and the body.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    http(addr, "GET", path, &[], &[]).await
}

/// A minimal HTTP/1.1 request over loopback: returns the status code and the body as text.
pub async fn http(addr: std::net::SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let (status, body) = http_bytes(addr, method, path, headers, body).await;
    (status, String::from_utf8_lossy(&body).to_string())
}

/// A minimal HTTP/1.1 request over loopback: returns the status code and the raw body
/// (responses must not be chunked: the relay's are not).
pub async fn http_bytes(addr: std::net::SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let (status, _, body) = http_response(addr, method, path, headers, body).await;
    (status, body)
}

/// A minimal HTTP/1.1 request over loopback: the status code, the response head (status
/// line and headers, as text) and the raw body.
pub async fn http_response(addr: std::net::SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write request");
    stream.write_all(body).await.expect("write body");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read response");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, response[split..].to_vec())
}
