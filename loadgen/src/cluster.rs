//! `loadgen cluster`: relays sharing rooms through a real redis-server (relay --redis).
//!
//! 1. Fan-out latency: one writer on relay A sends small updates at a steady rate; a reader on
//!    relay A (same relay) and a reader on relay B (across Redis) time each update from send
//!    to receipt (frames are matched byte for byte: relays forward the writer's frame as is).
//!    A standalone relay (no Redis) gives the baseline.
//! 2. Throughput: W writers spread over 1, 2 and 3 relays (and over R rooms) each keep a window
//!    of unacknowledged updates in flight (`?acks=1`: acknowledged once in Redis) for the
//!    duration; reported as acknowledged updates per second, cluster-wide.
//!
//! Starts redis-server (append-only file, fsync every second) and the relays itself on free
//! loopback ports with temp dirs; every loop is bounded in time.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
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
    /// Seconds per measurement (latency, and each relay count of the throughput run).
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Updates per second sent by the latency probe.
    #[arg(long, default_value_t = 50)]
    probe_rate: u32,
    /// Writers in the throughput run.
    #[arg(long, default_value_t = 12)]
    writers: usize,
    /// Rooms the throughput writers are spread over.
    #[arg(long, default_value_t = 4)]
    rooms: usize,
    /// Unacknowledged updates each throughput writer keeps in flight.
    #[arg(long, default_value_t = 32)]
    window: u64,
    /// The redis-server binary.
    #[arg(long, default_value = "/usr/bin/redis-server")]
    redis_server: PathBuf,
}

pub async fn run(bin: &Path, args: Args) -> Result<Report, LoadError> {
    let mut report = Report::new(
        "cluster",
        json!({ "duration_secs": args.duration_secs, "probe_rate": args.probe_rate, "writers": args.writers, "rooms": args.rooms, "window": args.window }),
    );
    let run_for = Duration::from_secs(args.duration_secs);

    let data = tempfile::tempdir().map_err(|e| LoadError::Relay(e.to_string()))?;
    let alone = RelayProcess::start(bin, data.path(), &["--store", "memory"])?;
    let (base, _) = probe(&alone, &alone, args.probe_rate, run_for).await?;
    alone.stop()?;
    let redis = Redis::start(&args.redis_server)?;
    let relays = start_relays(bin, &redis, 2)?;
    let (same, cross) = probe(&relays[0], &relays[1], args.probe_rate, run_for).await?;
    for (name, h) in [("standalone same-relay", &base), ("cluster same-relay", &same), ("cluster cross-relay", &cross)] {
        let (p50, p99, max) = quantiles_ms(h);
        report.add(&format!("{name} fan-out p50"), p50, "ms");
        report.add(&format!("{name} fan-out p99"), p99, "ms");
        report.add(&format!("{name} fan-out max"), max, "ms");
        report.add(&format!("{name} updates received"), h.len() as f64, "");
    }
    drop(relays);
    drop(redis);

    for count in 1..=3 {
        let redis = Redis::start(&args.redis_server)?;
        let relays = start_relays(bin, &redis, count)?;
        let mut tasks = Vec::new();
        let deadline = Instant::now() + run_for;
        for w in 0..args.writers {
            let url = format!("{}?acks=1", relays[w % count].ws_url(&format!("tp-{}", w % args.rooms)));
            tasks.push(tokio::spawn(writer(url, args.window, deadline)));
        }
        let (mut acked, mut cut) = (0u64, 0u64);
        for task in tasks {
            let (n, ended) = task.await.map_err(|e| LoadError::Client(e.to_string()))??;
            acked += n;
            if let Some(why) = ended {
                eprintln!("loadgen cluster: a writer on {count} relay(s) was cut off early: {why}");
                cut += 1;
            }
        }
        report.add(&format!("throughput with {count} relay(s)"), acked as f64 / run_for.as_secs_f64(), "updates/s");
        report.add(&format!("writers cut off early with {count} relay(s)"), cut as f64, "");
    }
    Ok(report)
}

/// `count` relays on `redis` (rooms in Redis; their data dirs live in `redis`'s temp dir).
fn start_relays(bin: &Path, redis: &Redis, count: usize) -> Result<Vec<RelayProcess>, LoadError> {
    let url = redis.url();
    (0..count)
        .map(|i| RelayProcess::start(bin, &redis._dir.path().join(format!("relay-{i}")), &["--redis", &url, "--store", "memory"]))
        .collect()
}

type Sent = Arc<Mutex<HashMap<Vec<u8>, Instant>>>;

