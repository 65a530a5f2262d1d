//! CPU time of a server process under test, to the nanosecond where the kernel says it.
//!
//! `/proc/PID/stat`'s utime and stime are counted in clock ticks (10 ms here), and charged
//! by sampling: whoever runs when the tick fires gets the whole tick. A one-core run at 100
//! updates/s spends 0.1–0.3 s of server CPU, 10–30 ticks, so the same binary measured
//! 10.1–17.3 µs per delivery from run to run (BENCHMARKS.md, issue 20). The scheduler also
//! keeps each thread's exact run time (`se.sum_exec_runtime` in `/proc/PID/task/TID/sched`,
//! milliseconds with six decimals); this sums it over the process's threads. Threads that
//! already exited are gone from `task/`, so their share is taken from the tick counts: the
//! process's ticks minus its live threads' ticks. Where `sched` is missing (a kernel without
//! `CONFIG_SCHED_DEBUG`) the tick counts are used as before.

use std::path::Path;

/// The process's CPU seconds, and the part spent by its threads named `thread_name`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuSeconds {
    pub total: f64,
    pub named: f64,
}

/// CPU seconds of process `pid`, and of those of its threads named `thread_name`.
pub fn cpu_seconds(pid: u32, thread_name: &str) -> CpuSeconds {
    let process_ticks = read_stat(Path::new(&format!("/proc/{pid}/stat"))).map_or(0.0, |stat| stat.ticks);
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return CpuSeconds { total: process_ticks / TICKS_PER_SECOND, named: 0.0 };
    };
    let (mut live_ticks, mut live_seconds, mut named) = (0.0, 0.0, 0.0);
    for task in tasks.flatten().take(10_000) {
        let Some(stat) = read_stat(&task.path().join("stat")) else { continue };
        let seconds = std::fs::read_to_string(task.path().join("sched"))
            .ok()
            .and_then(|text| sum_exec_runtime_seconds(&text))
            .unwrap_or(stat.ticks / TICKS_PER_SECOND);
        live_ticks += stat.ticks;
        live_seconds += seconds;
        if stat.name == thread_name {
            named += seconds;
        }
    }
    let exited = (process_ticks - live_ticks).max(0.0) / TICKS_PER_SECOND;
    CpuSeconds { total: live_seconds + exited, named }
}

/// Linux's `USER_HZ`, the unit of /proc's tick counts, on every architecture it runs on.
const TICKS_PER_SECOND: f64 = 100.0;

struct Stat {
    name: String,
    ticks: f64,
}

/// A `stat` file's thread name and utime + stime.
fn read_stat(path: &Path) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

fn parse_stat(text: &str) -> Option<Stat> {
    // The name is in parentheses and may hold spaces or ')': split at the last one.
    let (head, rest) = text.rsplit_once(')')?;
    let (_, name) = head.split_once('(')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 0, utime field 11, stime field 12.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    Some(Stat { name: name.to_owned(), ticks: ticks(11)? + ticks(12)? })
}

/// `se.sum_exec_runtime` from a `sched` file (milliseconds), in seconds.
fn sum_exec_runtime_seconds(text: &str) -> Option<f64> {
    let line = text.lines().find(|line| line.starts_with("se.sum_exec_runtime"))?;
    let millis: f64 = line.rsplit(':').next()?.trim().parse().ok()?;
    Some(millis / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_stat_line_whose_name_holds_spaces_and_parentheses() {
        let text = "4242 (tokio (rt) w) S 1 4242 4242 0 -1 4194368 900 0 0 0 25 7 0 0 20 0 3 0 1 0 0";
        let stat = parse_stat(text).expect("parses");
        assert_eq!(stat.name, "tokio (rt) w");
        assert_eq!(stat.ticks, 32.0);
        assert!(parse_stat("4242 (cut").is_none());
    }

    #[test]
    fn reads_the_run_time_from_a_sched_file() {
        let text = "relay (4242, #threads: 3)\n---\nse.exec_start    :   32479049.825777\n\
                    se.vruntime      :   64561.992199\nse.sum_exec_runtime   :   141.485942\n";
        let seconds = sum_exec_runtime_seconds(text).expect("parses");
        assert!((seconds - 0.141_485_942).abs() < 1e-12, "{seconds}");
        assert_eq!(sum_exec_runtime_seconds("nr_switches : 3\n"), None);
    }

    #[test]
    fn this_process_is_measured_finer_than_a_tick() {
        let pid = std::process::id();
        let before = cpu_seconds(pid, "no-such-thread");
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(30) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let after = cpu_seconds(pid, "no-such-thread");
        let spent = after.total - before.total;
        // 30 ms of spinning: at least most of it shows, and not a whole tick's rounding more.
        assert!(spent > 0.015 && spent < 0.5, "spent {spent} s");
        assert_eq!(after.named, 0.0);
    }
}
