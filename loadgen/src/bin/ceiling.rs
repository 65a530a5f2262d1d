//! The ceiling: the least a relay can do. A bare tokio + tokio-tungstenite broadcast server
//! with no CRDT and no storage: a room is the URL path, every binary frame a client sends is
//! forwarded to every other client of the room. Benchmarks compare our relay with it to see
//! what the CRDT work and the product's guarantees cost on top of moving bytes.
//!
//! Its only protocol knowledge: it answers a SyncStep1 (`0 0 …`) with an empty SyncStep2, so
//! the same simulated clients can join it as any other server. Each connection has a bounded
//! queue (1024 frames; frames for a client that fell that far behind are dropped, which a
//! benchmark then counts as lost), and its writer writes whatever is queued (up to 64
//! frames) before flushing the socket once. Rooms are never freed: it lives for one run.
//!
//! `ceiling --listen 127.0.0.1:0 [--read-buffer-bytes 4096]` prints `Ceiling broadcast relay: http://ADDR/` first.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

const QUEUE: usize = 1024;
/// Frames written before one flush, at most.
const BATCH: usize = 64;

type Members = Vec<(u64, mpsc::Sender<Message>)>;

#[derive(Default)]
struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Mutex<Members>>>>,
    next_id: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
enum CeilingError {
    #[error("usage: ceiling [--listen 127.0.0.1:PORT] [--read-buffer-bytes N] (loopback only)")]
    Usage,
    #[error("listening: {0}")]
    Listen(std::io::Error),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match serve().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ceiling: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), CeilingError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut addr: SocketAddr = "127.0.0.1:0".parse().map_err(|_| CeilingError::Usage)?;
    let mut read_buffer = 4096;
    for pair in args.chunks(2) {
        match pair {
            [flag, value] if flag == "--listen" => addr = value.parse().map_err(|_| CeilingError::Usage)?,
            [flag, value] if flag == "--read-buffer-bytes" => read_buffer = value.parse().map_err(|_| CeilingError::Usage)?,
            _ => return Err(CeilingError::Usage),
        }
    }
    if !addr.ip().is_loopback() {
        return Err(CeilingError::Usage);
    }
    let listener = TcpListener::bind(addr).await.map_err(CeilingError::Listen)?;
    let bound = listener.local_addr().map_err(CeilingError::Listen)?;
    println!("Ceiling broadcast relay: http://{bound}/  (rooms at ws://{bound}/ROOM)");
    let rooms = Arc::new(Rooms::default());
    // Serves until killed: the process is started and stopped by loadgen.
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("ceiling: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        tokio::spawn(connection(stream, rooms.clone(), read_buffer));
    }
}

#[allow(clippy::result_large_err)] // the handshake callback's error type is tungstenite's
async fn connection(stream: TcpStream, rooms: Arc<Rooms>, read_buffer: usize) {
    let _ = stream.set_nodelay(true);
    let mut path = String::new();
    let callback = |request: &Request, response: Response| {
        path = request.uri().path().to_owned();
        Ok(response)
    };
    // tungstenite's default read buffer is 128 KiB per connection, touched on the first read:
    // that alone would be ~130 KiB of RSS per idle connection.
    let config = WebSocketConfig::default().read_buffer_size(read_buffer);
    let Ok(socket) = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await else { return };
    let Some(members) = room(&rooms, &path) else { return };
    let id = rooms.next_id.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    if let Ok(mut m) = members.lock() {
        m.push((id, tx.clone()));
    }
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            if sink.feed(first).await.is_err() {
                return;
            }
            for _ in 1..BATCH {
                match rx.try_recv() {
                    Ok(next) => {
                        if sink.feed(next).await.is_err() {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let empty_step2 = Message::binary(shared::protocol::sync_step2(yrs::updates::encoder::Encode::encode_v1(&yrs::Update::new())));
    while let Some(Ok(message)) = stream.next().await {
        let Message::Binary(frame) = message else { continue };
        if frame.len() >= 2 && frame[0] == shared::protocol::MSG_SYNC && frame[1] == 0 {
            if tx.try_send(empty_step2.clone()).is_err() {
                break;
            }
            continue;
        }
        broadcast(&members, id, Message::Binary(frame));
    }
    if let Ok(mut m) = members.lock() {
        m.retain(|(other, _)| *other != id);
    }
    drop(tx);
    writer.abort();
}

fn room(rooms: &Rooms, path: &str) -> Option<Arc<Mutex<Members>>> {
    let mut map = rooms.rooms.lock().ok()?;
    Some(map.entry(path.to_owned()).or_default().clone())
}

/// Queues `frame` for every member but the sender.
fn broadcast(members: &Mutex<Members>, from: u64, frame: Message) {
    let Ok(list) = members.lock() else { return };
    for (other, queue) in list.iter() {
        if *other != from {
            // a full queue: that client fell behind; the frame is lost for it
            let _ = queue.try_send(frame.clone());
        }
    }
}
