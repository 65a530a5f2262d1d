//! The standalone backend: rooms live in this relay's store (`crate::store`: updates in the
//! shared journal and snapshots, restore points and blobs in one SQLite file per room, or
//! all in memory). Nothing reaches other relays, so a local update is visible at once and
//! acknowledged when the store says it is durable; the sweep has nothing to do.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::{
    Accepted, BackendError, BlobRefusal, Compacted, Fold, LoadedRoom, LocalBlobs, LocalUpdate, Refused, RoomBackend, RoomContent,
    RoomLink, RoomSink,
};
use crate::store::{Archive, DurabilityStats, RestorePoint, RoomArchive, RoomInfo, SharedStore, StoreError, UpdateLog};

pub struct Standalone {
    log: Arc<dyn UpdateLog>,
    archive: Archive,
    blobs: LocalBlobs,
}

impl Standalone {
    /// Rooms in `store`; each room's blobs may take `blob_quota` bytes.
    pub fn new(store: SharedStore, blob_quota: u64) -> Self {
        let archive = store.clone().archive();
        Standalone { log: store.update_log(), blobs: LocalBlobs::new(archive.clone(), blob_quota), archive }
    }
}

/// `room` as `store` holds it, with a link that appends to `log`. Blocking: run it where
/// blocking is allowed (the backend does, through the archive; tools and fuzzing may call
/// it directly).
pub fn load_room(store: &dyn RoomArchive, log: Arc<dyn UpdateLog>, room: &str) -> Result<LoadedRoom, StoreError> {
    let stored = store.load(room)?;
    let deleted_history = store.deletion_history(room)?;
    let content = RoomContent { stored, deleted_history, tail: Vec::new(), position: String::new() };
    let link = StoreLink { room: room.to_owned(), log };
    Ok(LoadedRoom { content, link: Box::new(link), follow: Box::new(|_| {}) })
}

/// A room's link to the store: updates go to its log, which commits them in the background.
struct StoreLink {
    room: String,
    log: Arc<dyn UpdateLog>,
}

impl RoomLink for StoreLink {
    fn append(&self, update: LocalUpdate) -> Result<Accepted, Refused> {
        let LocalUpdate { seq, update, frame, on_durable, .. } = update;
        if let Err(error) = self.log.append(&self.room, seq, &update, on_durable) {
            tracing::error!(room = %self.room, %error, "the store refused an update");
            return Err(Refused::Reload);
        }
        Ok(Accepted::Now { frame: LocalUpdate::frame_of(frame, update) })
    }

    fn share_awareness(&self, _frame: &Bytes) -> Result<(), Refused> {
        Ok(())
    }
}

#[async_trait]
impl RoomBackend for Standalone {
    async fn load(&self, room: &str) -> Result<LoadedRoom, BackendError> {
        let (log, owned) = (self.log.clone(), room.to_owned());
        Ok(self.archive.run(move |store| load_room(store, log, &owned)).await?)
    }

    async fn compact(&self, room: &str, fold: &mut (dyn FnMut() -> Option<Fold> + Send)) -> Result<Compacted, BackendError> {
        let Some(fold) = fold() else { return Ok(Compacted::Skipped) };
        let bytes = fold.state.len();
        match self.log.compact(room, fold.seq, fold.state) {
            Ok(()) => {
                tracing::debug!(room, through = fold.seq, bytes, "compaction queued");
                Ok(Compacted::Written)
            }
            Err(error) => {
                tracing::error!(room, %error, "compaction refused");
                Ok(Compacted::Skipped)
            }
        }
    }

    async fn record_deletion(&self, room: &str, history: Option<Vec<u8>>) -> Result<(), BackendError> {
        let Some(history) = history else { return Ok(()) };
        let room = room.to_owned();
        Ok(self.archive.run(move |store| store.remember_deletion(&room, &history)).await?)
    }

    async fn delete_local_copy(&self, room: &str) -> Result<(), BackendError> {
        let room = room.to_owned();
        Ok(self.archive.run(move |store| store.delete_room(&room)).await?)
    }

    async fn list_rooms(&self) -> Result<Vec<RoomInfo>, BackendError> {
        Ok(self.archive.run(|store| store.list_rooms()).await?)
    }

    async fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, BackendError> {
        let (room, name) = (room.to_owned(), name.to_owned());
        Ok(self.archive.run(move |store| store.save_restore_point(&room, &name, state)).await?)
    }

    async fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, BackendError> {
        let room = room.to_owned();
        Ok(self.archive.run(move |store| store.restore_points(&room)).await?)
    }

    async fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, BackendError> {
        let room = room.to_owned();
        Ok(self.archive.run(move |store| store.restore_point_state(&room, id)).await?)
    }

    async fn put_blob(&self, room: &str, id: &str, content_type: &'static str, data: Bytes) -> Result<(), BlobRefusal> {
        self.blobs.put(room, id, content_type, data.to_vec()).await
    }

    async fn blob(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), BackendError> {
        Ok(self.blobs.get(room, id).await?)
    }

    async fn sweep(&self, rooms: &[Arc<dyn RoomSink>]) -> Vec<bool> {
        vec![false; rooms.len()]
    }

    async fn flush(&self) -> Result<(), BackendError> {
        Ok(self.archive.run(|store| store.flush()).await?)
    }

    async fn close(&self) {
        let closed = self.archive.run(|store| {
            store.close();
            Ok(())
        });
        if let Err(error) = closed.await {
            tracing::warn!(%error, "the store did not close cleanly");
        }
    }

    fn durability(&self) -> Option<DurabilityStats> {
        self.log.durability()
    }

    async fn ready(&self) -> Result<(), BackendError> {
        // A flush is an empty commit round through the store's writer: it fails once the
        // journal failed (it then refuses every write) and hangs while the disk does.
        Ok(self.archive.run(|store| store.flush()).await?)
    }
}
