//! What the writer thread and the store's callers share: which rooms (or the whole journal)
//! failed and refuse writes, and the durability figures the writer records.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use crate::instruments::Instruments;

/// State the writer thread shares with the store's callers.
#[derive(Default)]
pub struct Shared {
    failed_rooms: Mutex<HashMap<String, String>>,
    /// Why the journal refuses writes (a failed append or fsync), if it does.
    journal_failure: Mutex<Option<String>>,
    /// Receipt to durable commit, in microseconds.
    latency_us: Mutex<Option<Histogram<u64>>>,
    durable_updates: AtomicU64,
    durable_bytes: AtomicU64,
    /// Bytes appended to the journal, and bytes of snapshots and restore points handed to
    /// room files: what the store itself writes (the figure write amplification is about,
    /// before the filesystem rounds it up to pages).
    pub journal_bytes: AtomicU64,
    pub room_file_bytes: AtomicU64,
    /// The relay's instruments, once it hands them over (a store opened for a test or a
    /// backup has none and records nothing there).
    pub instruments: OnceLock<Arc<Instruments>>,
}

impl Shared {
    pub fn room_failure(&self, room: &str) -> Option<String> {
        if let Some(reason) = self.journal_failure.lock().clone() {
            return Some(reason);
        }
        self.failed_rooms.lock().get(room).cloned()
    }

    pub fn fail_journal(&self, reason: String) {
        self.journal_failure.lock().get_or_insert(reason);
    }

    pub fn fail_room(&self, room: &str, reason: String) {
        self.failed_rooms.lock().entry(room.to_owned()).or_insert(reason);
    }

    pub fn clear_room_failure(&self, room: &str) {
        self.failed_rooms.lock().remove(room);
    }

    pub fn count_durable(&self, bytes: usize) {
        self.durable_updates.fetch_add(1, Ordering::Relaxed);
        self.durable_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn record_latencies(&self, latencies: &[Duration]) {
        if latencies.is_empty() {
            return;
        }
        if let Some(instruments) = self.instruments.get() {
            for latency in latencies {
                instruments.durable_ack.observe(latency.as_secs_f64());
            }
        }
        let mut slot = self.latency_us.lock();
        if slot.is_none() {
            *slot = Histogram::new_with_bounds(1, 3_600_000_000, 3).ok();
        }
        if let Some(histogram) = slot.as_mut() {
            for latency in latencies {
                histogram.saturating_record((latency.as_micros() as u64).max(1));
            }
        }
    }
}

/// Durability figures since the store opened.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DurabilityStats {
    pub durable_updates: u64,
    pub durable_bytes: u64,
    pub journal_bytes_written: u64,
    pub room_file_bytes_written: u64,
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    pub latency_max_us: u64,
}

impl Shared {
    /// Latency from receipt to durable commit, and volumes, since the store opened.
    pub fn durability_stats(&self) -> DurabilityStats {
        let slot = self.latency_us.lock();
        let (p50, p99, max) =
            slot.as_ref().map(|h| (h.value_at_quantile(0.5), h.value_at_quantile(0.99), h.max())).unwrap_or_default();
        DurabilityStats {
            durable_updates: self.durable_updates.load(Ordering::Relaxed),
            durable_bytes: self.durable_bytes.load(Ordering::Relaxed),
            journal_bytes_written: self.journal_bytes.load(Ordering::Relaxed),
            room_file_bytes_written: self.room_file_bytes.load(Ordering::Relaxed),
            latency_p50_us: p50,
            latency_p99_us: p99,
            latency_max_us: max,
        }
    }
}
