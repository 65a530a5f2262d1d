//! `bench-table DIR`: turns the JSON reports `scripts/bench.sh` collected in DIR (one per
//! workload × target) into the Markdown tables of BENCHMARKS.md's generated section: one
//! table per workload and size, a column per server, and the ratios of our figure to each
//! other server's (so "0.5×" on a cost means we spend half of what that server spends).
//!
//! `bench-table --one-core DIR`: the one-core run's fan-out reports as one table: server CPU
//! per delivered update for each server at each observer count, and its ratio to the
//! ceiling's (the bare broadcast relay), so "1.15×" means 15 % above the ceiling.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// The servers, in column order, as loadgen labels them.
const TARGETS: [&str; 4] = ["ours", "ceiling", "y-websocket", "hocuspocus"];

/// Per workload: the parameter that names its size, and the figures worth a row.
fn layout(workload: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match workload {
        "fan-out" => ("observers", &["latency p50", "latency p99", "server cpu per update per observer", "deliveries lost (whole run)", "errors"]),
        "many-writers" => (
            "writers",
            &["latency p50", "latency p99", "deliveries per second", "server cpu per delivery", "deliveries per server cpu-second", "errors"],
        ),
        "presence" => ("clients", &["latency p50", "latency p99", "states delivered per second", "server cpu % of one core", "server cpu per delivered state", "errors"]),
        "idle" => ("connections", &["rss per idle connection", "rss per room (beyond its connection)", "connections lost while idle"]),
        "stress" => ("rooms", &["last good rate", "deliveries per second at last good rate", "p99 at last good rate", "breaking rate (NaN: not reached)"]),
        "spike" => ("rooms", &["baseline p99", "spike p99", "time to recover after the spike (NaN: not within 60 s)", "errors"]),
        "sustained" => ("rooms", &["latency p99", "updates sent per second", "error rate (errors + lost) / expected deliveries"]),
        "endurance" => ("rooms", &["latency p99", "server rss drift", "server rss drift per hour (linear)"]),
        _ => return None,
    })
}

#[derive(Debug, thiserror::Error)]
enum TableError {
    #[error("usage: bench-table [--one-core] DIR")]
    Usage,
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
}

type Cell = (f64, String);
/// (workload, size) → figure → target → (value, unit)
type Figures = BTreeMap<String, BTreeMap<String, Cell>>;
type Grid = BTreeMap<(String, u64), Figures>;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(text) => {
            print!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-table: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, TableError> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let one_core = args.first().is_some_and(|a| a == "--one-core");
    if one_core {
        args.remove(0);
    }
    let dir = args.first().cloned().ok_or(TableError::Usage)?;
    let mut grid = Grid::new();
    let entries = std::fs::read_dir(&dir).map_err(|e| TableError::Read(dir.clone(), e))?;
    for entry in entries.flatten().take(10_000) {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            add_report(&mut grid, &path);
        }
    }
    Ok(if one_core { render_one_core(&grid) } else { render(&grid) })
}

/// The one-core run's servers, in column order.
const ONE_CORE_TARGETS: [&str; 5] = ["ours", "ours-memory", "ceiling", "y-websocket", "hocuspocus"];
const PER_DELIVERY: &str = "server cpu per update per observer";

