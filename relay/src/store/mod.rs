//! Room storage behind one small trait, so the relay does not care where rooms live.
//!
//! A room is stored as a sequence of v1 updates (a snapshot followed by a log of accepted
//! updates); loading applies them in order. `append` is called for every accepted update and
//! must not block the caller for long: durable implementations queue the write and
//! batch it. `save_snapshot` replaces everything stored for the room with one state update.

mod memory;

pub use memory::MemoryStore;

use std::sync::Arc;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("room {room:?} is damaged: {reason}")]
    Damaged { room: String, reason: String },
    #[error("storage I/O failed: {0}")]
    Io(String),
}

/// Where rooms are kept between the times they are in memory.
pub trait RoomStore: Send + Sync + 'static {
    /// Every stored update of `room`, oldest first; empty for a room never stored.
    /// May block: the relay calls it off the async runtime.
    fn load(&self, room: &str) -> Result<Vec<Vec<u8>>, StoreError>;

    /// Records an update accepted into `room`.
    fn append(&self, room: &str, update: &[u8]) -> Result<(), StoreError>;

    /// Replaces what is stored for `room` with `state`, one update holding the whole room.
    fn save_snapshot(&self, room: &str, state: &[u8]) -> Result<(), StoreError>;

    /// Makes everything appended so far durable. Called on graceful shutdown.
    fn flush(&self) -> Result<(), StoreError>;
}

pub type SharedStore = Arc<dyn RoomStore>;
