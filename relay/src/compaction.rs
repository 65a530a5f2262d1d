//! When a room's log is folded into a snapshot.
//!
//! Rewriting the whole document is what makes peer servers slow down as documents grow, so
//! the relay rewrites it only in proportion to what was appended since the last snapshot:
//! the log must have grown to four times the snapshot (and past a floor, so small rooms are
//! not rewritten for every few kilobytes) before a size-driven compaction, and at least to
//! the snapshot's size before a count- or age-driven one. The log lives in the journal,
//! where keeping it costs nothing but replay time at a cold load, so the floors are
//! generous: 4 MiB or 50,000 entries. A snapshot costs about the document's size, and a
//! document grows by at most what was logged, so each snapshot costs at most
//! (1 + 1/4) × the log it folds, and in practice far less (map edits leave ~20 % behind).

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
        CompactionPolicy { min_log_bytes: 4 << 20, max_log_entries: 50_000, max_log_age: Duration::from_secs(600) }
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
        let by_size = log.log_bytes >= self.min_log_bytes.max(log.snapshot_bytes.saturating_mul(4));
        let not_tiny = log.log_bytes >= log.snapshot_bytes;
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
        assert!(!policy.is_due(&shape(0, 10, 2 << 20, 1)));
        assert!(policy.is_due(&shape(0, 10, 5 << 20, 1)));
        // many entries, or old ones, fold a small log too
        assert!(policy.is_due(&shape(0, 60_000, 1 << 20, 1)));
        assert!(policy.is_due(&shape(1000, 10, 2000, 700)));
    }

    #[test]
    fn large_rooms_compact_in_proportion_to_their_size() {
        let policy = CompactionPolicy::default();
        let twenty_mb = 20 << 20;
        // many small updates on a large room: not worth rewriting 20 MB yet
        assert!(!policy.is_due(&shape(twenty_mb, 60_000, 6 << 20, 10_000)));
        // the room's size in the log plus many entries: due
        assert!(policy.is_due(&shape(twenty_mb, 60_000, 21 << 20, 1)));
        // four times the room in the log: due regardless
        assert!(!policy.is_due(&shape(twenty_mb, 5, 41 << 20, 1)));
        assert!(policy.is_due(&shape(twenty_mb, 5, 81 << 20, 1)));
    }

    #[test]
    fn an_empty_log_is_never_due() {
        assert!(!CompactionPolicy::default().is_due(&shape(100, 0, 0, 100_000)));
    }
}
