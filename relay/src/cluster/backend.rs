//! The Redis backend: `crate::backend::RoomBackend` over [`Cluster`]. Room content,
//! snapshots, deletions and restore points live in Redis; this relay's store keeps only its
//! copies of the rooms' blobs (uploaded here, or fetched from Redis when another relay
//! received them); the blob quota is counted in Redis, per room across the cluster.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::entry::{parse_id, Kind};
use super::blobs::SharedBlobError;
use super::points::PointError;
use super::{Cluster, ClusterError, ClusterSettings};
use crate::backend::{
    blob_id, BackendError, BlobRefusal, Change, ChangeKind, Compacted, Fold, LoadedRoom, LocalBlobs, RoomBackend, RoomContent,
    RoomSink, CONTENT_TYPES,
};
use crate::instruments::Instruments;
use crate::lifecycle::Lifecycle;
use crate::store::{Archive, DurabilityStats, RestorePoint, RoomInfo, SharedStore, StoreError, StoredRoom, UpdateLog};

pub struct ClusterBackend {
    cluster: Arc<Cluster>,
    archive: Archive,
    blobs: LocalBlobs,
    /// Most bytes one room's blobs may take in Redis, whichever relay they were uploaded to.
    blob_quota: u64,
    /// This relay's store, for its durability figures only.
    local: Arc<dyn UpdateLog>,
}

impl ClusterBackend {
    /// Connects to Redis at `url` (fails if it cannot be reached now); `store` keeps this
    /// relay's copies of blobs; each room's blobs in Redis stay within `blob_quota` bytes. The reader and the
    /// rooms' publishers run on `lifecycle`; round trips and errors go to `instruments`.
    pub async fn connect(
        url: &str,
        settings: ClusterSettings,
        store: SharedStore,
        blob_quota: u64,
        lifecycle: Lifecycle,
        instruments: Arc<Instruments>,
    ) -> Result<Self, ClusterError> {
        let archive = store.clone().archive();
        let cluster = Cluster::connect(url, settings, archive.clone(), lifecycle, instruments).await?;
        Ok(ClusterBackend {
            cluster: Arc::new(cluster),
            blobs: LocalBlobs::new(archive.clone(), blob_quota),
            blob_quota,
            archive,
            local: store.update_log(),
        })
    }
}

/// Redis failing, as the API reports it: unavailable, whatever went wrong.
fn unreachable(error: ClusterError) -> BackendError {
    BackendError::Unreachable(error.to_string())
}

#[async_trait]
impl RoomBackend for ClusterBackend {
    async fn load(&self, room: &str) -> Result<LoadedRoom, BackendError> {
        let loaded = self.cluster.timed("load", self.cluster.load(room)).await.map_err(|error| match error {
            ClusterError::Redis(_) => BackendError::Unreachable(error.to_string()),
            ClusterError::Damaged { .. } => BackendError::Damaged(error.to_string()),
        })?;
        let position = loaded.tail.last().map_or_else(|| loaded.snapshot_id.clone(), |entry| entry.id.clone());
        let snapshot_bytes = loaded.snapshot.as_ref().map_or(0, |s| s.len() as u64);
        let stored = StoredRoom { updates: loaded.snapshot.into_iter().collect(), snapshot_bytes, ..StoredRoom::default() };
        // Every entry of the tail is another relay's (or an earlier instance's): applied
        // with the checks of live ones.
        let tail = loaded
            .tail
            .into_iter()
            .map(|entry| {
                let kind = match entry.kind {
                    Kind::Update => ChangeKind::Update(entry.data.into()),
                    Kind::Awareness => ChangeKind::Awareness(entry.data.into()),
                    Kind::Deleted => ChangeKind::Deleted,
                };
                Change { id: entry.id, kind }
            })
            .collect();
        let (link, follow) = self.cluster.link(room, position.clone());
        let content = RoomContent { stored, deleted_history: loaded.deleted_history, tail, position };
        tracing::debug!(room, "room loaded from redis");
        Ok(LoadedRoom { content, link: Box::new(link), follow })
    }

    async fn compact(&self, room: &str, fold: &mut (dyn FnMut() -> Option<Fold> + Send)) -> Result<Compacted, BackendError> {
        self.cluster.timed("compact", self.cluster.compact(room, fold)).await.map_err(unreachable)
    }

    async fn record_deletion(&self, room: &str, history: Option<Vec<u8>>) -> Result<(), BackendError> {
        // The room lives in Redis and in the other relays' memory: every relay's reader
        // meets the deletion, closes the room and drops its copy (see `super::delete`).
        self.cluster.delete_room(room, history.as_deref()).await.map_err(unreachable)?;
        Ok(())
    }

    async fn delete_local_copy(&self, room: &str) -> Result<(), BackendError> {
        let room = room.to_owned();
        Ok(self.archive.run(move |store| store.delete_room(&room)).await?)
    }

