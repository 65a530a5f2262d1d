//! Presence storm: N clients in one room move their cursors at a fixed rate (awareness
//! only, no document changes). Each state carries its send time (µs since the UNIX epoch)
//! in its JSON; every client decodes the awareness it receives and records the latency of
//! the others' states. The issue's figure: the server's CPU as a share of one core.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use shared::protocol::{self, AwarenessUpdate, AwarenessUpdateEntry, Message};
use tokio::sync::watch;
use yrs::ClientID;

use crate::client::Peer;
use crate::report::{add_latency, progress, LoadError, Report};
use crate::workloads::swarm::{now_us, Tally};
use crate::workloads::target::{Target, TargetArgs};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Clients in the room, all moving their cursors.
    #[arg(long, default_value_t = 500)]
    pub clients: usize,
    /// Cursor updates per second per client.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    #[arg(long, default_value_t = 3)]
    pub warmup_secs: u64,
}

const ROOM: &str = "presence";

#[derive(serde::Deserialize)]
struct Stamp {
    t: u64,
}

pub async fn run(relay_bin: &Path, args: Args) -> Result<Report, LoadError> {
    let target = Target::start(relay_bin, &args.target)?;
    let url = target.url(ROOM);
    let framing = target.framing;
    let peers: Vec<_> = futures_util::stream::iter(0..args.clients)
        .map(|_| Peer::join(&url, framing, ROOM, Duration::from_secs(60)))
        .buffer_unordered(64)
        .collect()
        .await;
    let tally = Arc::new(Tally::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let deadline = Instant::now() + Duration::from_secs(args.warmup_secs + args.duration_secs + 60);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, peer) in peers.into_iter().enumerate() {
        let (peer, _) = peer?;
        // client ids below 2^53, as JavaScript clients use; distinct per simulated client
        let id = 1_000_000 + i as u64;
        let phase = i as f64 / args.clients.max(1) as f64;
        tasks.spawn(cursor(peer, id, args.rate, phase, tally.clone(), stop_rx.clone(), deadline));
    }

    tokio::time::sleep(Duration::from_secs(args.warmup_secs)).await;
    tally.set_recording(true);
    tally.take_window();
    let (sent0, delivered0, _) = tally.counts();
    let cpu0 = target.figures().cpu_seconds;
    let began = Instant::now();
    let bar = progress(args.duration_secs, "presence");
    for second in 0..args.duration_secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        bar.set_position(second + 1);
    }
    bar.finish_and_clear();
    let seconds = began.elapsed().as_secs_f64();
    let after = target.figures();
    let (sent1, delivered1, errors) = tally.counts();
    let latency = tally.take_window();
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();

    let mut params = json!({ "clients": args.clients, "rate": args.rate, "duration_secs": args.duration_secs });
    params["target"] = target.describe();
    let mut report = Report::new("presence", params);
    add_latency(&mut report, "latency", &latency);
    report.add("cursor updates sent per second", (sent1 - sent0) as f64 / seconds, "/s");
    report.add("states delivered per second", (delivered1 - delivered0) as f64 / seconds, "/s");
    report.add("errors", errors as f64, "");
    let cpu = after.cpu_seconds - cpu0;
    report.add("server cpu % of one core", 100.0 * cpu / seconds, "%");
    report.add("server cpu per delivered state", cpu * 1e6 / (delivered1 - delivered0).max(1) as f64, "us");
    report.add("server rss", after.rss_bytes as f64 / 1048576.0, "MiB");
    target.stop()?;
    if let Some(e) = tally.first_error() {
        eprintln!("presence: first error: {e}");
    }
    Ok(report)
}

/// One client: sends its cursor every tick and decodes every awareness frame it receives.
async fn cursor(
    mut peer: Peer,
    id: u64,
    rate: f64,
    phase: f64,
    tally: Arc<Tally>,
    mut stop: watch::Receiver<bool>,
    deadline: Instant,
) {
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period.mul_f64(phase), period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut clock = 0u32;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep_until(deadline.into()) => return,
            _ = ticks.tick() => {
                clock += 1;
                let x = (clock as f64 * 7.3 + id as f64) % 1920.0;
                let state = format!(r##"{{"user":{{"name":"user {id}","color":"#30bced"}},"cursor":{{"x":{x:.1},"y":{:.1}}},"t":{}}}"##, x / 2.0, now_us());
                let mut update = AwarenessUpdate { clients: Default::default() };
                update.clients.insert(ClientID::new(id), AwarenessUpdateEntry { clock, json: state.into() });
                match peer.send(protocol::awareness(update)).await {
                    Ok(()) => { tally.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed); }
                    Err(e) => return tally.error(&format!("client {id}"), &e),
                }
            }
            messages = peer.next_messages() => {
                let messages = match messages { Ok(m) => m, Err(e) => return tally.error(&format!("client {id}"), &e) };
                let now = now_us();
                for message in messages {
                    let Message::Awareness(update) = message else { continue };
                    for (client, entry) in &update.clients {
                        if client.get() == id { continue; }
                        if let Ok(stamp) = serde_json::from_str::<Stamp>(&entry.json) {
                            tally.record(now.saturating_sub(stamp.t));
                        }
                    }
                }
            }
        }
    }
}
