//! The classic load-test shapes on the same swarm of rooms (writers + observers):
//! - sustained: a fixed rate for a while; latency, achieved rate, error rate;
//! - stress: the rate grows step by step until p99 passes a limit, or errors or lost
//!   deliveries appear, or the clients cannot send as fast as asked: the breaking point;
//! - spike: a baseline, then a burst at 10× for a few seconds: how long until latency is back;
//! - endurance: a long run at a fixed rate: resident memory drift.
//!
//! Every shape is bounded: steps, windows and durations are counted and capped.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::report::{add_latency, progress, quantiles_ms, LoadError, Report};
use crate::workloads::endurance;
use crate::workloads::swarm::{Layout, Swarm};
use crate::workloads::target::{Target, TargetArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    Sustained,
    Stress,
    Spike,
    Endurance,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    #[arg(long, value_enum)]
    pub shape: Shape,
    #[arg(long, default_value_t = 4)]
    pub rooms: usize,
    /// Writers per room (each also observes).
    #[arg(long, default_value_t = 5)]
    pub writers: usize,
    /// Observers per room.
    #[arg(long, default_value_t = 20)]
    pub observers: usize,
    /// Updates per second per writer (the start rate for stress, the baseline for spike).
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Seconds measured (sustained, endurance; the baseline of spike).
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    #[arg(long, default_value_t = 2)]
    pub warmup_secs: u64,
    /// Stress: seconds per step, the rate factor between steps, the most steps, the p99 limit.
    #[arg(long, default_value_t = 3)]
    pub step_secs: u64,
    #[arg(long, default_value_t = 1.5)]
    pub step_factor: f64,
    #[arg(long, default_value_t = 12)]
    pub max_steps: usize,
    #[arg(long, default_value_t = 100.0)]
    pub p99_limit_ms: f64,
    /// Spike: the burst's rate factor and length.
    #[arg(long, default_value_t = 10.0)]
    pub spike_factor: f64,
    #[arg(long, default_value_t = 3)]
    pub spike_secs: u64,
    /// Endurance: seconds between samples (RSS, CPU, latency, errors), one table row each.
    #[arg(long, default_value_t = 5)]
    pub sample_secs: u64,
}

