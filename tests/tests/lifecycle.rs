//! The relay's life: health endpoints, base path, ping reaping, graceful shutdown.

use std::time::Duration;

use futures_util::StreamExt;
use shared::close;
use tests::{eventually, http_get, TestClient, TestRelay};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn health_and_readiness_answer() {
    let relay = TestRelay::start().await;
    assert_eq!(http_get(relay.addr(), "/healthz").await, (200, "ok\n".into()));
    assert_eq!(http_get(relay.addr(), "/readyz").await.0, 200);
    relay.stop().await;
}

#[tokio::test]
async fn everything_lives_under_the_base_path() {
    let static_dir = tempfile::tempdir().unwrap();
    std::fs::write(static_dir.path().join("index.html"), "<title>scene editor</title>").unwrap();
    let dir = static_dir.path().to_path_buf();
    let relay = TestRelay::start_with(|c| {
        c.base_path = "/collab".into();
        c.static_dir = Some(dir);
    })
    .await;
    assert_eq!(http_get(relay.addr(), "/collab/healthz").await.0, 200);
    assert_eq!(http_get(relay.addr(), "/healthz").await.0, 404);
    let (status, body) = http_get(relay.addr(), "/collab/").await;
    assert_eq!((status, body.contains("scene editor")), (200, true));
    let (status, body) = http_get(relay.addr(), "/collab/some/deep/link").await;
    assert_eq!((status, body.contains("scene editor")), (200, true), "unknown paths get the app");
    assert_eq!(http_get(relay.addr(), "/collab").await.0, 308, "redirects to the trailing slash");
    assert!(relay.ws_url().ends_with("/collab/ws"));
    let a = TestClient::join(&relay.ws_url(), "r").await;
    let b = TestClient::join(&relay.ws_url(), "r").await;
    a.append_text("t", "via base path");
    eventually(WAIT, "sync under the base path", || async { b.text("t") == "via base path" }).await;
    relay.stop().await;
}

/// The built client is served gzip-compressed to browsers that accept it, from the `.gz`
/// copies scripts/build-client.sh writes beside the files, with the original content type.
#[tokio::test]
async fn the_client_is_served_precompressed_to_browsers_that_accept_gzip() {
    let static_dir = tempfile::tempdir().unwrap();
    let wasm = b"\0asm\x01\0\0\0 the client";
    let gzipped = b"\x1f\x8b stands in for the gzip copy";
    std::fs::write(static_dir.path().join("index.html"), "<title>scene editor</title>").unwrap();
    std::fs::write(static_dir.path().join("client_bg.wasm"), wasm).unwrap();
    std::fs::write(static_dir.path().join("client_bg.wasm.gz"), gzipped).unwrap();
    let dir = static_dir.path().to_path_buf();
    let relay = TestRelay::start_with(|c| c.static_dir = Some(dir)).await;

    let gzip = [("Accept-Encoding", "br, gzip")];
    let (status, head, body) = tests::http_response(relay.addr(), "GET", "/client_bg.wasm", &gzip, &[]).await;
    let head = head.to_ascii_lowercase();
    assert_eq!((status, body.as_slice()), (200, gzipped.as_slice()), "{head}");
    assert!(head.contains("content-encoding: gzip") && head.contains("content-type: application/wasm"), "{head}");
    assert!(head.contains("vary: accept-encoding"), "caches keep the two apart: {head}");

    let (status, head, body) = tests::http_response(relay.addr(), "GET", "/client_bg.wasm", &[], &[]).await;
    assert_eq!((status, body.as_slice()), (200, wasm.as_slice()), "without gzip, the file itself");
    assert!(!head.to_ascii_lowercase().contains("content-encoding"), "{head}");
    // A file without a copy is served as it is, to anyone.
    let (status, _, body) = tests::http_response(relay.addr(), "GET", "/index.html", &gzip, &[]).await;
    assert_eq!((status, body.as_slice()), (200, b"<title>scene editor</title>".as_slice()));
    relay.stop().await;
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_reaped() {
    let relay = TestRelay::start_with(|c| c.ping_interval_secs = 1).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{}/silent", relay.ws_url())).await.unwrap();
    // Do not poll the socket (so no pong is sent) for a few intervals.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let mut close_code = None;
    let deadline = tokio::time::Instant::now() + WAIT;
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, socket.next()).await {
        match frame {
            Ok(Message::Close(Some(frame))) => {
                close_code = Some(u16::from(frame.code));
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    assert_eq!(close_code, Some(close::POLICY_VIOLATION));
    relay.stop().await;
}

#[tokio::test]
async fn an_answering_client_survives_many_ping_intervals() {
    let relay = TestRelay::start_with(|c| c.ping_interval_secs = 1).await;
    let a = TestClient::join(&relay.ws_url(), "alive").await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(!a.is_closed());
    relay.stop().await;
}

/// Issue 21: a listener that never sends (a pycrdt `Provider` after its sync, a dashboard)
/// but answers pings stays connected by default past every timer the relay runs (pings,
/// the dead-connection window, the room sweep, compaction by log age), and still receives
/// what is written later.
#[tokio::test]
async fn a_silent_listener_stays_past_every_timer_and_still_receives_edits() {
    let relay = TestRelay::start_with(|c| {
        c.ping_interval_secs = 1;
        c.room_idle_secs = 1;
        c.compact_log_age_secs = 1;
    })
    .await;
    let writer = TestClient::join(&relay.ws_url(), "quiet").await;
    writer.append_text("t", "before ");
    let listener = TestClient::join(&relay.ws_url(), "quiet").await;
    eventually(WAIT, "the listener has the first edit", || async { listener.text("t") == "before " }).await;
    writer.close().await;
    // Let the listener's handshake frames land, then count: nothing may arrive from it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let frames_in = || relay.state().counters.frames_in.load(std::sync::atomic::Ordering::Relaxed);
    let before = frames_in();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(frames_in(), before, "the listener sent no message for 5 ping intervals");
    assert!(!listener.is_closed(), "the silent listener was closed");
    let late = TestClient::join(&relay.ws_url(), "quiet").await;
    late.append_text("t", "after");
    eventually(WAIT, "the silent listener receives the later edit", || async { listener.text("t") == "before after" }).await;
    relay.stop().await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away_and_keeps_the_rooms() {
    let relay = TestRelay::start().await;
    let store = relay.store.clone();
    let a = TestClient::join(&relay.ws_url(), "kept").await;
    a.append_text("t", "saved at shutdown");
    let b = TestClient::join(&relay.ws_url(), "kept").await;
    eventually(WAIT, "b has the edit", || async { b.text("t") == "saved at shutdown" }).await;
    relay.stop().await;
    assert_eq!(a.wait_closed().await.0, close::GOING_AWAY);
    assert_eq!(b.wait_closed().await.0, close::GOING_AWAY);

    let again = TestRelay::start_with_store(store, |_| {}).await;
    let c = TestClient::join(&again.ws_url(), "kept").await;
    assert_eq!(c.text("t"), "saved at shutdown");
    again.stop().await;
}
