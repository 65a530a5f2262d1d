//! Browser tests of the offline-first client: the room kept in IndexedDB and the app shell
//! in the service worker's cache (a reload with the relay down still opens the editor with
//! the last state, and keeps editing), everything uploaded when the relay is back, and the
//! room's tabs sharing changes through BroadcastChannel with no relay at all.

use fantoccini::wd::WindowHandle;
use serde_json::json;
use tests::browser::*;

use super::harness::*;

/// Waits until the service worker controls the page (the shell is then in its cache) and
/// the copy in IndexedDB is loaded and holds every change made so far.
pub async fn wait_kept(page: &Page) {
    wait_js(
        page,
        "the service worker in control and every change saved in IndexedDB",
        "const d = document.getElementById('device-copy'); \
         return !!navigator.serviceWorker.controller && !!d && d.dataset.loaded === 'true' && d.dataset.pending === '0' \
            && d.textContent === 'saved on this device';",
        vec![],
    )
    .await;
}

async fn wait_offline(page: &Page) {
    page.wait_until("connection state \"offline\"", |s| s.state.as_deref() == Some("offline")).await;
}

/// A browser opens `url` on `relay` and adds a node; the relay stops; it adds another. Both
/// are kept on the device. Answers the browser and the stopped relay.
async fn one_edit_online_one_offline(browsers: &Browsers, relay: Relay, url: &str) -> (Page, StoppedRelay) {
    let a = browsers.open(url).await;
    a.wait_synced().await;
    a.add_node().await;
    a.wait_nodes(1).await;
    wait_kept(&a).await;
    assert_eq!(device_mark(&a).await, json!("1"), "the room is marked as kept on this device");

    let stopped = relay.stop().await;
    wait_offline(&a).await;
    a.add_node().await;
    a.wait_nodes(2).await;
    wait_kept(&a).await;
    (a, stopped)
}

/// Browser A edits; the relay stops; A edits, reloads (still offline: the shell comes from
/// the service worker, the scene from IndexedDB) and edits again; the relay restarts on the
/// same port and data; A uploads everything and a fresh browser B receives every edit. All
/// under a base path (`/collab/`), as behind a proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_survive_a_reload_and_reach_the_relay() {
    with_browsers(|browsers| async move {
        // Under a base path: the service worker and its cache work relative to it.
        let relay = Relay::start("/collab").await;
        let url = relay.page("offline");
        let (a, stopped) = one_edit_online_one_offline(&browsers, relay, &url).await;
        let before = state(&a).await;

        a.client.refresh().await.expect("reload while the relay is down");
        let reloaded = a.wait_nodes(2).await;
        assert!(matches!(reloaded.state.as_deref(), Some("offline" | "connecting")), "the relay is still down: {reloaded:?}");
        let after = state(&a).await;
        assert_eq!(after.ids, before.ids, "the reloaded page shows the same nodes");
        assert_ne!(after.client, before.client, "a fresh client id per page load");
        a.add_node().await;
        a.wait_nodes(3).await;
        wait_kept(&a).await;
        let mut ids = state(&a).await.ids;
        ids.sort();

        let relay = stopped.restart().await;
        // Skip the rest of A's backoff.
        js(&a, "const b = document.querySelector('.problem button'); if (b) b.click(); return true;", vec![]).await;
        a.wait_synced().await;
        let b = browsers.open(&relay.page("offline")).await;
        b.wait_synced().await;
        b.wait_nodes(3).await;
        let mut seen = state(&b).await.ids;
        seen.sort();
        assert_eq!(seen, ids, "B receives every edit A made, online, offline and after the reload");
    })
    .await;
}

/// A page reopened with the relay up, holding an edit made offline in an earlier visit,
/// sends that edit up: browser A edits offline and leaves the page; the relay comes back; A
/// opens the room again, and a fresh browser B receives both of A's edits. Prints when A's
/// copy on the device loaded and when it synced (`client/src/marks.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_edit_from_an_earlier_visit_reaches_the_relay_when_the_page_reopens() {
    with_browsers(|browsers| async move { reopen_after_an_offline_edit(&browsers, false).await }).await;
}

/// The same with the room's mark gone from localStorage (cleared, or the copy was stored by
/// an editor that did not mark it): the page takes the first-visit path, syncing without
/// waiting for the copy, and the copy's offline edit still goes up once it is loaded; the
/// mark is back for the next visit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_edit_reaches_the_relay_even_when_the_room_was_not_marked_as_kept() {
    with_browsers(|browsers| async move { reopen_after_an_offline_edit(&browsers, true).await }).await;
}

/// The room's mark in localStorage (`idb::mark` in the client): "1", or null.
async fn device_mark(page: &Page) -> serde_json::Value {
    js(page, "return localStorage.getItem('scene-room:' + new URLSearchParams(location.search).get('room'));", vec![]).await
}

