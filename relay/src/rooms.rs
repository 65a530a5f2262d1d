//! The rooms in memory: look a room up (loading it from the store on first use), keep it
//! while anyone is in it, and let it go when it has been idle for the idle time or when the
//! rooms in memory exceed the cache budget (least recently active first). Evicting costs
//! nothing durable: the store already holds every update.
//!
//! Loading happens once per room even when many clients join at once: concurrent joiners
//! wait on the same load. A room that fails to load is not cached, so a repaired store can
//! be retried, and it affects no other room.
//!
//! In cluster mode (`--redis`) rooms load from Redis instead (snapshot plus stream tail, see
//! [`crate::cluster`]), each with its publisher task and followed by the relay's one stream reader, and compaction goes
//! through the cluster's lease.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::OnceCell;

use crate::cluster::{ClusterError, SharedCluster};
use crate::compaction::CompactionPolicy;
use crate::close_reason::CloseReason;
use crate::room::Room;
use crate::store::{SharedStore, StoreError};

type Slot = Arc<OnceCell<Arc<Room>>>;

/// How much the rooms in memory may hold, and for how long after their last member left.
/// Outbound queue depths, summed over connections, and the deepest single queue.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct QueueDepths {
    pub control: usize,
    pub updates: usize,
    pub awareness: usize,
    pub deepest: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    pub idle: Duration,
    pub budget_bytes: u64,
    /// Largest a room may grow (its stored form), in bytes.
    pub max_room_bytes: u64,
}

pub struct Rooms {
    store: SharedStore,
    limits: CacheLimits,
    compaction: CompactionPolicy,
    slots: Mutex<HashMap<String, Slot>>,
    cluster: Option<SharedCluster>,
    joins_from_memory: AtomicU64,
    joins_from_store: AtomicU64,
}

/// Why a room could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("loading the room was interrupted")]
    Interrupted,
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

impl OpenError {
    /// The close code a joiner gets: damaged rooms are unavailable, an unreachable Redis is
    /// "store unavailable, retry".
    pub fn close_code(&self) -> u16 {
        match self {
            OpenError::Cluster(ClusterError::Redis(_)) => shared::close::STORE_UNAVAILABLE,
            _ => shared::close::ROOM_UNAVAILABLE,
        }
    }
}

/// Joins served from memory and from the store since start.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct CacheStats {
    pub joins_from_memory: u64,
    pub joins_from_store: u64,
    pub rooms_in_memory: usize,
    pub bytes_in_memory: u64,
}

impl Rooms {
    pub fn new(store: SharedStore, limits: CacheLimits, compaction: CompactionPolicy) -> Self {
        Rooms {
            store,
            limits,
            compaction,
            slots: Mutex::new(HashMap::new()),
            cluster: None,
            joins_from_memory: AtomicU64::new(0),
            joins_from_store: AtomicU64::new(0),
        }
    }

    /// Shares rooms with other relays through Redis.
    pub fn with_cluster(mut self, cluster: SharedCluster) -> Self {
        self.cluster = Some(cluster);
        self
    }

