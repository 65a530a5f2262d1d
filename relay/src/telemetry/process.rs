//! The standard `process_*` metrics every Prometheus client exports (CPU seconds, resident
//! and virtual memory, open and maximum file descriptors, threads, start time), with the
//! names and meanings of client_golang's process collector, read from `/proc` at each
//! scrape.
//!
//! Why by hand: `prometheus-client` (the relay's registry, 0.25) has no process collector;
//! the one crate that provides one for it (kubert-prometheus-process) is built against
//! 0.23, whose registry is another type. The reading of `/proc` itself is the `procfs`
//! crate's; only the mapping to metrics is here. Elsewhere than Linux nothing is exported.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

/// Registers the collector; `registry` should add the `process` prefix.
pub fn register(registry: &mut Registry) {
    registry.register_collector(Box::new(ProcessCollector));
}

#[derive(Debug)]
struct ProcessCollector;

/// One reading of this process.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Reading {
    cpu_seconds: f64,
    resident_bytes: u64,
    virtual_bytes: u64,
    virtual_max_bytes: Option<u64>,
    open_fds: u64,
    max_fds: Option<u64>,
    threads: u64,
    start_time_seconds: f64,
}

#[cfg(target_os = "linux")]
fn read() -> Result<Reading, procfs::ProcError> {
    use procfs::process::{LimitValue, Process};
    let me = Process::myself()?;
    let stat = me.stat()?;
    let limits = me.limits()?;
    let ticks = procfs::ticks_per_second().max(1) as f64;
    let value = |limit: LimitValue| match limit {
        LimitValue::Value(v) => Some(v),
        LimitValue::Unlimited => None,
    };
    Ok(Reading {
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        resident_bytes: stat.rss.saturating_mul(procfs::page_size()),
        virtual_bytes: stat.vsize,
        virtual_max_bytes: value(limits.max_address_space.soft_limit),
        open_fds: me.fd_count()? as u64,
        max_fds: value(limits.max_open_files.soft_limit),
        threads: u64::try_from(stat.num_threads).unwrap_or(0),
        start_time_seconds: procfs::boot_time_secs()? as f64 + stat.starttime as f64 / ticks,
    })
}

#[cfg(not(target_os = "linux"))]
fn read() -> Result<Reading, std::io::Error> {
    Err(std::io::Error::other("process metrics are read from /proc (Linux only)"))
}

fn gauge(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, unit: Option<&Unit>, value: f64) -> std::fmt::Result {
    let metric = encoder.encode_descriptor(name, help, unit, MetricType::Gauge)?;
    ConstGauge::new(value).encode(metric)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        let reading = match read() {
            Ok(reading) => reading,
            Err(error) => {
                // A scrape without process metrics beats a failed scrape.
                tracing::debug!(%error, "process metrics unavailable");
                return Ok(());
            }
        };
        let cpu = encoder.encode_descriptor(
            "cpu",
            "Total user and system CPU time spent in seconds.",
            Some(&Unit::Seconds),
            MetricType::Counter,
        )?;
        ConstCounter::new(reading.cpu_seconds).encode(cpu)?;
        let e = &mut encoder;
        gauge(e, "resident_memory", "Resident memory size in bytes.", Some(&Unit::Bytes), reading.resident_bytes as f64)?;
        gauge(e, "virtual_memory", "Virtual memory size in bytes.", Some(&Unit::Bytes), reading.virtual_bytes as f64)?;
        if let Some(max) = reading.virtual_max_bytes {
            gauge(e, "virtual_memory_max", "Maximum amount of virtual memory available in bytes.", Some(&Unit::Bytes), max as f64)?;
        }
        gauge(e, "open_fds", "Number of open file descriptors.", None, reading.open_fds as f64)?;
        if let Some(max) = reading.max_fds {
            gauge(e, "max_fds", "Maximum number of open file descriptors.", None, max as f64)?;
        }
        gauge(e, "threads", "Number of OS threads in the process.", None, reading.threads as f64)?;
        gauge(
            e,
            "start_time",
            "Start time of the process since unix epoch in seconds.",
            Some(&Unit::Seconds),
            reading.start_time_seconds,
        )?;
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_as_itself() {
        let reading = read().expect("/proc/self is readable");
        assert!(reading.cpu_seconds >= 0.0);
        assert!(reading.resident_bytes > 1 << 20, "a test binary holds more than 1 MiB: {reading:?}");
        assert!(reading.virtual_bytes >= reading.resident_bytes);
        assert!(reading.open_fds >= 3, "stdin, stdout, stderr at least");
        assert!(reading.threads >= 1);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!(reading.start_time_seconds <= now + 1.0 && reading.start_time_seconds > now - 86_400.0, "{reading:?}");
    }
}
