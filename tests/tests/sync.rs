//! Documents converge through a real relay: several clients, late joiners, offline edits.

use std::time::Duration;

use tests::{eventually, TestClient, TestRelay};
use yrs::{Doc, Text, Transact};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn several_clients_editing_at_once_converge() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(TestClient::join(&url, "converge").await);
    }
    for round in 0..25 {
        for (i, client) in clients.iter().enumerate() {
            client.append_text("t", &format!("{i}:{round};"));
        }
    }
    eventually(WAIT, "all four replicas hold 100 edits and agree", || async {
        let first = clients[0].text("t");
        first.matches(';').count() == 100 && clients.iter().all(|c| c.text("t") == first)
    })
    .await;
    relay.stop().await;
}

#[tokio::test]
async fn rooms_are_isolated() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let a = TestClient::join(&url, "room-a").await;
    let b = TestClient::join(&url, "room-b").await;
    let a2 = TestClient::join(&url, "room-a").await;
    a.append_text("t", "only in a");
    eventually(WAIT, "a peer in room-a sees the edit", || async { a2.text("t") == "only in a" }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b.text("t"), "", "room-b must not receive room-a's edits");
    relay.stop().await;
}

#[tokio::test]
async fn a_late_joiner_after_everyone_left_gets_the_state_from_memory_and_after_eviction() {
    let relay = TestRelay::start_with(|c| c.room_idle_secs = 1).await;
    let url = relay.ws_url();
    let a = TestClient::join(&url, "late").await;
    let b = TestClient::join(&url, "late").await;
    a.append_text("t", "hello ");
    b.append_text("t", "world");
    eventually(WAIT, "both see both edits", || async {
        a.text("t").len() == 11 && a.text("t") == b.text("t")
    })
    .await;
    let expected = a.text("t");
    a.close().await;
    b.close().await;

    // Right after: the room is still in memory.
    let c = TestClient::join(&url, "late").await;
    assert_eq!(c.text("t"), expected);
    c.close().await;

    // After the idle time the room leaves memory; the next joiner loads it from the store.
    eventually(WAIT, "the idle room is evicted", || async { relay.rooms_in_memory() == 0 }).await;
    let d = TestClient::join(&url, "late").await;
    assert_eq!(d.text("t"), expected);
    relay.stop().await;
}

#[tokio::test]
async fn offline_edits_are_uploaded_on_reconnect() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let online = TestClient::join(&url, "offline").await;
    online.append_text("t", "base;");

    // A client syncs, goes away, edits offline, and comes back with the same document.
    let doc = Doc::new();
    let first = TestClient::connect_with_doc(&url, "offline", doc.clone()).await;
    first.wait_synced().await;
    eventually(WAIT, "the returning client got the base", || async { first.text("t") == "base;" }).await;
    first.close().await;
    {
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 5, "offline;");
    }
    online.append_text("t", "online;");
    let back = TestClient::connect_with_doc(&url, "offline", doc).await;
    back.wait_synced().await;
    eventually(WAIT, "both replicas hold both the offline and the online edit", || async {
        let (x, y) = (online.text("t"), back.text("t"));
        x == y && x.contains("offline;") && x.contains("online;")
    })
    .await;
    relay.stop().await;
}

#[tokio::test]
async fn a_one_mebibyte_update_arrives_whole_live_and_on_join() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let a = TestClient::join(&url, "big").await;
    let b = TestClient::join(&url, "big").await;
    let big: String = (0..1024 * 1024).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    a.append_text("t", &big);
    eventually(WAIT, "the 1 MiB text arrives", || async { b.text("t") == big }).await;
    // A late joiner gets it in the room's whole state, also sent in fragments (64 KiB each).
    let c = TestClient::join(&url, "big").await;
    eventually(WAIT, "the late joiner has the 1 MiB text", || async { c.text("t") == big }).await;
    relay.stop().await;
}

#[tokio::test]
async fn an_update_that_overwrites_its_own_insert_after_the_first_change_is_accepted() {
    use yrs::{Any, Map, Out};
    let relay = TestRelay::start().await;
    let a = TestClient::join(&relay.ws_url(), "rewrite").await;
    let b = TestClient::join(&relay.ws_url(), "rewrite").await;
    let (ma, mb) = (a.doc.get_or_insert_map("m"), b.doc.get_or_insert_map("m"));
    ma.insert(&mut a.doc.transact_mut(), "first", 1.0);
    {
        // The second change starts past clock 0 and deletes a block it inserts itself.
        let mut txn = a.doc.transact_mut();
        ma.insert(&mut txn, "k", 1.0);
        ma.insert(&mut txn, "k", 2.0);
    }
    eventually(WAIT, "the other client sees the final value", || async {
        mb.get(&b.doc.transact(), "k") == Some(Out::Any(Any::from(2.0)))
    })
    .await;
    assert!(!a.is_closed(), "the writer was not sent to resync");
    relay.stop().await;
}
