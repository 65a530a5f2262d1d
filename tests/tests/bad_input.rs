//! Bad input closes only the connection that sent it, with a clear code and reason; the
//! room and its other members carry on, and damaged stored rooms are refused alone.

use std::sync::Arc;
use std::time::Duration;

use relay::store::{MemoryStore, SharedStore};
use shared::close;
use tests::{eventually, http_get, TestClient, TestRelay};

const WAIT: Duration = Duration::from_secs(10);

async fn assert_room_still_works(url: &str, room: &str, peer: &TestClient) {
    let fresh = TestClient::join(url, room).await;
    fresh.append_text("t", "still alive");
    eventually(WAIT, "the room keeps syncing for the others", || async {
        peer.text("t").contains("still alive")
    })
    .await;
}

#[tokio::test]
async fn a_malformed_frame_closes_only_its_own_connection() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let good = TestClient::join(&url, "bad").await;
    good.append_text("t", "before;");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated update", vec![0, 2, 200]),
        ("unknown sync step", vec![0, 7, 0]),
        ("update bytes that are not an update", vec![0, 2, 6, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]),
        ("message followed by half a message", vec![0, 0, 1, 0, 0, 2]),
        ("awareness with a state that is not JSON", vec![1, 9, 1, 5, 1, 5, b'{', b'o', b'o', b'p', b's']),
    ];
    for (what, frame) in cases {
        let bad = TestClient::join(&url, "bad").await;
        bad.send_raw(frame);
        let (code, reason) = bad.wait_closed().await;
        assert_eq!(code, close::INVALID_PAYLOAD, "{what}: closed with {code} {reason:?}");
        assert!(!reason.is_empty(), "{what}: a close reason is given");
        assert!(!good.is_closed(), "{what}: the good client stays connected");
    }
    assert_room_still_works(&url, "bad", &good).await;
    assert!(good.text("t").starts_with("before;"));
    relay.stop().await;
}

#[tokio::test]
async fn text_frames_and_oversized_frames_are_refused() {
    let relay = TestRelay::start_with(|c| c.max_frame_bytes = 64 * 1024).await;
    let url = relay.ws_url();
    let good = TestClient::join(&url, "limits").await;

    let text = TestClient::join(&url, "limits").await;
    text.send_text("hello");
    assert_eq!(text.wait_closed().await.0, close::UNSUPPORTED_DATA);

    let big = TestClient::join(&url, "limits").await;
    big.append_text("t", &"x".repeat(200 * 1024));
    assert_eq!(big.wait_closed().await.0, close::MESSAGE_TOO_BIG);

    assert!(!good.is_closed());
    assert_room_still_works(&url, "limits", &good).await;
    assert!(!good.text("t").contains("xxxx"), "the refused update was not applied");
    relay.stop().await;
}

#[tokio::test]
async fn bad_room_names_are_refused_before_the_upgrade() {
    let relay = TestRelay::start().await;
    let long = "r".repeat(201);
    let (status, _) = http_get(relay.addr(), &format!("/ws/{long}")).await;
    assert_eq!(status, 400);
    let (status, _) = http_get(relay.addr(), "/ws/a%00b").await;
    assert_eq!(status, 400);
    relay.stop().await;
}

#[tokio::test]
async fn a_damaged_room_is_refused_and_the_others_keep_working() {
    let store: SharedStore = Arc::new(MemoryStore::new());
    store.append("damaged", 1, b"\xff\xff\xff\xff garbage", None).unwrap();
    let relay = TestRelay::start_with_store(store, |_| {}).await;
    let url = relay.ws_url();

    let victim = TestClient::connect(&url, "damaged").await;
    let (code, reason) = victim.wait_closed().await;
    assert_eq!(code, close::ROOM_UNAVAILABLE);
    assert!(reason.contains("damaged"), "reason says why: {reason:?}");

    let fine = TestClient::join(&url, "healthy").await;
    assert_room_still_works(&url, "healthy", &fine).await;
    relay.stop().await;
}

#[tokio::test]
async fn an_update_with_missing_dependencies_sends_its_client_to_resync_and_nothing_is_lost() {
    use yrs::{Text, Transact};
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let watcher = TestClient::join(&url, "gap").await;
    // Two edits by one author; the second alone depends on the first.
    let author = yrs::Doc::new();
    let text = author.get_or_insert_text("t");
    let first = {
        let mut txn = author.transact_mut();
        text.insert(&mut txn, 0, "one ");
        txn.encode_update_v1()
    };
    let second = {
        let mut txn = author.transact_mut();
        text.insert(&mut txn, 4, "two");
        txn.encode_update_v1()
    };
    let sender = TestClient::join(&url, "gap").await;
    sender.send_raw(shared::protocol::update(second));
    let (code, reason) = sender.wait_closed().await;
    assert_eq!(code, close::RESYNC, "{reason}");
    assert_eq!(watcher.text("t"), "", "the gapped update was not applied or forwarded");
    // The author reconnects with its whole document and everything arrives.
    let _ = first;
    let back = TestClient::connect_with_doc(&url, "gap", author).await;
    back.wait_synced().await;
    eventually(WAIT, "the watcher gets both edits", || async { watcher.text("t") == "one two" }).await;
}
