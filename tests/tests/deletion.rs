//! A deleted room stays deleted: copies of its content that members still hold (a stock
//! client reconnecting after the close uploads its whole copy) are refused with 4004 "room
//! deleted", also after a restart, while new content is accepted.

use std::time::Duration;

use shared::close;
use tests::{eventually, http, TestClient, TestRelay};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_of_a_deleted_room_cannot_bring_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let member = TestClient::join(&relay.ws_url(), "gone").await;
    let watcher = TestClient::join(&relay.ws_url(), "gone").await;
    member.append_text("t", "old content");
    eventually(WAIT, "the watcher has the old content", || async { watcher.text("t") == "old content" }).await;

    let (status, body) = http(relay.addr(), "DELETE", "/api/rooms/gone", &[], &[]).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(member.wait_closed().await, (close::ROOM_UNAVAILABLE, close::ROOM_DELETED.to_owned()));

    // The member comes back with its copy, as a stock client does: its handshake uploads the
    // old content, which the relay refuses.
    let returning = TestClient::connect_with_doc(&relay.ws_url(), "gone", member.doc.clone()).await;
    assert_eq!(returning.wait_closed().await, (close::ROOM_UNAVAILABLE, close::ROOM_DELETED.to_owned()));

    // New content is welcome, and nothing old came back with the returning copy.
    let fresh = TestClient::join(&relay.ws_url(), "gone").await;
    assert_eq!(fresh.text("t"), "", "the room starts empty");
    fresh.append_text("t", "new content");
    let other = TestClient::join(&relay.ws_url(), "gone").await;
    eventually(WAIT, "new content reaches others", || async { other.text("t") == "new content" }).await;
    drop((fresh, other, returning, watcher));
    relay.stop().await;

    // After a restart on the same data: still refused, and the new content kept.
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let returning = TestClient::connect_with_doc(&relay.ws_url(), "gone", member.doc.clone()).await;
    assert_eq!(returning.wait_closed().await, (close::ROOM_UNAVAILABLE, close::ROOM_DELETED.to_owned()));
    let later = TestClient::join(&relay.ws_url(), "gone").await;
    eventually(WAIT, "the new content survived the restart", || async { later.text("t") == "new content" }).await;
    relay.stop().await;
}
