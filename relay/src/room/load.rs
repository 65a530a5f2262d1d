//! Building a room in memory from what its backend holds: a snapshot and the log after it,
//! and the shared log's changes after those (applied with the checks of live ones). Stored
//! data that does not decode or apply refuses the room instead of serving part of it.

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
use super::{held, Room, RoomState};
use crate::backend::{RoomContent, RoomLink};
use crate::compaction::LogShape;
use crate::store::{history, StoreError, StoredRoom};

impl Room {
    /// Builds the room from what its backend holds (`content`), with `link` as its way back.
    /// Takes CPU time in proportion to the room (a 20 MB room takes a while): run it off the
    /// async runtime's workers.
    pub fn load(name: &str, content: RoomContent, link: Box<dyn RoomLink>, max_bytes: u64) -> Result<Room, StoreError> {
        let damaged = |reason: String| StoreError::Damaged { room: name.to_owned(), reason };
        let RoomContent { stored, deleted_history, tail, position } = content;
        let room = Room::from_stored(name, link, max_bytes, stored)?;
        if let Some(history) = deleted_history {
            room.forbid_content_before(history::decode(&history).map_err(damaged)?);
        }
        let mut state = room.state.lock();
        for change in &tail {
            room.apply_elsewhere(&mut state, &change.kind).map_err(|reason| damaged(format!("entry {}: {}", change.id, reason.reason)))?;
        }
        state.held.position = position;
        drop(state);
        Ok(room)
    }

    /// Builds the room from stored updates.
    fn from_stored(name: &str, link: Box<dyn RoomLink>, max_bytes: u64, stored: StoredRoom) -> Result<Room, StoreError> {
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
            max_bytes,
            state: Arc::new(Mutex::new(RoomState {
                awareness: Awareness::with_clock(doc, super::remote_presence::presence_clock),
                members: HashMap::new(),
                link: Some(link),
                closed: None,
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
                held: held::Held::default(),
                presence: Default::default(),
                deleted_history: None,
            })),
        })
    }
}
