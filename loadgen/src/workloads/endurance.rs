//! The endurance shape: a long run at a fixed rate, sampled every `--sample-secs`. Each
//! sample is a row (time, the server's RSS and CPU, updates sent, deliveries, errors,
//! latency), so growth can be told from warm-up; every error is listed with when, which
//! client and why (close code and reason). The observers never send after their handshake,
//! so a relay that closes silent listeners shows up here as errors and lost deliveries.

use std::time::Duration;

use serde_json::{json, Value};

use crate::incidents::Incidents;
use crate::report::{add_latency, progress, quantiles_ms, Report};
use crate::workloads::swarm::Swarm;
use crate::workloads::target::Target;

/// What the endurance run needs from the shape's arguments.
pub struct Plan {
    pub duration_secs: u64,
    pub sample_secs: u64,
    /// Updates per second asked of all writers together.
    pub asked_per_sec: f64,
    /// Clients that receive each update.
    pub receivers: f64,
}

/// Runs the swarm for the plan's duration, then drains it; fills `report`.
pub async fn run(swarm: Swarm, target: &Target, plan: Plan, report: &mut Report) {
    let sample = plan.sample_secs.max(1);
    let bar = progress(plan.duration_secs, "endurance");
    let mut all = crate::report::histogram();
    let mut rows: Vec<Vec<Value>> = Vec::new();
    let mut rss = Vec::new();
    let (mut sent, mut delivered, mut errors, mut secs) = (0, 0, 0, 0.0);
    for _ in 0..plan.duration_secs.div_ceil(sample) {
        let s = swarm.run_for(target, sample as f64, None).await;
        bar.inc(sample);
        (sent, delivered, errors, secs) = (sent + s.sent, delivered + s.delivered, errors + s.errors, secs + s.seconds);
        let (p50, p99, _) = quantiles_ms(&s.latency);
        let _ = all.add(&s.latency);
        rss.push(s.after.rss_bytes);
        rows.push(vec![
            json!(round(swarm.tally.incidents.now_secs(), 1)),
            json!(round(mib(s.after.rss_bytes), 2)),
            json!(round(100.0 * s.cpu_seconds / s.seconds, 1)),
            json!(s.sent),
            json!(s.delivered),
            json!(s.errors),
            json!(round(p50, 2)),
            json!(round(p99, 2)),
        ]);
    }
    bar.finish_and_clear();
    add_latency(report, "latency", &all);
    report.add("updates asked per second", plan.asked_per_sec, "/s");
    report.add("updates sent per second", sent as f64 / secs.max(f64::EPSILON), "/s");
    report.add("deliveries per second", delivered as f64 / secs.max(f64::EPSILON), "/s");
    report.add("errors", errors as f64, "");
    add_rss(report, &rss, secs);
    let tally = swarm.tally.clone();
    let lost = swarm.finish(Duration::from_secs(5)).await;
    report.add("deliveries lost", lost as f64, "");
    let expected = (sent as f64 * plan.receivers).max(1.0);
    report.add("error rate (errors + lost) / expected deliveries", 100.0 * (errors + lost) as f64 / expected, "%");
    // Times (here and in the errors) are seconds since the swarm's clients joined.
    let columns = ["t (s)", "rss (MiB)", "server cpu (%)", "sent", "delivered", "errors", "p50 (ms)", "p99 (ms)"];
    report.add_table("samples", &columns, rows);
    add_incidents(report, &tally.incidents);
}

/// RSS figures: first, last, max, and the part that tells warm-up from growth: from the end
/// of the first quarter of the samples (rooms loaded, caches and allocator pools filled) to
/// the end, RSS should stay flat.
fn add_rss(report: &mut Report, rss: &[u64], secs: f64) {
    let (first, last) = (rss.first().copied().unwrap_or(0), rss.last().copied().unwrap_or(0));
    report.add("server rss first sample", mib(first), "MiB");
    report.add("server rss last sample", mib(last), "MiB");
    report.add("server rss max", mib(rss.iter().copied().max().unwrap_or(0)), "MiB");
    report.add("server rss drift", mib(last) - mib(first), "MiB");
    report.add("server rss drift per hour (linear)", (mib(last) - mib(first)) * 3600.0 / secs.max(1.0), "MiB/h");
    let quarter = rss.len() / 4;
    if let Some(&warm) = rss.get(quarter.saturating_sub(1)) {
        let after = &rss[quarter..];
        let max_after = after.iter().copied().max().unwrap_or(warm);
        let pct = |b: u64| 100.0 * (b as f64 - warm as f64) / (warm.max(1) as f64);
        report.add("server rss at the end of the first quarter (warm-up)", mib(warm), "MiB");
        report.add("server rss growth after warm-up, last sample", pct(last), "%");
        report.add("server rss growth after warm-up, highest sample", pct(max_after), "%");
    }
}

/// Every error (when, which client, why) and one line per close code and reason.
pub fn add_incidents(report: &mut Report, incidents: &Incidents) {
    let groups = incidents.summary();
    if groups.is_empty() {
        return;
    }
    let rows = groups
        .iter()
        .map(|g| vec![json!(g.count), json!(g.code), json!(g.reason), json!(round(g.first_at_secs, 1)), json!(round(g.last_at_secs, 1))])
        .collect();
    report.add_table("errors by close code and reason", &["count", "close code", "reason", "first at (s)", "last at (s)"], rows);
    let rows = incidents
        .all()
        .iter()
        .map(|i| vec![json!(round(i.at_secs, 1)), json!(i.client), json!(i.code), json!(i.reason)])
        .collect();
    report.add_table("errors", &["at (s)", "client", "close code", "reason"], rows);
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}
