//! Where a room lives, and how its changes reach other relays: the one seam between the
//! rooms in memory and their storage.
//!
//! [`RoomBackend`] is everything the relay asks of it: load a room (what is stored, and a
//! [`RoomLink`] for as long as the room is in memory), compact, delete (recording the room's
//! history so its content stays refused), list rooms, restore points, blobs within their
//! quota, upkeep of the rooms in memory, flush and close. Two implementations, chosen once
//! when the relay starts (`server.rs`):
//!
//! - [`standalone`]: this relay's store (`crate::store`: the journal and one SQLite file per
//!   room, or memory).
//! - the Redis backend (`cluster/`): shared by every relay started with the same `--redis`
//!   (a stream per room, snapshots under a lease, one reader per relay).
//!
//! The rooms, the HTTP routes and each room hold a `RoomBackend` (or a room its `RoomLink`)
//! and never ask which one it is. The arrows run one way: room → backend ← cluster. A
//! backend never names a room; it talks to one through [`RoomSink`], which `Room`
//! implements: changes from elsewhere, held updates released, the backend lost.
//!
//! Who may block: nothing here. A room calls its link under its lock, so links only queue
//! (the standalone one into the store's [`crate::store::UpdateLog`], the Redis one into its
//! publisher); everything else is `async`, and what reaches the disk goes through
//! [`crate::store::Archive`], which runs it on a blocking thread.

mod blobs;
mod link;
mod quota;
pub mod standalone;

pub use blobs::{blob_id, LocalBlobs, CONTENT_TYPES};
pub use link::{Accepted, Change, ChangeKind, Delivery, Follow, LocalUpdate, Refused, RoomLink, RoomSink};
pub use quota::OverQuota;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::store::{DurabilityStats, RestorePoint, RoomInfo, StoreError, StoredRoom};

/// Why the backend could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// This relay's store failed, or what it holds for the room is damaged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The shared store cannot be reached: writes are refused until it is back.
    #[error("{0}")]
    Unreachable(String),
    /// What the shared store holds is damaged.
    #[error("{0}")]
    Damaged(String),
    /// No such thing (a restore point).
    #[error("{0}")]
    NotFound(String),
    /// Loading the room was interrupted.
    #[error("loading the room was interrupted")]
    Interrupted,
}

impl BackendError {
    /// The close code a joiner gets: damaged rooms are unavailable, an unreachable shared
    /// store is "store unavailable, retry".
    pub fn close_code(&self) -> u16 {
        match self {
            BackendError::Unreachable(_) => shared::close::STORE_UNAVAILABLE,
            _ => shared::close::ROOM_UNAVAILABLE,
        }
    }
}

/// Why a blob was not stored.
#[derive(Debug, thiserror::Error)]
pub enum BlobRefusal {
    /// The room's blobs would go over `--max-room-blob-bytes`.
    #[error("{0}")]
    OverQuota(OverQuota),
    #[error(transparent)]
    Failed(#[from] BackendError),
}

/// What the backend holds for a room, ready to be built into a room in memory.
pub struct RoomContent {
    /// The snapshot (if any) and the log after it, oldest first.
    pub stored: StoredRoom,
    /// Set if the room was deleted: what it held then (see `room/deletion.rs`).
    pub deleted_history: Option<Vec<u8>>,
    /// Changes after `stored` in the shared log, applied with the checks of live ones.
    pub tail: Vec<Change>,
    /// Where `stored` and `tail` reach in the shared log ("" without one).
    pub position: String,
}

/// A room as loaded: its content, its link, and what starts following it once it exists.
pub struct LoadedRoom {
    pub content: RoomContent,
    pub link: Box<dyn RoomLink>,
    pub follow: Follow,
}

/// A room's log folded into one snapshot, taken under the room's lock.
pub struct Fold {
    /// The room's own number of the last update folded in (this relay's log).
    pub seq: u64,
    /// Where the folded state stands in the shared log ("" without one).
    pub position: String,
    /// The whole room as one update.
    pub state: Vec<u8>,
}

/// How a compaction went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compacted {
    /// A snapshot was written (or queued to be).
    Written,
    /// Nothing was written (not due after all, or a newer snapshot exists).
    Skipped,
    /// Another relay folds this room's log: the room should count its log afresh.
    Elsewhere,
}

/// Where rooms live and how their changes travel (see the module documentation).
#[async_trait]
pub trait RoomBackend: Send + Sync + 'static {
    /// What is stored for `room`, and its link while it is in memory.
    async fn load(&self, room: &str) -> Result<LoadedRoom, BackendError>;

    /// Folds `room`'s log into a snapshot; `fold` takes it under the room's lock (`None`:
    /// not due after all).
    async fn compact(&self, room: &str, fold: &mut (dyn FnMut() -> Option<Fold> + Send)) -> Result<Compacted, BackendError>;

    /// Records that `room` was deleted, beyond this relay's memory: its `history` (what it
    /// held, if known) keeps copies of that content out; in cluster mode every relay closes
    /// the room and drops its copy.
    async fn record_deletion(&self, room: &str, history: Option<Vec<u8>>) -> Result<(), BackendError>;

    /// Removes what this relay's store keeps of `room` (its files, restore points, blobs).
    async fn delete_local_copy(&self, room: &str) -> Result<(), BackendError>;

    /// Every room, for the admin API.
    async fn list_rooms(&self) -> Result<Vec<RoomInfo>, BackendError>;

    async fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, BackendError>;

    /// `room`'s restore points, newest first.
    async fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, BackendError>;

    /// The content of restore point `id` of `room` (one update).
    async fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, BackendError>;

    /// Stores blob `id` (the SHA-256 of `data`) of `room`, unless the room's blobs would go
    /// over the quota; a blob the room already holds costs nothing.
    async fn put_blob(&self, room: &str, id: &str, content_type: &'static str, data: Bytes) -> Result<(), BlobRefusal>;

    /// Blob `id` of `room`: its content type and bytes.
    async fn blob(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), BackendError>;

    /// Periodic upkeep of the rooms in memory that the backend needs (presence from other
    /// relays, rooms that fell behind the shared log). True for each room it took out of
    /// service.
    async fn sweep(&self, rooms: &[Arc<dyn RoomSink>]) -> Vec<bool>;

    /// Makes everything handed over so far durable.
    async fn flush(&self) -> Result<(), BackendError>;

    /// Stops taking writes once everything is durable (the last step of a shutdown).
    async fn close(&self);

    /// Durability figures of this relay's store, if it commits to disk.
    fn durability(&self) -> Option<DurabilityStats>;

    /// Whether writes can be stored now (`/readyz`): the store commits, and in cluster mode
    /// Redis answers. Bounded by the caller.
    async fn ready(&self) -> Result<(), BackendError>;
}
