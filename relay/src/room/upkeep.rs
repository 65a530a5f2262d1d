//! Upkeep of a room in memory: folding its log into a snapshot when the policy says so, and
//! leaving memory when the cache lets it go. Both take the room's lock briefly.

use std::time::Instant;

use yrs::StateVector;

use super::Room;
use crate::compaction::{CompactionPolicy, LogShape};

/// A compaction prepared under the room's lock, written by the store later.
pub struct Compaction {
    pub through: u64,
    pub state: Vec<u8>,
}

impl Room {
    /// A compaction if the policy says one is due (`force`: whenever the log is not empty).
    pub fn prepare_compaction(&self, policy: &CompactionPolicy, force: bool) -> Option<Compaction> {
        let mut state = self.state.lock();
        let mut shape = state.log;
        shape.oldest_entry_age = state.oldest_log_entry.map(|t| t.elapsed());
        let due = if force { shape.log_entries > 0 } else { policy.is_due(&shape) };
        if !due {
            return None;
        }
        let snapshot = self.fold_log(&mut state)?;
        Some(Compaction { through: state.last_seq, state: snapshot })
    }

    /// Encodes the whole room as the snapshot that replaces its log, and resets the log's
    /// shape to match; `None` (logged) if yrs cannot encode the room.
    pub(super) fn fold_log(&self, state: &mut super::RoomState) -> Option<Vec<u8>> {
        let snapshot = match super::encode_diff(state.awareness.doc(), &StateVector::default()) {
            Ok(snapshot) => snapshot,
            Err(failure) => {
                tracing::error!(room = %self.name, %failure, "compaction skipped");
                return None;
            }
        };
        state.log = LogShape { snapshot_bytes: snapshot.len() as u64, ..LogShape::default() };
        state.oldest_log_entry = None;
        Some(snapshot)
    }

    /// Takes the room out of memory if nobody is in it and `evictable` agrees.
    pub fn evict_if(&self, evictable: impl FnOnce(Instant) -> bool) -> bool {
        let mut state = self.state.lock();
        if state.closed || !state.members.is_empty() || !evictable(state.last_active) {
            return false;
        }
        state.closed = true;
        true
    }

}