    pub fn cluster(&self) -> Option<&SharedCluster> {
        self.cluster.as_ref()
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The blocking part of the store (restore points, blobs, listings), called off the runtime.
    pub fn archive(&self) -> crate::store::Archive {
        self.store.clone().archive()
    }

    /// The room named `name`, loaded from the store if it is not in memory.
    pub async fn open(&self, name: &str) -> Result<Arc<Room>, OpenError> {
        let slot = {
            let mut slots = self.slots.lock();
            let stale = slots.get(name).and_then(|slot| slot.get()).is_some_and(|room| room.is_closed());
            if stale {
                slots.remove(name);
            }
            slots.entry(name.to_owned()).or_default().clone()
        };
        let mut loaded_here = false;
        let room = slot
            .get_or_try_init(|| async {
                loaded_here = true;
                if let Some(cluster) = &self.cluster {
                    return self.load_clustered(cluster, name).await;
                }
                let store = self.store.clone();
                let (owned, max_bytes) = (name.to_owned(), self.limits.max_room_bytes);
                let room = tokio::task::spawn_blocking(move || Room::load(&owned, store, max_bytes))
                    .await
                    .map_err(|_| OpenError::Interrupted)??;
                tracing::debug!(room = name, "room loaded from the store");
                Ok::<_, OpenError>(Arc::new(room))
            })
            .await?;
        let counter = if loaded_here { &self.joins_from_store } else { &self.joins_from_memory };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(room.clone())
    }

    async fn load_clustered(&self, cluster: &SharedCluster, name: &str) -> Result<Arc<Room>, OpenError> {
        let loaded = cluster.load(name).await?;
        let (link, tasks) = cluster.link(name);
        let (store, owned, max_bytes) = (self.store.clone(), name.to_owned(), self.limits.max_room_bytes);
        let room = tokio::task::spawn_blocking(move || Room::load_clustered(&owned, store, max_bytes, loaded, link))
            .await
            .map_err(|_| OpenError::Interrupted)??;
        let room = Arc::new(room);
        tasks.spawn(&room, room.cluster_position());
        tracing::debug!(room = name, "room loaded from redis");
        Ok(room)
    }

    /// The room named `name` if it is in memory.
    pub fn get_loaded(&self, name: &str) -> Option<Arc<Room>> {
        self.slots.lock().get(name).and_then(|slot| slot.get().cloned()).filter(|room| !room.is_closed())
    }

    /// Rooms currently in memory.
    pub fn loaded(&self) -> Vec<Arc<Room>> {
        self.slots.lock().values().filter_map(|slot| slot.get().cloned()).filter(|r| !r.is_closed()).collect()
    }

    /// Frames waiting in the outbound queues of every member of every room in memory.
    pub fn queue_depths(&self) -> QueueDepths {
        let mut total = QueueDepths::default();
        for room in self.loaded() {
            room.add_queue_depths(&mut total);
        }
        total
    }

    pub fn cache_stats(&self) -> CacheStats {
        let loaded = self.loaded();
        CacheStats {
            joins_from_memory: self.joins_from_memory.load(Ordering::Relaxed),
            joins_from_store: self.joins_from_store.load(Ordering::Relaxed),
            rooms_in_memory: loaded.len(),
            bytes_in_memory: loaded.iter().map(|r| r.approx_bytes()).sum(),
        }
    }

    /// Periodic upkeep: drop other relays' presence states that stopped being renewed
    /// (cluster mode), compact the rooms whose log is due, then evict idle rooms and, while
    /// over the byte budget, the least recently active empty rooms.
    pub async fn sweep(&self) {
        let mut loaded = self.loaded();
        if let Some(timeout) = self.cluster.as_ref().and_then(|c| c.settings.remote_presence_timeout) {
            for room in &loaded {
                room.expire_remote_presence(timeout);
            }
        }
        self.check_trim_points(&loaded).await;
        for room in &loaded {
            self.compact_now(room, false).await;
        }
        let idle = self.limits.idle;
        loaded.retain(|room| {
            let evicted = room.evict_if(|last_active| last_active.elapsed() >= idle);
            if evicted {
                self.forget(room);
            }
            !evicted
        });
        let mut total: u64 = loaded.iter().map(|r| r.approx_bytes()).sum();
        if total <= self.limits.budget_bytes {
            return;
        }
        loaded.sort_by_key(|room| room.last_active());
        for room in loaded {
            if total <= self.limits.budget_bytes {
                break;
            }
            let bytes = room.approx_bytes();
            if room.evict_if(|_| true) {
                self.forget(&room);
                total = total.saturating_sub(bytes);
            }
        }
    }

    /// Cluster mode: takes out of memory the rooms whose stream was trimmed past where their
    /// state stands (a reader that fell that far behind would miss entries; see
    /// `Room::check_trim_point`). One Redis round trip for all of them.
    async fn check_trim_points(&self, loaded: &[Arc<Room>]) {
        let Some(cluster) = &self.cluster else { return };
        let names: Vec<&str> = loaded.iter().map(|room| room.name()).collect();
        match cluster.trim_points(&names).await {
            Ok(points) => {
                for (room, trimmed) in loaded.iter().zip(points) {
                    if trimmed.is_some_and(|t| room.check_trim_point(&t)) {
                        self.forget(room);
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "could not read the rooms' trim points"),
        }
    }

    /// Compacts `room` if due (or whenever its log is not empty, with `force`); in cluster
    /// mode through Redis, where only the relay holding the room's lease writes. True if a
    /// compaction was written or queued.
    pub async fn compact_now(&self, room: &Room, force: bool) -> bool {
        let Some(cluster) = &self.cluster else {
            return self.compact(room, force);
        };
        match cluster.compact(room, &self.compaction, force).await {
            Ok(written) => written,
            Err(error) => {
                tracing::warn!(room = room.name(), %error, "cluster compaction failed");
                false
            }
        }
    }

    /// Compacts `room` in the local store if due (or whenever its log is not empty, with
    /// `force`). True if a compaction was queued.
    pub fn compact(&self, room: &Room, force: bool) -> bool {
        if let Some(compaction) = room.prepare_compaction(&self.compaction, force) {
            let bytes = compaction.state.len();
            match self.store.compact(room.name(), compaction.through, compaction.state) {
                Ok(()) => {
                    tracing::debug!(room = room.name(), through = compaction.through, bytes, "compaction queued");
                    return true;
                }
                Err(error) => tracing::error!(room = room.name(), %error, "compaction refused"),
            }
        }
        false
    }

    fn forget(&self, room: &Arc<Room>) {
        let mut slots = self.slots.lock();
        let same = slots.get(room.name()).and_then(|slot| slot.get()).is_some_and(|r| Arc::ptr_eq(r, room));
        if same {
            slots.remove(room.name());
            tracing::debug!(room = room.name(), "room left memory");
        }
    }

    /// Closes the room's members and takes it out of memory (before deleting it).
    pub fn unload(&self, name: &str, reason: &CloseReason) {
        if let Some(room) = self.get_loaded(name) {
            room.close_all(reason, true);
            self.forget(&room);
        }
    }

    /// Closes every member of every room (shutdown).
    pub fn close_all(&self, reason: &CloseReason) {
        for room in self.loaded() {
            room.close_all(reason, false);
        }
    }

    /// Makes everything recorded durable (shutdown).
    pub async fn flush(&self) -> Result<(), StoreError> {
        if self.cluster.is_some() {
            // Local updates still on their way to Redis: give them a moment (bounded).
            for _ in 0..100 {
                if self.loaded().iter().all(|room| room.pending_writes() == 0) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.flush())
            .await
            .map_err(|e| StoreError::Io(format!("flush task failed: {e}")))?
    }
}
