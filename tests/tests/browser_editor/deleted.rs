//! Browser test of a room deleted by an administrator: the relay closes every member with
//! "room deleted", and the pages that had the room open (kept in IndexedDB) must not bring
//! it back. They show the deleted banner, remove their copy, keep the scene in the page for
//! "Save my copy", and "Start again" (or a reload) opens the room empty; the relay stays
//! empty.

use fantoccini::Locator;
use serde_json::{json, Value};
use shared::interchange::{self, OpenMode};
use shared::scene::{IdGen, Scene};
use tests::browser::*;
use tests::{eventually, TestClient};
use yrs::{Doc, Transact};

use super::harness::*;
use super::offline::wait_kept;

const ROOM: &str = "doomed";

/// Whether this browser holds an IndexedDB database for the room (listing databases opens
/// none, so the check creates nothing).
async fn has_local_copy(page: &Page) -> bool {
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        page.client.execute_async(
            "const [name, done] = arguments; indexedDB.databases() \
             .then((list) => done(list.some((d) => d.name === name))).catch((e) => done(String(e)));",
            vec![json!(format!("scene-room:{ROOM}"))],
        ),
    )
    .await
    .expect("listing the databases in time")
    .expect("the script runs");
    answer.as_bool().unwrap_or_else(|| panic!("{}: listing the databases failed: {answer}", page.name))
}

/// Waits for the deleted banner with the device copy removed.
async fn wait_deleted_banner(page: &Page) {
    wait_js(
        page,
        "the deleted banner, the device copy removed",
        "const b = document.getElementById('room-deleted'); \
         return !!b && b.dataset.removed === 'true' \
            && b.textContent.includes('This room was deleted by an administrator.');",
        vec![],
    )
    .await;
}

/// Nodes in the scene JSON the page saved through the banner's "Save my copy".
async fn saved_copy_nodes(page: &Page) -> usize {
    let button = page.client.find(Locator::Css("#save-my-copy")).await.expect("#save-my-copy");
    button.click().await.expect("clicking #save-my-copy");
    wait_js(page, "a saved copy", "return !!document.getElementById('room-deleted')?.dataset.savedUrl;", vec![]).await;
    let url = js(page, "return document.getElementById('room-deleted').dataset.savedUrl;", vec![]).await;
    let text = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        page.client.execute_async(
            "const [url, done] = arguments; fetch(url).then((r) => r.text()).then(done).catch((e) => done('failed: ' + e));",
            vec![url],
        ),
    )
    .await
    .expect("fetching the saved copy in time")
    .expect("the script runs");
    let Value::String(text) = text else { panic!("{}: the saved copy is not text: {text}", page.name) };
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    let mut ids = IdGen::new(doc.client_id().get());
    let mut txn = doc.transact_mut();
    interchange::open_scene_json(&scene, &mut txn, &mut ids, &text, OpenMode::Replace).expect("the saved copy is a scene JSON");
    scene.node_count(&txn)
}

