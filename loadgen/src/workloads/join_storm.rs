//! A join storm: M clients join one large room at the same moment.
//!
//! The room is seeded with about `size_mb` MB of scene-like content (many map entries in
//! 1 MB transactions). Cold: the relay is restarted so the room comes from disk. Warm: the
//! room is already in memory. Each joiner's time runs from opening its socket to having
//! received the whole room (SyncStep2). Reports p50/p99/max and the relay's peak RSS.
//!
//! The joiners share the machine's cores with the relay, so they check the SyncStep2's
//! header and declared length against the bytes received instead of copying 20 MB each
//! into a decoded message: the figure measures the relay, not the load generator.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use shared::protocol::{self, Message};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::{Doc, Map, ReadTxn, Transact};

use crate::client;
use crate::relay_process::RelayProcess;
use crate::report::{histogram, quantiles_ms, LoadError, Report};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Approximate size of the room, in MB.
    #[arg(long, default_value_t = 20)]
    size_mb: usize,
    /// Clients that join at once.
    #[arg(long, default_value_t = 150)]
    joiners: usize,
}

const ROOM: &str = "join-storm";

pub async fn run(bin: &Path, args: Args) -> Result<Report, LoadError> {
    let data = tempfile::tempdir().map_err(|e| LoadError::Relay(e.to_string()))?;
    let relay = RelayProcess::start(bin, data.path(), &[])?;
    let seeded = seed(&relay, args.size_mb).await?;
    relay.stop()?;

    let mut report = Report::new("join-storm", json!({ "size_mb": args.size_mb, "joiners": args.joiners }));
    report.add("room size (encoded state)", seeded as f64 / 1048576.0, "MiB");

    // Cold: a fresh relay process; the first joiners load the room from disk.
    let relay = RelayProcess::start(bin, data.path(), &[])?;
    let (cold, received) = storm(&relay, args.joiners).await?;
    let cold_figures = relay.figures();
    let (p50, p99, max) = quantiles_ms(&cold);
    report.add("cold join p50", p50, "ms");
    report.add("cold join p99", p99, "ms");
    report.add("cold join max", max, "ms");
    report.add("cold relay peak rss", cold_figures.peak_rss_bytes as f64 / 1048576.0, "MiB");
    report.add("bytes each joiner received", received as f64 / 1048576.0, "MiB");

    // Warm: same process, the room is in memory.
    let (warm, _) = storm(&relay, args.joiners).await?;
    let warm_figures = relay.figures();
    let (p50, p99, max) = quantiles_ms(&warm);
    report.add("warm join p50", p50, "ms");
    report.add("warm join p99", p99, "ms");
    report.add("warm join max", max, "ms");
    report.add("relay peak rss after both storms", warm_figures.peak_rss_bytes as f64 / 1048576.0, "MiB");
    report.add("relay cpu for both storms", warm_figures.cpu_seconds, "s");
    relay.stop()?;
    Ok(report)
}

/// Writes about `size_mb` MB into the room and waits until it is durable.
async fn seed(relay: &RelayProcess, size_mb: usize) -> Result<usize, LoadError> {
    let (mut tx, mut rx) = client::connect(&format!("{}?acks=1", relay.ws_url(ROOM))).await?;
    client::initial_sync(&mut tx, &mut rx, Duration::from_secs(30)).await?;
    let doc = Doc::new();
    let nodes = doc.get_or_insert_map("nodes");
    let value = "v".repeat(1000);
    for chunk in 0..size_mb {
        let update = {
            let mut txn = doc.transact_mut();
            for i in 0..1000 {
                nodes.insert(&mut txn, format!("node-{chunk}-{i}"), value.as_str());
            }
            txn.encode_update_v1()
        };
        client::send(&mut tx, protocol::update(update)).await?;
    }
    let want = size_mb as u64;
    let wait = async {
        while let Some(Ok(frame)) = rx.next().await {
            if let WsMessage::Binary(bytes) = frame {
                for message in protocol::decode_frame(&bytes).map_err(|e| LoadError::Client(e.to_string()))? {
                    if let Message::Custom(protocol::MSG_DURABLE_ACK, payload) = message {
                        if protocol::decode_durable_ack(&payload).map_err(|e| LoadError::Client(e.to_string()))? >= want {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Err(LoadError::Client("connection ended while seeding".into()))
    };
    tokio::time::timeout(Duration::from_secs(300), wait).await.map_err(|_| LoadError::Timeout("seeding".into()))??;
    let size = doc.transact().encode_state_as_update_v1(&yrs::StateVector::default()).len();
    Ok(size)
}

/// Opens `joiners` connections at once; returns their join times (µs) and the bytes one
/// joiner received.
async fn storm(relay: &RelayProcess, joiners: usize) -> Result<(hdrhistogram::Histogram<u64>, usize), LoadError> {
    let url = relay.ws_url(ROOM);
    let start = tokio::sync::Barrier::new(joiners);
    let start = std::sync::Arc::new(start);
    let mut tasks = Vec::new();
    for _ in 0..joiners {
        let (url, start) = (url.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let began = Instant::now();
            let (mut tx, mut rx) = client::connect(&url).await?;
            client::send(&mut tx, protocol::sync_step1(&yrs::StateVector::default())).await?;
            let bytes = tokio::time::timeout(Duration::from_secs(300), full_state_len(&mut rx))
                .await
                .map_err(|_| LoadError::Timeout("initial sync".into()))??;
            Ok::<_, LoadError>((began.elapsed(), bytes))
        }));
    }
    let mut times = histogram();
    let mut received = 0;
    for task in tasks {
        let (elapsed, bytes) = task.await.map_err(|e| LoadError::Client(e.to_string()))??;
        times.saturating_record(elapsed.as_micros() as u64);
        received = bytes;
    }
    Ok((times, received))
}

/// Waits for the SyncStep2 frame and returns the length of the update it carries, after
/// checking that the frame holds exactly the bytes its header declares.
async fn full_state_len(rx: &mut client::Receiver) -> Result<usize, LoadError> {
    use yrs::encoding::read::{Cursor, Read};
    while let Some(frame) = rx.next().await {
        match frame.map_err(|e| LoadError::Client(e.to_string()))? {
            WsMessage::Binary(bytes) => {
                let mut cursor = Cursor::new(&bytes);
                let header = (cursor.read_var::<u8>(), cursor.read_var::<u8>());
                if let (Ok(protocol::MSG_SYNC), Ok(1)) = header {
                    let declared = cursor.read_var::<u32>().map_err(|e| LoadError::Client(e.to_string()))? as usize;
                    let left = bytes.len() - cursor.next;
                    if declared != left {
                        return Err(LoadError::Client(format!("SyncStep2 declares {declared} bytes, carries {left}")));
                    }
                    return Ok(declared);
                }
            }
            WsMessage::Close(frame) => return Err(LoadError::Client(format!("closed during sync: {frame:?}"))),
            _ => {}
        }
    }
    Err(LoadError::Client("connection ended during sync".into()))
}
