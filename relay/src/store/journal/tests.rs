//! The journal on a real directory: reopening, torn tails, deletes, segment cleaning.

use super::*;

fn batch<'a>(room: &'a str, first_seq: u64, updates: &[&'a [u8]]) -> Entry<'a> {
    Entry::Batch { room, first_seq, updates: updates.to_vec() }
}

fn read(journal: &Journal, room: &str) -> Vec<(u64, Vec<u8>)> {
    match journal.reader().read_room(room) {
        Ok(updates) => updates,
        Err(e) => panic!("reading {room}: {e:?}"),
    }
}

#[test]
fn rounds_survive_a_reopen_and_a_torn_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
    journal.append(&[batch("a", 1, &[b"a1", b"a2"]), batch("b", 1, &[b"b1"])], 1).unwrap();
    journal.append(&[batch("a", 3, &[b"a3"])], 2).unwrap();
    let (no, len) = journal.shape();
    drop(journal);
    // A crash in the middle of the next append leaves half a record behind.
    let path = segment_path(&dir.path().join(JOURNAL_DIR), no);
    let mut half = Vec::new();
    format::encode_batch(&mut half, "a", 4, [&b"a4"[..]].into_iter());
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&half[..half.len() / 2]).unwrap();
    drop(file);

    let mut journal = Journal::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
    assert_eq!(journal.shape(), (no, len), "the torn record is cut off");
    assert_eq!(read(&journal, "a"), [(1, b"a1".to_vec()), (2, b"a2".to_vec()), (3, b"a3".to_vec())]);
    assert_eq!(read(&journal, "b"), [(1, b"b1".to_vec())]);
    journal.append(&[batch("a", 4, &[b"a4"])], 3).unwrap();
    drop(journal);
    let journal = Journal::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
    assert_eq!(read(&journal, "a").len(), 4);
}

#[test]
fn a_delete_forgets_earlier_records_even_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
    journal.append(&[batch("a", 1, &[b"old"]), Entry::Delete { room: "a" }, batch("a", 1, &[b"new"])], 1).unwrap();
    assert_eq!(read(&journal, "a"), [(1, b"new".to_vec())]);
    drop(journal);
    let journal = Journal::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
    assert_eq!(read(&journal, "a"), [(1, b"new".to_vec())]);
}

#[test]
fn a_damaged_batch_refuses_its_room_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
    journal.append(&[batch("hurt", 1, &[b"payload-of-hurt"]), batch("fine", 1, &[b"payload-of-fine"])], 1).unwrap();
    let (no, _) = journal.shape();
    drop(journal);
    let path = segment_path(&dir.path().join(JOURNAL_DIR), no);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(15).position(|w| w == b"payload-of-hurt").unwrap();
    bytes[at] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    let journal = Journal::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
    assert!(matches!(journal.reader().read_room("hurt"), Err(JournalRead::Damaged(_))));
    assert_eq!(read(&journal, "fine"), [(1, b"payload-of-fine".to_vec())]);
}

#[test]
fn cleaning_keeps_live_batches_and_drops_folded_ones() {
    let dir = tempfile::tempdir().unwrap();
    let segment_bytes = 256;
    let mut journal = Journal::open(dir.path(), segment_bytes).unwrap();
    let big = [7u8; 100];
    journal.append(&[batch("folded", 1, &[&big]), batch("live", 1, &[b"l1"])], 1).unwrap();
    journal.fold("folded", 1);
    journal.append(&[batch("live", 2, &[&big, &big])], 2).unwrap();
    let (first, _) = journal.shape();
    journal.maintain(|_| None).unwrap();
    let (second, len) = journal.shape();
    assert_eq!(second, first + 1, "a full segment is sealed");
    assert!(!segment_path(&dir.path().join(JOURNAL_DIR), first).exists(), "the sealed segment is cleaned away");
    assert!(len > 200, "live batches were copied forward ({len} bytes)");
    assert_eq!(read(&journal, "live"), [(1, b"l1".to_vec()), (2, big.to_vec()), (3, big.to_vec())]);
    assert_eq!(read(&journal, "folded"), []);
    drop(journal);
    let journal = Journal::open(dir.path(), segment_bytes).unwrap();
    assert_eq!(read(&journal, "live").len(), 3, "the copies are found again after a reopen");
}