    async fn list_rooms(&self) -> Result<Vec<RoomInfo>, BackendError> {
        // Rooms live in Redis (`super::list`), not in this relay's store.
        self.cluster.list_rooms().await.map_err(unreachable)
    }

    async fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, BackendError> {
        self.cluster.save_restore_point(room, name, state).await.map_err(unreachable)
    }

    async fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, BackendError> {
        self.cluster.restore_points(room).await.map_err(unreachable)
    }

    async fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, BackendError> {
        self.cluster.restore_point_state(room, id).await.map_err(|error| match error {
            PointError::NotFound { .. } => BackendError::NotFound(error.to_string()),
            PointError::Damaged { .. } => BackendError::Damaged(error.to_string()),
            PointError::Cluster(error) => unreachable(error),
        })
    }

    async fn put_blob(&self, room: &str, id: &str, content_type: &'static str, data: Bytes) -> Result<(), BlobRefusal> {
        // Redis holds the room's blobs for every relay and counts them against the room's
        // quota (`super::blobs`); this relay's store keeps a copy to serve it from.
        match self.cluster.put_blob(room, id, content_type, &data, self.blob_quota).await {
            Ok(()) => {}
            Err(SharedBlobError::OverQuota(over)) => return Err(BlobRefusal::OverQuota(over)),
            Err(SharedBlobError::Cluster(error)) => return Err(blob_store_unavailable(error)),
        }
        self.blobs.keep(room, id, content_type, data.to_vec()).await.map_err(BackendError::from)?;
        Ok(())
    }

    async fn blob(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), BackendError> {
        match self.blobs.get(room, id).await {
            Err(StoreError::NotFound(_)) => Ok(self.blob_from_redis(room, id).await?),
            other => Ok(other?),
        }
    }

    async fn sweep(&self, rooms: &[Arc<dyn RoomSink>]) -> Vec<bool> {
        // A relay that crashed sent no removals for its users' presence: drop what nobody
        // renewed (see the room's `remote_presence.rs`).
        if let Some(timeout) = self.cluster.settings.remote_presence_timeout {
            for room in rooms {
                room.expire_remote_presence(timeout);
            }
        }
        self.rooms_behind_trim_points(rooms).await
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
        self.local.durability()
    }

    async fn ready(&self) -> Result<(), BackendError> {
        self.cluster.ping().await.map_err(unreachable)?;
        // This relay's store keeps the blobs: it must commit too.
        Ok(self.archive.run(|store| store.flush()).await?)
    }
}

fn blob_store_unavailable(error: ClusterError) -> BlobRefusal {
    BlobRefusal::Failed(BackendError::Store(StoreError::Unavailable(error.to_string())))
}

impl ClusterBackend {
    /// A blob another relay received: fetched from Redis, checked against its id, and kept
    /// in this relay's store (a failure to keep it only costs another fetch next time).
    async fn blob_from_redis(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), StoreError> {
        let not_found = || StoreError::NotFound(format!("blob {id} of room {room:?}"));
        let fetched = self.cluster.blob(room, id).await.map_err(|error| StoreError::Unavailable(error.to_string()))?;
        let (content_type, bytes) = fetched.ok_or_else(not_found)?;
        let damaged = |reason: String| StoreError::Damaged { room: room.to_owned(), reason };
        let Some(&(known_type, _)) = CONTENT_TYPES.iter().find(|(name, _)| *name == content_type) else {
            return Err(damaged(format!("blob {id} in redis has type {content_type:?}")));
        };
        if blob_id(&bytes) != id {
            return Err(damaged(format!("blob {id} in redis does not match its id")));
        }
        if let Err(error) = self.blobs.keep(room, id, known_type, bytes.clone()).await {
            tracing::warn!(room, id, %error, "could not keep a copy of a blob from redis");
        }
        Ok((content_type, bytes))
    }

    /// Takes out of service the rooms whose stream was trimmed past where their state stands
    /// (a reader that fell that far behind would miss entries; see
    /// `RoomSink::check_behind`). One Redis round trip for all of them.
    async fn rooms_behind_trim_points(&self, rooms: &[Arc<dyn RoomSink>]) -> Vec<bool> {
        let names: Vec<&str> = rooms.iter().map(|room| room.name()).collect();
        let points = match self.cluster.timed("trim_check", self.cluster.trim_points(&names)).await {
            Ok(points) => points,
            Err(error) => {
                tracing::warn!(%error, "could not read the rooms' trim points");
                return vec![false; rooms.len()];
            }
        };
        rooms
            .iter()
            .zip(points)
            .map(|(room, trimmed)| {
                let Some((trimmed, trim)) = trimmed.and_then(|t| parse_id(&t).map(|at| (t, at))) else { return false };
                let left = room.check_behind(&|position| parse_id(position).is_some_and(|at| at < trim));
                if left {
                    self.cluster.instruments.redis_rooms_behind.inc();
                    tracing::warn!(room = room.name(), trimmed, "the stream reader fell behind the trim point");
                }
                left
            })
            .collect()
    }
}
