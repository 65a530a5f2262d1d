//! Upkeep of a room in memory: folding its log into a snapshot when the policy says so, and
//! leaving memory when the cache lets it go. Both take the room's lock briefly.

use std::time::Instant;

use yrs::StateVector;

use shared::close;

use super::{Room, RoomState};
use crate::close_reason::CloseReason;
use crate::backend::Fold;
use crate::compaction::{CompactionPolicy, LogShape};

impl Room {
    /// Whether a compaction is due (`force`: whenever the log is not empty). A peek:
    /// nothing changes.
    pub fn compaction_due(&self, policy: &CompactionPolicy, force: bool) -> bool {
        is_due(&self.state.lock(), policy, force)
    }

    /// The room's log folded into one snapshot, if a compaction is due, with where the
    /// state stands (taken under one lock); the log's shape starts afresh.
    pub fn prepare_compaction(&self, policy: &CompactionPolicy, force: bool) -> Option<Fold> {
        let mut state = self.state.lock();
        if !is_due(&state, policy, force) {
            return None;
        }
        let snapshot = self.fold_log(&mut state)?;
        Some(Fold { seq: state.last_seq, position: state.held.position.clone(), state: snapshot })
    }

    /// Another relay folds this room's log: count it afresh.
    pub fn forget_log_shape(&self) {
        let mut state = self.state.lock();
        let snapshot_bytes = state.log.snapshot_bytes;
        state.log = LogShape { snapshot_bytes, ..LogShape::default() };
        state.oldest_log_entry = None;
    }

    /// Encodes the whole room as the snapshot that replaces its log, and resets the log's
    /// shape to match; `None` (logged) if yrs cannot encode the room.
    fn fold_log(&self, state: &mut RoomState) -> Option<Vec<u8>> {
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
        if state.closed.is_some() || !state.members.is_empty() || !evictable(state.last_active) {
            return false;
        }
        state.go_out_of_service(CloseReason::new(close::RESYNC, "room was reloaded: reconnect"), None);
        true
    }
}

fn is_due(state: &RoomState, policy: &CompactionPolicy, force: bool) -> bool {
    let mut shape = state.log;
    shape.oldest_entry_age = state.oldest_log_entry.map(|t| t.elapsed());
    if force {
        shape.log_entries > 0
    } else {
        policy.is_due(&shape)
    }
}
