//! What the store's callers hand to the writer thread: one job per append, compaction,
//! delete, restore point, blob or barrier. The writer (`writer.rs`) commits them in rounds;
//! the room files (`room_files.rs`) take the share that goes to a room's file.

use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Instant;

use crate::store::{OnDurable, RestorePoint, StoreError};

pub enum Job {
    Append { room: Arc<str>, seq: u64, data: Vec<u8>, queued: Instant, on_durable: Option<OnDurable> },
    Compact { room: Arc<str>, through: u64, state: Vec<u8> },
    Delete { room: Arc<str>, done: Sender<Result<(), StoreError>> },
    RestorePoint { room: Arc<str>, name: String, state: Vec<u8>, done: Sender<Result<RestorePoint, StoreError>> },
    Blob { room: Arc<str>, id: String, content_type: String, data: Vec<u8>, done: Sender<Result<(), StoreError>> },
    /// Answers once every job queued before it is durable.
    Barrier { done: Sender<Result<(), StoreError>> },
}

impl Job {
    /// The room whose file this job writes (appends go to the journal instead).
    pub fn file_room(&self) -> Option<&Arc<str>> {
        match self {
            Job::Compact { room, .. } | Job::Delete { room, .. } | Job::RestorePoint { room, .. } | Job::Blob { room, .. } => {
                Some(room)
            }
            Job::Append { .. } | Job::Barrier { .. } => None,
        }
    }

    pub fn bytes(&self) -> usize {
        match self {
            Job::Append { data, .. } => data.len(),
            Job::Compact { state, .. } | Job::RestorePoint { state, .. } | Job::Blob { data: state, .. } => state.len(),
            Job::Delete { .. } | Job::Barrier { .. } => 0,
        }
    }
}