fn render_one_core(grid: &Grid) -> String {
    let rows: Vec<(&u64, &Figures)> =
        grid.iter().filter(|((workload, _), _)| workload == "fan-out").map(|((_, size), figures)| (size, figures)).collect();
    let present: Vec<&str> = ONE_CORE_TARGETS
        .iter()
        .copied()
        .filter(|t| rows.iter().any(|(_, f)| f.get(PER_DELIVERY).is_some_and(|by| by.contains_key(*t))))
        .collect();
    let compared: Vec<&str> = present.iter().copied().filter(|t| *t != "ceiling").collect();
    let mut out = String::from("\nServer CPU per delivered update (µs), and ÷ the ceiling's:\n\n| observers |");
    for t in &present {
        out.push_str(&format!(" {t} |"));
    }
    for t in &compared {
        out.push_str(&format!(" {t} ÷ ceiling |"));
    }
    out.push_str(&format!("\n|---:|{}\n", "---:|".repeat(present.len() + compared.len())));
    for (size, figures) in &rows {
        let by_target = figures.get(PER_DELIVERY);
        let value = |t: &str| by_target.and_then(|by| by.get(t)).map_or(f64::NAN, |c| c.0);
        out.push_str(&format!("| {size} |"));
        for t in &present {
            out.push_str(&format!(" {} |", number(value(t))));
        }
        let ceiling = value("ceiling");
        for t in &compared {
            let ratio = value(t) / ceiling;
            out.push_str(&if ratio.is_finite() { format!(" {ratio:.2}× |") } else { " – |".into() });
        }
        out.push('\n');
    }
    out.push_str("\nDeliveries lost and errors (whole run), latency p50 / p99 (ms):\n\n| observers | server | lost | errors | p50 | p99 |\n|---:|---|---:|---:|---:|---:|\n");
    for (size, figures) in &rows {
        for t in &present {
            let get = |name: &str| figures.get(name).and_then(|by| by.get(*t)).map_or(f64::NAN, |c| c.0);
            out.push_str(&format!(
                "| {size} | {t} | {} | {} | {} | {} |\n",
                number(get("deliveries lost (whole run)")),
                number(get("errors")),
                number(get("latency p50")),
                number(get("latency p99"))
            ));
        }
    }
    out
}

fn add_report(grid: &mut Grid, path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    let Ok(report) = serde_json::from_str::<Value>(&text) else { return };
    let workload = report["workload"].as_str().unwrap_or_default().to_owned();
    let Some((size_key, wanted)) = layout(&workload) else { return };
    let size = report["parameters"][size_key].as_u64().unwrap_or(0);
    let target = report["parameters"]["target"]["target"].as_str().unwrap_or("?").to_owned();
    let figures = grid.entry((workload, size)).or_default();
    for name in wanted {
        let figure = &report["figures"][*name];
        let value = figure["value"].as_f64().unwrap_or(f64::NAN);
        let unit = figure["unit"].as_str().unwrap_or_default().to_owned();
        figures.entry((*name).to_owned()).or_default().insert(target.clone(), (value, unit));
    }
}

#[allow(clippy::manual_is_multiple_of)] // is_multiple_of needs Rust 1.87; the workspace allows 1.85
fn number(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v.abs() >= 1000.0 {
        let whole = v.round() as i64;
        let digits = whole.abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if whole < 0 { format!("-{out}") } else { out }
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn render(grid: &Grid) -> String {
    let mut out = String::new();
    for ((workload, size), figures) in grid {
        let present: Vec<&str> = TARGETS.iter().copied().filter(|t| figures.values().any(|f| f.contains_key(*t))).collect();
        let size_key = layout(workload).map_or("size", |l| l.0);
        out.push_str(&format!("\n#### {workload}, {size_key} = {}\n\n| figure |", if *size >= 1000 { number(*size as f64) } else { size.to_string() }));
        for t in &present {
            out.push_str(&format!(" {t} |"));
        }
        let others: Vec<&str> = present.iter().copied().filter(|t| *t != "ours").collect();
        for t in &others {
            out.push_str(&format!(" ours ÷ {t} |"));
        }
        out.push_str("\n|---|");
        out.push_str(&"---:|".repeat(present.len() + others.len()));
        out.push('\n');
        let order = layout(workload).map_or(&[][..], |l| l.1);
        for name in order {
            let Some(by_target) = figures.get(*name) else { continue };
            let unit = by_target.values().next().map(|c| c.1.clone()).unwrap_or_default();
            out.push_str(&format!("| {name}{} |", if unit.is_empty() { String::new() } else { format!(" ({unit})") }));
            for t in &present {
                out.push_str(&format!(" {} |", by_target.get(*t).map_or("n/a".into(), |c| number(c.0))));
            }
            let ours = by_target.get("ours").map_or(f64::NAN, |c| c.0);
            for t in &others {
                let theirs = by_target.get(*t).map_or(f64::NAN, |c| c.0);
                let ratio = ours / theirs;
                out.push_str(&if ratio.is_finite() { format!(" {ratio:.2}× |") } else { " – |".into() });
            }
            out.push('\n');
        }
    }
    out
}
