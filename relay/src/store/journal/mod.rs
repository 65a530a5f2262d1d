//! The journal: one append-only log, shared by every room, that holds accepted updates
//! until a snapshot covers them.
//!
//! Why one log and not one per room: durability costs an fsync per commit round, and each
//! fsync writes at least the page the log's tail sits on. With a log per room (or a SQLite
//! table per room) every room busy in a round costs its own page and its own fsync; with one
//! journal a round costs one append of exactly the bytes received (plus a small header per
//! room) and one `fdatasync`, however many rooms took part. Snapshots stay in each room's
//! own file, so damage stays per room: a batch whose checksum fails damages only its room
//! (its header names the room), and a load that finds a gap in a room's sequence numbers
//! refuses that room.
//!
//! Files: `{data-dir}/journal/{n:016}.log`, appended in order. When the active segment
//! passes the segment size a new one starts; the oldest sealed segment is then cleaned:
//! batches still live (not covered by their room's snapshot) are copied forward into the
//! active segment, and the old file is deleted. A torn tail (a crash mid-append) is cut off
//! at open; nothing in it was ever acknowledged.

pub mod format;
mod index;
mod reader;

pub use index::{BatchLoc, Index, RoomLog};
pub use reader::{JournalRead, JournalReader};

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use format::Kind;

pub const JOURNAL_DIR: &str = "journal";
/// Size after which the active segment is sealed and a new one started.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// An entry of a commit round, in the order the round received it.
pub enum Entry<'a> {
    Batch { room: &'a str, first_seq: u64, updates: Vec<&'a [u8]> },
    Delete { room: &'a str },
}

/// The writer's handle: appends rounds, rotates and cleans segments.
pub struct Journal {
    dir: PathBuf,
    active: File,
    active_no: u64,
    active_len: u64,
    /// Bytes of new records (not copies) in the active segment: what fills it. Counting the
    /// copies too sealed a segment again at every round once the live records outgrew a
    /// segment, and every cleaning copied all of them forward again.
    fresh_len: u64,
    segment_bytes: u64,
    index: Arc<Mutex<Index>>,
    /// Set when an append or fsync failed: nothing more is accepted.
    broken: Option<String>,
    /// Sealed segments may be waiting to be cleaned.
    sealed: bool,
    /// Bytes appended since open (rounds and copies forward).
    bytes_written: u64,
    /// A segment's cleaning copies at most this many bytes per write (`COPY_ROUND_BYTES`).
    copy_round_bytes: usize,
}

/// Most bytes of copies one round of a segment's cleaning writes (and holds) at once.
const COPY_ROUND_BYTES: usize = 1 << 20;

/// Copies written but not yet in the index: their bytes, and per room where they went.
#[derive(Default)]
struct CopyRound {
    buffer: Vec<u8>,
    moved: Vec<(String, Vec<BatchLoc>)>,
}

pub(crate) fn segment_path(dir: &Path, no: u64) -> PathBuf {
    dir.join(format!("{no:016}.log"))
}

fn io(what: &str, path: &Path, error: std::io::Error) -> String {
    format!("{what} {}: {error}", path.display())
}

/// Segment numbers present in `dir`, oldest first.
pub(crate) fn segments(dir: &Path) -> Result<Vec<u64>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| io("listing", dir, e))?;
    let mut numbers: Vec<u64> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.strip_suffix(".log")?.parse().ok())
        .collect();
    numbers.sort_unstable();
    Ok(numbers)
}

