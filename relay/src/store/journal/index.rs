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

    /// The rooms with live batches in `segment`, by name.
    pub fn rooms_in(&self, segment: u64) -> Vec<String> {
        let mut rooms: Vec<String> = self
            .rooms
            .iter()
            .filter(|(_, log)| log.batches.iter().any(|b| b.segment == segment))
            .map(|(room, _)| room.clone())
            .collect();
        rooms.sort_unstable();
        rooms
    }

    /// `room`'s live batches in `segment`, in offset order.
    pub fn live_of(&self, room: &str, segment: u64) -> Vec<BatchLoc> {
        let mut live: Vec<BatchLoc> =
            self.rooms.get(room).map(|log| log.batches.iter().filter(|b| b.segment == segment).copied().collect()).unwrap_or_default();
        live.sort_by_key(|b| b.offset);
        live
    }

    /// Batches of `room` were copied forward out of segment `from`: each of `moved` (the
    /// copy, same sequence numbers and length) replaces the room's batch in `from` with the
    /// same first sequence number. One pass over the room's batches; a batch a snapshot
    /// covered meanwhile (a load or a compaction folds on another thread) stays gone.
    pub fn relocate(&mut self, room: &str, from: u64, moved: &[BatchLoc]) {
        let Some(log) = self.rooms.get_mut(room) else { return };
        let by_seq: HashMap<u64, &BatchLoc> = moved.iter().map(|m| (m.first_seq, m)).collect();
        for batch in log.batches.iter_mut().filter(|b| b.segment == from) {
            if let Some(&&to) = by_seq.get(&batch.first_seq).filter(|to| to.len == batch.len && to.last_seq == batch.last_seq) {
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
    fn live_batches_of_a_segment_are_listed_by_room_in_offset_order() {
        let mut index = Index::default();
        index.add("b", batch(1, 20, 1, 1), 0);
        index.add("a", batch(1, 30, 1, 1), 0);
        index.add("a", batch(1, 0, 2, 2), 0);
        index.add("a", batch(2, 0, 3, 3), 0);
        assert_eq!(index.rooms_in(1), ["a".to_owned(), "b".to_owned()]);
        assert_eq!(index.live_of("a", 1), [batch(1, 0, 2, 2), batch(1, 30, 1, 1)]);
        index.forget("a");
        assert_eq!(index.rooms_in(2), Vec::<String>::new());
        assert_eq!(index.live_of("a", 1), []);
        assert_eq!(index.unknown_folds_in(1), ["b".to_owned()]);
    }

    #[test]
    fn relocation_moves_the_copied_batches_and_keeps_what_was_folded_meanwhile_gone() {
        let mut index = Index::default();
        for seq in 1..=4 {
            index.add("r", batch(1, seq * 10, seq, seq), 0);
        }
        index.add("r", batch(2, 0, 5, 5), 0);
        let moved: Vec<BatchLoc> = index.live_of("r", 1).iter().map(|b| BatchLoc { segment: 3, offset: b.offset + 1000, ..*b }).collect();
        index.fold("r", 2); // a load folded the first two while they were being copied
        index.relocate("r", 1, &moved);
        assert_eq!(index.room("r").unwrap().batches, [batch(3, 1030, 3, 3), batch(3, 1040, 4, 4), batch(2, 0, 5, 5)]);
        index.relocate("gone", 1, &moved);
        assert!(index.room("gone").is_none());
    }
}
