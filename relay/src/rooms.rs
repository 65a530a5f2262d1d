//! The rooms in memory: look a room up (loading it from the store on first use), keep it
//! while anyone is in it and for an idle time after, then snapshot it and let it go.
//!
//! Loading happens once per room even when many clients join at once: concurrent joiners
//! wait on the same load. A room that fails to load is not cached, so a fixed store can be
//! retried, and it affects no other room.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::OnceCell;

use crate::outbound::CloseReason;
use crate::room::Room;
use crate::store::{SharedStore, StoreError};

type Slot = Arc<OnceCell<Arc<Room>>>;

pub struct Rooms {
    store: SharedStore,
    idle: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

/// Why a room could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("loading the room was interrupted")]
    Interrupted,
}

impl Rooms {
    pub fn new(store: SharedStore, idle: Duration) -> Self {
        Rooms { store, idle, slots: Mutex::new(HashMap::new()) }
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
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
        let room = slot
            .get_or_try_init(|| async {
                let store = self.store.clone();
                let owned = name.to_owned();
                let room = tokio::task::spawn_blocking(move || Room::load(&owned, store))
                    .await
                    .map_err(|_| OpenError::Interrupted)??;
                tracing::debug!(room = name, "room loaded");
                Ok::<_, OpenError>(Arc::new(room))
            })
            .await?;
        Ok(room.clone())
    }

    /// Rooms currently in memory.
    pub fn loaded(&self) -> Vec<Arc<Room>> {
        self.slots.lock().values().filter_map(|slot| slot.get().cloned()).collect()
    }

    /// Snapshots and drops every room idle for longer than the idle time.
    pub async fn sweep(&self) {
        let mut evicted = Vec::new();
        for room in self.loaded() {
            if let Some(state) = room.evict_if_idle(self.idle) {
                evicted.push((room, state));
            }
        }
        if evicted.is_empty() {
            return;
        }
        {
            let mut slots = self.slots.lock();
            for (room, _) in &evicted {
                let same = slots.get(room.name()).and_then(|slot| slot.get()).is_some_and(|r| Arc::ptr_eq(r, room));
                if same {
                    slots.remove(room.name());
                }
            }
        }
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for (room, state) in evicted {
                match store.save_snapshot(room.name(), &state) {
                    Ok(()) => tracing::debug!(room = room.name(), bytes = state.len(), "room evicted"),
                    Err(error) => tracing::error!(room = room.name(), %error, "snapshot on eviction failed"),
                }
            }
        })
        .await;
    }

    /// Closes every member of every room (shutdown).
    pub fn close_all(&self, reason: &CloseReason) {
        for room in self.loaded() {
            room.close_all(reason);
        }
    }

    /// Makes everything recorded durable (shutdown).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.flush())
            .await
            .map_err(|e| StoreError::Io(format!("flush task failed: {e}")))?
    }
}