impl Journal {
    /// Opens the journal under `data_dir`, reading every segment to rebuild the index.
    pub fn open(data_dir: &Path, segment_bytes: u64) -> Result<Journal, String> {
        let dir = data_dir.join(JOURNAL_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| io("creating", &dir, e))?;
        let numbers = segments(&dir)?;
        let mut index = Index::default();
        let mut tail = None;
        for (position, &no) in numbers.iter().enumerate() {
            let path = segment_path(&dir, no);
            let mut bytes = Vec::new();
            File::open(&path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(|e| io("reading", &path, e))?;
            let written_ms = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis() as i64);
            let scan = format::scan(&bytes);
            let last = position + 1 == numbers.len();
            for broken in &scan.breaks {
                match broken.resumed_at {
                    None if last => tracing::warn!(segment = no, at = broken.at, "journal ends in a torn record; cutting it off"),
                    _ => tracing::error!(segment = no, at = broken.at, resumed = ?broken.resumed_at,
                        "journal bytes do not check out; rooms with records there are refused if their log has a gap"),
                }
            }
            for record in scan.records {
                match record.kind {
                    Kind::Delete => index.forget(&record.room),
                    Kind::Batch if !record.body_ok => index.mark_damaged(
                        &record.room,
                        format!("journal segment {no}: updates {}..={} fail their checksum", record.first_seq, record.last_seq()),
                    ),
                    Kind::Batch => {
                        let loc = BatchLoc {
                            segment: no,
                            offset: record.offset,
                            len: record.len,
                            first_seq: record.first_seq,
                            last_seq: record.last_seq(),
                        };
                        index.add(&record.room, loc, written_ms);
                    }
                }
            }
            if last {
                tail = Some((no, scan.end, bytes.len() as u64));
            }
        }
        let (active_no, active_len) = match tail {
            Some((no, end, len)) if end < segment_bytes => {
                if end < len {
                    let path = segment_path(&dir, no);
                    let file = OpenOptions::new().write(true).open(&path).map_err(|e| io("opening", &path, e))?;
                    file.set_len(end).and_then(|()| file.sync_all()).map_err(|e| io("cutting the torn tail of", &path, e))?;
                }
                (no, end)
            }
            Some((no, _, _)) => (no + 1, 0),
            None => (1, 0),
        };
        let active = open_segment(&dir, active_no)?;
        sync_dir(&dir)?;
        let sealed = numbers.iter().any(|&no| no < active_no);
        Ok(Journal { dir, active, active_no, active_len, fresh_len: active_len, segment_bytes, index: Arc::new(Mutex::new(index)), broken: None, sealed, bytes_written: 0, copy_round_bytes: COPY_ROUND_BYTES })
    }

    pub fn reader(&self) -> JournalReader {
        JournalReader::new(self.dir.clone(), self.index.clone())
    }

    /// Appends a commit round and makes it durable. On `Ok` every entry is on disk, and
    /// the answer is the number of bytes appended.
    pub fn append(&mut self, entries: &[Entry], at_ms: i64) -> Result<u64, String> {
        if let Some(reason) = &self.broken {
            return Err(reason.clone());
        }
        let mut buffer = Vec::new();
        let mut placed = Vec::with_capacity(entries.len());
        for entry in entries {
            let start = buffer.len();
            match entry {
                Entry::Batch { room, first_seq, updates } => {
                    format::encode_batch(&mut buffer, room, *first_seq, updates.iter().copied());
                }
                Entry::Delete { room } => format::encode_delete(&mut buffer, room),
            }
            placed.push((start, buffer.len() - start));
        }
        if buffer.is_empty() {
            return Ok(0);
        }
        let base = self.active_len;
        self.write_durably(&buffer, "appending to")?;
        self.fresh_len += buffer.len() as u64;
        let mut index = self.index.lock();
        for (entry, (start, len)) in entries.iter().zip(placed) {
            match entry {
                Entry::Batch { room, first_seq, updates } => {
                    let loc = BatchLoc {
                        segment: self.active_no,
                        offset: base + start as u64,
                        len: len as u32,
                        first_seq: *first_seq,
                        last_seq: first_seq + updates.len().saturating_sub(1) as u64,
                    };
                    index.add(room, loc, at_ms);
                }
                Entry::Delete { room } => index.forget(room),
            }
        }
        drop(index);
        Ok(buffer.len() as u64)
    }

    /// Appends `bytes` to the active segment and makes them durable. After a failed write or
    /// fsync the kernel may have dropped the pages: the journal trusts nothing more.
    fn write_durably(&mut self, bytes: &[u8], what: &str) -> Result<(), String> {
        let written = self.active.write_all(bytes).and_then(|()| self.active.sync_data());
        if let Err(error) = written {
            let reason = io(what, &segment_path(&self.dir, self.active_no), error);
            self.broken = Some(reason.clone());
            return Err(reason);
        }
        self.active_len += bytes.len() as u64;
        self.bytes_written += bytes.len() as u64;
        Ok(())
    }

    /// A snapshot of `room` through `through` is durable in its own file.
    pub fn fold(&self, room: &str, through: u64) {
        self.index.lock().fold(room, through);
    }

