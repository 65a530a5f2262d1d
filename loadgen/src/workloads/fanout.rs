//! Fan-out: one writer, N observers in one room. The figures the issue asks for: end-to-end
//! latency p50/p99 and the server's CPU time per update per observer (CPU from /proc over
//! the measured stretch, divided by updates sent × observers).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::report::{add_latency, progress, LoadError, Report};
use crate::workloads::swarm::{Layout, Swarm};
use crate::workloads::target::{Target, TargetArgs};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Observers in the room.
    #[arg(long, default_value_t = 100)]
    pub observers: usize,
    /// Updates per second from the writer.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Seconds of traffic before measuring.
    #[arg(long, default_value_t = 2)]
    pub warmup_secs: u64,
}

pub async fn run(relay_bin: &Path, args: Args) -> Result<Report, LoadError> {
    let target = Target::start(relay_bin, &args.target)?;
    let layout = Layout { rooms: 1, writers: 1, observers: args.observers, room_prefix: "fanout".into() };
    let deadline = Instant::now() + Duration::from_secs(args.warmup_secs + args.duration_secs + 120);
    let swarm = Swarm::start(&target, layout, args.rate, deadline).await?;
    swarm.run_for(&target, args.warmup_secs as f64, None).await;
    swarm.tally.set_recording(true);
    let bar = progress(args.duration_secs, "fan-out");
    let stretch = swarm.run_for(&target, args.duration_secs as f64, Some(&bar)).await;
    bar.finish_and_clear();
    let first_error = swarm.tally.first_error();
    let lost = swarm.finish(Duration::from_secs(5)).await;

    let mut params = json!({ "observers": args.observers, "rate": args.rate, "duration_secs": args.duration_secs });
    params["target"] = target.describe();
    let mut report = Report::new("fan-out", params);
    add_latency(&mut report, "latency", &stretch.latency);
    report.add("updates sent", stretch.sent as f64, "");
    report.add("deliveries", stretch.delivered as f64, "");
    report.add("deliveries lost (whole run)", lost as f64, "");
    report.add("errors", stretch.errors as f64, "");
    report.add("server cpu", stretch.cpu_seconds, "s");
    report.add("server cpu % of one core", 100.0 * stretch.cpu_seconds / stretch.seconds, "%");
    let per = stretch.cpu_seconds * 1e6 / (stretch.sent.max(1) as f64 * args.observers.max(1) as f64);
    report.add("server cpu per update per observer", per, "us");
    report.add("server store thread cpu per update", stretch.store_writer_cpu_seconds * 1e6 / stretch.sent.max(1) as f64, "us");
    report.add("server rss", stretch.after.rss_bytes as f64 / 1048576.0, "MiB");
    target.stop()?;
    if let Some(e) = first_error {
        eprintln!("fan-out: first error: {e}");
    }
    Ok(report)
}
