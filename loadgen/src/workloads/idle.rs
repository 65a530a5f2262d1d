//! Idle capacity: how much server memory an idle connection and a room cost. Phase 1 opens
//! `rooms` rooms with one synced connection each; phase 2 opens `connections` more synced
//! connections in one shared room. Per connection = RSS growth of phase 2 / connections;
//! per room = RSS growth of phase 1 / rooms − per connection. Then everything is held open
//! for a while and every connection must still be alive.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::watch;

use crate::client::{self, Framing, Peer};
use crate::report::{progress, LoadError, Report};
use crate::workloads::swarm::Tally;
use crate::workloads::target::{settled_rss, Target, TargetArgs};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Idle connections in one shared room (phase 2).
    #[arg(long, default_value_t = 1000)]
    pub connections: usize,
    /// Rooms with one connection each (phase 1).
    #[arg(long, default_value_t = 200)]
    pub rooms: usize,
    /// Seconds to hold everything open at the end.
    #[arg(long, default_value_t = 5)]
    pub hold_secs: u64,
}

pub async fn run(relay_bin: &Path, args: Args) -> Result<Report, LoadError> {
    let fd_limit = raise_fd_limit();
    let target = Target::start(relay_bin, &args.target)?;
    let tally = std::sync::Arc::new(Tally::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let deadline = Instant::now() + Duration::from_secs(args.hold_secs + 600);
    let mut tasks = tokio::task::JoinSet::new();

    let base = settled_rss(&target, Duration::from_secs(5)).await;
    let rooms: Vec<String> = (0..args.rooms).map(|i| format!("idle-room-{i}")).collect();
    let bar = progress((args.rooms + args.connections) as u64, "idle");
    for peer in join_all(&target, &rooms, &bar).await {
        tasks.spawn(hold(peer?, tally.clone(), stop_rx.clone(), deadline));
    }
    let after_rooms = settled_rss(&target, Duration::from_secs(10)).await;
    let crowd = vec!["idle-crowd".to_owned(); args.connections];
    for peer in join_all(&target, &crowd, &bar).await {
        tasks.spawn(hold(peer?, tally.clone(), stop_rx.clone(), deadline));
    }
    let after_conns = settled_rss(&target, Duration::from_secs(10)).await;
    bar.finish_and_clear();
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    let held = target.figures();
    let (_, _, errors) = tally.counts();
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();

    let per_conn = after_conns.saturating_sub(after_rooms) as f64 / args.connections.max(1) as f64;
    let per_room_and_conn = after_rooms.saturating_sub(base) as f64 / args.rooms.max(1) as f64;
    let mut params = json!({ "connections": args.connections, "rooms": args.rooms, "fd_limit": fd_limit });
    params["target"] = target.describe();
    let mut report = Report::new("idle", params);
    report.add("server rss at start", base as f64 / 1048576.0, "MiB");
    report.add("server rss with rooms", after_rooms as f64 / 1048576.0, "MiB");
    report.add("server rss with rooms and connections", after_conns as f64 / 1048576.0, "MiB");
    report.add("rss per idle connection", per_conn / 1024.0, "KiB");
    report.add("rss per room (beyond its connection)", (per_room_and_conn - per_conn) / 1024.0, "KiB");
    report.add("server rss after holding", held.rss_bytes as f64 / 1048576.0, "MiB");
    report.add("connections lost while idle", errors as f64, "");
    target.stop()?;
    if let Some(e) = tally.first_error() {
        eprintln!("idle: first error: {e}");
    }
    Ok(report)
}

async fn join_all(target: &Target, rooms: &[String], bar: &indicatif::ProgressBar) -> Vec<Result<Peer, LoadError>> {
    let framing = target.framing;
    futures_util::stream::iter(rooms.iter().map(|room| (target.url(room), room.clone())))
        .map(|(url, room)| async move {
            let joined = Peer::join(&url, framing, &room, Duration::from_secs(60)).await.map(|(peer, _)| peer);
            bar.inc(1);
            joined
        })
        .buffer_unordered(64)
        .collect()
        .await
}

/// Keeps a connection open, reading (and so answering pings) until stopped.
async fn hold(mut peer: Peer, tally: std::sync::Arc<Tally>, mut stop: watch::Receiver<bool>, deadline: Instant) {
    let framing: Framing = peer.framing;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep_until(deadline.into()) => return,
            r = client::next_messages(&mut peer.rx, framing) => if let Err(e) = r { return tally.error(&peer.doc, &e) },
        }
    }
}

/// Raises this process's open-file limit to its hard limit (each connection is a file
/// descriptor here and in the server, which inherits the limit when started from here).
/// Returns the limit in force.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
    }
    limit.rlim_cur
}
