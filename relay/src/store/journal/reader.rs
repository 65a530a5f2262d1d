//! Reading the journal for loads: a room's updates, in order, from wherever its batches
//! sit (the index says which segment and offset), and its shape for the room list. Shared
//! with the store's callers while the writer appends, rotates and cleans.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;

use super::{format, io, segment_path, Index};

/// A read-only view for loads, shared with the store's callers.
#[derive(Clone)]
pub struct JournalReader {
    dir: PathBuf,
    index: Arc<Mutex<Index>>,
}

impl JournalReader {
    pub(super) fn new(dir: PathBuf, index: Arc<Mutex<Index>>) -> Self {
        JournalReader { dir, index }
    }
}

impl JournalReader {
    /// The updates the journal holds for `room` with their sequence numbers, in order.
    pub fn read_room(&self, room: &str) -> Result<Vec<(u64, Vec<u8>)>, JournalRead> {
        let index = self.index.lock();
        let Some(log) = index.room(room) else { return Ok(Vec::new()) };
        if let Some(reason) = &log.damaged {
            return Err(JournalRead::Damaged(reason.clone()));
        }
        let mut batches = log.batches.clone();
        batches.sort_by_key(|b| b.first_seq);
        let mut updates = Vec::new();
        let mut open: Option<(u64, File)> = None;
        for batch in batches {
            let path = segment_path(&self.dir, batch.segment);
            if open.as_ref().is_none_or(|(no, _)| *no != batch.segment) {
                let file = File::open(&path).map_err(|e| JournalRead::Io(io("opening", &path, e)))?;
                open = Some((batch.segment, file));
            }
            let Some((_, file)) = open.as_mut() else { continue };
            let mut record = vec![0u8; batch.len as usize];
            file.seek(SeekFrom::Start(batch.offset))
                .and_then(|_| file.read_exact(&mut record))
                .map_err(|e| JournalRead::Io(io("reading", &path, e)))?;
            let batch_updates = format::batch_updates(&record)
                .map_err(|reason| JournalRead::Damaged(format!("journal segment {}: {reason}", batch.segment)))?;
            updates.extend((batch.first_seq..).zip(batch_updates));
        }
        Ok(updates)
    }

    /// The room's stored snapshot goes through `through`: the batches it covers are dead.
    pub fn fold(&self, room: &str, through: u64) {
        self.index.lock().fold(room, through);
    }

    /// Live entries, bytes and last activity of `room` in the journal, past its snapshot
    /// (which goes through `through`).
    pub fn room_shape(&self, room: &str, through: u64) -> (u64, u64, i64) {
        let mut index = self.index.lock();
        index.fold(room, through);
        index.room(room).map_or((0, 0, 0), |log| (log.entries(), log.bytes(), log.last_ms))
    }

    /// Live batches and bytes over every room.
    pub fn totals(&self) -> (u64, u64) {
        self.index.lock().totals()
    }
}

/// Why the journal's part of a room could not be read.
#[derive(Debug)]
pub enum JournalRead {
    Damaged(String),
    Io(String),
}

