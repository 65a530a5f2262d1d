//! Real-browser tests: headless Chromium, driven through chromedriver with fantoccini, loads
//! the built client (dist/) from the real relay binary and edits scenes with other browsers
//! and with native y-websocket clients.
//!
//! Needs the `browser` feature, /usr/bin/chromedriver and /usr/bin/chromium (override with
//! CHROMEDRIVER / CHROMIUM) and a built client in dist/. `scripts/browser-test.sh` installs
//! and builds all of that, then runs `cargo test -p tests --features browser --test browser`.
//!
//! Every test starts its own chromedriver on a free loopback port and its own relay. Every
//! browser session is closed however the test ends (pass, failed assertion, timeout), then
//! chromedriver's whole process group is stopped, so nothing is left running. Every wait is
//! bounded: a stuck test fails with what the page showed, it does not hang.
//!
//! The editor's own tests (viewport, outliner, panel, undo, presence) are in
//! `browser_editor/`, modules of this test binary.

#[path = "browser_editor/access.rs"]
mod access;
#[path = "browser_editor/bench.rs"]
mod bench;
#[path = "browser_editor/bench_meshes.rs"]
mod bench_meshes;
#[path = "browser_editor/bench_resolution.rs"]
mod bench_resolution;
#[path = "browser_editor/collaboration.rs"]
mod collaboration;
#[path = "browser_editor/deleted.rs"]
mod deleted;
#[path = "browser_editor/editing.rs"]
mod editing;
#[path = "browser_editor/files.rs"]
mod files;
#[path = "browser_editor/harness.rs"]
mod harness;
#[path = "browser_editor/jobs.rs"]
mod jobs;
#[path = "browser_editor/meshes.rs"]
mod meshes;
#[path = "browser_editor/offline.rs"]
mod offline;
#[path = "browser_editor/outliner.rs"]
mod outliner;
#[path = "browser_editor/performance.rs"]
mod performance;
#[path = "browser_editor/resolution.rs"]
mod resolution;
#[path = "browser_editor/restore.rs"]
mod restore;
#[path = "browser_editor/viewport.rs"]
mod viewport;

use shared::scene::{NodeId, NodeKind, Scene};
use tests::browser::*;
use tests::{eventually, TestClient};
use yrs::Transact;

/// Two browsers in one room see each other and each other's edits; a native client sees the
/// same document; a browser leaving is seen by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_edit_one_scene() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let url = relay.page("duet");
        let (a, b) = tokio::join!(browsers.open(&url), browsers.open(&url));

        for page in [&a, &b] {
            let shown = page.wait_synced().await;
            assert_eq!(shown.room.as_deref(), Some("duet"), "{}: room name shown", page.name);
            assert_eq!(shown.nodes.as_deref(), Some("0"), "{}: a new room is empty", page.name);
        }
        a.wait_peers(1).await;
        b.wait_peers(1).await;

        for _ in 0..3 {
            a.add_node().await;
        }
        a.wait_nodes(3).await;
        let seen = b.wait_nodes(3).await;
        assert!(seen.list.iter().all(|(_, kind)| kind == "mesh"), "B lists A's meshes: {:?}", seen.list);

        b.add_node().await;
        b.wait_nodes(4).await;
        a.wait_nodes(4).await;

        // The document itself, as a stock client in the room gets it.
        let native = TestClient::join(&relay.ws(), "duet").await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "the native client sees the browsers' 4 nodes", || {
            let count = native_node_count(&native, &scene);
            async move { count == 4 }
        })
        .await;
        // A native client that publishes no presence is not counted as a person.
        assert_eq!(a.snapshot().await.unwrap().peers.as_deref(), Some("1"));
        native.close().await;

        b.close().await;
        a.wait_peers(0).await;
        let after = a.wait_synced().await;
        assert_eq!(after.nodes.as_deref(), Some("4"), "A keeps the scene when B leaves");
    })
    .await;
}

