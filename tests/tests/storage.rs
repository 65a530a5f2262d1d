//! Durable rooms: SQLite survives restarts, acknowledges what is durable, compacts, keeps
//! the cache within budget, and refuses damaged rooms one at a time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use relay::store::journal::{format, JOURNAL_DIR};
use relay::store::sqlite::room_file;
use relay::store::{RoomArchive, SqliteStore};
use shared::close;
use tests::{eventually, TestClient, TestRelay};
use yrs::{Doc, Map, Transact};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn rooms_survive_a_restart_and_acks_arrive_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let a = TestClient::connect_with_acks(&relay.ws_url(), "durable", Doc::new()).await;
    a.wait_synced().await;
    for i in 0..50 {
        a.append_text("t", &format!("{i};"));
    }
    eventually(WAIT, "all 50 updates acknowledged as durable", || async { a.acked() == 50 && a.sent() == 50 }).await;
    let expected = a.text("t");
    relay.stop().await;

    let again = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let b = TestClient::join(&again.ws_url(), "durable").await;
    assert_eq!(b.text("t"), expected);
    again.stop().await;
}

#[tokio::test]
async fn clients_without_acks_never_see_ack_messages() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let a = TestClient::join(&relay.ws_url(), "quiet").await;
    a.append_text("t", "x");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a.acked(), 0);
    relay.stop().await;
}

#[tokio::test]
async fn compaction_folds_the_log_and_the_room_reloads_identically() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |c| {
        c.compact_log_entries = 20;
        c.compact_log_bytes = 1;
        c.room_idle_secs = 1;
    })
    .await;
    let a = TestClient::connect_with_acks(&relay.ws_url(), "compact", Doc::new()).await;
    a.wait_synced().await;
    for i in 0..200 {
        a.append_text("t", &format!("{i},"));
    }
    eventually(WAIT, "acked", || async { a.acked() == 200 }).await;
    let expected = a.text("t");
    a.close().await;
    eventually(WAIT, "room evicted", || async { relay.rooms_in_memory() == 0 }).await;
    relay.stop().await;

    let conn = rusqlite::Connection::open(room_file(dir.path(), "compact")).unwrap();
    let snapshots: i64 = conn.query_row("SELECT COUNT(*) FROM snapshot", [], |r| r.get(0)).unwrap();
    assert_eq!(snapshots, 1, "a snapshot was written");
    drop(conn);
    let store = SqliteStore::open(dir.path(), Duration::from_millis(1)).unwrap();
    let rooms = store.list_rooms().unwrap();
    let log = rooms.iter().find(|r| r.name == "compact").map(|r| r.log_entries).unwrap();
    assert!(log < 200, "the log was folded: {log} entries left");
    store.close();

    let again = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let b = TestClient::join(&again.ws_url(), "compact").await;
    assert_eq!(b.text("t"), expected);
    again.stop().await;
}

#[tokio::test]
async fn the_cache_stays_within_its_byte_budget_and_reloads_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |c| {
        c.cache_bytes = 64 * 1024;
        c.room_idle_secs = 3600;
    })
    .await;
    let chunk = "z".repeat(40 * 1024);
    for room in ["big-1", "big-2", "big-3"] {
        let c = TestClient::connect_with_acks(&relay.ws_url(), room, Doc::new()).await;
        c.wait_synced().await;
        c.append_text("t", &chunk);
        eventually(WAIT, "acked", || async { c.acked() == 1 }).await;
        c.close().await;
    }
    eventually(WAIT, "rooms beyond the budget leave memory", || async {
        relay.cache_stats().bytes_in_memory <= 64 * 1024
    })
    .await;
    let before = relay.cache_stats();
    let back = TestClient::join(&relay.ws_url(), "big-1").await;
    assert_eq!(back.text("t"), chunk);
    let after = relay.cache_stats();
    assert_eq!(after.joins_from_store, before.joins_from_store + 1, "big-1 came back from the store");
    relay.stop().await;
}

