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
    /// The server closed the connection: its close code (1005 when the close frame had
    /// none, 1006 when the connection ended without a close frame) and reason.
    #[error("closed by the server: {code} {reason:?}")]
    Closed { code: u16, reason: String },
}

pub struct Report {
    pub workload: String,
    pub parameters: Value,
    rows: Vec<(String, f64, String)>,
    tables: Vec<Table>,
}

/// A table of a report besides its figures: samples over time, incidents.
struct Table {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Report {
    pub fn new(workload: &str, parameters: Value) -> Self {
        Report { workload: workload.to_owned(), parameters, rows: Vec::new(), tables: Vec::new() }
    }

    pub fn add(&mut self, name: &str, value: f64, unit: &str) {
        self.rows.push((name.to_owned(), value, unit.to_owned()));
    }

    /// Adds a table; each row holds one value per column.
    pub fn add_table(&mut self, name: &str, columns: &[&str], rows: Vec<Vec<Value>>) {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        self.tables.push(Table { name: name.to_owned(), columns, rows });
    }

    pub fn print_table(&self) {
        println!("\n{} {}", self.workload, self.parameters);
        let width = self.rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
        for (name, value, unit) in &self.rows {
            println!("  {name:<width$}  {value:>14.3} {unit}");
        }
        for table in &self.tables {
            table.print();
        }
    }

    pub fn to_json(&self) -> Value {
        let mut figures = Map::new();
        for (name, value, unit) in &self.rows {
            figures.insert(name.clone(), json!({ "value": value, "unit": unit }));
        }
        let mut report = json!({ "workload": self.workload, "parameters": self.parameters, "figures": figures });
        if !self.tables.is_empty() {
            let tables: Map<String, Value> = self.tables.iter().map(|t| (t.name.clone(), t.to_json())).collect();
            report["tables"] = Value::Object(tables);
        }
        report
    }
}

impl Table {
    fn print(&self) {
        let cell = |v: &Value| match v {
            Value::Number(n) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => s.clone(),
            Value::Null => "-".to_owned(),
            other => other.to_string(),
        };
        let cells: Vec<Vec<String>> = self.rows.iter().map(|row| row.iter().map(cell).collect()).collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| cells.iter().filter_map(|r| r.get(i)).map(String::len).chain([self.columns[i].len()]).max().unwrap_or(0))
            .collect();
        println!("\n  {} ({} rows)", self.name, self.rows.len());
        let line = |row: &[String]| {
            let padded: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect();
            println!("  | {} |", padded.join(" | "));
        };
        line(&self.columns);
        for row in &cells {
            line(row);
        }
    }

    /// One object per row, keyed by column.
    fn to_json(&self) -> Value {
        let rows = self.rows.iter().map(|row| {
            Value::Object(self.columns.iter().cloned().zip(row.iter().cloned()).collect())
        });
        Value::Array(rows.collect())
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
