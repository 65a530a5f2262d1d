//! Hosting behind a real reverse proxy: nginx (Debian's package) runs the shipped
//! deploy/nginx.conf in front of two relay processes under /collab/, which share rooms through
//! a real redis-server. WebSocket upgrades and /collab/healthz work through it, clients that
//! nginx spreads over both relays edit one room, the relays see the client address nginx
//! forwards (--trust-proxy), and a stock Yjs client (node, y-websocket from npm) works
//! through it too.
//!
//! Needs the `cluster` feature, redis-server, nginx and (for the stock client) the npm
//! packages of tests/interop; scripts/cluster-test.sh installs all of them.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tests::nginx::Nginx;
use tests::process::ChildRelay;
use tests::redis_server::RedisServer;
use tests::{eventually, http_get, TestClient};

const WAIT: Duration = Duration::from_secs(15);

/// Redis, two relay processes under /collab sharing it, and nginx in front.
struct Stack {
    nginx: Nginx,
    relays: Vec<ChildRelay>,
    _redis: RedisServer,
    _dirs: Vec<tempfile::TempDir>,
}

impl Stack {
    async fn start() -> Stack {
        let redis = RedisServer::start();
        let url = redis.url();
        let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
        let paths: Vec<_> = dirs.iter().map(|d| d.path().to_path_buf()).collect();
        let relays = tokio::task::spawn_blocking(move || {
            let args = ["--redis", url.as_str(), "--base-path", "/collab", "--trust-proxy"];
            paths.iter().map(|p| ChildRelay::start(p, &args)).collect::<Vec<_>>()
        })
        .await
        .unwrap();
        let upstreams: Vec<SocketAddr> = relays.iter().map(|r| r.addr).collect();
        let nginx = Nginx::start(&upstreams);
        Stack { nginx, relays, _redis: redis, _dirs: dirs }
    }

    fn ws(&self) -> String {
        format!("ws://{}/collab/ws", self.nginx.addr)
    }

    /// Open WebSocket connections on each relay (asked directly, not through nginx).
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
    let stack = Stack::start().await;
    let (status, body) = http_get(stack.nginx.addr, "/collab/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"), "/collab/healthz through nginx");
    let (status, _) = http_get(stack.nginx.addr, "/healthz").await;
    assert_eq!(status, 404, "only /collab/ is proxied");

    // least_conn spreads the sockets over both relays; Redis joins them into one room.
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(TestClient::join(&stack.ws(), "proxied").await);
    }
    let counts = stack.connections().await;
    assert!(counts.iter().all(|c| *c >= 1), "nginx used both relays: {counts:?}");
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
    let stack = Stack::start().await;
    let interop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("interop");
    assert!(
        interop.join("node_modules/y-websocket").is_dir(),
        "tests/interop/node_modules is missing: run `npm ci` there (scripts/cluster-test.sh does)"
    );
    let native = TestClient::join(&stack.ws(), "stock").await;
    native.append_text("t", "from-rust;");
    let server = format!("ws://{}/collab/ws", stack.nginx.addr);
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