/// Two browsers edit a room; an administrator deletes it. Both show the banner (with "Save
/// my copy" enabled, and the scene still readable) and drop their IndexedDB copy; A starts
/// again into an empty, synced room; B reloads into the empty room; the relay never gets the
/// old nodes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_room_stays_deleted() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let url = relay.page(ROOM);
        let (a, b) = tokio::join!(browsers.open(&url), browsers.open(&url));
        a.wait_synced().await;
        b.wait_synced().await;
        for _ in 0..3 {
            a.add_node().await;
        }
        a.wait_nodes(3).await;
        b.wait_nodes(3).await;
        for page in [&a, &b] {
            wait_kept(page).await;
            assert!(has_local_copy(page).await, "{}: the room is kept in IndexedDB", page.name);
        }

        let (code, body) = tests::http(relay.relay.addr, "DELETE", &format!("/api/rooms/{ROOM}"), &[], b"").await;
        assert_eq!(code, 204, "the relay deletes the room: {body}");

        for page in [&a, &b] {
            wait_deleted_banner(page).await;
            let save_enabled = js(page, "const b = document.getElementById('save-my-copy'); return !!b && !b.disabled;", vec![]).await;
            assert_eq!(save_enabled, json!(true), "{}: the banner offers the JSON save", page.name);
            let start_enabled = js(page, "const b = document.getElementById('start-again'); return !!b && !b.disabled;", vec![]).await;
            assert_eq!(start_enabled, json!(true), "{}: the banner offers to start again", page.name);
            assert!(!has_local_copy(page).await, "{}: the IndexedDB copy is gone", page.name);
            let shown = page.snapshot().await.expect("snapshot");
            assert_eq!(shown.nodes.as_deref(), Some("3"), "{}: the scene stays in the page: {shown:?}", page.name);
            assert_eq!(shown.state.as_deref(), Some("offline"), "{}: no new session: {shown:?}", page.name);
            let retry = js(page, "return !!document.querySelector('.problem button');", vec![]).await;
            assert_eq!(retry, json!(false), "{}: no \"Reconnect now\" into the deleted room", page.name);
        }
        assert_eq!(saved_copy_nodes(&b).await, 3, "B's saved copy holds the scene");

        // A starts again: the room is empty on the relay and on this device.
        let start = a.client.find(Locator::Css("#start-again")).await.expect("#start-again");
        start.click().await.expect("clicking #start-again");
        a.wait_until("a fresh page, synced", |s| s.state.as_deref() == Some("synced") && s.nodes.as_deref() == Some("0")).await;
        a.wait_nodes(0).await;
        let banner = js(&a, "return !!document.getElementById('room-deleted');", vec![]).await;
        assert_eq!(banner, json!(false), "A: no banner after starting again");

        let native = TestClient::join(&relay.ws(), ROOM).await;
        let scene = Scene::new(&native.doc);
        assert_eq!(native_node_count(&native, &scene), 0, "A uploaded nothing of the old room");

        // B reloads (the same address): empty too, and uploads nothing.
        b.client.goto(&url).await.expect("B reloads the room");
        b.wait_synced().await;
        b.wait_nodes(0).await;
        a.wait_peers(1).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(native_node_count(&native, &scene), 0, "B uploaded nothing of the old room");
        native.close().await;
        let fresh = TestClient::join(&relay.ws(), ROOM).await;
        assert_eq!(native_node_count(&fresh, &Scene::new(&fresh.doc)), 0, "the relay's room stays empty");
        fresh.close().await;

        // And the fresh room works: an edit in A reaches B.
        a.add_node().await;
        b.wait_nodes(1).await;
        let native = TestClient::join(&relay.ws(), ROOM).await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "A's new node on the relay", || {
            let count = native_node_count(&native, &scene);
            async move { count == 1 }
        })
        .await;
        native.close().await;
    })
    .await;
}

/// Two windows of one browser in the room (one IndexedDB, one BroadcastChannel); the room is
/// deleted; the first window starts again while the second still shows the banner with the
/// old scene: the second has left the channel, so the fresh page gets nothing of the old
/// scene from it and the relay's room stays empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_left_on_the_banner_does_not_bring_the_room_back() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let url = relay.page(ROOM);
        let first = browsers.open(&url).await;
        first.wait_synced().await;
        let first_window = first.client.window().await.expect("window handle");
        let second_window = first.client.new_window(false).await.expect("a second window").handle;
        let second = Page { client: first.client.clone(), name: "second window".to_owned() };
        first.client.switch_to_window(second_window.clone()).await.expect("switch");
        second.client.goto(&url).await.expect("open the room in the second window");
        second.wait_synced().await;
        for _ in 0..2 {
            second.add_node().await;
        }
        second.wait_nodes(2).await;
        wait_kept(&second).await;

        let (code, body) = tests::http(relay.relay.addr, "DELETE", &format!("/api/rooms/{ROOM}"), &[], b"").await;
        assert_eq!(code, 204, "the relay deletes the room: {body}");
        wait_deleted_banner(&second).await;
        first.client.switch_to_window(first_window).await.expect("switch");
        wait_deleted_banner(&first).await;
        first.wait_nodes(2).await;

        let start = first.client.find(Locator::Css("#start-again")).await.expect("#start-again");
        start.click().await.expect("clicking #start-again");
        first.wait_until("a fresh page, synced", |s| s.state.as_deref() == Some("synced") && s.nodes.as_deref() == Some("0")).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        first.wait_nodes(0).await;
        let native = TestClient::join(&relay.ws(), ROOM).await;
        assert_eq!(native_node_count(&native, &Scene::new(&native.doc)), 0, "nothing of the old room reached the relay");
        native.close().await;

        first.client.switch_to_window(second_window).await.expect("switch");
        second.wait_nodes(2).await; // still readable, until its user chooses
        wait_deleted_banner(&second).await;
    })
    .await;
}
