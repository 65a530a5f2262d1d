//! Reading a live relay's journal for a backup: every complete record up to now, however
//! the relay rotates and cleans segments meanwhile; then, at the end of the backup, the
//! records appended since (only to learn which rooms were deleted); and the live records
//! written out as one fresh segment.
//!
//! Why reading works while the relay writes: records are only ever appended, and a reader
//! sees every write that completed before its read (an acknowledged record was written and
//! fsynced before its acknowledgement). A record being appended shows up as a torn tail,
//! which the scan cuts off (it was not acknowledged yet). The relay moves records only by
//! copying a sealed segment's live ones forward into the active segment and then deleting
//! the sealed one: reading segments oldest first and listing again until no new one shows
//! up finds every record either where it was or where it went.
//!
//! Segments are numbered one after another, and every segment the backup sees is kept
//! open until it ends ([`JournalCopy::watch`], called between room files): a segment the
//! relay deletes stays readable through its open file, so what was appended to it before
//! it was sealed is still read at the end. Only a segment that came and went between two
//! looks (a whole segment written and sealed in between) leaves a gap in the numbers, and
//! then the backup cannot know what it held: it starts over.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::BackupError;
use crate::store::journal::format::{self, Kind, RecordHead};
use crate::store::journal::{segment_path, segments};

/// Listings of the journal before giving up (a new segment appears only every 64 MiB).
const MAX_LISTINGS: usize = 1000;

/// One complete record as read.
struct Record {
    head: RecordHead,
    bytes: Vec<u8>,
}

/// A segment the backup holds open, and how far it read it (to the end of its last
/// complete record).
struct Held {
    file: File,
    read_to: u64,
}

/// The journal as read at the commit point, and the segments held open since.
pub struct JournalCopy {
    records: Vec<Record>,
    held: BTreeMap<u64, Held>,
    /// Segment numbers that were listed but gone before they could be opened.
    missed: Vec<u64>,
}

fn listing(dir: &Path) -> Result<Vec<u64>, BackupError> {
    segments(dir).map_err(|reason| BackupError::Io { what: "listing", path: dir.to_owned(), source: std::io::Error::other(reason) })
}

/// Everything in `file` from `from` on.
fn read_from(file: &mut File, from: u64, path: &Path) -> Result<Vec<u8>, BackupError> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(from)).and_then(|_| file.read_to_end(&mut bytes)).map_err(BackupError::io("reading", path))?;
    Ok(bytes)
}

