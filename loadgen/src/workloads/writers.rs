//! Many writers in one room: every client writes at a fixed rate and observes the others.
//! Reports end-to-end latency, the deliveries per second the server sustained and its CPU
//! time per delivery (so its throughput per core can be compared between servers).

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
    /// Writers in the room (each also observes the others).
    #[arg(long, default_value_t = 50)]
    pub writers: usize,
    /// Updates per second per writer.
    #[arg(long, default_value_t = 2.0)]
    pub rate: f64,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    #[arg(long, default_value_t = 2)]
    pub warmup_secs: u64,
}

pub async fn run(relay_bin: &Path, args: Args) -> Result<Report, LoadError> {
    let target = Target::start(relay_bin, &args.target)?;
    let layout = Layout { rooms: 1, writers: args.writers, observers: 0, room_prefix: "writers".into() };
    let deadline = Instant::now() + Duration::from_secs(args.warmup_secs + args.duration_secs + 120);
    let swarm = Swarm::start(&target, layout, args.rate, deadline).await?;
    swarm.run_for(&target, args.warmup_secs as f64, None).await;
    swarm.tally.set_recording(true);
    let bar = progress(args.duration_secs, "many-writers");
    let s = swarm.run_for(&target, args.duration_secs as f64, Some(&bar)).await;
    bar.finish_and_clear();
    let first_error = swarm.tally.first_error();
    let lost = swarm.finish(Duration::from_secs(5)).await;

    let mut params = json!({ "writers": args.writers, "rate": args.rate, "duration_secs": args.duration_secs });
    params["target"] = target.describe();
    let mut report = Report::new("many-writers", params);
    add_latency(&mut report, "latency", &s.latency);
    report.add("updates sent per second", s.sent as f64 / s.seconds, "/s");
    report.add("deliveries per second", s.delivered as f64 / s.seconds, "/s");
    report.add("deliveries lost (whole run)", lost as f64, "");
    report.add("errors", s.errors as f64, "");
    report.add("server cpu % of one core", 100.0 * s.cpu_seconds / s.seconds, "%");
    report.add("server cpu per delivery", s.cpu_seconds * 1e6 / s.delivered.max(1) as f64, "us");
    report.add("deliveries per server cpu-second", s.delivered as f64 / s.cpu_seconds.max(0.01), "/s");
    report.add("server rss", s.after.rss_bytes as f64 / 1048576.0, "MiB");
    target.stop()?;
    if let Some(e) = first_error {
        eprintln!("many-writers: first error: {e}");
    }
    Ok(report)
}
