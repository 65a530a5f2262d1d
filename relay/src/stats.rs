//! Counters of what the relay does, read by `{base}/api/stats` (and by the benchmarks).
//!
//! Plain atomics bumped on the hot path; everything derived (rates, ratios) is computed by
//! whoever reads them.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Default)]
pub struct Counters {
    pub connections_open: AtomicI64,
    pub connections_total: AtomicU64,
    pub frames_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub frames_out: AtomicU64,
    /// Of `frames_out`, those a room wrote to an idle socket itself (`outbound`).
    pub frames_out_direct: AtomicU64,
    pub bytes_out: AtomicU64,
    pub closed_for_bad_input: AtomicU64,
    /// Frames with document changes that viewers sent (the room refuses them all).
    pub viewer_writes_refused: AtomicU64,
}

impl Counters {
    pub fn frame_in(&self, bytes: usize) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn frame_out(&self, bytes: usize) {
        self.frames_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn frame_out_direct(&self, bytes: usize) {
        self.frame_out(bytes);
        self.frames_out_direct.fetch_add(1, Ordering::Relaxed);
    }
}

/// Resident set size now and at its peak, in bytes, from /proc (Linux); zero elsewhere.
pub fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Bytes this process caused to be written to storage, from /proc (Linux); zero elsewhere.
pub fn disk_bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("write_bytes:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