impl JournalCopy {
    /// Opens the segments listed now that are not held yet (reading nothing).
    pub fn watch(&mut self, dir: &Path) -> Result<(), BackupError> {
        for segment in listing(dir)? {
            if self.held.contains_key(&segment) || self.missed.contains(&segment) {
                continue;
            }
            let path = segment_path(dir, segment);
            match File::open(&path) {
                Ok(file) => {
                    self.held.insert(segment, Held { file, read_to: 0 });
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => self.missed.push(segment),
                Err(error) => return Err(BackupError::io("opening", &path)(error)),
            }
        }
        Ok(())
    }

    /// Reads what the held segments gained since they were last read, as records.
    fn read_new(&mut self, dir: &Path) -> Result<Vec<Record>, BackupError> {
        let mut records = Vec::new();
        for (segment, held) in &mut self.held {
            let bytes = read_from(&mut held.file, held.read_to, &segment_path(dir, *segment))?;
            let scan = format::scan(&bytes);
            for head in scan.records {
                let (start, len) = (head.offset as usize, head.len as usize);
                records.push(Record { bytes: bytes[start..start + len].to_vec(), head });
            }
            held.read_to += scan.end;
        }
        Ok(records)
    }

    /// Whether some segment came and went unseen since the first one held.
    fn has_gap(&self) -> bool {
        let Some(&first) = self.held.keys().next() else { return !self.missed.is_empty() };
        let last = self.held.keys().next_back().copied().unwrap_or(first);
        (first..=last).any(|no| !self.held.contains_key(&no)) || self.missed.iter().any(|&no| no > first)
    }
}

/// Every complete record in the journal under `dir`, read now; the segments stay held.
pub fn read(dir: &Path) -> Result<JournalCopy, BackupError> {
    let mut copy = JournalCopy { records: Vec::new(), held: BTreeMap::new(), missed: Vec::new() };
    for _ in 0..MAX_LISTINGS {
        let before = copy.held.len() + copy.missed.len();
        copy.watch(dir)?;
        let mut new = copy.read_new(dir)?;
        copy.records.append(&mut new);
        if copy.held.len() + copy.missed.len() == before {
            return Ok(copy);
        }
    }
    Err(BackupError::KeptMoving)
}

/// The rooms deleted in the journal since `copy` was read; `None` if a segment came and
/// went unseen meanwhile (whatever it recorded is unknown).
pub fn deleted_since(dir: &Path, copy: &mut JournalCopy) -> Result<Option<HashSet<String>>, BackupError> {
    copy.watch(dir)?;
    if copy.has_gap() {
        return Ok(None);
    }
    let records = copy.read_new(dir)?;
    Ok(Some(records.into_iter().filter(|r| r.head.kind == Kind::Delete).map(|r| r.head.room).collect()))
}

impl JournalCopy {
    /// Writes the records still live into one segment under `dir`: for each room not in
    /// `deleted`, its batches after its last delete record that its snapshot (`throughs`,
    /// from the copied room files) does not cover, each once. Damaged batches are kept as
    /// they are (the room is refused as before). Returns how many records were written.
    pub fn write_live(&self, dir: &Path, throughs: &HashMap<String, u64>, deleted: &HashSet<String>) -> Result<usize, BackupError> {
        let mut live: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
        for record in &self.records {
            match record.head.kind {
                Kind::Delete => {
                    live.remove(record.head.room.as_str());
                }
                Kind::Batch => live.entry(&record.head.room).or_default().push(record),
            }
        }
        let mut out = Vec::new();
        let mut written = 0;
        for (room, records) in live {
            if deleted.contains(room) {
                continue;
            }
            let through = throughs.get(room).copied().unwrap_or(0);
            let mut seen = HashSet::new();
            for record in records {
                let (first, last) = (record.head.first_seq, record.head.last_seq());
                if last <= through && record.head.body_ok {
                    continue; // the snapshot holds it
                }
                if seen.insert((first, last, record.head.body_ok)) {
                    out.extend_from_slice(&record.bytes);
                    written += 1;
                }
            }
        }
        let path = segment_path(dir, 1);
        let mut file = std::fs::File::create(&path).map_err(BackupError::io("creating", &path))?;
        file.write_all(&out).and_then(|()| file.sync_all()).map_err(BackupError::io("writing", &path))?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(room: &str, first: u64, updates: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        format::encode_batch(&mut out, room, first, updates.iter().copied());
        out
    }

    #[test]
    fn live_records_are_written_once_and_deletions_since_are_found_even_in_deleted_segments() {
        let source = tempfile::tempdir().unwrap();
        let mut first = batch("a", 1, &[b"a1", b"a2"]);
        first.extend(batch("b", 1, &[b"b1"]));
        first.extend(batch("gone", 1, &[b"g1"]));
        format::encode_delete(&mut first, "gone");
        first.extend(batch("a", 3, &[b"a3"]));
        std::fs::write(segment_path(source.path(), 1), &first).unwrap();
        // A copy forward of a's second batch into a newer segment, and a torn tail after it.
        let mut second = batch("a", 3, &[b"a3"]);
        second.extend(&batch("b", 2, &[b"b2"])[..10]);
        std::fs::write(segment_path(source.path(), 2), &second).unwrap();

        let mut copy = read(source.path()).unwrap();
        assert_eq!(copy.held[&2].read_to, batch("a", 3, &[b"a3"]).len() as u64, "the torn tail is not read");

        let out = tempfile::tempdir().unwrap();
        let throughs = HashMap::from([("a".to_owned(), 2)]);
        let written = copy.write_live(out.path(), &throughs, &HashSet::from(["b".to_owned()])).unwrap();
        let bytes = std::fs::read(segment_path(out.path(), 1)).unwrap();
        let rooms: Vec<(String, u64)> = format::scan(&bytes).records.into_iter().map(|r| (r.room, r.first_seq)).collect();
        assert_eq!(rooms, [("a".to_owned(), 3)], "a's covered batch, the duplicate, b (deleted) and gone are left out");
        assert_eq!(written, 1);

        // The relay completes the torn record, appends a delete, seals the segment and
        // deletes it (a cleaning): the held file still shows what was appended.
        let mut rest = batch("b", 2, &[b"b2"])[10..].to_vec();
        format::encode_delete(&mut rest, "b");
        std::fs::OpenOptions::new().append(true).open(segment_path(source.path(), 2)).unwrap().write_all(&rest).unwrap();
        std::fs::remove_file(segment_path(source.path(), 2)).unwrap();
        std::fs::write(segment_path(source.path(), 3), batch("a", 4, &[b"a4"])).unwrap();
        assert_eq!(deleted_since(source.path(), &mut copy).unwrap(), Some(HashSet::from(["b".to_owned()])));
    }

    #[test]
    fn a_segment_that_came_and_went_unseen_voids_the_reading() {
        let source = tempfile::tempdir().unwrap();
        std::fs::write(segment_path(source.path(), 1), batch("a", 1, &[b"a1"])).unwrap();
        let mut copy = read(source.path()).unwrap();
        // Segment 2 was written, sealed and cleaned between two looks; 3 is active.
        std::fs::write(segment_path(source.path(), 3), batch("a", 2, &[b"a2"])).unwrap();
        assert_eq!(deleted_since(source.path(), &mut copy).unwrap(), None);
    }
}
