//! Building a room in memory from what is stored: a store's snapshot and log, or (in
//! cluster mode) a snapshot from Redis. Stored data that does not decode or apply refuses
//! the room instead of serving part of it.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use shared::protocol;
use yrs::sync::Awareness;
use yrs::{Doc, StateVector, Transact};

use super::guard::{encode_diff, has_pending};
use super::{cluster, Room, RoomState};
use crate::compaction::LogShape;
use crate::store::{SharedStore, StoreError};

impl Room {
    /// Builds the room from what the store holds. Blocking; run off the async runtime.
    /// Stored data that does not decode or apply refuses the room instead of serving part
    /// of it.
    pub fn load(name: &str, store: SharedStore, max_bytes: u64) -> Result<Room, StoreError> {
        let stored = store.load(name)?;
        let history = store.deletion_history(name)?;
        let room = Room::from_stored(name, store, max_bytes, stored, None)?;
        if let Some(history) = history {
            let history = crate::store::history::decode(&history).map_err(|reason| StoreError::Damaged { room: name.to_owned(), reason })?;
            room.forbid_content_before(history);
        }
        Ok(room)
    }

    /// Builds the room from stored updates (from the store, or a snapshot from Redis).
    pub(super) fn from_stored(
        name: &str,
        store: SharedStore,
        max_bytes: u64,
        stored: crate::store::StoredRoom,
        cluster: Option<crate::cluster::RoomLink>,
    ) -> Result<Room, StoreError> {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            for (index, bytes) in stored.updates.iter().enumerate() {
                let damaged = |reason: String| StoreError::Damaged {
                    room: name.to_owned(),
                    reason: format!("stored update #{index}: {reason}"),
                };
                let update = protocol::decode_update(bytes).map_err(|e| damaged(e.to_string()))?;
                match catch_unwind(AssertUnwindSafe(|| txn.apply_update(update))) {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => return Err(damaged(error.to_string())),
                    Err(_) => return Err(damaged("applying it panicked".into())),
                }
            }
        }
        if has_pending(&doc) {
            return Err(StoreError::Damaged {
                room: name.to_owned(),
                reason: "stored changes wait for dependencies that were never stored".into(),
            });
        }
        let has_log = stored.log_count > 0;
        let full_state = encode_diff(&doc, &StateVector::default()).map_err(|failure| StoreError::Damaged {
            room: name.to_owned(),
            reason: failure.to_string(),
        })?;
        let full_state_frame = Some(Bytes::from(protocol::sync_step2(full_state)));
        Ok(Room {
            name: name.to_owned(),
            store,
            max_bytes,
            cluster,
            state: Arc::new(Mutex::new(RoomState {
                awareness: Awareness::with_clock(doc, super::remote_presence::presence_clock),
                members: HashMap::new(),
                closed: false,
                last_active: Instant::now(),
                last_seq: stored.last_seq,
                log: LogShape {
                    snapshot_bytes: stored.snapshot_bytes,
                    log_entries: stored.log_count,
                    log_bytes: stored.log_bytes,
                    oldest_entry_age: None,
                },
                oldest_log_entry: has_log.then(Instant::now),
                full_state_frame,
                cluster: cluster::ClusterState::default(),
                presence: Default::default(),
                deleted_history: None,
            })),
        })
    }
}
