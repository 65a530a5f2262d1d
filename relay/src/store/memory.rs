//! A store that keeps rooms in process memory: rooms survive being evicted from the room
//! cache but not a restart. Used by tests and until a durable store is configured.

use std::collections::HashMap;

use parking_lot::Mutex;

use super::{RoomStore, StoreError};

#[derive(Default)]
pub struct MemoryStore {
    rooms: Mutex<HashMap<String, Vec<Vec<u8>>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl RoomStore for MemoryStore {
    fn load(&self, room: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self.rooms.lock().get(room).cloned().unwrap_or_default())
    }

    fn append(&self, room: &str, update: &[u8]) -> Result<(), StoreError> {
        self.rooms.lock().entry(room.to_owned()).or_default().push(update.to_vec());
        Ok(())
    }

    fn save_snapshot(&self, room: &str, state: &[u8]) -> Result<(), StoreError> {
        self.rooms.lock().insert(room.to_owned(), vec![state.to_vec()]);
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
