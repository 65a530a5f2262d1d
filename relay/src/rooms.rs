//! The rooms in memory: look a room up (loading it from its backend on first use), keep it
//! while anyone is in it, and let it go when it has been idle for the idle time or when the
//! rooms in memory exceed the cache budget (least recently active first). Evicting costs
//! nothing durable: the backend already holds every update.
//!
//! Loading happens once per room even when many clients join at once: concurrent joiners
//! wait on the same load. A room that fails to load is not cached, so a repaired store can
//! be retried, and it affects no other room.
//!
//! Where rooms live is the backend's business (`crate::backend`: this relay's store, or
//! Redis shared with other relays); nothing here depends on which.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use shared::close;
use tokio::sync::OnceCell;

use crate::backend::{BackendError, Compacted, RoomBackend, RoomSink};
use crate::close_reason::CloseReason;
use crate::compaction::CompactionPolicy;
use crate::outbound::QueueDepths;
use crate::room::Room;

type Slot = Arc<OnceCell<Arc<Room>>>;

/// How much the rooms in memory may hold, and for how long after their last member left.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    pub idle: Duration,
    pub budget_bytes: u64,
    /// Largest a room may grow (its stored form), in bytes.
    pub max_room_bytes: u64,
}

pub struct Rooms {
    backend: Arc<dyn RoomBackend>,
    limits: CacheLimits,
    compaction: CompactionPolicy,
    slots: Mutex<HashMap<String, Slot>>,
    joins_from_memory: AtomicU64,
    joins_from_store: AtomicU64,
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
    pub fn new(backend: Arc<dyn RoomBackend>, limits: CacheLimits, compaction: CompactionPolicy) -> Self {
        Rooms {
            backend,
            limits,
            compaction,
            slots: Mutex::new(HashMap::new()),
            joins_from_memory: AtomicU64::new(0),
            joins_from_store: AtomicU64::new(0),
        }
    }

    /// Where the rooms live (restore points, blobs and listings go straight there).
    pub fn backend(&self) -> &dyn RoomBackend {
        &*self.backend
    }

    /// The room named `name`, loaded from its backend if it is not in memory.
    pub async fn open(&self, name: &str) -> Result<Arc<Room>, BackendError> {
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
                self.load(name).await
            })
            .await?;
        let counter = if loaded_here { &self.joins_from_store } else { &self.joins_from_memory };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(room.clone())
    }

    async fn load(&self, name: &str) -> Result<Arc<Room>, BackendError> {
        let loaded = self.backend.load(name).await?;
        let (owned, max_bytes, content, link) = (name.to_owned(), self.limits.max_room_bytes, loaded.content, loaded.link);
        let room = tokio::task::spawn_blocking(move || Room::load(&owned, content, link, max_bytes))
            .await
            .map_err(|_| BackendError::Interrupted)??;
        let room = Arc::new(room);
        let sink: Arc<dyn RoomSink> = room.clone();
        (loaded.follow)(Arc::downgrade(&sink));
        tracing::debug!(room = name, "room loaded");
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

    /// Periodic upkeep: the backend's own (presence other relays stopped renewing, rooms
    /// that fell behind the shared log), compaction of the rooms whose log is due, then
    /// eviction of idle rooms and, while over the byte budget, of the least recently active
    /// empty rooms.
    pub async fn sweep(&self) {
        let mut loaded = self.loaded();
        let sinks: Vec<Arc<dyn RoomSink>> = loaded.iter().map(|room| room.clone() as Arc<dyn RoomSink>).collect();
        let left = self.backend.sweep(&sinks).await;
        for (room, left) in loaded.iter().zip(left) {
            if left {
                self.forget(room);
            }
        }
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

    /// Compacts `room` if due (or whenever its log is not empty, with `force`). With a
    /// shared backend only one relay at a time writes a room's snapshot. True if a
    /// compaction was written or queued.
    pub async fn compact_now(&self, room: &Room, force: bool) -> bool {
        if !room.compaction_due(&self.compaction, force) {
            return false;
        }
        let policy = self.compaction;
        match self.backend.compact(room.name(), &mut || room.prepare_compaction(&policy, force)).await {
            Ok(Compacted::Written) => true,
            Ok(Compacted::Skipped) => false,
            Ok(Compacted::Elsewhere) => {
                room.forget_log_shape();
                false
            }
            Err(error) => {
                tracing::warn!(room = room.name(), %error, "compaction failed");
                false
            }
        }
    }

    fn forget(&self, room: &Arc<Room>) {
        let mut slots = self.slots.lock();
        let same = slots.get(room.name()).and_then(|slot| slot.get()).is_some_and(|r| Arc::ptr_eq(r, room));
        if same {
            slots.remove(room.name());
            tracing::debug!(room = room.name(), "room left memory");
        }
    }

    /// Closes the room's members and takes it out of memory.
    fn unload(&self, name: &str, reason: &CloseReason) {
        if let Some(room) = self.get_loaded(name) {
            room.close_all(reason);
            self.forget(&room);
        }
    }

    /// Deletes a room (the admin API): records it as deleted where it lives, so copies of
    /// its content cannot bring it back (`room/deletion.rs`; with Redis, every relay closes
    /// its members and drops its copy), closes its members here with 4004 "room deleted",
    /// and removes this relay's copy.
    pub async fn delete(&self, name: &str) -> Result<(), BackendError> {
        let history = match self.open(name).await {
            Ok(room) => Some(room.history_for_deletion()),
            Err(error) => {
                tracing::warn!(room = name, %error, "deleting a room that does not load: copies of it are not refused");
                None
            }
        };
        self.backend.record_deletion(name, history).await?;
        self.unload(name, &CloseReason::new(close::ROOM_UNAVAILABLE, close::ROOM_DELETED));
        self.backend.delete_local_copy(name).await
    }

    /// Makes everything recorded durable (shutdown): local updates the backend still holds
    /// back get a moment (bounded) to reach it, then the backend flushes.
    pub async fn flush(&self) -> Result<(), BackendError> {
        for _ in 0..100 {
            if self.loaded().iter().all(|room| room.held_updates() == 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.backend.flush().await
    }

    /// The last step of a shutdown: every room leaves memory (the backend stops what it ran
    /// for them) and the backend closes.
    pub async fn close(&self) {
        let going_away = CloseReason::new(close::GOING_AWAY, "relay shutting down");
        for room in self.loaded() {
            room.close_all(&going_away);
            self.forget(&room);
        }
        self.backend.close().await;
    }
}
