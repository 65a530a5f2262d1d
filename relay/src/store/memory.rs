//! A store that keeps rooms in process memory: rooms survive being evicted from the room
//! cache but not a restart. Used by tests, and by `--store memory` for throwaway relays.

use std::collections::HashMap;

use parking_lot::Mutex;

use super::{history, now_ms, BlobUsage, OnDurable, RestorePoint, RoomArchive, RoomInfo, StoreError, StoredRoom, UpdateLog};

#[derive(Default)]
pub struct MemoryStore {
    rooms: Mutex<HashMap<String, MemoryRoom>>,
    /// Deletion histories, kept beyond the rooms (see [`history`]).
    deleted: Mutex<HashMap<String, Vec<u8>>>,
}

#[derive(Default)]
struct MemoryRoom {
    snapshot: Option<(u64, Vec<u8>)>,
    log: Vec<(u64, Vec<u8>)>,
    last_activity_ms: i64,
    restore_points: Vec<(RestorePoint, Vec<u8>)>,
    /// Blob id → (content type, bytes).
    blobs: HashMap<String, (String, Vec<u8>)>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl UpdateLog for MemoryStore {
    fn append(&self, room: &str, seq: u64, update: &[u8], on_durable: Option<OnDurable>) -> Result<(), StoreError> {
        {
            let mut rooms = self.rooms.lock();
            let stored = rooms.entry(room.to_owned()).or_default();
            stored.log.push((seq, update.to_vec()));
            stored.last_activity_ms = now_ms();
        }
        if let Some(done) = on_durable {
            done();
        }
        Ok(())
    }

    fn compact(&self, room: &str, through: u64, state: Vec<u8>) -> Result<(), StoreError> {
        let mut rooms = self.rooms.lock();
        let stored = rooms.entry(room.to_owned()).or_default();
        stored.log.retain(|(seq, _)| *seq > through);
        stored.snapshot = Some((through, state));
        Ok(())
    }
}

impl RoomArchive for MemoryStore {
    fn load(&self, room: &str) -> Result<StoredRoom, StoreError> {
        let rooms = self.rooms.lock();
        let Some(stored) = rooms.get(room) else { return Ok(StoredRoom::default()) };
        let mut out = StoredRoom::default();
        if let Some((through, state)) = &stored.snapshot {
            out.updates.push(state.clone());
            out.last_seq = *through;
            out.snapshot_bytes = state.len() as u64;
        }
        for (seq, update) in &stored.log {
            out.updates.push(update.clone());
            out.last_seq = out.last_seq.max(*seq);
            out.log_count += 1;
            out.log_bytes += update.len() as u64;
        }
        Ok(out)
    }

    fn delete_room(&self, room: &str) -> Result<(), StoreError> {
        self.rooms.lock().remove(room);
        Ok(())
    }

    fn remember_deletion(&self, room: &str, history: &[u8]) -> Result<(), StoreError> {
        let mut deleted = self.deleted.lock();
        let merged = match deleted.get(room) {
            Some(earlier) => history::merge(earlier, history).map_err(|reason| StoreError::Damaged { room: room.to_owned(), reason })?,
            None => history.to_vec(),
        };
        deleted.insert(room.to_owned(), merged);
        Ok(())
    }

    fn deletion_history(&self, room: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.deleted.lock().get(room).cloned())
    }

    fn list_rooms(&self) -> Result<Vec<RoomInfo>, StoreError> {
        let rooms = self.rooms.lock();
        let mut list: Vec<RoomInfo> = rooms
            .iter()
            .map(|(name, r)| RoomInfo {
                name: name.clone(),
                stored_bytes: r.snapshot.as_ref().map_or(0, |s| s.1.len() as u64)
                    + r.log.iter().map(|l| l.1.len() as u64).sum::<u64>(),
                log_entries: r.log.len() as u64,
                last_activity_ms: r.last_activity_ms,
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, StoreError> {
        let mut rooms = self.rooms.lock();
        let stored = rooms.entry(room.to_owned()).or_default();
        let id = stored.restore_points.iter().map(|(p, _)| p.id).max().unwrap_or(0) + 1;
        let point = RestorePoint { id, name: name.to_owned(), created_ms: now_ms(), bytes: state.len() as u64 };
        stored.restore_points.push((point.clone(), state));
        Ok(point)
    }

    fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, StoreError> {
        let rooms = self.rooms.lock();
        let mut points: Vec<RestorePoint> =
            rooms.get(room).map(|r| r.restore_points.iter().map(|(p, _)| p.clone()).collect()).unwrap_or_default();
        points.sort_by_key(|p| std::cmp::Reverse(p.id));
        Ok(points)
    }

    fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, StoreError> {
        let rooms = self.rooms.lock();
        rooms
            .get(room)
            .and_then(|r| r.restore_points.iter().find(|(p, _)| p.id == id))
            .map(|(_, s)| s.clone())
            .ok_or_else(|| StoreError::NotFound(format!("restore point {id} of room {room:?}")))
    }

    fn put_blob(&self, room: &str, id: &str, content_type: &str, data: Vec<u8>) -> Result<(), StoreError> {
        let mut rooms = self.rooms.lock();
        let stored = rooms.entry(room.to_owned()).or_default();
        stored.blobs.entry(id.to_owned()).or_insert_with(|| (content_type.to_owned(), data));
        Ok(())
    }

    fn blob(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), StoreError> {
        let rooms = self.rooms.lock();
        rooms
            .get(room)
            .and_then(|r| r.blobs.get(id))
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("blob {id} of room {room:?}")))
    }

    fn blob_usage(&self, room: &str, id: &str) -> Result<BlobUsage, StoreError> {
        let rooms = self.rooms.lock();
        let Some(stored) = rooms.get(room) else { return Ok(BlobUsage::default()) };
        let bytes = stored.blobs.values().map(|(_, data)| data.len() as u64).sum();
        Ok(BlobUsage { bytes, present: stored.blobs.contains_key(id) })
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
