//! What the journal holds for each room, kept in memory: where each of its live batches
//! sits (segment, offset, length, sequence numbers), so a load reads only its own records
//! and the cleaner knows what must survive when an old segment goes.
//!
//! A batch is live until a snapshot covers it (`fold`) or its room is deleted.

use std::collections::HashMap;

/// Where one batch record sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLoc {
    pub segment: u64,
    pub offset: u64,
    pub len: u32,
    pub first_seq: u64,
    pub last_seq: u64,
}

/// One room's live part of the journal.
#[derive(Debug, Clone, Default)]
pub struct RoomLog {
    pub batches: Vec<BatchLoc>,
    /// Everything up to here is in the room's snapshot (as far as this process knows).
    pub folded_through: Option<u64>,
    /// Why the room's records cannot be trusted (a batch that fails its checksum).
    pub damaged: Option<String>,
    /// Unix milliseconds of the newest batch.
    pub last_ms: i64,
}

impl RoomLog {
    pub fn entries(&self) -> u64 {
        self.batches.iter().map(|b| b.last_seq - b.first_seq + 1).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.batches.iter().map(|b| u64::from(b.len)).sum()
    }
}

/// Every room's live batches.
#[derive(Debug, Default)]
pub struct Index {
    rooms: HashMap<String, RoomLog>,
}

impl Index {
    pub fn room(&self, room: &str) -> Option<&RoomLog> {
        self.rooms.get(room)
    }

    pub fn add(&mut self, room: &str, batch: BatchLoc, at_ms: i64) {
        let log = self.rooms.entry(room.to_owned()).or_default();
        if log.folded_through.is_some_and(|through| batch.last_seq <= through) {
            return; // a snapshot written earlier in the same round already covers it
        }
        log.batches.push(batch);
        log.last_ms = log.last_ms.max(at_ms);
    }

    pub fn mark_damaged(&mut self, room: &str, reason: String) {
        self.rooms.entry(room.to_owned()).or_default().damaged.get_or_insert(reason);
    }

    /// The room was deleted: none of its records count any more.
    pub fn forget(&mut self, room: &str) {
        self.rooms.remove(room);
    }

    /// A snapshot of `room` through `through` is stored: batches it covers are dead.
    pub fn fold(&mut self, room: &str, through: u64) {
        if let Some(log) = self.rooms.get_mut(room) {
            log.batches.retain(|b| b.last_seq > through);
            log.folded_through = Some(log.folded_through.map_or(through, |t| t.max(through)));
        } else {
            // Remembered so that batches of this round that the snapshot covers are not kept.
            self.rooms.insert(room.to_owned(), RoomLog { folded_through: Some(through), ..RoomLog::default() });
        }
    }

    /// Rooms with batches in `segment` whose folded point is unknown (not yet read from
    /// their snapshot since the process started).
    pub fn unknown_folds_in(&self, segment: u64) -> Vec<String> {
        self.rooms
            .iter()
            .filter(|(_, log)| log.folded_through.is_none() && log.batches.iter().any(|b| b.segment == segment))
            .map(|(room, _)| room.clone())
            .collect()
    }

    /// The live batches in `segment`, with their rooms, in segment order.
    pub fn live_in(&self, segment: u64) -> Vec<(String, BatchLoc)> {
        let mut live: Vec<(String, BatchLoc)> = self
            .rooms
            .iter()
            .flat_map(|(room, log)| log.batches.iter().filter(|b| b.segment == segment).map(move |b| (room.clone(), *b)))
            .collect();
        live.sort_by_key(|(_, b)| b.offset);
        live
    }

    /// A batch moved (copied forward into a newer segment).
    pub fn relocate(&mut self, room: &str, from: BatchLoc, to: BatchLoc) {
        if let Some(log) = self.rooms.get_mut(room) {
            for batch in log.batches.iter_mut().filter(|b| **b == from) {
                *batch = to;
            }
        }
    }

    /// Live batches and their bytes, over every room.
    pub fn totals(&self) -> (u64, u64) {
        self.rooms.values().fold((0, 0), |(n, bytes), log| (n + log.batches.len() as u64, bytes + log.bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(segment: u64, offset: u64, first_seq: u64, last_seq: u64) -> BatchLoc {
        BatchLoc { segment, offset, len: 10, first_seq, last_seq }
    }

    #[test]
    fn folding_drops_covered_batches_only() {
        let mut index = Index::default();
        index.add("r", batch(1, 0, 1, 3), 5);
        index.add("r", batch(1, 10, 4, 6), 6);
        index.fold("r", 4);
        let log = index.room("r").unwrap();
        assert_eq!(log.batches, [batch(1, 10, 4, 6)]);
        assert_eq!(log.entries(), 3);
        index.fold("r", 6);
        assert!(index.room("r").unwrap().batches.is_empty());
        index.add("r", batch(2, 0, 5, 6), 7);
        assert!(index.room("r").unwrap().batches.is_empty(), "covered by the snapshot already");
    }

    #[test]
    fn live_batches_of_a_segment_come_in_offset_order() {
        let mut index = Index::default();
        index.add("b", batch(1, 20, 1, 1), 0);
        index.add("a", batch(1, 0, 1, 1), 0);
        index.add("a", batch(2, 0, 2, 2), 0);
        let rooms: Vec<_> = index.live_in(1).into_iter().map(|(room, b)| (room, b.offset)).collect();
        assert_eq!(rooms, [("a".to_owned(), 0), ("b".to_owned(), 20)]);
        index.forget("a");
        assert_eq!(index.live_in(2), []);
        assert_eq!(index.unknown_folds_in(1), ["b".to_owned()]);
    }
}
