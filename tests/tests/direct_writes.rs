//! How updates reach observers. On a one-worker runtime (a one-CPU container; a plain
//! `#[tokio::test]` is one too) the room writes an update to an idle observer's socket
//! itself; with several workers each connection's task writes it. Either way every observer
//! gets every update once, in the order the room applied them: checked here off the wire,
//! frame by frame, by observers that are not yrs documents (which would hide a reordering by
//! holding an early update back until its predecessor came).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use shared::protocol::{self, Message, SyncMessage};
use tests::{http_get, TestClient, TestRelay};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const EDITS: u32 = 300;
/// Characters per edit (300 KB for the lot): half the observers stall first, so what the
/// relay writes to them waits in their sockets' buffers or the queue until they read. (The
/// rule that a queued frame is never overtaken by a direct one is unit-tested in
/// `relay/src/outbound.rs`, where it can be forced.)
const EDIT_CHARS: u32 = 1024;
const OBSERVERS: usize = 4;
const WAIT: Duration = Duration::from_secs(20);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Joins `room` as a bare socket and waits for the relay's greeting (its SyncStep1).
async fn join_raw(url: &str, room: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{url}/{room}")).await.expect("observer connects");
    loop {
        let frame = socket.next().await.expect("the relay greets").expect("a frame");
        let WsMessage::Binary(bytes) = frame else { continue };
        let messages = protocol::decode_frame(&bytes).expect("the relay's frames decode");
        if messages.iter().any(|m| matches!(m, Message::Sync(SyncMessage::SyncStep1(_)))) {
            // Answer as a client with nothing would: an empty SyncStep2.
            let empty = yrs::updates::encoder::Encode::encode_v1(&yrs::Update::new());
            socket.send(WsMessage::binary(protocol::sync_step2(empty))).await.expect("answer");
            return socket;
        }
    }
}

/// Reads updates until `writer`'s clock reaches `last`; each must start exactly where the
/// one before it ended. Returns how many update frames it read.
async fn read_in_order(mut socket: Socket, writer: u64, last: u32, stall: Duration) -> Result<u32, String> {
    // A stalled reader: what the relay sends meanwhile fills the socket and then its queue.
    tokio::time::sleep(stall).await;
    let (mut next_clock, mut frames) = (0u32, 0u32);
    while next_clock < last {
        let frame = match socket.next().await {
            Some(Ok(WsMessage::Binary(bytes))) => bytes,
            Some(Ok(_)) => continue,
            other => return Err(format!("socket ended at clock {next_clock}: {other:?}")),
        };
        for message in protocol::decode_frame(&frame).map_err(|e| e.to_string())? {
            let Message::Sync(SyncMessage::Update(bytes) | SyncMessage::SyncStep2(bytes)) = message else { continue };
            let update = protocol::decode_update(&bytes).map_err(|e| e.to_string())?;
            let starts = update.state_vector_lower().iter().find(|(client, _)| client.get() == writer).map(|(_, clock)| *clock);
            let Some(start) = starts else { continue };
            if start != next_clock {
                return Err(format!("update {frames} starts at clock {start}, the one before it ended at {next_clock}"));
            }
            let insertions = update.insertions(true);
            let end = insertions.iter().filter(|(client, _)| client.get() == writer).flat_map(|(_, ranges)| ranges.iter().map(|r| r.end)).max();
            next_clock = end.unwrap_or(next_clock);
            frames += 1;
        }
    }
    Ok(frames)
}

/// One writer makes `EDITS` edits while `OBSERVERS` bare sockets read them;
/// returns the relay's count of frames it wrote directly.
async fn edits_reach_every_observer_in_order(room: &str) -> u64 {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let writer = TestClient::connect(&url, room).await;
    writer.wait_synced().await;
    let id = writer.client_id().get();
    let mut readers = Vec::new();
    for observer in 0..OBSERVERS {
        let socket = join_raw(&url, room).await;
        // Half the observers read at once, half only after a while.
        let stall = Duration::from_millis(if observer % 2 == 0 { 0 } else { 500 });
        readers.push(tokio::spawn(tokio::time::timeout(WAIT, read_in_order(socket, id, EDITS * EDIT_CHARS, stall))));
    }
    let edit_text = "x".repeat(EDIT_CHARS as usize);
    for edit in 0..EDITS {
        writer.append_text("t", &edit_text);
        if edit % 10 == 9 {
            // Let the relay and the readers run between bursts (one-worker runtime).
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    for reader in readers {
        let frames = reader.await.expect("reader ran").expect("every edit arrived in time").expect("in order");
        assert!((1..=EDITS).contains(&frames), "{frames} update frames");
    }
    let (status, stats) = http_get(relay.addr(), "/api/stats").await;
    assert_eq!(status, 200, "{stats}");
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("stats are JSON");
    writer.close().await;
    relay.stop().await;
    stats["frames_out_direct"].as_u64().expect("the relay counts direct writes")
}

#[tokio::test]
async fn on_one_worker_the_room_writes_to_idle_sockets_itself_and_in_order() {
    let direct = edits_reach_every_observer_in_order("one-worker").await;
    // The observers that read at once find their socket idle for most of their 600.
    assert!(direct > u64::from(EDITS), "only {direct} frames were written directly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_workers_each_connection_writes_its_own_frames_in_order() {
    let direct = edits_reach_every_observer_in_order("two-workers").await;
    assert_eq!(direct, 0, "with two workers the connections' tasks write");
}