async fn reopen_after_an_offline_edit(browsers: &Browsers, forget_mark: bool) {
    let relay = Relay::start("").await;
    let url = relay.page("reopened");
    let (a, stopped) = one_edit_online_one_offline(browsers, relay, &url).await;
    let mut ids = state(&a).await.ids;
    ids.sort();
    if forget_mark {
        js(&a, "localStorage.clear(); return true;", vec![]).await;
        assert_eq!(device_mark(&a).await, json!(null));
    }
    a.client.goto("about:blank").await.expect("leave the page");

    let relay = stopped.restart().await;
    a.client.goto(&url).await.expect("open the room again");
    a.wait_synced().await;
    a.wait_nodes(2).await;
    let order = js(
        &a,
        "const t = (n) => (performance.getEntriesByName('editor:' + n)[0] || {}).startTime; \
         return [t('synced'), t('local-copy')];",
        vec![],
    )
    .await;
    eprintln!("A reopened: its device copy loaded at {} ms, synced at {} ms", order[1], order[0]);
    let b = browsers.open(&relay.page("reopened")).await;
    b.wait_synced().await;
    b.wait_nodes(2).await;
    let mut seen = state(&b).await.ids;
    seen.sort();
    assert_eq!(seen, ids, "B receives the edit A made offline in its earlier visit");
    assert_eq!(device_mark(&a).await, json!("1"), "the room is marked as kept again");
}

/// What the relay has counted of WebSocket connections it accepted, once the count has not
/// moved for a sample (`relay_connections_opened_total` is sampled once a second).
async fn connections_opened(relay: &Relay) -> u64 {
    let read = || async {
        let (_, text) = tests::http_get(relay.relay.addr, "/metrics").await;
        text.lines()
            .find_map(|line| line.strip_prefix("relay_connections_opened_total "))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .map(|value| value as u64)
    };
    let mut last = read().await;
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
        let now = read().await;
        if now.is_some() && now == last {
            return now.unwrap_or_default();
        }
        last = now;
    }
    panic!("the relay's connection count did not settle: {last:?}");
}

/// On a reload the page's first script opens the room's socket and reads its copy on the
/// device while the editor's module loads, and the editor takes both over
/// (`public/index.html`, `client/src/connection/early.rs`, `client/src/offline/idb.rs`): the
/// page opens one socket, not two; it shows what the device copy held and syncs; an edit
/// made after reaches another browser. A page whose address carries a token leaves the
/// socket to the editor (it sends the token), and still opens only one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_takes_over_the_socket_and_the_copy_the_page_opened_first() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let url = relay.page("early");
        let a = browsers.open(&url).await;
        a.wait_synced().await;
        a.add_node().await;
        a.wait_nodes(1).await;
        wait_kept(&a).await;

        let before = connections_opened(&relay).await;
        a.client.refresh().await.expect("reload");
        a.wait_synced().await;
        a.wait_nodes(1).await;
        let left = js(&a, "return [typeof window.earlySocket, typeof window.earlyRoomCopy];", vec![]).await;
        assert_eq!(left, json!(["undefined", "undefined"]), "the editor took over what the page opened first");
        assert_eq!(connections_opened(&relay).await, before + 1, "the reloaded page opened one socket");

        // The session on the taken-over socket carries edits both ways.
        a.add_node().await;
        a.wait_nodes(2).await;
        let b = browsers.open(&url).await;
        b.wait_synced().await;
        b.wait_nodes(2).await;

        // A token in the address (`#token=…`): the page's script opens no socket.
        let before = connections_opened(&relay).await;
        a.client.goto(&format!("{url}#token=not-checked-here")).await.expect("open with a token");
        a.client.refresh().await.expect("reload with the token");
        a.wait_synced().await;
        a.wait_nodes(2).await;
        assert_eq!(connections_opened(&relay).await, before + 1, "a page with a token opened one socket");
    })
    .await;
}

/// Two windows of one browser in the same room, the relay stopped: an edit in one shows in
/// the other at once, both ways, and each lists the other as present.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_share_edits_without_the_relay() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let url = relay.page("tabs");
        let first = browsers.open(&url).await;
        first.wait_synced().await;
        let first_window: WindowHandle = first.client.window().await.expect("window handle");
        let opened = first.client.new_window(false).await.expect("a second window");
        let second_window = opened.handle;
        let second = Page { client: first.client.clone(), name: "second window".to_owned() };
        first.client.switch_to_window(second_window.clone()).await.expect("switch");
        second.client.goto(&url).await.expect("open the room in the second window");
        second.wait_synced().await;

        let _stopped = relay.stop().await;
        wait_offline(&second).await;
        second.add_node().await;
        second.wait_nodes(1).await;

        first.client.switch_to_window(first_window.clone()).await.expect("switch");
        wait_offline(&first).await;
        first.wait_nodes(1).await;
        first.wait_peers(1).await;
        first.add_node().await;
        first.wait_nodes(2).await;

        first.client.switch_to_window(second_window).await.expect("switch");
        second.wait_nodes(2).await;
        second.wait_peers(1).await;
        let people = state(&second).await.people;
        assert_eq!(people.len(), 1, "the other tab is listed: {people:?}");
        js(&second, "return true;", vec![json!(null)]).await;
    })
    .await;
}
