//! Backups of a store that is being written, rotated, cleaned and compacted as they run
//! (the store's real writer thread, with journal segments small enough to be sealed and
//! cleaned every few hundred updates): each backup restores into a new directory where
//! every update acknowledged before its commit point is there, every room's log continues
//! its snapshot without a gap, and no room is damaged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{create, restore};
use crate::store::{RoomArchive, SqliteStore, UpdateLog};

const ROOMS: u64 = 4;

/// Per room: the sequence numbers acknowledged durable, with when (Unix ms).
type Acked = Arc<Mutex<HashMap<u64, Vec<(u64, i64)>>>>;

/// `update` number `seq` of `room`, and a snapshot through `seq`, as bytes that say so.
fn update(room: u64, seq: u64) -> Vec<u8> {
    format!("r{room}:{seq}").into_bytes()
}
fn snapshot(room: u64, through: u64) -> Vec<u8> {
    format!("r{room}:snapshot-through-{through}").into_bytes()
}

#[test]
fn backups_taken_while_the_store_writes_restore_every_acknowledged_update() {
    let live = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_with_segments(live.path(), Duration::from_millis(1), 16 * 1024).unwrap());
    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, acked, stop) = (store.clone(), acked.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) {
                seq += 1;
                for room in 0..ROOMS {
                    let acked = acked.clone();
                    let on_durable = Box::new(move || {
                        acked.lock().unwrap().entry(room).or_default().push((seq, crate::store::now_ms()));
                    });
                    store.append(&format!("room-{room}"), seq, &update(room, seq), Some(on_durable)).unwrap();
                    if seq % (40 + room * 7) == 0 {
                        store.compact(&format!("room-{room}"), seq, snapshot(room, seq)).unwrap();
                    }
                }
                std::thread::sleep(Duration::from_micros(300));
            }
        })
    };

    let out = tempfile::tempdir().unwrap();
    let mut attempts = Vec::new();
    let mut checked = 0;
    for round in 0..8 {
        std::thread::sleep(Duration::from_millis(60));
        let archive = out.path().join(format!("backup-{round}.tar"));
        let summary = create(live.path(), &archive).expect("the backup succeeds");
        attempts.push(summary.attempts);
        assert!(summary.damaged_rooms.is_empty() && summary.deleted_during_backup.is_empty(), "{summary:?}");
        let restored = out.path().join(format!("restored-{round}"));
        let summary_in = restore(&archive, &restored).expect("the restore succeeds");
        assert_eq!(summary_in.commit_point_ms, summary.commit_point_ms);

        let copy = SqliteStore::open(&restored, Duration::ZERO).unwrap();
        let acked = acked.lock().unwrap().clone();
        for room in 0..ROOMS {
            let stored = copy.load(&format!("room-{room}")).expect("every room loads");
            let acked_before = acked.get(&room).into_iter().flatten().filter(|(_, at)| *at < summary.commit_point_ms);
            let must_have = acked_before.map(|(seq, _)| *seq).max().unwrap_or(0);
            assert!(stored.last_seq >= must_have, "round {round} room {room}: {} < {must_have} acknowledged before the commit point", stored.last_seq);
            checked += must_have;
            // The snapshot (if any) says how far it goes; the log continues it, each update its own.
            let log_start = stored.last_seq - stored.log_count;
            let mut updates = stored.updates.iter();
            if stored.snapshot_bytes > 0 {
                assert_eq!(updates.next(), Some(&snapshot(room, log_start)));
            }
            for (seq, bytes) in (log_start + 1..).zip(updates) {
                assert_eq!(bytes, &update(room, seq), "round {round} room {room} update {seq}");
            }
        }
        copy.close();
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let segments_written = store.durability_stats().journal_bytes_written / (16 * 1024);
    eprintln!("backup attempts per backup: {attempts:?}; ~{segments_written} segments written");
    assert!(segments_written >= 4, "the journal rotated and was cleaned while the backups ran");
    assert!(checked > 1000, "the backups held acknowledged updates to check ({checked})");
}

/// A backup run as another user than the data directory's owner is refused before it reads
/// a room file (SQLite could leave files the relay's user cannot open). Needs root to give
/// the directory away, as CI runs; elsewhere it says so and checks nothing.
#[test]
fn a_backup_as_another_user_is_refused() {
    let live = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(live.path(), Duration::ZERO).unwrap();
    store.close();
    let rooms = live.path().join(crate::store::sqlite::ROOMS_DIR);
    if std::os::unix::fs::chown(&rooms, Some(65534), None).is_err() {
        eprintln!("not root: cannot give {} to another user; nothing checked", rooms.display());
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let refused = create(live.path(), &out.path().join("b.tar")).unwrap_err();
    assert!(matches!(refused, super::BackupError::WrongUser { owner: 65534, .. }), "{refused}");
    assert!(!out.path().join("b.tar").exists());
}