#[tokio::test]
async fn garbage_in_one_rooms_rows_refuses_that_room_only() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    for room in ["healthy", "garbled", "bad-crc"] {
        let c = TestClient::connect_with_acks(&relay.ws_url(), room, Doc::new()).await;
        c.wait_synced().await;
        c.append_text("t", room);
        eventually(WAIT, "acked", || async { c.acked() == 1 }).await;
    }
    relay.stop().await;
    // Garbage with a valid checksum (decodes as nothing sensible) as the room's next update …
    let newest = journal_segments(dir.path()).pop().unwrap();
    let mut record = Vec::new();
    format::encode_batch(&mut record, "garbled", 2, [&[0xff, 0xfe, 0x01, 0x99, 0x42][..]].into_iter());
    std::fs::OpenOptions::new().append(true).open(&newest).unwrap().write_all(&record).unwrap();
    // … and a stored update whose bytes no longer match their checksum.
    damage_journal_body(dir.path(), "bad-crc");
    let again = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    for room in ["garbled", "bad-crc"] {
        let c = TestClient::connect(&again.ws_url(), room).await;
        let (code, reason) = c.wait_closed().await;
        assert_eq!(code, close::ROOM_UNAVAILABLE, "{room}: {reason}");
        assert!(reason.contains("damaged"), "{room}: {reason}");
    }
    let ok = TestClient::join(&again.ws_url(), "healthy").await;
    assert_eq!(ok.text("t"), "healthy");
    again.stop().await;
}

#[tokio::test]
async fn a_truncated_room_file_refuses_that_room_and_serves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let small = TestClient::connect_with_acks(&relay.ws_url(), "early", Doc::new()).await;
    small.wait_synced().await;
    small.append_text("t", "early bird");
    eventually(WAIT, "acked", || async { small.acked() == 1 }).await;
    let large = TestClient::connect_with_acks(&relay.ws_url(), "late", Doc::new()).await;
    large.wait_synced().await;
    for i in 0..40 {
        large.append_text("t", &format!("{i}:{}", "L".repeat(8 * 1024)));
    }
    eventually(WAIT, "acked", || async { large.acked() == 40 }).await;
    relay.stop().await;
    let path = room_file(dir.path(), "late");
    {
        // Fold the WAL into the main file, then cut the file's tail off.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "wal_checkpoint", "TRUNCATE").unwrap();
    }
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);

    let again = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let victim = TestClient::connect(&again.ws_url(), "late").await;
    let (code, reason) = victim.wait_closed().await;
    assert_eq!(code, close::ROOM_UNAVAILABLE, "{reason}");
    let fine = TestClient::join(&again.ws_url(), "early").await;
    assert_eq!(fine.text("t"), "early bird");
    let fresh = TestClient::join(&again.ws_url(), "brand-new").await;
    fresh.append_text("t", "still writable");
    again.stop().await;
}

#[tokio::test]
async fn concurrent_map_edits_from_two_clients_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let url = relay.ws_url();
    let a = TestClient::connect_with_acks(&url, "maps", Doc::new()).await;
    let b = TestClient::connect_with_acks(&url, "maps", Doc::new()).await;
    a.wait_synced().await;
    b.wait_synced().await;
    for i in 0..30 {
        for (who, c) in [("a", &a), ("b", &b)] {
            let map = c.doc.get_or_insert_map("m");
            map.insert(&mut c.doc.transact_mut(), format!("{who}{i}"), i as i64);
        }
    }
    eventually(WAIT, "acked", || async { a.acked() == 30 && b.acked() == 30 }).await;
    relay.stop().await;
    let again = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let c = TestClient::join(&again.ws_url(), "maps").await;
    let map = c.doc.get_or_insert_map("m");
    assert_eq!(map.len(&c.doc.transact()), 60);
    again.stop().await;
}

fn journal_segments(data_dir: &Path) -> Vec<PathBuf> {
    let mut segments: Vec<PathBuf> =
        std::fs::read_dir(data_dir.join(JOURNAL_DIR)).unwrap().map(|entry| entry.unwrap().path()).collect();
    segments.sort();
    segments
}

/// Flips the last byte of the body of `room`'s newest journal record.
fn damage_journal_body(data_dir: &Path, room: &str) {
    for path in journal_segments(data_dir).into_iter().rev() {
        let mut bytes = std::fs::read(&path).unwrap();
        let scan = format::scan(&bytes);
        if let Some(record) = scan.records.iter().rev().find(|r| r.room == room) {
            bytes[(record.offset + u64::from(record.len) - 1) as usize] ^= 0xff;
            std::fs::write(&path, bytes).unwrap();
            return;
        }
    }
    panic!("no journal record of {room}");
}