/// Writer on `a`, readers on `a` and `b`: send-to-receipt times seen by each reader.
async fn probe(
    a: &RelayProcess,
    b: &RelayProcess,
    rate: u32,
    run_for: Duration,
) -> Result<(hdrhistogram::Histogram<u64>, hdrhistogram::Histogram<u64>), LoadError> {
    let sent: Sent = Arc::default();
    let stop = Instant::now() + run_for + Duration::from_secs(2);
    let same = tokio::spawn(reader(a.ws_url("probe"), sent.clone(), stop));
    let cross = tokio::spawn(reader(b.ws_url("probe"), sent.clone(), stop));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut tx, mut rx) = client::connect(&a.ws_url("probe")).await?;
    client::initial_sync(&mut tx, &mut rx, Duration::from_secs(10)).await?;
    let doc = Doc::new();
    let map = doc.get_or_insert_map("probe");
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let deadline = Instant::now() + run_for;
    let mut n = 0u64;
    while Instant::now() < deadline {
        tick.tick().await;
        let update = {
            let mut txn = doc.transact_mut();
            map.insert(&mut txn, "x", n as f64);
            txn.encode_update_v1()
        };
        let frame = protocol::update(update);
        if let Ok(mut sent) = sent.lock() {
            sent.insert(frame.clone(), Instant::now());
        }
        client::send(&mut tx, frame).await?;
        n += 1;
    }
    let join = |r: Result<_, tokio::task::JoinError>| r.map_err(|e| LoadError::Client(e.to_string()));
    Ok((join(same.await)??, join(cross.await)??))
}

async fn reader(url: String, sent: Sent, stop: Instant) -> Result<hdrhistogram::Histogram<u64>, LoadError> {
    let (mut tx, mut rx) = client::connect(&url).await?;
    client::initial_sync(&mut tx, &mut rx, Duration::from_secs(10)).await?;
    let mut latency = histogram();
    while let Ok(Some(frame)) = tokio::time::timeout(stop.saturating_duration_since(Instant::now()), rx.next()).await {
        let Ok(WsMessage::Binary(bytes)) = frame else { continue };
        let at = sent.lock().ok().and_then(|s| s.get(bytes.as_ref()).copied());
        if let Some(at) = at {
            latency.saturating_record(at.elapsed().as_micros() as u64);
        }
    }
    Ok(latency)
}

/// Keeps `window` updates in flight until `deadline`; returns how many were acknowledged,
/// and why the relay ended the connection early, if it did.
async fn writer(url: String, window: u64, deadline: Instant) -> Result<(u64, Option<String>), LoadError> {
    let (mut tx, mut rx) = client::connect(&url).await?;
    client::initial_sync(&mut tx, &mut rx, Duration::from_secs(10)).await?;
    let doc = Doc::new();
    let map = doc.get_or_insert_map("m");
    let (mut sent, mut acked) = (0u64, 0u64);
    while Instant::now() < deadline {
        while sent - acked < window {
            let update = {
                let mut txn = doc.transact_mut();
                map.insert(&mut txn, format!("k{}", sent % 64), sent as f64);
                txn.encode_update_v1()
            };
            if let Err(error) = client::send(&mut tx, protocol::update(update)).await {
                return Ok((acked, Some(error.to_string())));
            }
            sent += 1;
        }
        let wait = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let Ok(frame) = tokio::time::timeout(wait, rx.next()).await else { break };
        match frame {
            Some(Ok(WsMessage::Binary(bytes))) => {
                for message in protocol::decode_frame(&bytes).map_err(|e| LoadError::Client(e.to_string()))? {
                    if let Message::Custom(protocol::MSG_DURABLE_ACK, payload) = message {
                        acked = protocol::decode_durable_ack(&payload).map_err(|e| LoadError::Client(e.to_string()))?;
                    }
                }
            }
            Some(Ok(WsMessage::Close(frame))) => return Ok((acked, Some(format!("closed: {frame:?}")))),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Ok((acked, Some(e.to_string()))),
            None => return Ok((acked, Some("connection ended".into()))),
        }
    }
    Ok((acked, None))
}

/// A redis-server on a free loopback port with a temp dir, killed on drop.
struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start(binary: &Path) -> Result<Redis, LoadError> {
        let fail = |what: String| LoadError::Relay(format!("redis-server: {what}"));
        let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| fail(e.to_string()))?.port();
        let child = Command::new(binary)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "yes"])
            .args(["--appendfsync", "everysec", "--daemonize", "no", "--loglevel", "warning"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| fail(format!("cannot start {}: {e}", binary.display())))?;
        let redis = Redis { child, port, _dir: dir };
        for _ in 0..250 {
            if redis.ping() {
                return Ok(redis);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(fail("no answer to PING within 5 s".into()))
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn ping(&self) -> bool {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut answer = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n"
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
