//! `loadgen cluster-scale`: rooms sharded over a real Redis Cluster and served by 1, 2 and 3
//! relays, to measure what one update and one delivery cost each tier (issue 19's
//! benchmark, the input of `docs/capacity.md`).
//!
//! One Redis Cluster (`--masters` masters with `--replicas` replicas each, see
//! [`crate::redis_cluster`]) serves every configuration; for each relay count the relays
//! start afresh on it (`--redis redis+cluster://…`, `--store memory`) and a fresh set of R
//! rooms is placed so that every master owns its share of them (by the rooms' hash slots).
//! Each room has W writers and O observers ([`super::cluster_members`]), spread round-robin
//! over the relays, so a room's members sit on every relay. After a settling pause (joins
//! load rooms and write snapshots) and an idle window (everyone connected, nothing sent: the
//! cost of the shard readers' polling alone) writers send small map updates at a steady
//! rate, and optionally presence states, for `--duration-secs`;
//! then the run drains until every update has reached every other member of its room (or
//! `--drain-secs` pass). CPU seconds of every redis-server and relay come from /proc over
//! exactly the sending-and-draining window, so the per-update and per-delivery costs do not
//! depend on how busy the machine is; wall-clock rates and latencies do.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::client::{Framing, Peer};
use crate::redis_cluster::RedisCluster;
use crate::relay_process::{proc_figures, RelayProcess};
use crate::report::{progress, quantiles_ms, LoadError, Report};
use crate::workloads::cluster_members::{member, Deliveries, Phase, Plan};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Rooms (R), spread evenly over the masters by their hash slots.
    #[arg(long, default_value_t = 12)]
    rooms: usize,
    /// Writers per room (W).
    #[arg(long, default_value_t = 2)]
    writers: usize,
    /// Silent observers per room (O).
    #[arg(long, default_value_t = 8)]
    observers: usize,
    /// Document updates per second per writer.
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// Presence (awareness) states per second per writer.
    #[arg(long, default_value_t = 0.0)]
    presence_rate: f64,
    /// Presence states per second per observer (a watcher's moving camera).
    #[arg(long, default_value_t = 0.0)]
    observer_presence_rate: f64,
    /// Filler bytes in each update's map value (a node's transform is ~100 bytes).
    #[arg(long, default_value_t = 64)]
    value_bytes: usize,
    /// Relay counts to measure, in turn.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    relays: Vec<usize>,
    /// Seconds of sending per relay count.
    #[arg(long, default_value_t = 20)]
    duration_secs: u64,
    /// Seconds after the members joined before the idle window (joins load rooms and
    /// write snapshots; a large room's storm of joins keeps Redis busy for a few seconds).
    #[arg(long, default_value_t = 3)]
    settle_secs: u64,
    /// Seconds of the idle window (connected, silent) before sending.
    #[arg(long, default_value_t = 3)]
    idle_secs: u64,
    /// Longest wait, after sending stops, for the last deliveries.
    #[arg(long, default_value_t = 10)]
    drain_secs: u64,
    /// Redis Cluster masters (3 at least).
    #[arg(long, default_value_t = 3)]
    masters: usize,
    /// Replicas per master (their CPU is reported apart from the masters').
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// The redis-server binary.
    #[arg(long, default_value = "/usr/bin/redis-server")]
    redis_server: PathBuf,
}

/// Connections opened at once while the members join.
const JOIN_CONCURRENCY: usize = 32;
const JOIN_LIMIT: Duration = Duration::from_secs(30);