#[test]
fn cleaning_asks_the_snapshot_for_rooms_not_folded_since_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path(), 64).unwrap();
    journal.append(&[batch("cold", 1, &[&[1u8; 80]])], 1).unwrap();
    drop(journal);
    let mut journal = Journal::open(dir.path(), 64).unwrap();
    journal.maintain(|room| (room == "cold").then_some(1)).unwrap();
    assert_eq!(read(&journal, "cold"), [], "its snapshot covers it: nothing copied forward");
    assert_eq!(journal.reader().totals(), (0, 0));
}

#[test]
fn cleaning_copies_in_bounded_rounds_room_by_room() {
    let dir = tempfile::tempdir().unwrap();
    let segment_bytes = 4096;
    let mut journal = Journal::open(dir.path(), segment_bytes).unwrap();
    journal.copy_round_bytes = 200; // a few records per round
    let rooms = ["r0", "r1", "r2"];
    let payload = |room: &str, seq: u64| format!("{room}-update-{seq:03}").into_bytes();
    // Interleaved rounds, one batch per room each, until the segment is full.
    let mut seq = 0;
    while journal.shape().1 < segment_bytes {
        seq += 1;
        let updates: Vec<Vec<u8>> = rooms.iter().map(|room| payload(room, seq)).collect();
        let entries: Vec<Entry> = rooms.iter().zip(&updates).map(|(room, u)| batch(room, seq, &[u.as_slice()])).collect();
        journal.append(&entries, seq as i64).unwrap();
    }
    journal.fold("r1", seq / 2);
    let (first, _) = journal.shape();
    let written = journal.bytes_written();
    journal.maintain(|_| None).unwrap();
    assert!(!segment_path(&dir.path().join(JOURNAL_DIR), first).exists(), "the sealed segment is cleaned away");
    let (_, len) = journal.shape();
    assert!(len > 1000 && journal.bytes_written() - written == len, "{len} bytes copied forward");
    let expect = |room: &str, from: u64| (from..=seq).map(|s| (s, payload(room, s))).collect::<Vec<_>>();
    for journal in [journal, Journal::open(dir.path(), segment_bytes).unwrap()] {
        assert_eq!(read(&journal, "r0"), expect("r0", 1));
        assert_eq!(read(&journal, "r1"), expect("r1", seq / 2 + 1), "what the snapshot covers is not copied");
        assert_eq!(read(&journal, "r2"), expect("r2", 1));
    }
}

#[test]
fn live_records_larger_than_a_segment_are_copied_once_per_segment_of_new_records() {
    let dir = tempfile::tempdir().unwrap();
    let segment_bytes = 512;
    let mut journal = Journal::open(dir.path(), segment_bytes).unwrap();
    let big = [3u8; 200];
    // ~1.2 KB of records no snapshot covers: more than a segment.
    for seq in 1..=5 {
        journal.append(&[batch("live", seq, &[&big])], 0).unwrap();
        journal.maintain(|_| None).unwrap();
    }
    let (before, _) = journal.shape();
    let written = journal.bytes_written();
    // Twenty small rounds, ~900 bytes of new records: under two segments' worth.
    for seq in 6..=25 {
        journal.append(&[batch("live", seq, &[b"x"])], 0).unwrap();
        journal.maintain(|_| None).unwrap();
    }
    let (after, _) = journal.shape();
    assert!(after - before <= 2, "sealed {} times for two segments of new records", after - before);
    assert!(journal.bytes_written() - written < 4000, "copied {} bytes", journal.bytes_written() - written);
    let expect: Vec<(u64, Vec<u8>)> = (1..=25).map(|seq| (seq, if seq <= 5 { big.to_vec() } else { b"x".to_vec() })).collect();
    assert_eq!(read(&journal, "live"), expect);
    drop(journal);
    assert_eq!(read(&Journal::open(dir.path(), segment_bytes).unwrap(), "live"), expect);
}
