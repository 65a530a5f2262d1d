//! Backups of a live relay, as an operator takes them: the real `relay` binary serves
//! writers that ask for durable acknowledgements (and compacts their rooms as it goes),
//! `relay backup` copies its data directory meanwhile, `relay restore` brings the copy into
//! a new directory, and a relay started there serves every update acknowledged before the
//! backup's commit point, each room's content a whole prefix of what its writer sent,
//! nothing damaged.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use tests::process::{relay_binary, ChildRelay};
use tests::{eventually, http_get, TestClient};

const WRITERS: usize = 3;
const WAIT: Duration = Duration::from_secs(20);

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn relay_command(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || Command::new(relay_binary()).args(&args).env("RUST_LOG", "warn").output().expect("relay runs"))
        .await
        .unwrap()
}

fn path(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_owned()
}

/// One writer: appends "w0;", "w1;", … to its room's text, and notes when (Unix ms, as
/// seen here, so no earlier than the relay sent it) each count of updates was acknowledged.
struct Writer {
    client: Arc<TestClient>,
    acked_at: Arc<std::sync::Mutex<Vec<i64>>>,
}

impl Writer {
    async fn start(ws: &str, room: &str, stop: tokio_util_like::Stop) -> (Writer, tokio::task::JoinHandle<()>) {
        let client = Arc::new(TestClient::connect_with_acks(ws, room, yrs::Doc::new()).await);
        client.wait_synced().await;
        let acked_at: Arc<std::sync::Mutex<Vec<i64>>> = Arc::default();
        let (c, times) = (client.clone(), acked_at.clone());
        let task = tokio::spawn(async move {
            let mut k = 0u64;
            while !stop.is_set() {
                c.append_text("t", &format!("w{k};"));
                k += 1;
                tokio::time::sleep(Duration::from_millis(4)).await;
                let acked = c.acked() as usize;
                let mut times = times.lock().unwrap();
                while times.len() < acked {
                    times.push(now_ms());
                }
            }
        });
        (Writer { client, acked_at }, task)
    }

    /// How many of its updates were acknowledged before `ms`.
    fn acked_before(&self, ms: i64) -> usize {
        self.acked_at.lock().unwrap().iter().filter(|at| **at < ms).count()
    }
}

/// A shared stop flag (no extra crate for one bool).
mod tokio_util_like {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[derive(Clone, Default)]
    pub struct Stop(Arc<AtomicBool>);

    impl Stop {
        pub fn set(&self) {
            self.0.store(true, Ordering::Relaxed);
        }
        pub fn is_set(&self) -> bool {
            self.0.load(Ordering::Relaxed)
        }
    }
}

/// The items of a writer's text, checked to be w0; w1; … wN; in order: how many.
fn prefix_length(text: &str) -> usize {
    let items: Vec<&str> = text.split(';').filter(|s| !s.is_empty()).collect();
    for (k, item) in items.iter().enumerate() {
        assert_eq!(*item, format!("w{k}"), "the room holds a whole prefix of its writer's updates, in order: {text}");
    }
    items.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_every_update_acknowledged_before_its_commit_point() {
    let dir = tempfile::tempdir().unwrap();
    let (live, archive, restored) = (dir.path().join("live"), dir.path().join("rooms.tar"), dir.path().join("restored"));
    let live_dir = live.clone();
    // Small compaction thresholds: snapshots are written (and journal batches folded) while
    // the backup runs.
    let relay = tokio::task::spawn_blocking(move || ChildRelay::start(&live_dir, &["--compact-log-entries", "40", "--room-idle-secs", "1"]))
        .await
        .unwrap();
    let ws = relay.ws_url();
    let stop = tokio_util_like::Stop::default();
    let mut writers = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (writer, task) = Writer::start(&ws, &format!("backed-up-{i}"), stop.clone()).await;
        writers.push(writer);
        tasks.push(task);
    }
    eventually(WAIT, "every writer has updates acknowledged", || async {
        writers.iter().all(|w| w.acked_before(i64::MAX) > 50)
    })
    .await;

    let output = relay_command(vec!["backup".into(), "--data-dir".into(), path(&live), "--out".into(), path(&archive)]).await;
    assert!(output.status.success(), "backup: {}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the backup prints a JSON summary");
    let commit_point = summary["commit_point_ms"].as_i64().expect("a commit point");
    assert_eq!(summary["rooms"], WRITERS, "{summary}");
    assert_eq!(summary["damaged_rooms"], serde_json::json!([]), "{summary}");

    // The writers go on after the backup, then stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.set();
    for task in tasks {
        task.await.unwrap();
    }
    let must_have: Vec<usize> = writers.iter().map(|w| w.acked_before(commit_point)).collect();
    let sent: Vec<u64> = writers.iter().map(|w| w.client.sent()).collect();
    drop(writers);
    relay.kill();

    // Restoring over data is refused; into a new directory it works.
    let refused = relay_command(vec!["restore".into(), "--from".into(), path(&archive), "--data-dir".into(), path(&live)]).await;
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("not empty"));
    let output = relay_command(vec!["restore".into(), "--from".into(), path(&archive), "--data-dir".into(), path(&restored)]).await;
    assert!(output.status.success(), "restore: {}", String::from_utf8_lossy(&output.stderr));
    let restored_summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(restored_summary["commit_point_ms"], commit_point);

    let restored_dir = restored.clone();
    let relay = tokio::task::spawn_blocking(move || ChildRelay::start(&restored_dir, &[])).await.unwrap();
    let (status, rooms) = http_get(relay.addr, "/api/rooms").await;
    assert_eq!(status, 200);
    for i in 0..WRITERS {
        assert!(rooms.contains(&format!("\"backed-up-{i}\"")), "{rooms}");
        let reader = TestClient::join(&relay.ws_url(), &format!("backed-up-{i}")).await;
        assert!(!reader.is_closed(), "room {i} loads");
        let held = prefix_length(&reader.text("t"));
        assert!(held >= must_have[i], "room {i}: {held} updates restored, {} were acknowledged before the commit point", must_have[i]);
        assert!(held as u64 <= sent[i]);
        eprintln!("room {i}: {} acknowledged before the commit point, {held} restored, {} sent", must_have[i], sent[i]);
    }
    relay.kill();
}
