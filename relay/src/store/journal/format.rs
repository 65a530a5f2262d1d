//! The byte layout of journal records, in one place: how a record is written, and how a
//! segment is read back, telling a torn tail (a crash mid-write) from damage inside.
//!
//! A record (little-endian):
//!
//! ```text
//! magic "yjl1" | kind u8 | name_len u16 | body_len u32 | first_seq u64 | count u32
//!              | body_crc u32 | header_crc u32 | room name | body
//! ```
//!
//! `header_crc` covers everything from `kind` to `body_crc` plus the room name, so a reader
//! can trust the lengths before it reads the body. A batch's body is `count` updates, each
//! a yrs var-length buffer (the Yjs encoding: a varint length, then the bytes); a delete's
//! body is empty. `body_crc` covers the body: a body that fails it damages only its room.

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;

pub const MAGIC: &[u8; 4] = b"yjl1";
/// Bytes before the room name.
pub const HEADER_BYTES: usize = 4 + 1 + 2 + 4 + 8 + 4 + 4 + 4;
/// Largest body a record may declare (a whole commit round is capped well below this).
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// What a record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Updates `first_seq ..= first_seq + count - 1` of a room.
    Batch = 1,
    /// The room was deleted: forget every earlier record of it.
    Delete = 2,
}

/// One record as found in a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHead {
    pub kind: Kind,
    pub room: String,
    pub first_seq: u64,
    pub count: u32,
    /// Where the whole record starts and how long it is, in the segment.
    pub offset: u64,
    pub len: u32,
    /// False when the body fails its checksum (the header is sound, so the room is known).
    pub body_ok: bool,
}

impl RecordHead {
    pub fn last_seq(&self) -> u64 {
        self.first_seq + u64::from(self.count).saturating_sub(1)
    }
}

/// Appends a batch record holding `updates` (numbered from `first_seq`) to `out`.
pub fn encode_batch<'a>(out: &mut Vec<u8>, room: &str, first_seq: u64, updates: impl ExactSizeIterator<Item = &'a [u8]>) {
    let count = updates.len() as u32;
    let mut body = Vec::new();
    for update in updates {
        body.write_buf(update);
    }
    encode(out, Kind::Batch, room, first_seq, count, &body);
}

/// Appends a delete record for `room` to `out`.
pub fn encode_delete(out: &mut Vec<u8>, room: &str) {
    encode(out, Kind::Delete, room, 0, 0, &[]);
}

fn encode(out: &mut Vec<u8>, kind: Kind, room: &str, first_seq: u64, count: u32, body: &[u8]) {
    let name = room.as_bytes();
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.push(kind as u8);
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&first_seq.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    let mut header = crc32fast::Hasher::new();
    header.update(&out[start + 4..]);
    header.update(name);
    out.extend_from_slice(&header.finalize().to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(body);
}

/// Why a segment could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// Where the unreadable bytes start.
    pub at: u64,
    /// Whether anything readable follows (damage inside) or not (a torn tail).
    pub resumed_at: Option<u64>,
}

/// Every record of a segment, in order, plus the places where its bytes could not be read.
#[derive(Debug, Default)]
pub struct Scan {
    pub records: Vec<RecordHead>,
    pub breaks: Vec<Break>,
    /// End of the last sound record: where appending may continue.
    pub end: u64,
}

/// Reads the records of a whole segment. Unreadable stretches are skipped by searching for
/// the next record whose header checks out.
pub fn scan(bytes: &[u8]) -> Scan {
    let mut scan = Scan::default();
    let mut at = 0usize;
    while at < bytes.len() {
        match parse_head(bytes, at) {
            Some(head) => {
                at += head.len as usize;
                scan.end = at as u64;
                scan.records.push(head);
            }
            None => {
                let resumed = find_next(bytes, at + 1);
                scan.breaks.push(Break { at: at as u64, resumed_at: resumed.map(|r| r as u64) });
                match resumed {
                    Some(next) => at = next,
                    None => break,
                }
            }
        }
    }
    scan
}

fn find_next(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + HEADER_BYTES <= bytes.len() {
        let found = bytes[at..].windows(MAGIC.len()).position(|w| w == MAGIC)?;
        at += found;
        if parse_head(bytes, at).is_some() {
            return Some(at);
        }
        at += 1;
    }
    None
}

