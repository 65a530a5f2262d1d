//! The browser client through a real nginx (deploy/nginx.conf) and a real Caddy
//! (deploy/Caddyfile) in front of two relay processes sharing rooms through Redis, under
//! /collab/: two headless Chromium pages load the client through the proxy, connect their
//! WebSockets through it and edit one scene together.
//!
//! Needs the `browser` and `cluster` features, chromedriver/Chromium, a built client in dist/,
//! redis-server, nginx and caddy; scripts/cluster-test.sh runs it after
//! scripts/browser-test.sh has installed the browser and built the client (set
//! CLUSTER_BROWSER=0 to skip it).

use std::net::SocketAddr;

use tests::browser::*;
use tests::caddy::Caddy;
use tests::nginx::Nginx;
use tests::process::{start_relays, ChildRelay};
use tests::redis_server::RedisServer;

/// Two relay processes sharing rooms through `redis`, serving the built client, with `extra`
/// flags; their data directories live as long as the returned guards.
async fn two_relays(redis: &RedisServer, extra: &[&str]) -> (Vec<ChildRelay>, Vec<tempfile::TempDir>) {
    let (url, dist) = (redis.url(), dist_dir().to_str().expect("utf-8 path").to_owned());
    let mut args = vec!["--redis", url.as_str(), "--static-dir", dist.as_str()];
    args.extend_from_slice(extra);
    start_relays(2, &args).await
}

#[derive(Clone, Copy)]
enum Proxy {
    Nginx,
    Caddy,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_edit_one_scene_through_nginx() {
    browsers_edit_one_scene_through(Proxy::Nginx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_edit_one_scene_through_caddy() {
    browsers_edit_one_scene_through(Proxy::Caddy).await;
}

async fn browsers_edit_one_scene_through(proxy: Proxy) {
    with_browsers(move |browsers| async move {
        let redis = RedisServer::start();
        let (relays, dirs) = two_relays(&redis, &["--base-path", "/collab", "--trust-proxy"]).await;
        let upstreams: Vec<SocketAddr> = relays.iter().map(|r| r.addr).collect();
        let (front, addr): (Box<dyn std::any::Any + Send>, SocketAddr) = match proxy {
            Proxy::Nginx => {
                let nginx = Nginx::start(&upstreams);
                let addr = nginx.addr;
                (Box::new(nginx), addr)
            }
            Proxy::Caddy => {
                let caddy = Caddy::start(&upstreams);
                let addr = caddy.addr;
                (Box::new(caddy), addr)
            }
        };
        let page = format!("http://{addr}/collab/?room=proxied");
        let (a, b) = tokio::join!(browsers.open(&page), browsers.open(&page));
        for page in [&a, &b] {
            let shown = page.wait_synced().await;
            assert_eq!(shown.room.as_deref(), Some("proxied"), "{}: room name shown", page.name);
        }
        a.wait_peers(1).await;
        b.wait_peers(1).await;
        a.add_node().await;
        b.wait_nodes(1).await;
        b.add_node().await;
        a.wait_nodes(2).await;
        drop((front, relays, redis, dirs));
    })
    .await;
}

/// A triangle mesh imported through one relay reaches a browser on another: the model (made
/// by Python's trimesh) travels through Redis with the update that added it, and the second
/// page reads it from its own copy (its panel counts the triangles it loaded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mesh_imported_through_one_relay_reaches_a_browser_on_another() {
    with_browsers(|browsers| async move {
        let redis = RedisServer::start();
        let (relays, dirs) = two_relays(&redis, &[]).await;
        let (first, second) = (format!("http://{}/?room=shared-mesh", relays[0].addr), format!("http://{}/?room=shared-mesh", relays[1].addr));
        let (a, b) = tokio::join!(browsers.open(&first), browsers.open(&second));
        a.wait_synced().await;
        b.wait_synced().await;
        let torus = repo_root().join("tests/fixtures/meshes/torus.glb");
        let input = a.client.find(fantoccini::Locator::Css("#import-gltf")).await.expect("the import input");
        input.send_keys(torus.to_str().expect("utf-8 path")).await.expect("choosing the model");
        a.wait_nodes(1).await;
        let shown = b.wait_nodes(1).await;
        assert_eq!(shown.list, vec![("Torus".to_owned(), "mesh".to_owned())], "the other relay's browser has the mesh node");
        let row = b.client.find(fantoccini::Locator::Css("#node-list li .kind")).await.expect("the row");
        row.click().await.expect("selecting the torus");
        let deadline = std::time::Instant::now() + WAIT;
        let script = "const e = document.getElementById('prop-mesh'); return !!e && e.dataset.triangles === '2304';";
        while b.client.execute(script, vec![]).await.ok() != Some(serde_json::json!(true)) {
            assert!(std::time::Instant::now() < deadline, "B's panel shows the mesh's 2,304 triangles");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        drop((relays, redis, dirs));
    })
    .await;
}
