//! Hosting behind a real reverse proxy: nginx and Caddy (Debian's packages) run the shipped
//! deploy/nginx.conf and deploy/Caddyfile in front of two relay processes under /collab/,
//! which share rooms through a real redis-server. WebSocket upgrades and /collab/healthz work
//! through each, clients that the proxy spreads over both relays edit one room, and a stock
//! Yjs client (node, y-websocket from npm) works through it too.
//!
//! Needs the `cluster` feature, redis-server, nginx, caddy and (for the stock client) the
//! npm packages of tests/interop; scripts/cluster-test.sh installs all of them.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tests::caddy::Caddy;
use tests::nginx::Nginx;
use tests::process::{start_relays, ChildRelay};
use tests::redis_server::RedisServer;
use tests::{eventually, http_get, TestClient};

const WAIT: Duration = Duration::from_secs(15);

/// The reverse proxy in front.
enum Front {
    Nginx(Nginx),
    Caddy(Caddy),
}

#[derive(Clone, Copy)]
enum Proxy {
    Nginx,
    Caddy,
}

impl Front {
    fn addr(&self) -> SocketAddr {
        match self {
            Front::Nginx(nginx) => nginx.addr,
            Front::Caddy(caddy) => caddy.addr,
        }
    }
}

/// Redis, two relay processes under /collab sharing it, and a proxy in front.
struct Stack {
    front: Front,
    relays: Vec<ChildRelay>,
    _redis: RedisServer,
    _dirs: Vec<tempfile::TempDir>,
}

impl Stack {
    async fn start(proxy: Proxy) -> Stack {
        let redis = RedisServer::start();
        let (relays, dirs) = start_relays(2, &["--redis", &redis.url(), "--base-path", "/collab", "--trust-proxy"]).await;
        let upstreams: Vec<SocketAddr> = relays.iter().map(|r| r.addr).collect();
        let front = match proxy {
            Proxy::Nginx => Front::Nginx(Nginx::start(&upstreams)),
            Proxy::Caddy => Front::Caddy(Caddy::start(&upstreams)),
        };
        Stack { front, relays, _redis: redis, _dirs: dirs }
    }

    fn ws(&self) -> String {
        format!("ws://{}/collab/ws", self.front.addr())
    }

    /// Open WebSocket connections on each relay (asked directly, not through the proxy).
    async fn connections(&self) -> Vec<u64> {
        let mut counts = Vec::new();
        for relay in &self.relays {
            let (status, body) = http_get(relay.addr, "/collab/api/stats").await;
            assert_eq!(status, 200, "{body}");
            let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
            counts.push(stats["connections"].as_u64().unwrap_or(0));
        }
        counts
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_serves_two_relays_that_share_rooms_under_a_base_path() {
    two_relays_share_rooms_under_a_base_path(Proxy::Nginx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caddy_serves_two_relays_that_share_rooms_under_a_base_path() {
    two_relays_share_rooms_under_a_base_path(Proxy::Caddy).await;
}

async fn two_relays_share_rooms_under_a_base_path(proxy: Proxy) {
    let stack = Stack::start(proxy).await;
    let addr = stack.front.addr();
    let (status, body) = http_get(addr, "/collab/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"), "/collab/healthz through the proxy");
    assert_eq!(http_get(addr, "/collab/readyz").await.0, 200);
    let (status, _) = http_get(addr, "/healthz").await;
    assert_eq!(status, 404, "only /collab/ is proxied");
    let (status, head, _) = tests::http_response(addr, "GET", "/collab", &[], &[]).await;
    assert!(status == 301 || status == 308, "/collab redirects: {head}");
    let location = head.lines().find(|l| l.to_ascii_lowercase().starts_with("location:")).unwrap_or_default();
    assert!(location.trim_end().ends_with("/collab/"), "{head}");

    // least_conn spreads the sockets over both relays; Redis joins them into one room.
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(TestClient::join(&stack.ws(), "proxied").await);
    }
    let counts = stack.connections().await;
    assert!(counts.iter().all(|c| *c >= 1), "the proxy used both relays: {counts:?}");
    for (i, client) in clients.iter().enumerate() {
        client.append_text("t", &format!("<{i}>"));
    }
    for client in &clients {
        eventually(WAIT, "every client has all four edits", || async {
            let text = client.text("t");
            (0..4).all(|i| text.contains(&format!("<{i}>")))
        })
        .await;
    }
}

/// A stock y-websocket client (node) and a native one, through nginx, in one room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_yjs_client_works_through_nginx() {
    a_stock_yjs_client_works_through(Proxy::Nginx).await;
}

/// The same through Caddy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_yjs_client_works_through_caddy() {
    a_stock_yjs_client_works_through(Proxy::Caddy).await;
}

async fn a_stock_yjs_client_works_through(proxy: Proxy) {
    let stack = Stack::start(proxy).await;
    let interop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("interop");
    assert!(
        interop.join("node_modules/y-websocket").is_dir(),
        "tests/interop/node_modules is missing: run `npm ci` there (scripts/cluster-test.sh does)"
    );
    let native = TestClient::join(&stack.ws(), "stock").await;
    native.append_text("t", "from-rust;");
    let server = stack.ws();
    let mut node = tokio::process::Command::new("node")
        .arg(interop.join("proxy-peer.mjs"))
        .arg(&server)
        .arg("stock")
        .current_dir(&interop)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    eventually(WAIT, "the stock client's edit reaches the native client", || async {
        native.text("t").contains("from-yjs;")
    })
    .await;
    let status = tokio::time::timeout(WAIT, node.wait()).await.expect("node exits in time").expect("node status");
    assert!(status.success(), "the stock client saw the native edit and synced (exit {status})");
}
