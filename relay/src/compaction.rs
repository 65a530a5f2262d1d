//! When a room's log is folded into a snapshot.
//!
//! Rewriting the whole document is what makes peer servers slow down as documents grow, so
//! the relay rewrites it only in proportion to what was appended since the last snapshot:
//! the log must have grown to twice the snapshot (or a floor for small rooms) before a
//! size-driven compaction, and to a quarter of it before a count- or age-driven one. Over a
//! long run that caps the bytes written for snapshots at a small multiple of the bytes
//! received, while bounding how many log entries a cold load has to replay.

use std::time::Duration;

/// The thresholds, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct CompactionPolicy {
    /// Log bytes that always justify a compaction, whatever the snapshot size.
    pub min_log_bytes: u64,
    /// Log entries after which a compaction is due (if the log is not tiny next to the snapshot).
    pub max_log_entries: u64,
    /// Age of the oldest log entry after which a compaction is due (same proviso).
    pub max_log_age: Duration,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        CompactionPolicy { min_log_bytes: 1 << 20, max_log_entries: 10_000, max_log_age: Duration::from_secs(600) }
    }
}

/// What the room knows about its stored form.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogShape {
    pub snapshot_bytes: u64,
    pub log_entries: u64,
    pub log_bytes: u64,
    /// How long ago the oldest entry of the log was appended.
    pub oldest_entry_age: Option<Duration>,
}

impl CompactionPolicy {
    pub fn is_due(&self, log: &LogShape) -> bool {
        if log.log_entries == 0 {
            return false;
        }
        let by_size = log.log_bytes >= self.min_log_bytes.max(log.snapshot_bytes.saturating_mul(2));
        let not_tiny = log.log_bytes.saturating_mul(4) >= log.snapshot_bytes;
        let by_count = log.log_entries >= self.max_log_entries;
        let by_age = log.oldest_entry_age.is_some_and(|age| age >= self.max_log_age);
        by_size || (not_tiny && (by_count || by_age))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(snapshot: u64, entries: u64, bytes: u64, age_secs: u64) -> LogShape {
        LogShape {
            snapshot_bytes: snapshot,
            log_entries: entries,
            log_bytes: bytes,
            oldest_entry_age: Some(Duration::from_secs(age_secs)),
        }
    }

    #[test]
    fn small_rooms_compact_at_the_byte_floor() {
        let policy = CompactionPolicy::default();
        assert!(!policy.is_due(&shape(0, 10, 1000, 1)));
        assert!(policy.is_due(&shape(0, 10, 2 << 20, 1)));
    }

    #[test]
    fn large_rooms_compact_in_proportion_to_their_size() {
        let policy = CompactionPolicy::default();
        let twenty_mb = 20 << 20;
        // many small updates on a large room: not worth rewriting 20 MB yet
        assert!(!policy.is_due(&shape(twenty_mb, 50_000, 2 << 20, 10_000)));
        // a quarter of the room in the log plus many entries: due
        assert!(policy.is_due(&shape(twenty_mb, 50_000, 6 << 20, 1)));
        // twice the room in the log: due regardless
        assert!(policy.is_due(&shape(twenty_mb, 5, 41 << 20, 1)));
    }

    #[test]
    fn an_empty_log_is_never_due() {
        assert!(!CompactionPolicy::default().is_due(&shape(100, 0, 0, 100_000)));
    }
}
