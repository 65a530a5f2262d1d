//! Steady editing with durable acknowledgements.
//!
//! W writers each change one transform component of their own node R times a second (the
//! shape of real editing: small map writes), asking the relay for durable acks. Reports the
//! relay's receipt-to-fsync latency (its own histogram), the client-observed send-to-ack
//! latency, and write amplification: bytes the relay process wrote to storage ÷ bytes it
//! received on its WebSockets, over the run.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use shared::protocol::{self, Message};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::{Doc, Map, Transact};

use crate::client;
use crate::relay_process::RelayProcess;
use crate::report::{histogram, quantiles_ms, LoadError, Report};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// How long to edit, in seconds.
    #[arg(long, default_value_t = 600)]
    duration_secs: u64,
    /// Concurrent writers (each its own connection and node).
    #[arg(long, default_value_t = 20)]
    writers: usize,
    /// Updates per second per writer.
    #[arg(long, default_value_t = 10)]
    rate: u32,
    /// Rooms the writers are spread over.
    #[arg(long, default_value_t = 4)]
    rooms: usize,
    /// Group-commit window passed to the relay, in milliseconds.
    #[arg(long, default_value_t = 10)]
    commit_window_ms: u64,
}

pub async fn run(bin: &Path, args: Args) -> Result<Report, LoadError> {
    let data = tempfile::tempdir().map_err(|e| LoadError::Relay(e.to_string()))?;
    let window = args.commit_window_ms.to_string();
    let relay = RelayProcess::start(bin, data.path(), &["--commit-window-ms", &window])?;
    let before = relay.figures();
    let stats_before = relay.stats().await?;
    let bar = indicatif::ProgressBar::new(args.duration_secs);
    let deadline = Instant::now() + Duration::from_secs(args.duration_secs);

    let mut tasks = Vec::new();
    for w in 0..args.writers {
        let url = format!("{}?acks=1", relay.ws_url(&format!("durability-{}", w % args.rooms)));
        tasks.push(tokio::spawn(writer(url, w, args.rate, deadline)));
    }
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.inc(1);
            }
        })
    };
    let mut ack_latency = histogram();
    let (mut sent, mut acked) = (0u64, 0u64);
    for task in tasks {
        let result = task.await.map_err(|e| LoadError::Client(e.to_string()))??;
        ack_latency.add(&result.latency).map_err(|e| LoadError::Client(e.to_string()))?;
        sent += result.sent;
        acked += result.acked;
    }
    let _ = ticker.await;
    bar.finish_and_clear();

    let stats = relay.stats().await?;
    let after = relay.figures();
    relay.stop()?;

    let received = stats["bytes_in"].as_u64().unwrap_or(0) - stats_before["bytes_in"].as_u64().unwrap_or(0);
    let durable_bytes = stats["durability"]["durable_bytes"].as_u64().unwrap_or(0);
    let written = after.disk_write_bytes.saturating_sub(before.disk_write_bytes);
    let mut report = Report::new(
        "durability",
        json!({ "duration_secs": args.duration_secs, "writers": args.writers, "rate_per_writer": args.rate, "rooms": args.rooms, "commit_window_ms": args.commit_window_ms }),
    );
    let us = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as f64 / 1000.0;
    report.add("updates sent", sent as f64, "");
    report.add("updates acknowledged durable", acked as f64, "");
    report.add("relay receipt->fsync p50", us(&stats["durability"]["latency_p50_us"]), "ms");
    report.add("relay receipt->fsync p99", us(&stats["durability"]["latency_p99_us"]), "ms");
    report.add("relay receipt->fsync max", us(&stats["durability"]["latency_max_us"]), "ms");
    let (p50, p99, max) = quantiles_ms(&ack_latency);
    report.add("client send->durable ack p50", p50, "ms");
    report.add("client send->durable ack p99", p99, "ms");
    report.add("client send->durable ack max", max, "ms");
    report.add("bytes received on websockets", received as f64, "B");
    report.add("update payload bytes stored", durable_bytes as f64, "B");
    let store_written = stats["durability"]["journal_bytes_written"].as_u64().unwrap_or(0)
        + stats["durability"]["room_file_bytes_written"].as_u64().unwrap_or(0);
    report.add("bytes the store wrote (journal + snapshots)", store_written as f64, "B");
    report.add("write amplification, store (store wrote / received)", store_written as f64 / received.max(1) as f64, "x");
    report.add("bytes written to the device (/proc write_bytes)", written as f64, "B");
    report.add("write amplification, device (write_bytes / received)", written as f64 / received.max(1) as f64, "x");
    report.add("relay cpu", after.cpu_seconds - before.cpu_seconds, "s");
    report.add("relay rss at end", after.rss_bytes as f64 / 1048576.0, "MiB");
    report.add("relay peak rss", after.peak_rss_bytes as f64 / 1048576.0, "MiB");
    Ok(report)
}

struct WriterResult {
    sent: u64,
    acked: u64,
    latency: hdrhistogram::Histogram<u64>,
}

async fn writer(url: String, index: usize, rate: u32, deadline: Instant) -> Result<WriterResult, LoadError> {
    let (mut tx, mut rx) = client::connect(&url).await?;
    client::initial_sync(&mut tx, &mut rx, Duration::from_secs(30)).await?;
    let doc = Doc::new();
    let node = doc.get_or_insert_map(format!("w{index}"));
    let mut pending: VecDeque<Instant> = VecDeque::new();
    let mut latency = histogram();
    let (mut sent, mut acked) = (0u64, 0u64);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let drain_until = deadline + Duration::from_secs(5);
    loop {
        tokio::select! {
            _ = tick.tick(), if Instant::now() < deadline => {
                let update = {
                    let mut txn = doc.transact_mut();
                    let axis = ["x", "y", "z"][(sent % 3) as usize];
                    node.insert(&mut txn, axis, (sent as f64) * 0.25);
                    txn.encode_update_v1()
                };
                client::send(&mut tx, protocol::update(update)).await?;
                pending.push_back(Instant::now());
                sent += 1;
            }
            frame = rx.next() => match frame {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    for message in protocol::decode_frame(&bytes).map_err(|e| LoadError::Client(e.to_string()))? {
                        if let Message::Custom(protocol::MSG_DURABLE_ACK, payload) = message {
                            let count = protocol::decode_durable_ack(&payload).map_err(|e| LoadError::Client(e.to_string()))?;
                            while acked < count {
                                if let Some(at) = pending.pop_front() {
                                    latency.saturating_record(at.elapsed().as_micros() as u64);
                                }
                                acked += 1;
                            }
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(LoadError::Client(e.to_string())),
                None => return Err(LoadError::Client("relay closed the connection".into())),
            },
            _ = tokio::time::sleep(Duration::from_millis(50)), if Instant::now() >= deadline => {}
        }
        if Instant::now() >= deadline && (acked >= sent || Instant::now() >= drain_until) {
            break;
        }
    }
    Ok(WriterResult { sent, acked, latency })
}
