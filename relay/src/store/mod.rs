//! Room storage, so the relay does not care where rooms live on this machine.
//!
//! A room is stored as a snapshot (one update holding the whole room as of sequence number
//! `through`) plus a log of the updates accepted after it, each with its sequence number.
//! Loading folds them in order. The room assigns sequence numbers; the store keeps them.
//!
//! A store has two parts, split by what their callers may do, and the types say which may
//! block. [`UpdateLog`] (`append`, `compact`) is what a room calls while it holds its lock:
//! it never blocks on the disk (durable stores queue the write and batch many appends into
//! one commit, group commit, then call each append's `on_durable`); `compact` is written in
//! order with the appends, so it only ever removes log entries the snapshot covers.
//! [`RoomArchive`] (loads, snapshots' readers, restore points, blobs, deletes, flush) may
//! block, and the relay holds it only as an [`Archive`], whose every call is `async` and
//! runs on a blocking thread.

mod archive;
pub mod history;
pub mod journal;
mod memory;
pub mod sqlite;

pub use archive::Archive;
pub use memory::MemoryStore;
pub use sqlite::{DurabilityStats, SqliteStore};

use std::sync::Arc;

use crate::instruments::Instruments;

/// Why the store could not do what was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("room {room:?} is damaged: {reason}")]
    Damaged { room: String, reason: String },
    #[error("storage failed: {0}")]
    Io(String),
    #[error("storage is unavailable after an earlier write failure: {0}")]
    Unavailable(String),
    #[error("no such {0}")]
    NotFound(String),
}

/// What the store holds for a room.
#[derive(Debug, Default, Clone)]
pub struct StoredRoom {
    /// The snapshot (if any) followed by the log, oldest first.
    pub updates: Vec<Vec<u8>>,
    /// Sequence number of the newest stored update (0 for a room never stored).
    pub last_seq: u64,
    /// Bytes of the snapshot, and count and bytes of the log after it.
    pub snapshot_bytes: u64,
    pub log_count: u64,
    pub log_bytes: u64,
}

/// A room as listed by the admin API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoomInfo {
    pub name: String,
    /// Stored bytes: snapshot plus log.
    pub stored_bytes: u64,
    pub log_entries: u64,
    /// Unix milliseconds of the last stored change.
    pub last_activity_ms: i64,
}

/// A named snapshot of a room that can be restored later.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestorePoint {
    pub id: i64,
    pub name: String,
    pub created_ms: i64,
    pub bytes: u64,
}

/// What a room's blobs take in the store, for the blob quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlobUsage {
    /// Bytes of every blob of the room (content only).
    pub bytes: u64,
    /// Whether the blob asked about is one of them.
    pub present: bool,
}

/// Called once an appended update is durable.
pub type OnDurable = Box<dyn FnOnce() + Send>;

/// The part of a store a room calls while it holds its lock: nothing here may block. A
/// durable store queues the write and commits many at once (group commit), then calls each
/// append's `on_durable`.
pub trait UpdateLog: Send + Sync + 'static {
    /// Records update number `seq` of `room`.
    fn append(&self, room: &str, seq: u64, update: &[u8], on_durable: Option<OnDurable>) -> Result<(), StoreError>;

    /// Replaces the snapshot of `room` with `state` (the whole room as of `through`) and
    /// drops the log entries up to `through`.
    fn compact(&self, room: &str, through: u64, state: Vec<u8>) -> Result<(), StoreError>;

    /// Latency and volume of the durable commits since the store opened, for a store that
    /// commits to disk (read from counters: this does not block either).
    fn durability(&self) -> Option<DurabilityStats> {
        None
    }

    /// Hands the store the relay's instruments, to record its commits, durability latency
    /// and failures in (a store that commits nothing records nothing).
    fn instrument(&self, _instruments: Arc<Instruments>) {}
}

/// The part of a store that may block (reads, snapshots, restore points, blobs, deletes).
/// The relay reaches it only through [`Archive`], which runs every call on a blocking
/// thread; a room never holds one.
pub trait RoomArchive: Send + Sync + 'static {
    /// What is stored for `room`; empty for a room never stored. Everything appended
    /// before this call is included.
    fn load(&self, room: &str) -> Result<StoredRoom, StoreError>;

    /// Forgets a room, its restore points and its blobs.
    fn delete_room(&self, room: &str) -> Result<(), StoreError>;

    /// Remembers what `room` held when it was deleted (`history`, an encoded state vector,
    /// merged with any recorded before), beyond the room itself (see [`history`]). Durable
    /// when it returns.
    fn remember_deletion(&self, room: &str, history: &[u8]) -> Result<(), StoreError>;

    /// What [`RoomArchive::remember_deletion`] recorded for `room`, if anything.
    fn deletion_history(&self, room: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every stored room.
    fn list_rooms(&self) -> Result<Vec<RoomInfo>, StoreError>;

    /// Saves `state` as a restore point of `room` named `name`.
    fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, StoreError>;

    /// The restore points of `room`, newest first.
    fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, StoreError>;

    /// The state saved in restore point `id` of `room`.
    fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, StoreError>;

    /// Stores blob `id` (the SHA-256 of `data`, computed by the caller) of `room`; storing
    /// an id that is already there changes nothing. Durable when it returns.
    fn put_blob(&self, room: &str, id: &str, content_type: &str, data: Vec<u8>) -> Result<(), StoreError>;

    /// Blob `id` of `room`: its content type and bytes.
    fn blob(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), StoreError>;

    /// The bytes all blobs of `room` take, and whether blob `id` is stored (without reading
    /// any blob's content). Every `put_blob` that returned is counted.
    fn blob_usage(&self, room: &str, id: &str) -> Result<BlobUsage, StoreError>;

    /// Makes everything appended so far durable.
    fn flush(&self) -> Result<(), StoreError>;

    /// Makes everything appended so far durable and stops taking writes (the relay's last
    /// step when it shuts down). Nothing to do for a store without a writer of its own.
    fn close(&self) {}
}

/// A whole store: both parts, as a store is opened, handed to the relay and split by it.
pub trait RoomStore: UpdateLog + RoomArchive {
    /// The part rooms may call under their lock.
    fn update_log(self: Arc<Self>) -> Arc<dyn UpdateLog>;
    /// The part that may block, behind [`Archive`].
    fn archive(self: Arc<Self>) -> Archive;
}

impl<T: UpdateLog + RoomArchive> RoomStore for T {
    fn update_log(self: Arc<Self>) -> Arc<dyn UpdateLog> {
        self
    }

    fn archive(self: Arc<Self>) -> Archive {
        Archive::new(self)
    }
}

pub type SharedStore = Arc<dyn RoomStore>;

/// Unix time in milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