pub async fn run(bin: &Path, args: Args) -> Result<Report, LoadError> {
    if args.relays.contains(&0) || args.rooms == 0 || args.writers == 0 {
        return Err(LoadError::Client("--relays, --rooms and --writers must be at least 1".into()));
    }
    let load_before = load_average();
    let cluster = RedisCluster::start(&args.redis_server, args.masters, args.replicas)?;
    let mut parameters = json!({
        "rooms": args.rooms, "writers": args.writers, "observers": args.observers, "rate": args.rate,
        "presence_rate": args.presence_rate, "observer_presence_rate": args.observer_presence_rate,
        "value_bytes": args.value_bytes, "duration_secs": args.duration_secs, "masters": args.masters,
        "replicas": args.replicas,
    });
    parameters["relays"] = json!(args.relays);
    let mut report = Report::new("cluster-scale", parameters);
    // the cluster's own cost (cron, cluster bus gossip, replication pings) before any relay
    let before = cluster.master_cpu_seconds().iter().sum::<f64>();
    tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
    let alone = cluster.master_cpu_seconds().iter().sum::<f64>() - before;
    report.add("redis masters cpu % with no relay", 100.0 * alone / args.idle_secs.max(1) as f64, "%");
    let mut rows = Vec::new();
    for &count in &args.relays {
        let rooms = place_rooms(&cluster, args.rooms, &format!("scale{count}"))?;
        if count == args.relays[0] {
            for (i, master) in cluster.masters().iter().enumerate() {
                let on = rooms.iter().filter(|(_, m)| *m == i).count();
                report.add(&format!("rooms on master {} (port {})", i, master.port), on as f64, "");
            }
        }
        let row = measure(bin, &cluster, &args, count, &rooms).await?;
        eprintln!("cluster-scale: {count} relay(s): {}", row.summary());
        rows.push(row);
    }
    for (i, rss) in cluster.master_rss_bytes().into_iter().enumerate() {
        report.add(&format!("master {i} rss at the end"), rss as f64 / 1048576.0, "MiB");
    }
    // totals the CI smoke (scripts/bench-smoke.sh) checks: no loss, no error, something measured
    report.add("lost deliveries", rows.iter().map(Row::lost).sum::<u64>() as f64, "");
    report.add("member errors", rows.iter().map(|row| row.errors).sum::<u64>() as f64, "");
    report.add("latency samples", rows.iter().map(|row| row.samples).sum::<u64>() as f64, "");
    report.add("load average (1 min) before", load_before, "");
    report.add("load average (1 min) after", load_average(), "");
    report.add_table("per relay count", &Row::COLUMNS, rows.iter().map(Row::cells).collect());
    Ok(report)
}

/// `count` room names (`{prefix}-N`) spread evenly over the masters, with each one's master.
fn place_rooms(cluster: &RedisCluster, count: usize, prefix: &str) -> Result<Vec<(String, usize)>, LoadError> {
    let masters = cluster.masters().len().max(1);
    let share = count.div_ceil(masters);
    let mut per_master = vec![0usize; masters];
    let mut rooms = Vec::new();
    for n in 0..1_000_000 {
        if rooms.len() == count {
            return Ok(rooms);
        }
        let room = format!("{prefix}-{n}");
        let Some(master) = cluster.master_of(relay::room_slot(&room)) else { continue };
        if per_master[master] < share {
            per_master[master] += 1;
            rooms.push((room, master));
        }
    }
    Err(LoadError::Client(format!("could not place {count} rooms over {masters} masters")))
}

/// CPU seconds of every process the run measures, at one moment.
struct Cpu {
    masters: f64,
    replicas: f64,
    relays: f64,
    loadgen: f64,
    at: Instant,
}

impl Cpu {
    fn now(cluster: &RedisCluster, relays: &[RelayProcess]) -> Cpu {
        Cpu {
            masters: cluster.master_cpu_seconds().iter().sum(),
            replicas: cluster.replica_cpu_seconds(),
            relays: relays.iter().map(|relay| relay.figures().cpu_seconds).sum(),
            loadgen: proc_figures(std::process::id()).cpu_seconds,
            at: Instant::now(),
        }
    }

    /// What was spent from `before` to `self`, and the seconds between.
    fn since(&self, before: &Cpu) -> (Cpu, f64) {
        let spent = Cpu {
            masters: self.masters - before.masters,
            replicas: self.replicas - before.replicas,
            relays: self.relays - before.relays,
            loadgen: self.loadgen - before.loadgen,
            at: self.at,
        };
        (spent, self.at.duration_since(before.at).as_secs_f64())
    }
}

/// One relay count's figures.
struct Row {
    relays: usize,
    updates_sent: u64,
    presence_sent: u64,
    update_deliveries: u64,
    expected_deliveries: u64,
    presence_deliveries: u64,
    /// Presence states sent × the other members of the room.
    presence_expected: u64,
    duplicates: u64,
    errors: u64,
    send_secs: f64,
    window_secs: f64,
    spent: Cpu,
    idle: Cpu,
    idle_secs: f64,
    /// XREAD calls on the masters over the idle window, and over the sending window.
    idle_xreads: u64,
    xreads: u64,
    xadds: u64,
    /// Microseconds the masters spent executing commands (INFO commandstats) while sending.
    command_usec: u64,
    /// Latency samples (updates and presence states).
    samples: u64,
    update_ms: (f64, f64, f64),
    presence_ms: (f64, f64, f64),
}