fn parse_head(bytes: &[u8], at: usize) -> Option<RecordHead> {
    let fixed = bytes.get(at..at.checked_add(HEADER_BYTES)?)?;
    if &fixed[..4] != MAGIC {
        return None;
    }
    let kind = match fixed[4] {
        1 => Kind::Batch,
        2 => Kind::Delete,
        _ => return None,
    };
    let u32_at = |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
    let name_len = usize::from(u16::from_le_bytes([fixed[5], fixed[6]]));
    let body_len = u32_at(7) as usize;
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&fixed[11..19]);
    let first_seq = u64::from_le_bytes(seq);
    let count = u32_at(19);
    let body_crc = u32_at(23);
    let header_crc = u32_at(27);
    if body_len > MAX_BODY_BYTES {
        return None;
    }
    let name_start = at + HEADER_BYTES;
    let name = bytes.get(name_start..name_start + name_len)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&fixed[4..27]);
    hasher.update(name);
    if hasher.finalize() != header_crc {
        return None;
    }
    let room = std::str::from_utf8(name).ok()?.to_owned();
    let body_start = name_start + name_len;
    let body = bytes.get(body_start..body_start + body_len)?;
    Some(RecordHead {
        kind,
        room,
        first_seq,
        count,
        offset: at as u64,
        len: (HEADER_BYTES + name_len + body_len) as u32,
        body_ok: crc32fast::hash(body) == body_crc,
    })
}

/// The updates inside one whole record's bytes (as read back from its segment).
pub fn batch_updates(record: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let head = parse_head(record, 0).ok_or("record header does not check out")?;
    if !head.body_ok {
        return Err(format!("record of updates {}..={} fails its checksum", head.first_seq, head.last_seq()));
    }
    let body = &record[HEADER_BYTES + head.room.len()..head.len as usize];
    let mut cursor = Cursor::new(body);
    let mut updates = Vec::with_capacity(head.count as usize);
    for _ in 0..head.count {
        let update = cursor.read_buf().map_err(|e| format!("record body: {e}"))?;
        updates.push(update.to_vec());
    }
    if cursor.has_content() {
        return Err("record body has bytes after its updates".into());
    }
    Ok(updates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_records() -> Vec<u8> {
        let mut out = Vec::new();
        encode_batch(&mut out, "alpha", 1, [&b"one"[..], &b"two"[..]].into_iter());
        encode_delete(&mut out, "beta");
        encode_batch(&mut out, "alpha", 3, [&b"three"[..]].into_iter());
        out
    }

    #[test]
    fn records_read_back() {
        let bytes = two_records();
        let scan = scan(&bytes);
        assert!(scan.breaks.is_empty());
        assert_eq!(scan.end, bytes.len() as u64);
        let kinds: Vec<_> = scan.records.iter().map(|r| (r.kind, r.room.as_str(), r.first_seq, r.count)).collect();
        assert_eq!(kinds, [(Kind::Batch, "alpha", 1, 2), (Kind::Delete, "beta", 0, 0), (Kind::Batch, "alpha", 3, 1)]);
        let first = &scan.records[0];
        let record = &bytes[first.offset as usize..(first.offset + u64::from(first.len)) as usize];
        assert_eq!(batch_updates(record).unwrap(), [b"one".to_vec(), b"two".to_vec()]);
    }

    #[test]
    fn a_torn_tail_is_a_break_with_nothing_after() {
        let bytes = two_records();
        let cut = &bytes[..bytes.len() - 3];
        let scan = scan(cut);
        assert_eq!(scan.records.len(), 2);
        assert_eq!(scan.breaks, [Break { at: scan.end, resumed_at: None }]);
    }

    #[test]
    fn a_damaged_body_keeps_its_room_and_the_records_after_it() {
        let mut bytes = two_records();
        let last = bytes.len() - 1;
        bytes[HEADER_BYTES + "alpha".len()] ^= 0xff; // first byte of the first body
        let scan = scan(&bytes);
        assert!(scan.breaks.is_empty());
        assert!(!scan.records[0].body_ok);
        assert!(scan.records[1].body_ok && scan.records[2].body_ok);
        assert!(batch_updates(&bytes[..scan.records[0].len as usize]).is_err());
        bytes[last] ^= 0xff;
        assert!(!super::scan(&bytes).records[2].body_ok);
    }

    #[test]
    fn a_damaged_header_is_skipped_up_to_the_next_sound_record() {
        let mut bytes = two_records();
        bytes[8] ^= 0xff; // inside the first header's lengths
        let scan = scan(&bytes);
        assert_eq!(scan.records.len(), 2);
        assert_eq!(scan.records[0].room, "beta");
        assert_eq!(scan.breaks.len(), 1);
        assert_eq!(scan.breaks[0].at, 0);
        assert_eq!(scan.breaks[0].resumed_at, Some(scan.records[0].offset));
    }
}
