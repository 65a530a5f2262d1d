//! A workload's result: named figures with units, printed as a table and as JSON.

use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("relay: {0}")]
    Relay(String),
    #[error("client: {0}")]
    Client(String),
    #[error("timed out: {0}")]
    Timeout(String),
}

pub struct Report {
    pub workload: String,
    pub parameters: Value,
    rows: Vec<(String, f64, String)>,
}

impl Report {
    pub fn new(workload: &str, parameters: Value) -> Self {
        Report { workload: workload.to_owned(), parameters, rows: Vec::new() }
    }

    pub fn add(&mut self, name: &str, value: f64, unit: &str) {
        self.rows.push((name.to_owned(), value, unit.to_owned()));
    }

    pub fn print_table(&self) {
        println!("\n{} {}", self.workload, self.parameters);
        let width = self.rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
        for (name, value, unit) in &self.rows {
            println!("  {name:<width$}  {value:>14.3} {unit}");
        }
    }

    pub fn to_json(&self) -> Value {
        let mut figures = Map::new();
        for (name, value, unit) in &self.rows {
            figures.insert(name.clone(), json!({ "value": value, "unit": unit }));
        }
        json!({ "workload": self.workload, "parameters": self.parameters, "figures": figures })
    }
}

/// p50, p99 and max of a histogram of microseconds, in milliseconds.
pub fn quantiles_ms(h: &hdrhistogram::Histogram<u64>) -> (f64, f64, f64) {
    let ms = |us: u64| us as f64 / 1000.0;
    (ms(h.value_at_quantile(0.5)), ms(h.value_at_quantile(0.99)), ms(h.max()))
}

pub fn histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// A progress bar over a workload's seconds (drawn on stderr, hidden when it is no terminal).
pub fn progress(seconds: u64, label: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(seconds);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} s {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    bar
}

/// Adds p50, p99 and max of a latency histogram (µs) as rows named `{name} p50` etc.
pub fn add_latency(report: &mut Report, name: &str, h: &hdrhistogram::Histogram<u64>) {
    let (p50, p99, max) = quantiles_ms(h);
    report.add(&format!("{name} p50"), p50, "ms");
    report.add(&format!("{name} p99"), p99, "ms");
    report.add(&format!("{name} max"), max, "ms");
    report.add(&format!("{name} samples"), h.len() as f64, "");
}
