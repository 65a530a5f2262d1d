//! `bench-table DIR`: turns the JSON reports `scripts/bench.sh` collected in DIR (one per
//! workload × target) into the Markdown tables of BENCHMARKS.md's generated section: one
//! table per workload and size, a column per server, and the ratios of our figure to each
//! other server's (so "0.5×" on a cost means we spend half of what that server spends).
//!
//! `bench-table --one-core DIR`: the one-core run's fan-out reports as one table: server CPU
//! per delivered update for each server at each observer count, and its ratio to the
//! ceiling's (the bare broadcast relay), so "1.15×" means 15 % above the ceiling. Such a run
//! repeats in rounds (`DIR/round-N/`); the table gives medians and the spread, and each
//! ratio is taken within a round, so that a drift of the machine between rounds cancels.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    let dir = PathBuf::from(args.first().ok_or(TableError::Usage)?);
    if !one_core {
        return Ok(render(&read_grid(&dir)?));
    }
    // A one-core run repeats itself in rounds (`round-1/`, `round-2/`, …); an older run's
    // directory holds one round's reports itself.
    let mut round_dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| TableError::Read(dir.display().to_string(), e))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("round-")))
        .collect();
    round_dirs.sort();
    if round_dirs.is_empty() {
        round_dirs.push(dir);
    }
    let rounds = round_dirs.iter().map(|d| read_grid(d)).collect::<Result<Vec<_>, _>>()?;
    Ok(render_one_core(&rounds))
}

fn read_grid(dir: &Path) -> Result<Grid, TableError> {
    let mut grid = Grid::new();
    let entries = std::fs::read_dir(dir).map_err(|e| TableError::Read(dir.display().to_string(), e))?;
    for entry in entries.flatten().take(10_000) {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            add_report(&mut grid, &path);
        }
    }
    Ok(grid)
}

/// The one-core run's servers, in column order.
const ONE_CORE_TARGETS: [&str; 5] = ["ours", "ours-memory", "ceiling", "y-websocket", "hocuspocus"];
const PER_DELIVERY: &str = "server cpu per update per observer";

/// One figure of one server at one size, in every round that measured it (NaN where a round
/// did not).
fn per_round(rounds: &[Grid], size: u64, figure: &str, target: &str) -> Vec<f64> {
    rounds
        .iter()
        .map(|grid| {
            grid.get(&("fan-out".to_owned(), size)).and_then(|f| f.get(figure)).and_then(|by| by.get(target)).map_or(f64::NAN, |c| c.0)
        })
        .collect()
}

/// The median of the finite values, and their least and greatest.
fn spread(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    let n = finite.len();
    let median = if n % 2 == 1 { finite[n / 2] } else { (finite[n / 2 - 1] + finite[n / 2]) / 2.0 };
    Some((median, finite[0], finite[n - 1]))
}

fn render_one_core(rounds: &[Grid]) -> String {
    let mut sizes: Vec<u64> = rounds.iter().flat_map(|g| g.keys()).filter(|(w, _)| w == "fan-out").map(|(_, size)| *size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let measured = |t: &str| sizes.iter().any(|&size| per_round(rounds, size, PER_DELIVERY, t).iter().any(|v| v.is_finite()));
    let present: Vec<&str> = ONE_CORE_TARGETS.iter().copied().filter(|t| measured(t)).collect();
    let compared: Vec<&str> = present.iter().copied().filter(|t| *t != "ceiling").collect();
    let mut out = format!(
        "\nServer CPU per delivered update (µs), the median of {} round(s) [least–greatest]; and ÷ the ceiling's, \
         taken in each round (the servers of a round ran one after another) [least–greatest]:\n\n| observers |",
        rounds.len()
    );
    for t in &present {
        out.push_str(&format!(" {t} |"));
    }
    for t in &compared {
        out.push_str(&format!(" {t} ÷ ceiling |"));
    }
    out.push_str(&format!("\n|---:|{}\n", "---:|".repeat(present.len() + compared.len())));
    for &size in &sizes {
        out.push_str(&format!("| {size} |"));
        for t in &present {
            out.push_str(&match spread(&per_round(rounds, size, PER_DELIVERY, t)) {
                Some((median, least, most)) => format!(" {} [{}–{}] |", number(median), number(least), number(most)),
                None => " – |".into(),
            });
        }
        let ceiling = per_round(rounds, size, PER_DELIVERY, "ceiling");
        for t in &compared {
            let ratios: Vec<f64> = per_round(rounds, size, PER_DELIVERY, t).iter().zip(&ceiling).map(|(ours, c)| ours / c).collect();
            out.push_str(&match spread(&ratios) {
                Some((median, least, most)) => format!(" {median:.2}× [{least:.2}–{most:.2}] |"),
                None => " – |".into(),
            });
        }
        out.push('\n');
    }
    out.push_str(
        "\nDeliveries lost and errors (all rounds, summed), latency p50 / p99 (ms, medians over rounds):\n\n\
         | observers | server | lost | errors | p50 | p99 |\n|---:|---|---:|---:|---:|---:|\n",
    );
    for &size in &sizes {
        for t in &present {
            let sum = |name: &str| per_round(rounds, size, name, t).iter().filter(|v| v.is_finite()).sum::<f64>();
            let median = |name: &str| spread(&per_round(rounds, size, name, t)).map_or(f64::NAN, |s| s.0);
            out.push_str(&format!(
                "| {size} | {t} | {} | {} | {} | {} |\n",
                number(sum("deliveries lost (whole run)")),
                number(sum("errors")),
                number(median("latency p50")),
                number(median("latency p99"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn round(cells: &[(u64, &str, f64)]) -> Grid {
        let mut grid = Grid::new();
        for &(size, target, value) in cells {
            grid.entry(("fan-out".to_owned(), size))
                .or_default()
                .entry(PER_DELIVERY.to_owned())
                .or_default()
                .insert(target.to_owned(), (value, "us".to_owned()));
        }
        grid
    }

    #[test]
    fn the_spread_is_the_median_and_the_extremes_of_what_was_measured() {
        assert_eq!(spread(&[3.0, f64::NAN, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(spread(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(spread(&[f64::NAN]), None);
    }

    #[test]
    fn each_ratio_is_taken_within_its_round() {
        // The machine is twice as slow in the second round: the ratios stay 1.5×, while a
        // ratio of the medians would not.
        let rounds = [
            round(&[(10, "ours", 15.0), (10, "ceiling", 10.0)]),
            round(&[(10, "ours", 30.0), (10, "ceiling", 20.0)]),
            round(&[(10, "ours", 45.0), (10, "ceiling", 10.0)]),
        ];
        let table = render_one_core(&rounds);
        assert!(table.contains("| 10 | 30.0 [15.0–45.0] | 10.0 [10.0–20.0] | 1.50× [1.50–4.50] |"), "{table}");
    }
}
