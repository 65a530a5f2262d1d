//! Crash safety with the real binary: SIGKILL during a stream of updates loses nothing that
//! was acknowledged as durable, and reconnecting clients converge with nothing lost at all.
//! SIGTERM exits 0 after closing sockets with 1001 and flushing.

use std::time::Duration;

use shared::close;
use tests::process::ChildRelay;
use tests::{eventually, TestClient};
use yrs::{Doc, Map, Transact};

const WAIT: Duration = Duration::from_secs(20);
const WRITERS: usize = 4;

fn key(writer: usize, i: u64) -> String {
    format!("w{writer}-{i}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_update_and_clients_converge_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let relay = ChildRelay::start(dir.path(), &["--commit-window-ms", "5"]);
    let url = relay.ws_url();

    let docs: Vec<Doc> = (0..WRITERS).map(|_| Doc::new()).collect();
    let mut writers = Vec::new();
    for doc in &docs {
        let c = TestClient::connect_with_acks(&url, "crash", doc.clone()).await;
        c.wait_synced().await;
        writers.push(c);
    }

    // Stream updates (one key per transaction) from every writer for a while, then kill.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    let mut written = 0u64;
    while tokio::time::Instant::now() < deadline && written < 5000 {
        for (w, c) in writers.iter().enumerate() {
            let map = c.doc.get_or_insert_map("m");
            map.insert(&mut c.doc.transact_mut(), key(w, written), written as i64);
        }
        written += 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Snapshot the acknowledgements at the moment of the kill.
    let acked: Vec<u64> = writers.iter().map(|c| c.acked()).collect();
    eprintln!("killed after {written} updates per writer; acknowledged: {acked:?}");
    relay.kill();
    assert!(acked.iter().all(|a| *a > 0), "acks arrived before the kill: {acked:?}");
    drop(writers);

    let relay = ChildRelay::start(dir.path(), &[]);
    let url = relay.ws_url();
    let observer = TestClient::join(&url, "crash").await;
    {
        let map = observer.doc.get_or_insert_map("m");
        let txn = observer.doc.transact();
        for (w, count) in acked.iter().enumerate() {
            for i in 0..*count {
                assert!(map.get(&txn, &key(w, i)).is_some(), "acknowledged update {} lost in the crash", key(w, i));
            }
        }
    }

    // The writers come back with their documents: whatever the crash took, they re-upload.
    let mut back = Vec::new();
    for doc in &docs {
        let c = TestClient::connect_with_doc(&url, "crash", doc.clone()).await;
        c.wait_synced().await;
        back.push(c);
    }
    let expected = (WRITERS as u64 * written) as u32;
    eventually(WAIT, "every update of every writer is in the room", || async {
        let map = observer.doc.get_or_insert_map("m");
        let len = map.len(&observer.doc.transact());
        len == expected
    })
    .await;
    drop(back);
    assert_eq!(relay.terminate().map(|s| s.code()), Some(Some(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_with_going_away_flushes_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let relay = ChildRelay::start(dir.path(), &[]);
    let a = TestClient::join(&relay.ws_url(), "term").await;
    a.append_text("t", "kept across a graceful restart");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = tokio::task::spawn_blocking(move || relay.terminate()).await.unwrap();
    assert_eq!(status.map(|s| s.code()), Some(Some(0)), "exit status 0");
    assert_eq!(a.wait_closed().await.0, close::GOING_AWAY);

    let relay = ChildRelay::start(dir.path(), &[]);
    let b = TestClient::join(&relay.ws_url(), "term").await;
    assert_eq!(b.text("t"), "kept across a graceful restart");
}