/// Edits made by a native y-websocket client show up in the browser: those made before it
/// joined and those made while it watches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_edits_show_up_in_the_browser() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let native = TestClient::join(&relay.ws(), "mixed").await;
        let scene = Scene::new(&native.doc);
        let client_id = native.client_id().get();
        {
            let mut txn = native.doc.transact_mut();
            scene.add_node(&mut txn, NodeId::new(client_id, 0), "Key light", NodeKind::Light, None);
        }

        let page = browsers.open(&relay.page("mixed")).await;
        page.wait_synced().await;
        let shown = page.wait_nodes(1).await;
        assert_eq!(shown.list, vec![("Key light".to_owned(), "light".to_owned())]);

        {
            let mut txn = native.doc.transact_mut();
            scene.add_node(&mut txn, NodeId::new(client_id, 1), "Main camera", NodeKind::Camera, None);
        }
        let shown = page.wait_nodes(2).await;
        let mut list = shown.list.clone();
        list.sort();
        assert_eq!(
            list,
            vec![("Key light".to_owned(), "light".to_owned()), ("Main camera".to_owned(), "camera".to_owned())],
            "the browser lists both native nodes"
        );

        // And the other way round, to the same native client.
        page.add_node().await;
        page.wait_nodes(3).await;
        eventually(WAIT, "the native client sees the browser's node", || {
            let count = native_node_count(&native, &scene);
            async move { count == 3 }
        })
        .await;
        native.close().await;
    })
    .await;
}

/// A stock Yjs client (npm yjs + y-websocket) writes a node using only docs/scene-schema.md;
/// the editor shows it with its name and kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_yjs_clients_node_shows_in_the_editor() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("from-js")).await;
        page.wait_synced().await;
        let interop = repo_root().join("tests/interop");
        let written = tokio::time::timeout(
            WAIT * 2,
            tokio::process::Command::new(program("NODE", "node"))
                .arg(interop.join("scene-writer.mjs"))
                .arg(relay.ws())
                .arg("from-js")
                .arg("Orange ball")
                .current_dir(&interop)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .status(),
        )
        .await
        .expect("the stock client finishes within the limit")
        .expect("node runs (scripts/browser-test.sh installs tests/interop's npm packages)");
        assert!(written.success(), "the stock client wrote its node");
        let shown = page.wait_nodes(1).await;
        assert_eq!(shown.list, vec![("Orange ball".to_owned(), "mesh".to_owned())]);
    })
    .await;
}

/// Served under a base path, the client loads its files and finds the WebSocket under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_under_a_base_path() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("/collab").await;
        let url = relay.page("x");
        assert!(url.contains("/collab/?room=x"), "{url}");
        let (a, b) = tokio::join!(browsers.open(&url), browsers.open(&url));
        a.wait_synced().await;
        b.wait_synced().await;
        a.wait_peers(1).await;
        b.wait_peers(1).await;

        a.add_node().await;
        b.wait_nodes(1).await;
        b.add_node().await;
        a.wait_nodes(2).await;

        let native = TestClient::join(&relay.ws(), "x").await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "the room under /collab holds both nodes", || {
            let count = native_node_count(&native, &scene);
            async move { count == 2 }
        })
        .await;
        native.close().await;
    })
    .await;
}

/// Without ?room= the page picks a random room, writes it into its address and shows that
/// address as the link to share; the link opens the same room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_without_a_room_gets_one() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let root = format!("http://{}/", relay.relay.addr);
        let page = browsers.open(&root).await;
        let shown = page.wait_synced().await;

        let room = shown.room.clone().expect("#room-name shown");
        assert_eq!(room.len(), 10, "a ten-letter room name: {room:?}");
        assert!(room.bytes().all(|c| b"abcdefghjkmnpqrstuvwxyz23456789".contains(&c)), "room name {room:?}");
        assert_eq!(shown.url, format!("{root}?room={room}"), "the room is written into the address");
        assert_eq!(shown.share_text.as_deref(), Some(shown.url.as_str()), "#share-link shows the address");
        assert_eq!(shown.share_href.as_deref(), Some(shown.url.as_str()), "#share-link links to the address");
        // WebDriver's view of the address agrees with the page's.
        let current = page.client.current_url().await.expect("current url");
        assert_eq!(current.as_str(), shown.url);

        // The page is really in that room: a node it adds is in that room's document.
        page.add_node().await;
        page.wait_nodes(1).await;
        let native = TestClient::join(&relay.ws(), &room).await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "the random room holds the page's node", || {
            let count = native_node_count(&native, &scene);
            async move { count == 1 }
        })
        .await;
        native.close().await;

        // And the shared link opens it in another browser.
        let other = browsers.open(&shown.url).await;
        other.wait_synced().await;
        other.wait_nodes(1).await;
        other.wait_peers(1).await;
    })
    .await;
}