impl Row {
    const COLUMNS: [&'static str; 26] = [
        "relays", "updates sent/s", "deliveries/s", "update p50 ms", "update p99 ms", "update max ms", "lost", "duplicates",
        "members cut off", "presence sent/s", "presence delivered %", "presence p50 ms", "presence p99 ms",
        "redis masters cpu %", "redis µs/message", "redis µs/message net of idle", "replicas µs/message",
        "redis command µs/message", "XADD/s", "XREAD/s", "XREAD/s idle",
        "relays cpu %", "relay µs/delivery", "relay µs/message", "idle cpu % redis/relays", "loadgen cpu %",
    ];

    fn messages(&self) -> f64 {
        (self.updates_sent + self.presence_sent).max(1) as f64
    }

    fn deliveries(&self) -> f64 {
        (self.update_deliveries + self.presence_deliveries).max(1) as f64
    }

    fn lost(&self) -> u64 {
        self.expected_deliveries.saturating_sub(self.update_deliveries)
    }

    fn cells(&self) -> Vec<Value> {
        let us = |seconds: f64, per: f64| json!(seconds * 1e6 / per);
        let share = |seconds: f64| json!(100.0 * seconds / self.window_secs);
        let idle_share = |seconds: f64| 100.0 * seconds / self.idle_secs.max(1e-9);
        let redis_net = self.spent.masters - self.idle.masters / self.idle_secs.max(1e-9) * self.window_secs;
        let presence_expected = self.presence_expected.max(1) as f64;
        vec![
            json!(self.relays),
            json!(self.updates_sent as f64 / self.send_secs),
            json!(self.update_deliveries as f64 / self.send_secs),
            json!(self.update_ms.0),
            json!(self.update_ms.1),
            json!(self.update_ms.2),
            json!(self.lost()),
            json!(self.duplicates),
            json!(self.errors),
            json!(self.presence_sent as f64 / self.send_secs),
            if self.presence_sent == 0 { Value::Null } else { json!(100.0 * self.presence_deliveries as f64 / presence_expected) },
            if self.presence_sent == 0 { Value::Null } else { json!(self.presence_ms.0) },
            if self.presence_sent == 0 { Value::Null } else { json!(self.presence_ms.1) },
            share(self.spent.masters),
            us(self.spent.masters, self.messages()),
            us(redis_net, self.messages()),
            us(self.spent.replicas, self.messages()),
            json!(self.command_usec as f64 / self.messages()),
            json!(self.xadds as f64 / self.window_secs),
            json!(self.xreads as f64 / self.window_secs),
            json!(self.idle_xreads as f64 / self.idle_secs.max(1e-9)),
            share(self.spent.relays),
            us(self.spent.relays, self.deliveries()),
            us(self.spent.relays, self.messages()),
            json!(format!("{:.1}/{:.1}", idle_share(self.idle.masters), idle_share(self.idle.relays))),
            share(self.spent.loadgen),
        ]
    }

    fn summary(&self) -> String {
        format!(
            "{} updates, {} of {} deliveries, {} cut off, update p50/p99 {:.2}/{:.2} ms",
            self.updates_sent, self.update_deliveries, self.expected_deliveries, self.errors, self.update_ms.0, self.update_ms.1
        )
    }
}