pub async fn run(relay_bin: &Path, args: Args) -> Result<Report, LoadError> {
    let target = Target::start(relay_bin, &args.target)?;
    let layout = Layout { rooms: args.rooms, writers: args.writers, observers: args.observers, room_prefix: "shape".into() };
    let receivers = layout.receivers_per_update() as f64;
    let longest = args.warmup_secs + args.duration_secs + args.step_secs * args.max_steps as u64 + args.spike_secs + 180;
    let swarm = Swarm::start(&target, layout, args.rate, Instant::now() + Duration::from_secs(longest)).await?;
    swarm.run_for(&target, args.warmup_secs as f64, None).await;
    swarm.tally.set_recording(true);
    let mut params = json!({
        "shape": args.shape, "rooms": args.rooms, "writers_per_room": args.writers,
        "observers_per_room": args.observers, "rate_per_writer": args.rate,
    });
    params["target"] = target.describe();
    params["relay_args"] = json!(args.target.relay_args);
    let mut report = Report::new(&format!("{:?}", args.shape).to_lowercase(), params);
    let writers = (args.rooms * args.writers) as f64;
    match args.shape {
        Shape::Endurance => {
            let plan = endurance::Plan {
                duration_secs: args.duration_secs,
                sample_secs: args.sample_secs,
                asked_per_sec: writers * args.rate,
                receivers,
            };
            endurance::run(swarm, &target, plan, &mut report).await;
        }
        Shape::Sustained => {
            let bar = progress(args.duration_secs, "sustained");
            let s = swarm.run_for(&target, args.duration_secs as f64, Some(&bar)).await;
            bar.finish_and_clear();
            add_latency(&mut report, "latency", &s.latency);
            report.add("updates asked per second", writers * args.rate, "/s");
            report.add("updates sent per second", s.sent as f64 / s.seconds, "/s");
            report.add("deliveries per second", s.delivered as f64 / s.seconds, "/s");
            report.add("errors", s.errors as f64, "");
            let tally = swarm.tally.clone();
            let lost = swarm.finish(Duration::from_secs(5)).await;
            report.add("deliveries lost", lost as f64, "");
            let expected = (s.sent as f64 * receivers).max(1.0);
            report.add("error rate (errors + lost) / expected deliveries", 100.0 * (s.errors + lost) as f64 / expected, "%");
            endurance::add_incidents(&mut report, &tally.incidents);
        }
        Shape::Stress => {
            let bar = progress(args.step_secs * args.max_steps as u64, "stress");
            let mut rate = args.rate;
            let mut last_good: Option<(f64, f64, f64)> = None;
            let mut broke_at = None;
            for step in 0..args.max_steps {
                swarm.set_rate(rate);
                let s = swarm.run_for(&target, args.step_secs as f64, None).await;
                bar.inc(args.step_secs);
                let (_, p99, _) = quantiles_ms(&s.latency);
                let asked = writers * rate;
                let sent_rate = s.sent as f64 / s.seconds;
                let delivered_rate = s.delivered as f64 / s.seconds;
                report.add(&format!("step {step}: updates asked"), asked, "/s");
                report.add(&format!("step {step}: updates sent"), sent_rate, "/s");
                report.add(&format!("step {step}: deliveries"), delivered_rate, "/s");
                report.add(&format!("step {step}: p99"), p99, "ms");
                report.add(&format!("step {step}: server cpu"), 100.0 * s.cpu_seconds / s.seconds, "% of one core");
                let short = delivered_rate < 0.9 * sent_rate * receivers || sent_rate < 0.9 * asked;
                if p99 > args.p99_limit_ms || s.errors > 0 || short {
                    let why = if s.errors > 0 { 2.0 } else if p99 > args.p99_limit_ms { 1.0 } else { 3.0 };
                    broke_at = Some((asked, why));
                    break;
                }
                last_good = Some((asked, delivered_rate, p99));
                rate *= args.step_factor;
            }
            bar.finish_and_clear();
            let (good, good_deliveries, good_p99) = last_good.unwrap_or((0.0, 0.0, 0.0));
            report.add("last good rate", good, "updates/s");
            report.add("deliveries per second at last good rate", good_deliveries, "/s");
            report.add("p99 at last good rate", good_p99, "ms");
            let (broke, why) = broke_at.unwrap_or((f64::NAN, 0.0));
            report.add("breaking rate (NaN: not reached)", broke, "updates/s");
            report.add("broke on (1 p99, 2 errors, 3 lost or send rate short)", why, "");
            let tally = swarm.tally.clone();
            swarm.finish(Duration::from_secs(5)).await;
            endurance::add_incidents(&mut report, &tally.incidents);
        }
        Shape::Spike => {
            let base = swarm.run_for(&target, args.duration_secs as f64, None).await;
            let (_, base_p99, _) = quantiles_ms(&base.latency);
            swarm.set_rate(args.rate * args.spike_factor);
            let spike = swarm.run_for(&target, args.spike_secs as f64, None).await;
            let (_, spike_p99, _) = quantiles_ms(&spike.latency);
            swarm.set_rate(args.rate);
            let threshold = (2.0 * base_p99).max(base_p99 + 5.0);
            let ended = Instant::now();
            let mut recovered = None;
            // windows of 250 ms, at most 60 s
            for _ in 0..240 {
                let w = swarm.run_for(&target, 0.25, None).await;
                let (_, p99, _) = quantiles_ms(&w.latency);
                if !w.latency.is_empty() && p99 <= threshold {
                    recovered = Some(ended.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
            }
            let (_, _, errors) = swarm.tally.counts();
            report.add("baseline updates per second", writers * args.rate, "/s");
            report.add("baseline p99", base_p99, "ms");
            report.add("spike updates per second", writers * args.rate * args.spike_factor, "/s");
            report.add("spike p99", spike_p99, "ms");
            report.add("spike deliveries per second", spike.delivered as f64 / spike.seconds, "/s");
            report.add("recovery threshold p99", threshold, "ms");
            report.add("time to recover after the spike (NaN: not within 60 s)", recovered.unwrap_or(f64::NAN), "ms");
            report.add("errors", errors as f64, "");
            let tally = swarm.tally.clone();
            let lost = swarm.finish(Duration::from_secs(5)).await;
            report.add("deliveries lost", lost as f64, "");
            endurance::add_incidents(&mut report, &tally.incidents);
        }
    }
    target.stop()?;
    Ok(report)
}