    /// Seals the active segment when it holds a segment's worth of new records and cleans the
    /// sealed ones. `snapshot_through` tells how far a room's stored snapshot goes (for rooms
    /// not folded since start). Live records copied forward do not count towards the seal:
    /// each is copied at most once per segment of new records, however many are live.
    pub fn maintain(&mut self, snapshot_through: impl Fn(&str) -> Option<u64>) -> Result<(), String> {
        if self.broken.is_some() {
            return Ok(());
        }
        if self.fresh_len >= self.segment_bytes {
            let next = self.active_no + 1;
            self.active = open_segment(&self.dir, next)?;
            self.active_no = next;
            self.active_len = 0;
            self.fresh_len = 0;
            self.sealed = true;
            sync_dir(&self.dir)?;
        }
        if self.sealed {
            let active = self.active_no;
            for sealed in segments(&self.dir)?.into_iter().filter(|&no| no < active) {
                self.clean(sealed, &snapshot_through)?;
            }
            self.sealed = false;
        }
        Ok(())
    }

    /// Copies the live batches of `segment` into the active one, then deletes it.
    ///
    /// Room by room, in rounds of at most `copy_round_bytes` (one write and one
    /// `fdatasync` each, then the index points at the copies), so the memory it takes is one
    /// round's, however many batches are live: holding all of them at once (one buffer, and
    /// two lists of every batch with a copy of its room's name) took tens of megabytes at the
    /// first cleaning of an hour-long endurance run, and the relay's RSS kept ~11 MB of it.
    fn clean(&mut self, segment: u64, snapshot_through: &impl Fn(&str) -> Option<u64>) -> Result<(), String> {
        let unknown = self.index.lock().unknown_folds_in(segment);
        for room in unknown {
            self.index.lock().fold(&room, snapshot_through(&room).unwrap_or(0));
        }
        let rooms = self.index.lock().rooms_in(segment);
        let path = segment_path(&self.dir, segment);
        if !rooms.is_empty() {
            let source = File::open(&path).map_err(|e| io("opening", &path, e))?;
            let mut round = CopyRound::default();
            let mut copied = 0;
            for room in rooms {
                let live = self.index.lock().live_of(&room, segment);
                let mut moved = Vec::with_capacity(live.len().min(4096));
                for from in live {
                    let start = round.buffer.len();
                    round.buffer.resize(start + from.len as usize, 0);
                    source.read_exact_at(&mut round.buffer[start..], from.offset).map_err(|e| io("reading", &path, e))?;
                    moved.push(BatchLoc { segment: self.active_no, offset: self.active_len + start as u64, ..from });
                    if round.buffer.len() >= self.copy_round_bytes {
                        round.moved.push((room.clone(), std::mem::take(&mut moved)));
                        copied += self.finish_round(&mut round, segment)?;
                    }
                }
                round.moved.push((room, moved));
            }
            copied += self.finish_round(&mut round, segment)?;
            tracing::info!(segment, bytes = copied, "journal segment cleaned: live records copied forward");
        }
        // Readers hold the index lock while reading, so none is inside this file now.
        let _guard = self.index.lock();
        std::fs::remove_file(&path).map_err(|e| io("removing", &path, e))?;
        Ok(())
    }

    /// Writes a round of copies durably, then points the index at them; empties the round.
    fn finish_round(&mut self, round: &mut CopyRound, from: u64) -> Result<usize, String> {
        let bytes = round.buffer.len();
        if bytes > 0 {
            self.write_durably(&round.buffer, "copying live records into")?;
        }
        let mut index = self.index.lock();
        for (room, moved) in round.moved.drain(..) {
            index.relocate(&room, from, &moved);
        }
        round.buffer.clear();
        Ok(bytes)
    }

    /// The active segment's number and length (for tests).
    pub fn shape(&self) -> (u64, u64) {
        (self.active_no, self.active_len)
    }

    /// Bytes appended since open, copies forward included.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }
}

/// Opens segment `no` for appending, creating it if needed.
fn open_segment(dir: &Path, no: u64) -> Result<File, String> {
    let path = segment_path(dir, no);
    OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io("opening", &path, e))
}

fn sync_dir(dir: &Path) -> Result<(), String> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io("syncing", dir, e))
}

#[cfg(test)]
mod tests;