/// One relay count: start the relays, seat the members, idle, send, drain, measure.
async fn measure(bin: &Path, cluster: &RedisCluster, args: &Args, count: usize, rooms: &[(String, usize)]) -> Result<Row, LoadError> {
    let data = tempfile::tempdir().map_err(|e| LoadError::Relay(e.to_string()))?;
    let url = cluster.url();
    let relays = (0..count)
        .map(|i| RelayProcess::start(bin, &data.path().join(format!("relay-{i}")), &["--redis", &url, "--store", "memory"]))
        .collect::<Result<Vec<_>, _>>()?;
    let per_room = args.writers + args.observers;
    let seats: Vec<(u32, String, String)> = rooms
        .iter()
        .enumerate()
        .flat_map(|(r, (room, _))| (0..per_room).map(move |m| (r * per_room + m, room.clone())))
        .map(|(g, room)| (g as u32, relays[g % count].ws_url(&room), room))
        .collect();
    let peers: Vec<Result<(Peer, Vec<u8>), LoadError>> = futures_util::stream::iter(seats.iter())
        .map(|(_, url, room)| Peer::join(url, Framing::Yws, room, JOIN_LIMIT))
        .buffered(JOIN_CONCURRENCY)
        .collect()
        .await;

    let tally = Arc::new(Deliveries::new());
    let (phase_tx, phase_rx) = watch::channel(Phase::Idle);
    let deadline = Instant::now() + Duration::from_secs(args.settle_secs + args.idle_secs + args.duration_secs + args.drain_secs + 60);
    let mut tasks = tokio::task::JoinSet::new();
    for (seat, peer) in seats.iter().zip(peers) {
        let (peer, _) = peer?;
        let writer = (seat.0 as usize % per_room) < args.writers;
        let plan = Plan {
            id: seat.0,
            update_rate: if writer { args.rate } else { 0.0 },
            presence_rate: if writer { args.presence_rate } else { args.observer_presence_rate },
            phase: (seat.0 as f64 * 0.618_033_988_7).fract(),
            value_bytes: args.value_bytes,
        };
        tasks.spawn(member(peer, plan, tally.clone(), phase_rx.clone(), deadline));
    }

    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    cluster.reset_command_stats()?;
    let idle_start = Cpu::now(cluster, &relays);
    tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
    let (idle, idle_secs) = Cpu::now(cluster, &relays).since(&idle_start);
    let idle_commands = cluster.command_stats()?;

    cluster.reset_command_stats()?;
    let start = Cpu::now(cluster, &relays);
    let _ = phase_tx.send(Phase::Send);
    let bar = progress(args.duration_secs, &format!("{count} relay(s)"));
    for second in 0..args.duration_secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        bar.set_position(second + 1);
    }
    bar.finish_and_clear();
    let _ = phase_tx.send(Phase::Drain);
    let send_secs = start.at.elapsed().as_secs_f64();
    // let the last sends land before reading the totals they are held to
    tokio::time::sleep(Duration::from_millis(100)).await;
    let updates_sent = Deliveries::get(&tally.updates_sent);
    let expected = updates_sent * (per_room as u64 - 1);
    let drain_until = Instant::now() + Duration::from_secs(args.drain_secs);
    while Deliveries::get(&tally.update_deliveries) < expected && Instant::now() < drain_until && !tasks.is_empty() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // presence has no total to wait for: give it the time an update needed, at most 1 s
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (spent, window_secs) = Cpu::now(cluster, &relays).since(&start);
    let commands = cluster.command_stats()?;
    let _ = phase_tx.send(Phase::Stop);
    let _ = tokio::time::timeout(Duration::from_secs(10), async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
    if let Some(error) = tally.first_error() {
        eprintln!("cluster-scale: {count} relay(s): first member error: {error}");
    }
    let (update_latency, presence_latency) = tally.latencies();
    let row = Row {
        relays: count,
        updates_sent,
        presence_sent: Deliveries::get(&tally.presence_sent),
        update_deliveries: Deliveries::get(&tally.update_deliveries),
        expected_deliveries: expected,
        presence_deliveries: Deliveries::get(&tally.presence_deliveries),
        presence_expected: Deliveries::get(&tally.presence_sent) * (per_room as u64 - 1),
        duplicates: Deliveries::get(&tally.duplicates),
        errors: Deliveries::get(&tally.errors),
        send_secs,
        window_secs,
        spent,
        idle,
        idle_secs,
        idle_xreads: idle_commands.calls("xread"),
        xreads: commands.calls("xread"),
        xadds: commands.calls("xadd"),
        command_usec: commands.usec(),
        samples: update_latency.len() + presence_latency.len(),
        update_ms: quantiles_ms(&update_latency),
        presence_ms: quantiles_ms(&presence_latency),
    };
    for relay in relays {
        relay.stop()?;
    }
    Ok(row)
}

/// The 1-minute load average (0 if /proc/loadavg cannot be read).
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}
